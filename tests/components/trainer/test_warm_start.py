"""Warm start: a run begins with every weight of a parent whose network and classes equal its
own, trains warm_start_steps and records its parent; any other parent is refused by name."""
import dataclasses
import json

import numpy as np
import pytest
import tensorflow as tf
from tfx import v1 as tfx

from components import schemas
from components.trainer import TrainerConfig
from components.trainer import training
from components.trainer import warm_start
import training_data

SIZE, PARENT_STEPS, TRAIN_STEPS, WARM_START_STEPS = 32, 2, 8, 3
CLASS_NAMES = schemas.class_names(schemas.load_schema(schemas.schema_path('cure_tsr')))


def _run(fn_args_file):
  training.run_fn(tfx.components.FnArgs(**json.loads(fn_args_file.read_text())))


def _config(fn_args_file) -> TrainerConfig:
  return TrainerConfig.from_custom_config(json.loads(fn_args_file.read_text())['custom_config'])


@pytest.fixture(name='parent', scope='module')
def fixture_parent(tmp_path_factory):
  """The FnArgs JSON of Trainer execution 1, trained PARENT_STEPS steps without a parent."""
  fn_args_file = training_data.trainer_fn_args_file(
      tmp_path_factory.mktemp('warm_start'), image_size=SIZE, train_steps=PARENT_STEPS,
      checkpoint_every=100, shards=1)
  _run(fn_args_file)
  return fn_args_file


def _parent_serving(parent) -> str:
  return str(training_data.model_dir(parent.parent, 1) / 'Format-Serving')


def _parent_values(parent):
  exported = tf.saved_model.load(_parent_serving(parent))
  return [v.numpy() for v in exported.model_variables]


def test_a_warm_start_begins_with_every_weight_of_the_parent(parent, capsys):
  model, _, decision = training.build_network(
      _config(parent), CLASS_NAMES, tf.distribute.get_strategy(), _parent_serving(parent))
  parent_uri = str(training_data.model_dir(parent.parent, 1))
  assert decision == warm_start.Decision(parent_uri, parent_uri, None)
  assert f'Warm start from {parent_uri}\n' in capsys.readouterr().out
  values = _parent_values(parent)
  assert len(model.variables) == len(values) > 100
  for variable, value in zip(model.variables, values):
    np.testing.assert_array_equal(variable.numpy(), value, err_msg=variable.name)


def test_a_parent_with_other_classes_is_refused_naming_it_and_the_difference(parent, capsys):
  other_classes = ('stop',) + CLASS_NAMES[1:]
  model, _, decision = training.build_network(
      _config(parent), other_classes, tf.distribute.get_strategy(), _parent_serving(parent))
  parent_uri = str(training_data.model_dir(parent.parent, 1))
  reason = (f'the parent model {parent_uri} does not fit: it has other classes (14 classes, '
            f'this run 14; the first difference is class 0: {CLASS_NAMES[0]!r}, this run '
            "'stop')")
  assert decision == warm_start.Decision(parent_uri, None, reason)
  assert f'No warm start: {reason}\n' in capsys.readouterr().out
  differing = [not np.array_equal(variable.numpy(), value)
               for variable, value in zip(model.variables, _parent_values(parent))]
  assert sum(differing) > len(differing) // 4  # its own initialisation
  assert training.training_plan(
      dataclasses.replace(_config(parent), warm_start_steps=WARM_START_STEPS), decision,
      TRAIN_STEPS, 0.1).steps == TRAIN_STEPS


@pytest.mark.parametrize('field, value, difference', [
    ('model_name', 'attention_92_cifar',
     "its model_name is 'attention_56_cifar' (this run: 'attention_92_cifar')"),
    ('width_multiplier', 0.25, 'its width_multiplier is 0.125 (this run: 0.25)'),
    ('image_size', 64, 'its image_size is 32 (this run: 64)'),
    ('class_names', CLASS_NAMES[:3],
     "it has other classes (14 classes, this run 3; the first difference is class 3: "
     f"{CLASS_NAMES[3]!r}, this run '(none)')"),
])
def test_a_parent_of_another_network_is_refused(parent, field, value, difference):
  network = dataclasses.replace(
      warm_start.Network('attention_56_cifar', 0.125, SIZE, CLASS_NAMES), **{field: value})
  parent_uri = str(training_data.model_dir(parent.parent, 1))
  assert warm_start.decide(True, network, _parent_serving(parent)) == warm_start.Decision(
      parent_uri, None, f'the parent model {parent_uri} does not fit: {difference}')


def test_no_warm_start_when_off_without_a_parent_or_from_an_unrecorded_parent(tmp_path):
  network = warm_start.Network('attention_56_cifar', 0.125, SIZE, CLASS_NAMES)
  serving = str(tmp_path / 'model' / '7' / 'Format-Serving')
  parent_uri = str(tmp_path / 'model' / '7')
  assert warm_start.decide(False, network, serving) == warm_start.Decision(
      parent_uri, None, 'warm_start is off')
  assert warm_start.decide(True, network, None) == warm_start.Decision(
      None, None, 'no base model was given (no blessed model yet)')
  assert warm_start.decide(True, network, serving) == warm_start.Decision(
      parent_uri, None, f'the parent model {parent_uri} records no network.json (it was '
      'trained before networks were recorded)')


def test_a_warm_started_run_trains_warm_start_steps_and_records_its_parent(parent, capsys):
  fn_args = json.loads(parent.read_text())
  fn_args['custom_config']['trainer_config']['warm_start_steps'] = WARM_START_STEPS
  child = training_data.another_execution(
      parent, 2, train_steps=TRAIN_STEPS, base_model=_parent_serving(parent),
      custom_config=fn_args['custom_config'])
  _run(child)
  output = capsys.readouterr().out
  assert f'Training steps 0..{WARM_START_STEPS}\n' in output
  assert (f'Trained {WARM_START_STEPS} steps in this process, {WARM_START_STEPS} in all'
          in output)
  parent_dir, child_dir = (training_data.model_dir(parent.parent, i) for i in (1, 2))
  assert json.loads((child_dir / warm_start.WARM_START_FILE).read_text()) == {
      'warm_started_from': str(parent_dir), 'base_model': str(parent_dir), 'reason': None,
      'train_steps': WARM_START_STEPS}
  assert json.loads((parent_dir / warm_start.WARM_START_FILE).read_text()) == {
      'warm_started_from': None, 'base_model': None,
      'reason': 'no base model was given (no blessed model yet)', 'train_steps': PARENT_STEPS}
  assert json.loads((child_dir / warm_start.NETWORK_FILE).read_text()) == {
      'model_name': 'attention_56_cifar', 'width_multiplier': 0.125, 'image_size': SIZE,
      'class_names': list(CLASS_NAMES)}
