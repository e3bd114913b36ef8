"""create_pipeline's choices from the config: which ExampleGen, which schema, which slices."""
import dataclasses
import json
import os

import pytest
from tfx import v1 as tfx
from tfx.dsl.compiler import compiler

from components import example_gen
from components import schemas
from components.example_gen import executor
from components.example_gen.formats import manifest
from pipeline import code_versions
from pipeline import configs
from pipeline import pipeline as pipeline_lib


def _components(config):
  return {c.id: c for c in pipeline_lib.create_pipeline(config).components}


def test_a_manifest_dataset_gets_a_schema_from_its_manifest(tmp_path):
  root = str(tmp_path / 'data')
  manifest.write_fixture(root, classes=('cat', 'dog'), per_class=2,
                         scenario_columns={'weather': ('sun', 'rain')})
  config = dataclasses.replace(configs.DEV, dataset='manifest', data_root=root,
                               output_dir=str(tmp_path / 'out'))
  components = _components(config)
  schema_file = components['ImportSchemaGen'].exec_properties['schema_file']
  assert schema_file == os.path.join(config.resolved_pipeline_root, 'schema', 'manifest.pbtxt')
  schema = schemas.load_schema(schema_file)
  assert schemas.class_names(schema) == ('cat', 'dog')
  assert schemas.scenario_features(schema) == ('scenario/weather',)
  eval_config = components['Evaluator'].exec_properties['eval_config']
  assert '"scenario/weather"' in eval_config  # the default slices follow the schema


def test_the_evaluator_takes_the_regression_gate_settings(tmp_path):
  config = dataclasses.replace(configs.DEV, output_dir=str(tmp_path), regression_tolerance=0.02,
                               regression_significance=0.2, min_slice_size=50)
  eval_config = json.loads(_components(config)['Evaluator'].exec_properties['eval_config'])
  [gate] = [metric for spec in eval_config['metrics_specs'] for metric in spec['metrics']
            if metric['class_name'] == 'SignificantAccuracyChange']
  settings = json.loads(gate['config'])
  assert (settings['significance'], settings['min_examples']) == (0.2, 50)
  assert {t['threshold']['change_threshold']['absolute'] for t in gate['per_slice_thresholds']
          } == {-0.02}


def test_examples_dir_imports_through_import_example_gen(tmp_path):
  config = dataclasses.replace(configs.DEV, examples_dir=str(tmp_path), import_format='tf_tpu',
                               label_offset=-1, output_dir=str(tmp_path / 'out'),
                               allow_lost_files=True)
  example_gen_component = _components(config)['ExampleGen']
  assert isinstance(example_gen_component, tfx.components.ImportExampleGen)
  options = executor.config_of(example_gen_component.exec_properties)['options']
  assert options == {'classes_of': 'cure_tsr', 'label_offset': -1,
                     'split_patterns': example_gen.TPU_SPLIT_PATTERNS, 'allow_lost_files': True}


@pytest.mark.parametrize('allow_lost_files', [False, True])
def test_allow_lost_files_reaches_the_layout_reader(tmp_path, allow_lost_files):
  config = dataclasses.replace(configs.DEV, output_dir=str(tmp_path),
                               allow_lost_files=allow_lost_files)
  options = executor.config_of(_components(config)['ExampleGen'].exec_properties)['options']
  assert options == {'seed': 0, 'allow_lost_files': allow_lost_files}


def test_the_registry_pusher_takes_the_registry_settings(tmp_path):
  config = dataclasses.replace(
      configs.DEV, output_dir='gs://bucket/ran', promote_to='staging',
      vertex_model_registry=True, vertex_project='p', vertex_region='europe-west4',
      vertex_parent_model='projects/p/locations/europe-west4/models/7')
  pusher = _components(config)['RegistryPusher']
  properties = pusher.exec_properties
  assert (properties['registry_root'], properties['registered_model_name'],
          properties['promote_to']) == ('gs://bucket/ran/registry', 'ran-dev', 'staging')
  assert json.loads(properties['vertex_upload']) == {
      'serving_container_image_uri': config.vertex_serving_image,
      'parent_model': 'projects/p/locations/europe-west4/models/7',
      'version_aliases': ['staging'], 'project': 'p', 'location': 'europe-west4'}
  local = _components(dataclasses.replace(configs.DEV, output_dir=str(tmp_path)))[
      'RegistryPusher']
  assert local.exec_properties['vertex_upload'] is None
  with pytest.raises(ValueError, match='gs://'):  # Vertex reads models from Cloud Storage
    pipeline_lib.create_pipeline(dataclasses.replace(config, output_dir=str(tmp_path)))


def test_the_dashboard_is_drawn_last_from_the_evaluation_and_the_push(tmp_path):
  config = dataclasses.replace(configs.DEV, output_dir=str(tmp_path))
  components = pipeline_lib.create_pipeline(config).components
  dashboard = components[-1]
  assert dashboard.id == 'EvaluationDashboard'
  producers = {key: channel.producer_component_id for key, channel in dashboard.inputs.items()}
  assert producers == {'evaluation': 'Evaluator', 'examples': 'ExampleGen',
                       'schema': 'ImportSchemaGen', 'pushed_model': 'RegistryPusher',
                       'data_gate': 'DataGate', 'edge_report': 'EdgeExport'}
  assert dashboard.exec_properties == {
      'model_name': config.model_name,
      'code_version': code_versions.step_code_versions()['EvaluationDashboard'],
      'registry_root': str(tmp_path / 'registry'),
      'registered_model_name': config.resolved_registered_model_name}


