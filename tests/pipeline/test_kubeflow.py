"""The pipeline compiled for Kubeflow Pipelines / Vertex AI Pipelines: the local DAG, step by
step, in Kubeflow's own pipeline-spec protobuf."""
import dataclasses
import json
import os

from apache_beam.options import pipeline_options
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
import pytest
import yaml

import runner
from pipeline import configs
from pipeline import kubeflow
from pipeline import pipeline as pipeline_lib

IMAGE = 'europe-docker.pkg.dev/proj/ran/ran-tfx:7'
CLOUD = dict(output_dir='gs://bucket/ran', data_root='gs://bucket/data/cure_tsr',
             container_image=IMAGE, train_steps=123, accuracy_floor=0.8,
             beam_runner='DataflowRunner', dataflow_project='proj',
             dataflow_region='europe-west4', dataflow_temp_location='gs://bucket/tmp',
             dataflow_machine_type='n2-standard-8', dataflow_max_workers=20)
CLOUD_FLAGS = ['--runner=kubeflow', '--output_dir', CLOUD['output_dir'],
               '--data_root', CLOUD['data_root'], '--container_image', IMAGE]
BEAM_STEPS = ('ExampleGen', 'StatisticsGen', 'DataGate', 'Transform', 'Evaluator')


@pytest.fixture(scope='module')
def compiled(tmp_path_factory):
  """(config, the local DAG's components, the compiled PipelineJob as Kubeflow parses it)."""
  config = dataclasses.replace(configs.DEV, **CLOUD)
  path = str(tmp_path_factory.mktemp('kfp') / 'pipeline.json')
  assert kubeflow.compile_pipeline(config, output_file=path) == path
  with open(path) as f:
    job = json_format.Parse(f.read(), pipeline_spec_pb2.PipelineJob())  # unknown fields fail
  spec = json_format.ParseDict(json_format.MessageToDict(job.pipeline_spec),
                               pipeline_spec_pb2.PipelineSpec())
  components = pipeline_lib.create_pipeline(kubeflow.container_config(config),
                                            span_resolvers=False).components  # as compiled
  return config, components, spec, job


def _node_of(task_name, components):
  """The local DAG node a task comes from: a Resolver becomes one task per output channel,
  named '<node id>-<channel>-resolver'."""
  ids = {c.id for c in components}
  return task_name if task_name in ids else next(i for i in ids if task_name.startswith(i + '-'))


def _parameters(task):
  return {name: json_format.MessageToDict(value.runtime_value.constant)
          for name, value in task.inputs.parameters.items()}


def _values_of(key, tree):
  """Every value under `key` anywhere in nested dicts and lists."""
  if isinstance(tree, dict):
    yield from (v for k, v in tree.items() if k == key)
    tree = tree.values()
  for item in tree if isinstance(tree, list) or not isinstance(tree, (str, float, int)) else ():
    yield from _values_of(key, item)


def _container(spec, task):
  label = spec.components[task.component_ref.name].executor_label
  return json_format.MessageToDict(spec.deployment_spec)['executors'][label].get('container')


def test_every_node_of_the_local_dag_is_a_task_with_its_upstream_nodes(compiled):
  _, components, spec, _ = compiled
  tasks = spec.root.dag.tasks
  assert {_node_of(name, components) for name in tasks} == {c.id for c in components}
  for name, task in tasks.items():
    node = next(c for c in components if c.id == _node_of(name, components))
    upstream = {_node_of(t, components) for t in task.dependent_tasks}
    if node.id != name:  # a resolver's tasks depend on each other, not on pipeline nodes
      upstream.discard(node.id)
    assert upstream == {n.id for n in node.upstream_nodes}, name


def test_every_step_runs_the_configured_image(compiled):
  config, components, spec, _ = compiled
  for name, task in spec.root.dag.tasks.items():
    container = _container(spec, task)
    if _node_of(name, components) == 'latest_blessed_model':
      assert container is None  # Vertex resolves artifacts itself, no container
    else:
      assert container['image'] == config.container_image, name


def test_every_exec_property_reaches_its_task_as_configured(compiled):
  _, components, spec, _ = compiled
  for component in components:
    if component.id == 'latest_blessed_model':
      continue
    parameters = _parameters(spec.root.dag.tasks[component.id])
    expected = {name: (float(value) if isinstance(value, int) else value)
                for name, value in component.exec_properties.items() if value is not None}
    assert parameters == expected, component.id


def test_runtime_parameters_carry_the_profile(compiled):
  config, _, spec, job = compiled
  tasks = spec.root.dag.tasks
  assert json.loads(_parameters(tasks['Trainer'])['train_args']) == {'num_steps': 123}
  eval_config = json.loads(_parameters(tasks['Evaluator'])['eval_config'])
  assert set(_values_of('lower_bound', eval_config)) == {0.8}  # accuracy_floor
  assert _parameters(tasks['ExampleGen'])['input_base'] == 'gs://bucket/data/cure_tsr'
  assert job.runtime_config.gcs_output_directory == config.resolved_pipeline_root
  assert spec.default_pipeline_root == config.resolved_pipeline_root
  # No span resolver here: the gate's drift baseline is the statistics it keeps in the root.
  assert 'baseline_examples' not in tasks['DataGate'].inputs.artifacts
  assert _parameters(tasks['DataGate'])['statistics_store'] == (
      config.resolved_pipeline_root + '/DataGate/span_statistics')
  assert not spec.root.input_definitions.parameters  # no runtime parameters to fill in


