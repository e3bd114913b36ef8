"""The Trainer's fitting: precision choice, the global policy restored, logging epochs, the
compiled recipe, class weights."""
import dataclasses

import numpy as np
import pytest

from components.trainer import schedules
from components.trainer import training
from components.trainer import warm_start
from components.trainer.config import TrainerConfig
from pipeline import configs


@pytest.mark.parametrize('requested', ['float32', 'mixed_bfloat16', 'mixed_float16'])
def test_explicit_precision_is_kept(requested):
  assert training.precision_policy(requested) == requested


@pytest.mark.parametrize('has_tpu, has_gpu, cpu_flags, expected', [
    (True, False, frozenset(), 'mixed_bfloat16'),
    (False, True, frozenset({'avx512_bf16'}), 'mixed_float16'),
    (False, False, frozenset({'avx2', 'avx512_bf16'}), 'mixed_bfloat16'),
    (False, False, frozenset({'amx_bf16'}), 'mixed_bfloat16'),
    (False, False, frozenset({'avx2', 'avx512f'}), 'float32'),
])
def test_auto_precision_picks_what_the_hardware_runs_natively(has_tpu, has_gpu, cpu_flags,
                                                               expected):
  assert training.precision_policy('auto', has_gpu=has_gpu, has_tpu=has_tpu,
                                   cpu_flags=cpu_flags) == expected


def test_run_fn_restores_the_global_precision_policy(monkeypatch):
  """A local run executes every component in one process: no policy may leak out."""
  import tf_keras as keras  # pylint: disable=g-import-not-at-top

  def train_and_fail(fn_args):
    keras.mixed_precision.set_global_policy('mixed_bfloat16')
    raise RuntimeError('preempted')

  monkeypatch.setattr(training, '_train_and_export', train_and_fail)
  with pytest.raises(RuntimeError, match='preempted'):
    training.run_fn(object())
  assert keras.mixed_precision.global_policy().name == 'float32'


@pytest.mark.parametrize('train_steps, epochs', [(400, 8), (410, 5), (12, 1), (997, 1), (5000, 10)])
def test_logging_epochs_divide_the_steps_exactly(train_steps, epochs):
  assert training.logging_epochs(train_steps) == epochs
  assert train_steps % epochs == 0


_CONFIG = dataclasses.replace(
    TrainerConfig.from_fields(configs.DEV, code_version='test'), lr_schedule='cosine',
    warmup_steps=0, lr_decay_fractions=(), weight_decay=1e-4, label_smoothing=0.2, xla=False)


def _compiled(policy, **overrides):
  import tf_keras as keras  # pylint: disable=g-import-not-at-top
  previous = keras.mixed_precision.global_policy()
  keras.mixed_precision.set_global_policy(policy)
  try:
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(3, activation='softmax', dtype='float32')(
        keras.layers.Dense(5)(inputs)))
    training.compile_model(model, dataclasses.replace(_CONFIG, **overrides),
                           training.Plan(steps=10, peak_lr=0.1, warmup_steps=0))
    return model
  finally:
    keras.mixed_precision.set_global_policy(previous)


def test_float16_training_scales_the_loss_and_bfloat16_does_not():
  import tf_keras as keras  # pylint: disable=g-import-not-at-top
  assert isinstance(_compiled('mixed_float16').optimizer, keras.mixed_precision.LossScaleOptimizer)
  assert not isinstance(_compiled('mixed_bfloat16').optimizer,
                        keras.mixed_precision.LossScaleOptimizer)


def test_compile_applies_the_recipe():
  import tf_keras as keras  # pylint: disable=g-import-not-at-top
  model = _compiled('float32', xla=True)
  assert model._jit_compile is True  # pylint: disable=protected-access
  optimizer = model.optimizer
  assert isinstance(optimizer, keras.optimizers.SGD) and optimizer.nesterov
  assert float(optimizer.momentum) == pytest.approx(0.9)
  assert optimizer.weight_decay == pytest.approx(1e-4)
  assert model.loss.get_config()['label_smoothing'] == pytest.approx(0.2)
  schedule = optimizer._learning_rate  # pylint: disable=protected-access
  assert isinstance(schedule, schedules.WarmupCosine)
  assert schedule.get_config() == {'peak': 0.1, 'warmup_steps': 0, 'total_steps': 10}


@pytest.mark.parametrize('policy', ['float32', 'mixed_float16'])
def test_the_training_step_is_traced_once(policy):
  """A step that created the optimizer's or the metrics' variables would be traced twice."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  model = _compiled(policy)
  data = tf.data.Dataset.from_tensors((tf.ones([2, 4]), tf.one_hot([0, 2], 3))).repeat()
  model.fit(data, steps_per_epoch=3, epochs=2, verbose=0)
  assert int(model.optimizer.iterations) == 6
  assert model.train_function.experimental_get_tracing_count() == 1


def test_balanced_class_weights_equalise_each_class_total():
  weights = training.balanced_class_weights(np.array([2.0, 1.0, 3.0, 0.0]))
  assert weights == pytest.approx({0: 0.75, 1: 1.5, 2: 0.5, 3: 0.0})
  assert 2 * weights[0] == 1 * weights[1] == 3 * weights[2]


def test_a_warm_started_run_fine_tunes_at_its_share_of_the_rate_without_warm_up():
  config = dataclasses.replace(_CONFIG, warmup_steps=50, warm_start_steps=100,
                               warm_start_lr_scale=0.1)
  scratch = training.training_plan(config, warm_start.Decision(None, None, 'none'), 400, 0.2)
  assert scratch == training.Plan(steps=400, peak_lr=0.2, warmup_steps=50)
  warm = warm_start.Decision('/models/7', '/models/7', None)
  assert training.training_plan(config, warm, 400, 0.2) == training.Plan(
      steps=100, peak_lr=pytest.approx(0.02), warmup_steps=0)
  slower = dataclasses.replace(config, warm_start_lr_scale=0.03)
  assert training.training_plan(slower, warm, 400, 0.2).peak_lr == pytest.approx(0.006)
  every_step = dataclasses.replace(config, warm_start_steps=None)
  assert training.training_plan(every_step, warm, 400, 0.2).steps == 400
  schedule = schedules.make_schedule('step', peak=0.02, warmup_steps=0, total_steps=100,
                                     decay_fractions=(0.4, 0.6))
  assert [round(float(schedule(step)), 6) for step in (0, 39, 40, 60)] == [
      0.02, 0.02, 0.002, 0.0002]
