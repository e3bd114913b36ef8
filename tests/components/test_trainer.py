"""The Trainer's learning-rate schedule and precision choice."""
import numpy as np
import pytest

from components import trainer


def test_schedule_warms_up_then_drops_tenfold_at_each_fraction():
  schedule = trainer.WarmupStepDecay(0.1, warmup_steps=10, total_steps=100,
                                     decay_fractions=(0.4, 0.6))
  rates = np.array([float(schedule(step)) for step in (0, 4, 9, 39, 40, 59, 60, 99)])
  np.testing.assert_allclose(rates, [0.01, 0.05, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001],
                             rtol=1e-5)


@pytest.mark.parametrize('requested', ['float32', 'mixed_bfloat16', 'mixed_float16'])
def test_explicit_precision_is_kept(requested):
  assert trainer.precision_policy(requested) == requested


@pytest.mark.parametrize('has_gpu, cpu_flags, expected', [
    (True, frozenset({'avx512_bf16'}), 'mixed_float16'),
    (False, frozenset({'avx2', 'avx512_bf16'}), 'mixed_bfloat16'),
    (False, frozenset({'amx_bf16'}), 'mixed_bfloat16'),
    (False, frozenset({'avx2', 'avx512f'}), 'float32'),
])
def test_auto_precision_picks_what_the_hardware_runs_natively(has_gpu, cpu_flags, expected):
  assert trainer.precision_policy('auto', has_gpu=has_gpu, cpu_flags=cpu_flags) == expected


def test_run_fn_restores_the_global_precision_policy(monkeypatch):
  """A local run executes every component in one process: no policy may leak out."""
  import tf_keras as keras  # pylint: disable=g-import-not-at-top
  seen = []
  monkeypatch.setattr(trainer, '_train_and_export', lambda fn_args: seen.append(
      keras.mixed_precision.global_policy().name))

  class FnArgs:
    custom_config = {'mixed_precision': 'mixed_bfloat16'}

  trainer.run_fn(FnArgs())
  assert seen == ['mixed_bfloat16']
  assert keras.mixed_precision.global_policy().name == 'float32'


@pytest.mark.parametrize('train_steps, epochs', [(400, 8), (410, 5), (12, 1), (997, 1), (5000, 10)])
def test_logging_epochs_divide_the_steps_exactly(train_steps, epochs):
  assert trainer.logging_epochs(train_steps) == epochs
  assert train_steps % epochs == 0
