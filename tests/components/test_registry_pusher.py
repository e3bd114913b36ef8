"""RegistryPusher's executor on real artifacts: evaluation_data's TFMA outputs and SavedModels."""
import json
import os
import shutil

import pytest
from tfx.dsl.components.base import base_executor
from tfx.types import standard_artifacts

from components import evaluation
from components import registry_pusher
from components.registry import FilesystemRegistry
from evaluation_data import LEVEL, WEATHER

MODEL_NAME = 'signs'
FINGERPRINT = 'split:train,num_files:2,total_bytes:1024'


def _artifact(kind, uri, **custom):
  artifact = kind()
  artifact.uri = str(uri)
  for name, value in custom.items():
    if isinstance(value, int):
      artifact.set_int_custom_property(name, value)
    else:
      artifact.set_string_custom_property(name, value)
  return artifact


def _trained_model(root, evaluation_workspace, name):
  """A Model artifact whose Format-Serving folder holds evaluation_data's candidate."""
  uri = root / name
  shutil.copytree(evaluation_workspace / 'candidate', uri / 'Format-Serving')
  return _artifact(standard_artifacts.Model, uri)


def _push(root, model, evaluation_uri, *, blessed, baseline=None, run_id='run-1',
          test_evaluation_uri=None, **params):
  """Runs the executor as TFX would; returns the PushedModel artifact."""
  pushed = _artifact(standard_artifacts.PushedModel, root / f'pushed-{run_id}')
  inputs = {
      'model': [model],
      'model_blessing': [_artifact(standard_artifacts.ModelBlessing, root / 'blessing',
                                   blessed=int(blessed))],
      'evaluation': [_artifact(standard_artifacts.ModelEvaluation, evaluation_uri)],
      'test_evaluation': ([_artifact(standard_artifacts.ModelEvaluation, test_evaluation_uri)]
                          if test_evaluation_uri else []),  # as TFX gives an empty input
      'examples': [_artifact(standard_artifacts.Examples, root / 'examples',
                             input_fingerprint=FINGERPRINT)],
      'baseline_model': [baseline] if baseline else [],
  }
  context = base_executor.BaseExecutor.Context(tmp_dir=str(root / 'tmp'), unique_id='1',
                                               pipeline_run_id=run_id)
  registry_pusher.Executor(context).Do(
      inputs, {'pushed_model': [pushed]},
      {'registry_root': str(root / 'registry'), 'registered_model_name': MODEL_NAME,
       'code_version': 'ffff', 'model_code_version': 'c0de', **params})
  return pushed


def _record(pushed):
  with open(os.path.join(pushed.uri, registry_pusher.PUSH_RECORD)) as f:
    return json.load(f)


def test_a_model_not_blessed_leaves_the_registry_unchanged(tmp_path, evaluation_workspace,
                                                           evaluations):
  model = _trained_model(tmp_path, evaluation_workspace, 'poor')
  pushed = _push(tmp_path, model, evaluations[0], blessed=False)
  assert pushed.get_int_custom_property('pushed') == 0
  assert not pushed.get_string_custom_property('pushed_destination')
  assert _record(pushed)['pushed'] is False
  assert not (tmp_path / 'registry').exists()


def test_a_blessed_model_becomes_a_version_with_its_card(tmp_path, evaluation_workspace,
                                                         evaluations):
  model = _trained_model(tmp_path, evaluation_workspace, 'good')
  pushed = _push(tmp_path, model, evaluations[0], blessed=True)
  registry = FilesystemRegistry(str(tmp_path / 'registry'))
  [version] = registry.list_versions(MODEL_NAME)
  assert version.number == 1
  assert pushed.get_int_custom_property('pushed') == 1
  assert pushed.get_string_custom_property('pushed_destination') == version.uri
  assert pushed.get_string_custom_property('pushed_version') == '1'
  assert pushed.get_int_custom_property('registry_version') == 1
  assert _record(pushed) == {'pushed': True, 'registered_model_name': MODEL_NAME, 'version': 1,
                             'uri': version.uri, 'registry_root': registry.root}
  assert sorted(os.listdir(version.uri)) == sorted(
      os.listdir(evaluation_workspace / 'candidate') + ['model_card.json'])
  card = registry.show(MODEL_NAME, 1)
  assert card.metrics[evaluation.ACCURACY] == pytest.approx(5 / 8)
  assert card.metrics[evaluation.EXAMPLE_COUNT] == 8
  assert not any('[' in name for name in card.metrics)  # per-class values stay in the evaluation
  assert card.slice_metrics[f'{LEVEL}=5'][evaluation.GATED_ACCURACY] == pytest.approx(1 / 3)
  assert 'overall' not in card.slice_metrics
  assert card.eval_config['evalConfig']['slicingSpecs'][0] == {}
  # The executor trusts the blessing artifact; the card keeps what the evaluation said.
  assert not card.blessed
  assert 'scenario/level=5: gated_accuracy = 0.3333, below its floor 0.5000' in (
      card.blessing_reasons)
  assert (card.examples_fingerprint, card.pipeline_run_id, card.code_version) == (
      FINGERPRINT, 'run-1', 'c0de')
  assert card.baseline_version is None
  assert card.source_uri == os.path.join(model.uri, 'Format-Serving')
  assert card.evaluation_uri == evaluations[0]
  assert card.test_metrics == {} and card.test_slice_metrics == {}  # no test split evaluated


