"""The Trainer's learning-rate schedules and precision choice."""
import numpy as np
import pytest

from components import schedules
from components import trainer
from pipeline import configs


def _rates(schedule, steps):
  return np.array([float(schedule(step)) for step in steps])


def test_step_schedule_warms_up_then_drops_tenfold_at_each_fraction():
  schedule = schedules.make_schedule('step', peak=0.1, warmup_steps=10, total_steps=100,
                                     decay_fractions=(0.4, 0.6))
  np.testing.assert_allclose(_rates(schedule, (0, 4, 9, 39, 40, 59, 60, 99)),
                             [0.01, 0.05, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001], rtol=1e-5)


def test_paper_fractions_put_the_drops_at_the_papers_iterations():
  cifar = schedules.make_schedule('step', peak=0.1, warmup_steps=0, total_steps=160_000,
                                  decay_fractions=configs.CIFAR10.lr_decay_fractions)
  np.testing.assert_allclose(_rates(cifar, (63_999, 64_000, 95_999, 96_000)),
                             [0.1, 0.01, 0.01, 0.001], rtol=1e-5)
  imagenet = schedules.make_schedule('step', peak=0.1, warmup_steps=0, total_steps=530_000,
                                     decay_fractions=configs.IMAGENET.lr_decay_fractions)
  np.testing.assert_allclose(_rates(imagenet, (199_999, 200_000, 400_000, 499_999, 500_000)),
                             [0.1, 0.01, 0.001, 0.001, 0.0001], rtol=1e-4)


def test_cosine_schedule_warms_up_then_follows_half_a_cosine_to_zero():
  schedule = schedules.make_schedule('cosine', peak=0.2, warmup_steps=10, total_steps=110,
                                     decay_fractions=())
  np.testing.assert_allclose(_rates(schedule, (0, 9, 10, 60, 110)), [0.02, 0.2, 0.2, 0.1, 0.0],
                             atol=1e-6)


def test_unknown_schedule_is_named():
  with pytest.raises(ValueError, match="lr_schedule='linear'"):
    schedules.make_schedule('linear', peak=1, warmup_steps=0, total_steps=1, decay_fractions=())


@pytest.mark.parametrize('requested', ['float32', 'mixed_bfloat16', 'mixed_float16'])
def test_explicit_precision_is_kept(requested):
  assert trainer.precision_policy(requested) == requested


@pytest.mark.parametrize('has_tpu, has_gpu, cpu_flags, expected', [
    (True, False, frozenset(), 'mixed_bfloat16'),
    (False, True, frozenset({'avx512_bf16'}), 'mixed_float16'),
    (False, False, frozenset({'avx2', 'avx512_bf16'}), 'mixed_bfloat16'),
    (False, False, frozenset({'amx_bf16'}), 'mixed_bfloat16'),
    (False, False, frozenset({'avx2', 'avx512f'}), 'float32'),
])
def test_auto_precision_picks_what_the_hardware_runs_natively(has_tpu, has_gpu, cpu_flags,
                                                               expected):
  assert trainer.precision_policy('auto', has_gpu=has_gpu, has_tpu=has_tpu,
                                  cpu_flags=cpu_flags) == expected


def test_run_fn_restores_the_global_precision_policy(monkeypatch):
  """A local run executes every component in one process: no policy may leak out."""
  import tf_keras as keras  # pylint: disable=g-import-not-at-top

  def train_and_fail(fn_args):
    keras.mixed_precision.set_global_policy('mixed_bfloat16')
    raise RuntimeError('preempted')

  monkeypatch.setattr(trainer, '_train_and_export', train_and_fail)
  with pytest.raises(RuntimeError, match='preempted'):
    trainer.run_fn(object())
  assert keras.mixed_precision.global_policy().name == 'float32'


@pytest.mark.parametrize('train_steps, epochs', [(400, 8), (410, 5), (12, 1), (997, 1), (5000, 10)])
def test_logging_epochs_divide_the_steps_exactly(train_steps, epochs):
  assert trainer.logging_epochs(train_steps) == epochs
  assert train_steps % epochs == 0


_CONFIG = dict(lr_schedule='cosine', warmup_steps=0, lr_decay_fractions=(), weight_decay=1e-4,
               label_smoothing=0.2, xla=False)


def _compiled(policy, **overrides):
  import tf_keras as keras  # pylint: disable=g-import-not-at-top
  previous = keras.mixed_precision.global_policy()
  keras.mixed_precision.set_global_policy(policy)
  try:
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(3, activation='softmax', dtype='float32')(
        keras.layers.Dense(5)(inputs)))
    trainer.compile_model(model, {**_CONFIG, **overrides}, peak_lr=0.1, total_steps=10)
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
