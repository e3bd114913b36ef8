"""The Trainer as a Vertex AI custom job: the job configuration, built without network."""
import dataclasses
import json

import pytest
from tfx import v1 as tfx
from tfx.extensions.google_cloud_ai_platform import training_clients
from tfx.types import standard_artifacts
from tfx.types import standard_component_specs

from components.trainer import TrainerConfig
from pipeline import configs
from pipeline import pipeline as pipeline_lib
from pipeline import vertex_training

VERTEX = dict(vertex_training=True, vertex_project='proj', vertex_region='europe-west4',
              container_image='europe-docker.pkg.dev/proj/ran/ran-tfx:1')


def _config(**overrides):
  return dataclasses.replace(configs.IMAGENET, **{**VERTEX, **overrides})


def _pools(config):
  return vertex_training.custom_job(config)['job_spec']['worker_pool_specs']


def test_one_machine_with_eight_gpus():
  [pool] = _pools(_config())
  assert pool == {'machine_spec': {'machine_type': 'a2-highgpu-8g',
                                   'accelerator_type': 'NVIDIA_TESLA_A100',
                                   'accelerator_count': 8},
                  'replica_count': 1,
                  'container_spec': {'image_uri': VERTEX['container_image']}}


def test_several_workers_add_a_second_pool_beside_the_chief():
  chief, workers = _pools(_config(vertex_machine_type='n1-standard-16',
                                  vertex_accelerator_type='NVIDIA_TESLA_V100',
                                  vertex_accelerator_count=4, vertex_worker_count=3))
  assert chief['replica_count'] == 1 and workers['replica_count'] == 3
  assert chief['machine_spec'] == workers['machine_spec'] == {
      'machine_type': 'n1-standard-16', 'accelerator_type': 'NVIDIA_TESLA_V100',
      'accelerator_count': 4}


def test_a_tpu_runs_on_the_tpu_machine():
  [pool] = _pools(_config(vertex_accelerator_type='TPU_V3', vertex_accelerator_count=8))
  assert pool['machine_spec'] == {'machine_type': 'cloud-tpu', 'accelerator_type': 'TPU_V3',
                                  'accelerator_count': 8}


def test_cpu_only_has_no_accelerator():
  [pool] = _pools(_config(vertex_machine_type='n1-highmem-16', vertex_accelerator_type=''))
  assert pool['machine_spec'] == {'machine_type': 'n1-highmem-16'}


@pytest.mark.parametrize('overrides, message', [
    (dict(vertex_project=None), 'needs --vertex_project and --vertex_region'),
    (dict(vertex_accelerator_type='TPU_V2', vertex_worker_count=2), 'not to a TPU'),
])
def test_bad_vertex_settings_are_config_errors(overrides, message):
  with pytest.raises(configs.ConfigError, match=message):
    vertex_training.custom_job(_config(**overrides))


def test_the_pipeline_trainer_becomes_the_vertex_trainer_and_builds_the_job(tmp_path):
  config = _config(output_dir=str(tmp_path), vertex_worker_count=1)
  trainer = next(c for c in pipeline_lib.create_pipeline(config).components
                 if c.id == 'Trainer')
  assert isinstance(trainer, tfx.extensions.google_cloud_ai_platform.Trainer)
  custom_config = json.loads(trainer.exec_properties[standard_component_specs.CUSTOM_CONFIG_KEY])
  vertex = tfx.extensions.google_cloud_ai_platform
  assert custom_config[vertex.ENABLE_VERTEX_KEY] is True
  assert custom_config[vertex.VERTEX_REGION_KEY] == 'europe-west4'
  trainer_config = TrainerConfig.from_custom_config(custom_config)  # beside the Vertex keys
  assert trainer_config == TrainerConfig.from_fields(
      config, code_version=trainer_config.code_version)
  job_args = custom_config[vertex.TRAINING_ARGS_KEY]
  assert job_args['project'] == 'proj'
  # What TFX's Vertex client submits, built offline (its constructor would open a client).
  client = training_clients.VertexJobClient.__new__(training_clients.VertexJobClient)
  examples = standard_artifacts.Examples()
  examples.uri = 'gs://bucket/examples'
  model = standard_artifacts.Model()
  model.uri = 'gs://bucket/model'
  job = client.create_training_job(
      {'examples': [examples]}, {'model': [model]},
      {standard_component_specs.CUSTOM_CONFIG_KEY: json.dumps(custom_config)},
      'tfx.components.trainer.executor.GenericExecutor',
      {k: v for k, v in job_args.items() if k != 'project'}, None, None)
  assert job['display_name'] == 'ran-imagenet-trainer'
  assert job['job_spec']['scheduling'] == {'restart_job_on_worker_restart': True}
  pools = job['job_spec']['worker_pool_specs']
  assert [p['replica_count'] for p in pools] == [1, 1]
  for pool in pools:
    assert pool['container_spec']['image_uri'] == VERTEX['container_image']
    command = pool['container_spec']['command']
    assert command[:3] == ['python', '-m', 'tfx.scripts.run_executor']
    assert 'tfx.components.trainer.executor.GenericExecutor' in command


def test_spot_machines_keep_the_restart_that_resumes_training():
  from google.cloud import aiplatform_v1  # pylint: disable=g-import-not-at-top (slow import)
  job = vertex_training.custom_job(_config(vertex_scheduling_strategy='SPOT'))
  assert job['job_spec']['scheduling'] == {'restart_job_on_worker_restart': True,
                                           'strategy': 'SPOT'}
  request = aiplatform_v1.CustomJob(job)  # what Vertex receives: the strategy is its enum
  assert request.job_spec.scheduling.strategy == aiplatform_v1.Scheduling.Strategy.SPOT
  assert request.job_spec.scheduling.restart_job_on_worker_restart


def test_an_unknown_scheduling_strategy_is_a_config_error():
  with pytest.raises(configs.ConfigError, match="--vertex_scheduling_strategy 'CHEAP': choose"):
    vertex_training.custom_job(_config(vertex_scheduling_strategy='CHEAP'))
