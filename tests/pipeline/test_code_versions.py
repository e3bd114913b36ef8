"""A cache key per step: each covers exactly the project code its step runs."""
import dataclasses
import json
import os
import shutil

import pytest
from tensorflow_model_analysis.proto import config_pb2
from google.protobuf import json_format

from pipeline import code_versions
from pipeline import configs
from pipeline import pipeline as pipeline_lib

STEPS = set(code_versions.STEP_MODULES)


@pytest.fixture(name='tree')
def fixture_tree(tmp_path):
  """A copy of the project's code packages, to edit."""
  for package in code_versions.PROJECT_PACKAGES:
    shutil.copytree(os.path.join(configs.PROJECT_ROOT, package), tmp_path / package,
                    ignore=shutil.ignore_patterns('__pycache__'))
  return tmp_path


def _changed_by_editing(tree, relative_path: str) -> set:
  """The steps whose key changes when `relative_path` of `tree` gains a comment line."""
  before = code_versions.step_code_versions(str(tree))
  with open(tree / relative_path, 'a', encoding='utf-8') as f:
    f.write('\n# an edit\n' if relative_path.endswith('.py') else '\n/* an edit */\n')
  after = code_versions.step_code_versions(str(tree))
  return {step for step in STEPS if before[step] != after[step]}


@pytest.mark.parametrize('edited, steps', [
    ('components/dashboard/charts.py', {'EvaluationDashboard'}),
    ('components/dashboard/style.css', {'EvaluationDashboard'}),  # a data file beside a module
    ('components/attention_maps/overlay.py', {'EvaluationDashboard'}),
    ('components/trainer/schedules.py', {'Trainer'}),
    ('components/trainer/training.py', {'Trainer'}),
    ('components/trainer/serving.py', {'Trainer'}),
    # The dashboard reads attention modules by ran_model's addresses (stage{s}_attn{k}); a
    # model edit retrains, and so redraws the dashboard, anyway.
    # The edge export rebuilds the network on pixels.
    ('ran_model/blocks.py', {'Trainer', 'EvaluationDashboard', 'EdgeExport'}),
    ('components/example_gen/formats/gtsrb.py', {'ExampleGen'}),
    ('components/example_gen/sample/challenge_effects.py', {'ExampleGen'}),
    ('components/example_gen/formats/gtsrb_fixture.py', set()),  # tests' fixture writer
    ('components/example_gen/ingest.py', {'ExampleGen'}),
    ('components/transform.py', {'Transform', 'Trainer'}),  # the Trainer reads its statistics
    # The metric names the card and the dashboard read.
    ('components/evaluation.py', {'Evaluator', 'RegistryPusher', 'EvaluationDashboard',
                                  'EdgeExport'}),
    # The dashboard's History section reads the registry's versions and cards.
    ('components/registry/filesystem.py', {'RegistryPusher', 'EvaluationDashboard',
                                           'EdgeExport'}),
    ('components/edge/converter.py', {'EdgeExport'}),
    # The dashboard's Edge section reads the export's report and its gate.
    ('components/edge/report.py', {'EdgeExport', 'EvaluationDashboard'}),
    ('components/evaluation_dashboard.py', {'EvaluationDashboard'}),
    ('components/data_gate/validation.py', {'DataGate'}),
    # The gate's verdict: the card records the accepted drift.
    ('components/data_gate/result.py', {'DataGate', 'RegistryPusher', 'EvaluationDashboard'}),
    ('components/features.py', STEPS),  # the shared contract
])
def test_an_edit_changes_the_keys_of_exactly_the_steps_that_run_it(tree, edited, steps):
  assert _changed_by_editing(tree, edited) == steps


def test_a_module_outside_every_step_changes_no_key(tree):
  (tree / 'components' / 'unused.py').write_text('import components.features\n')
  assert _changed_by_editing(tree, 'components/unused.py') == set()


def test_lazy_and_relative_imports_count(tree):
  (tree / 'components' / 'example_gen' / 'extra.py').write_text('X = 1\n')
  with open(tree / 'components' / 'example_gen' / 'ingest.py', 'a', encoding='utf-8') as f:
    f.write('\n\ndef _late():\n  from . import extra\n  return extra.X\n')
  assert 'components/example_gen/extra.py' in code_versions.import_closure(
      'components.example_gen.executor', str(tree))
  assert _changed_by_editing(tree, 'components/example_gen/extra.py') == {'ExampleGen'}


def test_an_unknown_module_is_an_error(tree):
  with pytest.raises(ValueError, match='components.none_such is not a module of the project'):
    code_versions.code_version('components.none_such', str(tree))


def _entry_modules(component) -> list:
  """The project modules a DAG node names for its code: executor, run_fn, preprocessing_fn,
  the Evaluator's custom metrics."""
  properties = component.exec_properties
  if 'run_fn' in properties or 'preprocessing_fn' in properties:
    return [(properties.get('run_fn') or properties['preprocessing_fn']).rpartition('.')[0]]
  if 'eval_config' in properties:
    eval_config = json_format.Parse(properties['eval_config'], config_pb2.EvalConfig())
    return sorted({metric.module for spec in eval_config.metrics_specs
                   for metric in spec.metrics if metric.module.startswith('components')})
  return [component.executor_spec.executor_class.__module__]


def test_every_step_carries_its_key_and_the_key_covers_the_code_it_names(tmp_path):
  config = dataclasses.replace(configs.DEV, output_dir=str(tmp_path))
  nodes = {c.id: c for c in pipeline_lib.create_pipeline(config).components}
  versions = code_versions.step_code_versions()
  for step, module in code_versions.STEP_MODULES.items():
    closure = code_versions.import_closure(module)
    for entry in _entry_modules(nodes[step]):
      assert code_versions.import_closure(entry) <= closure, (step, entry)
    assert versions[step] in json.dumps(nodes[step].exec_properties, default=str), step
