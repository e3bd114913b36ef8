"""The Trainer as a Vertex AI custom job: worker pools from the profile's vertex_* fields.

Three shapes, one function:
  one machine with GPUs         vertex_machine_type a2-highgpu-8g, 8 x NVIDIA_TESLA_A100
                                (MirroredStrategy inside the job);
  several workers               vertex_worker_count N: pool 0 is the chief, pool 1 holds N more
                                machines alike (Vertex writes TF_CONFIG; the Trainer picks
                                MultiWorkerMirroredStrategy and only the chief exports);
  a TPU                         vertex_accelerator_type TPU_V3 (or TPU_V2), machine cloud-tpu,
                                8 cores (TPUStrategy; the job's TPU is found through its
                                environment).
Every pool runs this project's container (`container_image`), so the module code imports.
Jobs restart on worker restart, so also when a spot machine (vertex_scheduling_strategy SPOT) is
preempted; the Trainer then resumes from the checkpoint in its model run directory.
"""
from typing import Any, Dict

from pipeline.configs import ConfigError
from pipeline.configs import PipelineConfig

TPU_TYPES = ('TPU_V2', 'TPU_V3')
TPU_MACHINE = 'cloud-tpu'
# Vertex's Scheduling.Strategy names; STANDARD (on demand) is its default, so a job names only
# the others.
SCHEDULING_STRATEGIES = ('STANDARD', 'SPOT', 'FLEX_START')


def resource_label(text: str) -> str:
  """A name as a label value of the project's Vertex jobs: lowercase, '_' as '-'
  ('attention_56_cifar' -> 'attention-56-cifar')."""
  return text.lower().replace('_', '-')


def _machine(config: PipelineConfig) -> Dict[str, Any]:
  tpu = config.vertex_accelerator_type in TPU_TYPES
  machine = {'machine_type': TPU_MACHINE if tpu else config.vertex_machine_type}
  if config.vertex_accelerator_type:
    machine['accelerator_type'] = config.vertex_accelerator_type
    machine['accelerator_count'] = config.vertex_accelerator_count
  return machine


def custom_job(config: PipelineConfig) -> Dict[str, Any]:
  """The CustomJob (display name, worker pools, scheduling) for TRAINING_ARGS_KEY."""
  if not config.vertex_project or not config.vertex_region:
    raise ConfigError('Vertex training needs --vertex_project and --vertex_region')
  if config.vertex_worker_count and config.vertex_accelerator_type in TPU_TYPES:
    raise ConfigError('--vertex_worker_count applies to GPU or CPU workers, not to a TPU')
  if config.vertex_scheduling_strategy not in SCHEDULING_STRATEGIES:
    raise ConfigError(f'--vertex_scheduling_strategy {config.vertex_scheduling_strategy!r}: '
                      f'choose from {list(SCHEDULING_STRATEGIES)}')
  pool = {'machine_spec': _machine(config), 'replica_count': 1,
          'container_spec': {'image_uri': config.container_image}}
  pools = [pool]
  if config.vertex_worker_count:
    pools.append({**pool, 'replica_count': config.vertex_worker_count})
  scheduling = {'restart_job_on_worker_restart': True}
  if config.vertex_scheduling_strategy != 'STANDARD':
    scheduling['strategy'] = config.vertex_scheduling_strategy
  return {
      'display_name': f'{config.pipeline_name}-trainer',
      'job_spec': {
          'worker_pool_specs': pools,
          'scheduling': scheduling,
      },
      'labels': {'pipeline': resource_label(config.pipeline_name),
                 'model': resource_label(config.model_name)},
  }


def trainer_class():
  """TFX's Trainer that runs as a Vertex AI custom job. Imported here, not by the pipeline
  module: the Vertex SDK it loads takes 3 s, which a local run does not need."""
  from tfx import v1 as tfx  # pylint: disable=g-import-not-at-top
  return tfx.extensions.google_cloud_ai_platform.Trainer


def trainer_custom_config(config: PipelineConfig) -> Dict[str, Any]:
  """The Vertex keys `tfx.extensions.google_cloud_ai_platform.Trainer` reads."""
  from tfx import v1 as tfx  # pylint: disable=g-import-not-at-top
  vertex = tfx.extensions.google_cloud_ai_platform
  return {
      vertex.ENABLE_VERTEX_KEY: True,
      vertex.VERTEX_REGION_KEY: config.vertex_region,
      vertex.TRAINING_ARGS_KEY: {'project': config.vertex_project, **custom_job(config)},
  }