def test_the_edge_export_runs_on_a_pushed_model_only(tmp_path):
  """EdgeExport follows the RegistryPusher, under a Cond on its `pushed` property (inside the
  data gate's), and takes the model, the examples evaluated, the spans trained on and the
  evaluation; --edge_export false leaves it out."""
  config = dataclasses.replace(configs.DEV, output_dir=str(tmp_path), edge_max_drop=0.02)
  components = _components(config)
  edge = components['EdgeExport']
  assert {key: channel.producer_component_id for key, channel in edge.inputs.items()
          if key != 'train_examples'} == {
              'pushed_model': 'RegistryPusher', 'model': 'Trainer', 'examples': 'ExampleGen',
              'evaluation': 'Evaluator'}
  assert edge.inputs['train_examples'] is components['Trainer'].inputs['examples']
  assert edge.exec_properties == {
      'recipe': config.recipe, 'max_drop': 0.02, 'representative_examples': 200,
      'seed': config.seed, 'latency_runs': 30,
      'code_version': code_versions.step_code_versions()['EdgeExport']}
  [node] = [n.pipeline_node for n in compiler.Compiler().compile(
      pipeline_lib.create_pipeline(config)).nodes if n.pipeline_node.node_info.id == 'EdgeExport']
  compares = {c.placeholder_expression.operator.compare_op.lhs.operator.artifact_property_op.key:
              c.placeholder_expression.operator.compare_op
              for c in node.inputs.conditionals.values()}
  assert set(compares) == {'passed', 'pushed'}
  assert compares['pushed'].op == compares['pushed'].Operation.EQUAL
  assert compares['pushed'].rhs.value.int_value == 1
  off = _components(dataclasses.replace(config, edge_export=False))
  assert 'EdgeExport' not in off and 'edge_report' not in off['EvaluationDashboard'].inputs


def test_each_profile_registers_its_models_under_its_own_name(tmp_path):
  """cure_tsr (14 classes) and gtsrb (43) train the same network; their models must not
  become versions of one registry entry."""
  entries = {}
  for name in ('cure_tsr', 'gtsrb'):
    profile = configs.PROFILES[name]
    assert profile.model_name == 'attention_92_cifar'
    entries[name] = profile.resolved_registered_model_name
  assert entries == {'cure_tsr': 'ran-cure-tsr', 'gtsrb': 'ran-gtsrb'}
  config = dataclasses.replace(configs.DEV, output_dir=str(tmp_path),
                               registered_model_name='signs-eu')
  assert _components(config)['RegistryPusher'].exec_properties[
      'registered_model_name'] == 'signs-eu'


def test_the_trainer_starts_from_the_latest_blessed_model_unless_warm_start_is_off(tmp_path):
  config = dataclasses.replace(configs.DEV, output_dir=str(tmp_path))
  trainer = _components(config)['Trainer']
  assert trainer.inputs['base_model'].producer_component_id == 'latest_blessed_model'
  cold = _components(dataclasses.replace(config, warm_start=False))['Trainer']
  assert 'base_model' not in cold.inputs


def test_a_published_test_split_is_evaluated_ungated_when_it_has_examples(tmp_path):
  """GTSRB's layout has a test split (Final_Test): a TestEvaluator measures it with the eval
  split's slices and no threshold or baseline, only when ExampleGen wrote test examples; the
  card and the dashboard take its evaluation."""
  config = dataclasses.replace(configs.GTSRB, output_dir=str(tmp_path), data_root=str(tmp_path))
  components = _components(config)
  test_evaluator = components['TestEvaluator']
  assert json.loads(test_evaluator.exec_properties['example_splits']) == ['test']
  assert 'baseline_model' not in test_evaluator.inputs
  assert test_evaluator.inputs['model'].producer_component_id == 'Trainer'
  gated = json.loads(components['Evaluator'].exec_properties['eval_config'])
  reported = json.loads(test_evaluator.exec_properties['eval_config'])
  assert reported['slicing_specs'] == gated['slicing_specs']
  def thresholds(eval_config):
    return [metric.get('per_slice_thresholds', []) + ([metric['threshold']]
                                                      if 'threshold' in metric else [])
            for spec in eval_config['metrics_specs'] for metric in spec['metrics']]
  assert any(thresholds(gated)) and not any(thresholds(reported))
  for consumer in ('RegistryPusher', 'EvaluationDashboard'):
    assert components[consumer].inputs['test_evaluation'].producer_component_id == (
        'TestEvaluator')
  [node] = [n.pipeline_node for n in compiler.Compiler().compile(
      pipeline_lib.create_pipeline(config)).nodes if n.pipeline_node.node_info.id ==
            'TestEvaluator']
  compares = {c.placeholder_expression.operator.compare_op.lhs.operator.artifact_property_op.key:
              c.placeholder_expression.operator.compare_op
              for c in node.inputs.conditionals.values()}
  assert set(compares) == {'passed', 'written_test'}  # the data gate's, then its own
  compare = compares['written_test']
  assert compare.op == compare.Operation.GREATER_THAN and compare.rhs.value.int_value == 0


@pytest.mark.parametrize('profile, overrides', [
    ('cure_tsr', {}),                      # no published test split in its layout
    ('gtsrb', {'examples_dir': '/data'}),  # imported examples: train and eval only
])
def test_without_a_test_split_there_is_no_test_evaluator(tmp_path, profile, overrides):
  config = dataclasses.replace(configs.PROFILES[profile], output_dir=str(tmp_path), **overrides)
  components = _components(config)
  assert 'Evaluator' in components and 'TestEvaluator' not in components
  assert 'test_evaluation' not in components['RegistryPusher'].inputs
