"""Kubeflow Pipelines and Vertex AI Pipelines: the one DAG, compiled by KubeflowV2DagRunner.

Every step runs in a container of `container_image` (the Dockerfile), which holds this project
at IMAGE_PROJECT_ROOT. So the compiled pipeline names this project's files there (through the
config's `project_root`), and every path a step reads or writes must be remote (gs://...): no
step can see this machine's files.
"""
import dataclasses
import json
import os
from typing import List

import yaml

from pipeline import configs
from pipeline.configs import ConfigError
from pipeline.configs import PipelineConfig

IMAGE_PROJECT_ROOT = '/ran-tfx'  # the Dockerfile's WORKDIR
DEFAULT_OUTPUT_FILE = 'pipeline.json'


def _local_paths(config: PipelineConfig) -> List[str]:
  """The flags whose paths a step in a container could not reach, each with its value."""
  problems = []
  if not configs.is_remote(config.resolved_pipeline_root):
    problems.append(f'--pipeline_root {config.resolved_pipeline_root} (default: '
                    '<output_dir>/pipeline/<pipeline_name>)')
  if not configs.is_remote(config.registry_dir):
    problems.append(f'--output_dir {config.output_dir} (it holds the model registry)')
  if config.examples_dir is not None:
    if not configs.is_remote(config.examples_dir):
      problems.append(f'--examples_dir {config.examples_dir}')
  elif config.data_root is None:
    problems.append('--data_root (not given: the embedded sample is rendered on this machine, '
                    'by --runner=local only)')
  elif not configs.is_remote(config.data_root):
    problems.append(f'--data_root {config.data_root}')
  return problems


def container_config(config: PipelineConfig) -> PipelineConfig:
  """`config` as steps in containers see it: this project under the image's root.

  Raises ConfigError naming every path flag that is not remote.
  """
  problems = _local_paths(config)
  if problems:
    raise ConfigError('Kubeflow and Vertex steps run in containers that cannot see this '
                      'machine\'s files; give remote (gs://...) paths: ' + '; '.join(problems))
  return dataclasses.replace(config, project_root=config.project_root or IMAGE_PROJECT_ROOT)


def compile_pipeline(config: PipelineConfig, *, output_file: str) -> str:
  """Compiles `create_pipeline` for Kubeflow Pipelines 2 / Vertex AI Pipelines.

  Args:
    config: the profile with its overrides; its paths must be remote (see container_config).
    output_file: where the compiled pipeline goes (local or gs://): `.json` writes a
      PipelineJob (pipeline spec plus runtime config, what Vertex AI submits), `.yaml` or
      `.yml` the pipeline spec alone (what a Kubeflow Pipelines upload takes); the spec
      names the pipeline root as its default.

  Returns:
    `output_file`.
  """
  config = container_config(config)  # before the slow TFX import: bad paths fail fast
  from tfx import v1 as tfx  # pylint: disable=g-import-not-at-top
  from components import example_gen  # pylint: disable=g-import-not-at-top
  from components.example_gen import kubeflow_driver  # pylint: disable=g-import-not-at-top
  from pipeline.pipeline import create_pipeline  # pylint: disable=g-import-not-at-top
  try:  # the reader's own checks, as --runner=local makes them before any step runs
    example_gen.check_options(config.dataset, config.layout_options)
  except ValueError as error:
    raise ConfigError(str(error)) from None
  runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
      config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
          default_image=config.container_image, use_pipeline_spec_2_1=True))
  job = runner.run(create_pipeline(config, span_resolvers=False), write_out=False)
  kubeflow_driver.use_layout_driver(job['pipelineSpec'])  # spans and fingerprints by layout
  # Vertex reads the root from the job's runtime config; Kubeflow Pipelines from the spec.
  job['pipelineSpec']['defaultPipelineRoot'] = config.resolved_pipeline_root
  as_yaml = output_file.endswith(('.yaml', '.yml'))
  folder = os.path.dirname(output_file)
  if folder:
    tfx.dsl.io.fileio.makedirs(folder)
  with tfx.dsl.io.fileio.open(output_file, 'w') as f:
    f.write(yaml.safe_dump(job['pipelineSpec'], sort_keys=True) if as_yaml
            else json.dumps(job, indent=2, sort_keys=True))
  return output_file