def test_the_card_gives_the_published_test_split_beside_the_eval_split(
    tmp_path, evaluation_workspace, evaluations, test_split_evaluation):
  model = _trained_model(tmp_path, evaluation_workspace, 'good')
  _push(tmp_path, model, evaluations[0], blessed=True,
        test_evaluation_uri=test_split_evaluation)
  card = FilesystemRegistry(str(tmp_path / 'registry')).show(MODEL_NAME, 1)
  assert card.metrics[evaluation.ACCURACY] == pytest.approx(5 / 8)  # the eval split's, gated
  assert card.test_metrics[evaluation.ACCURACY] == pytest.approx(3 / 4)
  assert card.test_metrics[evaluation.EXAMPLE_COUNT] == 4
  assert not any('[' in name for name in card.test_metrics)
  sliced = {name: metrics[evaluation.ACCURACY]
            for name, metrics in card.test_slice_metrics.items() if name.startswith(WEATHER)}
  assert sliced == {f'{WEATHER}=sun': pytest.approx(1.0), f'{WEATHER}=rain': 0.0}
  assert card.test_slice_metrics[f'{LEVEL}=5'][evaluation.EXAMPLE_COUNT] == 2
  assert 'overall' not in card.test_slice_metrics
  # The verdict is the eval split's: the test split gates nothing.
  assert 'scenario/level=5: gated_accuracy = 0.3333, below its floor 0.5000' in (
      card.blessing_reasons)


def test_pushing_the_same_model_again_publishes_nothing_new(tmp_path, evaluation_workspace,
                                                            evaluations):
  model = _trained_model(tmp_path, evaluation_workspace, 'good')
  first = _push(tmp_path, model, evaluations[0], blessed=True, run_id='run-1')
  again = _push(tmp_path, model, evaluations[1], blessed=True, run_id='run-2')
  registry = FilesystemRegistry(str(tmp_path / 'registry'))
  assert [v.number for v in registry.list_versions(MODEL_NAME)] == [1]
  assert again.get_string_custom_property('pushed_destination') == (
      first.get_string_custom_property('pushed_destination'))
  assert registry.show(MODEL_NAME, 1).pipeline_run_id == 'run-1'


def test_the_card_names_the_baseline_version_and_an_alias_moves(tmp_path, evaluation_workspace,
                                                                evaluations):
  baseline = _trained_model(tmp_path, evaluation_workspace, 'baseline')
  _push(tmp_path, baseline, evaluations[0], blessed=True, run_id='run-1')
  candidate = _trained_model(tmp_path, evaluation_workspace, 'candidate')
  pushed = _push(tmp_path, candidate, evaluations[1], blessed=True, baseline=baseline,
                 run_id='run-2', promote_to='staging')
  registry = FilesystemRegistry(str(tmp_path / 'registry'))
  assert pushed.get_int_custom_property('registry_version') == 2
  card = registry.show(MODEL_NAME, 2)
  assert card.baseline_version == 1
  assert card.slice_metrics['scenario/weather=rain']  # the candidate's, not the baseline's
  assert 'overall: sparse_categorical_accuracy changed by -0.3750 against the baseline, ' \
      'less than the -0.3000 allowed' in card.blessing_reasons
  assert registry.aliases(MODEL_NAME) == {'staging': 2}


@pytest.mark.parametrize('arguments, message', [
    ({'registered_model_name': '../escape'}, 'not a simple name'),
    ({'registered_model_name': 'signs/../../x'}, 'not a simple name'),
    ({'promote_to': '../production'}, 'not a simple name'),
    ({'promote_to': '7'}, 'is a number'),
    ({'vertex_upload': {'serving_container_image_uri': 'img'}}, 'gs://'),
])
def test_names_escaping_the_registry_are_rejected_when_the_pipeline_is_built(arguments,
                                                                             message):
  from tfx import v1 as tfx  # pylint: disable=g-import-not-at-top
  channels = {name: tfx.dsl.Channel(type=kind) for name, kind in (
      ('model', standard_artifacts.Model), ('model_blessing', standard_artifacts.ModelBlessing),
      ('evaluation', standard_artifacts.ModelEvaluation))}
  with pytest.raises(ValueError, match=message):
    registry_pusher.RegistryPusher(**channels, **{'registry_root': '/tmp/registry',
                                                  'registered_model_name': 'signs', **arguments})