def test_beam_steps_run_on_dataflow_with_the_configured_workers(compiled):
  config, _, spec, _ = compiled
  expected = list(config.resolved_beam_pipeline_args)
  for name in BEAM_STEPS:
    beam_args = _container(spec, spec.root.dag.tasks[name])['args'][-len(expected):]
    assert beam_args == expected, name
    options = pipeline_options.PipelineOptions(beam_args).get_all_options(drop_default=True)
    assert options['runner'] == 'DataflowRunner' and options['max_num_workers'] == 20
    assert options['machine_type'] == 'n2-standard-8'
    assert options['sdk_container_image'] == IMAGE


def test_no_path_of_this_checkout_reaches_the_spec(compiled):
  """Paths are remote or inside the image, where the Dockerfile puts this project."""
  _, _, spec, job = compiled
  assert configs.PROJECT_ROOT not in json_format.MessageToJson(job)
  for task in spec.root.dag.tasks.values():
    for value in _parameters(task).values():
      if isinstance(value, str) and value.startswith('/'):
        relative = os.path.relpath(value, kubeflow.IMAGE_PROJECT_ROOT)
        assert not relative.startswith(os.pardir), value
        assert os.path.isfile(os.path.join(configs.PROJECT_ROOT, relative)), value
  schema_file = _parameters(spec.root.dag.tasks['ImportSchemaGen'])['schema_file']
  assert schema_file == '/ran-tfx/data_schemas/cure_tsr.pbtxt'


def test_the_runner_writes_json_or_a_yaml_pipeline_spec(tmp_path, capsys):
  for name in ('pipeline.json', 'pipeline.yaml'):
    path = str(tmp_path / name)
    assert runner.main(CLOUD_FLAGS + ['--output_file', path, '--train_steps', '9']) == 0
    assert capsys.readouterr().out.strip() == f'Compiled ran-dev for Kubeflow Pipelines: {path}'
    with open(path) as f:
      document = yaml.safe_load(f)  # JSON is YAML too
    spec = json_format.ParseDict(document.get('pipelineSpec', document),
                                 pipeline_spec_pb2.PipelineSpec())
    assert json.loads(_parameters(spec.root.dag.tasks['Trainer'])['train_args']) == {
        'num_steps': 9}
    assert spec.default_pipeline_root == 'gs://bucket/ran/pipeline/ran-dev'


@pytest.mark.parametrize('flags, message', [
    ([], '--pipeline_root outputs/pipeline/ran-dev (default: <output_dir>/pipeline/'
         '<pipeline_name>); --output_dir outputs (it holds the model registry); --data_root '
         '(not given: the embedded sample is rendered on this machine, by --runner=local only)'),
    (CLOUD_FLAGS[1:] + ['--data_root', '/data/cure_tsr'], '--data_root /data/cure_tsr'),
    (CLOUD_FLAGS[1:] + ['--examples_dir', 'tfrecords'], '--examples_dir tfrecords'),
    (CLOUD_FLAGS[1:] + ['--pipeline_root', '/tmp/root'], '--pipeline_root /tmp/root'),
    (CLOUD_FLAGS[1:] + ['--dataset', 'mnist'], "Unknown dataset 'mnist'"),
    (CLOUD_FLAGS[1:] + ['--ingest_options', '{"crop": 1}'], "Unknown option(s) ['crop']"),
])
def test_paths_a_container_cannot_reach_are_clear_errors(flags, message, tmp_path, capsys):
  path = tmp_path / 'pipeline.json'
  assert runner.main(['--runner=kubeflow', '--output_file', str(path)] + flags) == 2
  assert message in capsys.readouterr().err
  assert not path.exists()


@pytest.mark.parametrize('argv, message', [
    (['--runner=kubeflow', '--dry_run'], '--dry_run applies to --runner=vertex, not '
     '--runner=kubeflow'),
    (['--runner=kubeflow', '--schedule', '0 3 * * *'], '--schedule applies to --runner=vertex'),
    (['--output_file', 'p.json'], '--output_file applies to --runner=kubeflow or '
     '--runner=vertex, not --runner=local'),
    (['--runner=vertex', '--max_concurrent_runs', '2'],
     '--max_concurrent_runs applies to a --schedule'),
])
def test_a_flag_of_another_runner_is_an_error(argv, message, capsys):
  with pytest.raises(SystemExit) as exit_info:
    runner.main(argv)
  assert exit_info.value.code == 2
  assert message in capsys.readouterr().err
