"""The Trainer's learning-rate schedules: warm-up, the paper's drops, cosine."""
import numpy as np
import pytest

from components.trainer import schedules
from pipeline import configs


def _rates(schedule, steps):
  return np.array([float(schedule(step)) for step in steps])


def test_step_schedule_warms_up_then_drops_tenfold_at_each_fraction():
  schedule = schedules.make_schedule('step', peak=0.1, warmup_steps=10, total_steps=100,
                                     decay_fractions=(0.4, 0.6))
  np.testing.assert_allclose(_rates(schedule, (0, 4, 9, 39, 40, 59, 60, 99)),
                             [0.01, 0.05, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001], rtol=1e-5)


def test_the_paper_profiles_put_the_drops_at_the_papers_iterations():
  cifar = schedules.make_schedule(configs.CIFAR10.lr_schedule, peak=0.1, warmup_steps=0,
                                  total_steps=160_000,
                                  decay_fractions=configs.CIFAR10.lr_decay_fractions)
  np.testing.assert_allclose(_rates(cifar, (63_999, 64_000, 95_999, 96_000)),
                             [0.1, 0.01, 0.01, 0.001], rtol=1e-5)
  imagenet = schedules.make_schedule(configs.IMAGENET.lr_schedule, peak=0.1, warmup_steps=0,
                                     total_steps=530_000,
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
