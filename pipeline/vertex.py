"""Vertex AI Pipelines: the one DAG compiled (pipeline/kubeflow.py), then submitted as a
PipelineJob or scheduled with a cron expression.

The job runs in `vertex_project` / `vertex_region`, the same as the Vertex Trainer's custom job.
The DAG declares no runtime parameters (the profile fixes every value at compile time), so a job
carries no parameter values.
"""
import dataclasses
import sys
from typing import Any, Dict, Optional, Tuple

from pipeline import configs
from pipeline import kubeflow
from pipeline import vertex_training
from pipeline.configs import ConfigError
from pipeline.configs import PipelineConfig


@dataclasses.dataclass(frozen=True)
class SubmitOptions:
  """How to hand the compiled pipeline to Vertex AI (the runner's --runner=vertex flags)."""
  output_file: str = kubeflow.DEFAULT_OUTPUT_FILE  # the compiled pipeline: the job's template
  dry_run: bool = False                    # compile and show the request; submit nothing
  schedule: Optional[str] = None           # cron: create a schedule instead of one run
  max_concurrent_runs: int = 1             # of the schedule
  service_account: Optional[str] = None    # the steps run as this account
  network: Optional[str] = None            # VPC to peer: projects/NUMBER/global/networks/NAME
  enable_caching: Optional[bool] = None    # None: the pipeline's own setting (cache on)
  labels: Tuple[Tuple[str, str], ...] = ()  # more labels of the job


def check_config(config: PipelineConfig) -> None:
  """ConfigError naming every setting a Vertex AI pipeline job lacks."""
  problems = [f'--{name}' for name in ('vertex_project', 'vertex_region')
              if not getattr(config, name)]
  if not configs.names_registry(config.container_image):
    problems.append(f'--container_image in a registry Vertex AI can pull from, e.g. '
                    f'europe-docker.pkg.dev/PROJECT/REPO/ran-tfx:TAG (got '
                    f'{config.container_image}; build and push it with make image IMAGE=...)')
  if problems:
    raise ConfigError(f'--runner=vertex needs {"; ".join(problems)}')


def job_labels(config: PipelineConfig, options: SubmitOptions) -> Dict[str, str]:
  """The job's labels: pipeline, model and dataset, spelt as the Vertex Trainer's custom job
  spells them (vertex_training.resource_label), then the user's."""
  labels = {'pipeline': config.pipeline_name, 'model': config.model_name,
            'dataset': config.dataset}
  labels = {key: vertex_training.resource_label(value) for key, value in labels.items()}
  return {**labels, **dict(options.labels)}


def pipeline_job_args(config: PipelineConfig, options: SubmitOptions) -> Dict[str, Any]:
  """Keyword arguments of `google.cloud.aiplatform.PipelineJob` for the compiled pipeline."""
  return {
      'display_name': config.pipeline_name,
      'template_path': options.output_file,
      'pipeline_root': config.resolved_pipeline_root,
      'project': config.vertex_project,
      'location': config.vertex_region,
      'enable_caching': options.enable_caching,
      'labels': job_labels(config, options),
  }


def submit_args(options: SubmitOptions) -> Dict[str, Any]:
  """Keyword arguments of `PipelineJob.submit`."""
  return {'service_account': options.service_account, 'network': options.network}


def schedule_args(config: PipelineConfig, options: SubmitOptions) -> Dict[str, Any]:
  """Keyword arguments of `PipelineJob.create_schedule`."""
  return {'cron': options.schedule, 'display_name': f'{config.pipeline_name}-schedule',
          'max_concurrent_run_count': options.max_concurrent_runs, **submit_args(options)}


def _call(function: str, arguments: Dict[str, Any]) -> str:
  return function + '(\n' + ''.join(f'    {k}={v!r},\n' for k, v in arguments.items()) + ')'


def run_vertex(config: PipelineConfig, options: SubmitOptions) -> int:
  """Compiles the pipeline and submits or schedules it (or, with dry_run, only shows the
  request); prints what happened. Returns the exit status: 0, or 1 when Vertex AI (or the
  client) refused the request, in which case nothing is reported as submitted.

  Raises ConfigError for settings that cannot work, before anything is compiled.
  """
  check_config(config)
  spec = kubeflow.compile_pipeline(config, output_file=options.output_file)
  job_args = pipeline_job_args(config, options)
  if options.schedule:
    action, action_args = 'create_schedule', schedule_args(config, options)
  else:
    action, action_args = 'submit', submit_args(options)
  if options.dry_run:
    print(f'Compiled {spec}.\nDry run: nothing was submitted to Vertex AI. The request would '
          f'be\n{_call("aiplatform.PipelineJob", job_args)}.{_call(action, action_args)}')
    return 0
  from google.cloud import aiplatform  # pylint: disable=g-import-not-at-top (slow import)
  try:
    job = aiplatform.PipelineJob(**job_args)
    result = getattr(job, action)(**action_args)
  except Exception as error:  # pylint: disable=broad-except (auth, API and validation errors)
    print(f'error: Vertex AI did not take the pipeline ({type(error).__name__}: {error}). '
          f'The compiled pipeline is {spec}.', file=sys.stderr)
    return 1
  if options.schedule:
    print(f'Scheduled {config.pipeline_name} at "{options.schedule}": {result.resource_name}')
  else:
    print(f'Submitted {job.resource_name}\n  https://console.cloud.google.com/vertex-ai/'
          f'locations/{config.vertex_region}/pipelines/runs/{job.job_id}'
          f'?project={config.vertex_project}')
  return 0
