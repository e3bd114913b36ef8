"""PipelineConfig's derived settings: Beam options from the Dataflow fields, the pipeline root,
project paths as the running steps see them."""
import dataclasses
import os

from apache_beam.options import pipeline_options
import pytest

from pipeline import configs

DATAFLOW = dict(beam_runner='DataflowRunner', dataflow_project='proj',
                dataflow_region='europe-west4', dataflow_temp_location='gs://bucket/tmp',
                container_image='europe-docker.pkg.dev/proj/ran/ran-tfx:1')


def _config(**overrides):
  return dataclasses.replace(configs.DEV, **overrides)


def _beam_options(args):
  """Every option Beam parses from `args` (a misspelt one fails the test)."""
  options = pipeline_options.PipelineOptions(list(args))
  known = options.get_all_options(drop_default=True)
  assert options.get_all_options(drop_default=True, retain_unknown_options=True) == known
  return known


def test_the_local_runner_keeps_beam_in_process_with_no_options():
  """No options: Beam's defaults, in memory with one worker; and with none TFX builds no
  throwaway package of itself per Beam step."""
  assert _config().resolved_beam_pipeline_args == ()
  defaults = pipeline_options.PipelineOptions([]).view_as(pipeline_options.DirectOptions)
  assert (defaults.direct_running_mode, defaults.direct_num_workers) == ('in_memory', 1)


def test_the_portable_runner_goes_through_the_embedded_job_service():
  assert _beam_options(_config(beam_runner='PortableRunner').resolved_beam_pipeline_args) == {
      'runner': 'PortableRunner', 'job_endpoint': 'embed', 'environment_type': 'LOOPBACK'}


def test_dataflow_fields_become_dataflow_options():
  config = _config(**DATAFLOW, dataflow_machine_type='n2-standard-8', dataflow_max_workers=20,
                   beam_pipeline_args=('--flexrs_goal=COST_OPTIMIZED',))
  assert _beam_options(config.resolved_beam_pipeline_args) == {
      'runner': 'DataflowRunner', 'project': 'proj', 'region': 'europe-west4',
      'temp_location': 'gs://bucket/tmp', 'machine_type': 'n2-standard-8',
      'max_num_workers': 20, 'sdk_container_image': DATAFLOW['container_image'],
      'sdk_location': 'container', 'experiments': ['use_runner_v2'],
      'flexrs_goal': 'COST_OPTIMIZED'}


def test_dataflow_defaults_to_the_vertex_project_region_and_the_pipeline_image():
  config = _config(**{**DATAFLOW, 'dataflow_project': None, 'dataflow_region': None},
                   vertex_project='vproj', vertex_region='us-central1',
                   dataflow_sdk_container_image='gcr.io/vproj/worker:2')
  options = _beam_options(config.resolved_beam_pipeline_args)
  assert (options['project'], options['region']) == ('vproj', 'us-central1')
  assert options['sdk_container_image'] == 'gcr.io/vproj/worker:2'
  assert 'machine_type' not in options and 'max_num_workers' not in options  # Dataflow's own


def test_extra_beam_args_come_last_and_win():
  config = _config(**DATAFLOW, dataflow_max_workers=20,
                   beam_pipeline_args=('--max_num_workers=3',))
  assert config.resolved_beam_pipeline_args[-1] == '--max_num_workers=3'
  assert _beam_options(config.resolved_beam_pipeline_args)['max_num_workers'] == 3


@pytest.mark.parametrize('overrides, message', [
    (dict(dataflow_project=None), '--dataflow_project (or --vertex_project)'),
    (dict(dataflow_region=None), '--dataflow_region (or --vertex_region)'),
    (dict(dataflow_temp_location=None), '--dataflow_temp_location (a gs:// folder)'),
    (dict(dataflow_temp_location='/tmp/beam'),
     '--dataflow_temp_location as a gs:// folder, not /tmp/beam'),
    (dict(container_image='ran-tfx:latest'), 'in a registry Dataflow can pull from'),
    (dict(beam_runner='SparkRunner'), "--beam_runner 'SparkRunner': choose from "
     "['DirectRunner', 'PortableRunner', 'DataflowRunner']"),
    (dict(beam_runner='PortableRunner'),
     '--dataflow_project, --dataflow_region, --dataflow_temp_location apply to --beam_runner '
     'DataflowRunner, not PortableRunner'),
    (dict(beam_runner='DirectRunner'),
     '--dataflow_project, --dataflow_region, --dataflow_temp_location apply to --beam_runner '
     'DataflowRunner, not DirectRunner'),
])
def test_dataflow_settings_that_cannot_work_are_config_errors(overrides, message):
  with pytest.raises(configs.ConfigError) as error:
    _ = _config(**{**DATAFLOW, **overrides}).resolved_beam_pipeline_args
  assert message in str(error.value)


def test_pipeline_root_defaults_under_the_output_dir():
  assert _config(output_dir='/o').resolved_pipeline_root == '/o/pipeline/ran-dev'
  assert _config(output_dir='/o', pipeline_root='gs://b/root').resolved_pipeline_root == (
      'gs://b/root')


def test_project_paths_move_under_the_project_root():
  schema = os.path.join(configs.PROJECT_ROOT, 'data_schemas', 'cure_tsr.pbtxt')
  assert _config().project_path(schema) == schema
  in_image = _config(project_root='/ran-tfx')
  assert in_image.project_path(schema) == '/ran-tfx/data_schemas/cure_tsr.pbtxt'
  for elsewhere in ('gs://b/root/schema/manifest.pbtxt', '/data/schema.pbtxt'):
    assert in_image.project_path(elsewhere) == elsewhere


@pytest.mark.parametrize('image, in_registry', [
    ('ran-tfx:latest', False), ('library/ran-tfx', False), ('gcr.io/p/ran-tfx', True),
    ('europe-docker.pkg.dev/p/r/ran-tfx:1', True), ('localhost:5000/ran-tfx', True),
    ('localhost/ran-tfx', True)])
def test_names_registry(image, in_registry):
  assert configs.names_registry(image) is in_registry
