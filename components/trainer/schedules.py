"""Learning-rate schedules: linear warm-up, then the paper's steps or a cosine decay.

Both are expressed against the run's own length, so a shorter run keeps the recipe's shape:
the paper's CIFAR drops (/10 at 64k and 96k of 160k iterations) are fractions (0.4, 0.6), its
ImageNet drops (200k, 400k, 500k of 530k) are (0.377, 0.755, 0.943) (pipeline/configs.py).
"""
import math
from typing import Sequence

import tensorflow as tf
import tf_keras as keras

SCHEDULES = ('step', 'cosine')
Schedule = keras.optimizers.schedules.LearningRateSchedule


class WarmupStepDecay(Schedule):
  """Linear warm-up to `peak` over `warmup_steps`, then /10 at each fraction of `total_steps`."""

  def __init__(self, peak: float, warmup_steps: int, total_steps: int,
               decay_fractions: Sequence[float]):
    self.peak, self.warmup_steps, self.total_steps = peak, warmup_steps, total_steps
    self.decay_fractions = tuple(decay_fractions)

  def __call__(self, step):
    step = tf.cast(step, tf.float32)
    warmup = tf.minimum(1.0, (step + 1.0) / max(self.warmup_steps, 1))
    drops = sum(tf.cast(step >= f * self.total_steps, tf.float32) for f in self.decay_fractions)
    return self.peak * warmup * tf.pow(0.1, drops)

  def get_config(self):
    return {'peak': self.peak, 'warmup_steps': self.warmup_steps,
            'total_steps': self.total_steps, 'decay_fractions': self.decay_fractions}


class WarmupCosine(Schedule):
  """Linear warm-up to `peak` over `warmup_steps`, then half a cosine down to 0 at the end."""

  def __init__(self, peak: float, warmup_steps: int, total_steps: int):
    self.peak, self.warmup_steps, self.total_steps = peak, warmup_steps, total_steps

  def __call__(self, step):
    step = tf.cast(step, tf.float32)
    warmup = tf.minimum(1.0, (step + 1.0) / max(self.warmup_steps, 1))
    progress = tf.clip_by_value((step - self.warmup_steps) /
                                max(self.total_steps - self.warmup_steps, 1), 0.0, 1.0)
    return self.peak * warmup * 0.5 * (1.0 + tf.cos(math.pi * progress))

  def get_config(self):
    return {'peak': self.peak, 'warmup_steps': self.warmup_steps,
            'total_steps': self.total_steps}


def make_schedule(kind: str, *, peak: float, warmup_steps: int, total_steps: int,
                  decay_fractions: Sequence[float]) -> Schedule:
  """`kind` 'step' (drops at `decay_fractions`) or 'cosine'."""
  if kind == 'step':
    return WarmupStepDecay(peak, warmup_steps, total_steps, decay_fractions)
  if kind == 'cosine':
    return WarmupCosine(peak, warmup_steps, total_steps)
  raise ValueError(f'lr_schedule={kind!r}: choose from {SCHEDULES}')
