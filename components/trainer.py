"""Trainer: `run_fn` trains a ran_model network on the canonical examples and exports it.

Hyperparameters arrive in `custom_config` under the profile's field names (pipeline/configs.py).
"""
from typing import Any, Dict, Optional

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from tfx import v1 as tfx

import ran_model
from components import input_pipeline
from components import schemas
from components import serving
from components import transform


class WarmupStepDecay(keras.optimizers.schedules.LearningRateSchedule):
  """Linear warm-up to `peak` over `warmup_steps`, then /10 at each fraction of `total_steps`."""

  def __init__(self, peak: float, warmup_steps: int, total_steps: int, decay_fractions):
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


def _optimizer(config: Dict[str, Any], total_steps: int) -> keras.optimizers.Optimizer:
  """Nesterov SGD, momentum 0.9, weight decay on kernels only (not BN or biases)."""
  schedule = WarmupStepDecay(config['learning_rate'], config['warmup_steps'], total_steps,
                             config['lr_decay_fractions'])
  optimizer = keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True,
                                   weight_decay=config['weight_decay'])
  optimizer.exclude_from_weight_decay(var_names=['gamma', 'beta', 'bias'])
  return optimizer


def logging_epochs(train_steps: int) -> int:
  """Keras epochs to split `train_steps` into (one log line each): at most 10, about 50 steps
  each, and dividing `train_steps` exactly so the run trains the asked number of steps."""
  most = min(10, max(1, train_steps // 50))
  return next(e for e in range(most, 0, -1) if train_steps % e == 0)


def _cpu_flags() -> frozenset:
  try:
    with open('/proc/cpuinfo') as f:
      return frozenset(f.read().split())
  except OSError:
    return frozenset()


def precision_policy(requested: str, *, has_gpu: Optional[bool] = None,
                     cpu_flags: Optional[frozenset] = None) -> str:
  """`requested`, or for 'auto': mixed_float16 on a GPU, mixed_bfloat16 on a CPU with native
  bfloat16 instructions (AVX512-BF16 or AMX), float32 otherwise (emulated bf16 is slow).
  `has_gpu` and `cpu_flags` default to this machine's."""
  if requested != 'auto':
    return requested
  if has_gpu is None:
    has_gpu = bool(tf.config.list_physical_devices('GPU'))
  if has_gpu:
    return 'mixed_float16'
  flags = _cpu_flags() if cpu_flags is None else cpu_flags
  return 'mixed_bfloat16' if flags & {'avx512_bf16', 'amx_bf16'} else 'float32'


def run_fn(fn_args: tfx.components.FnArgs) -> None:
  """TFX Trainer entry point. Keras' global precision policy is restored afterwards: local
  runs execute every component in one process."""
  previous_policy = keras.mixed_precision.global_policy()
  keras.mixed_precision.set_global_policy(
      precision_policy(fn_args.custom_config['mixed_precision']))
  try:
    _train_and_export(fn_args)
  finally:
    keras.mixed_precision.set_global_policy(previous_policy)


def _train_and_export(fn_args: tfx.components.FnArgs) -> None:
  config = fn_args.custom_config
  keras.utils.set_random_seed(config['seed'])
  class_names = schemas.class_names(schemas.load_schema(fn_args.schema_path))
  stats = transform.training_statistics(
      tft.TFTransformOutput(fn_args.transform_output),
      input_pipeline.first_encoded_image(fn_args.train_files))
  mean, std = stats.mean, stats.std
  image_size = config['image_size']
  dataset_args = dict(image_size=image_size, batch_size=config['batch_size'], mean=mean,
                      std=std, seed=config['seed'])
  train = input_pipeline.make_dataset(fn_args.train_files, training=True, **dataset_args)
  validation = {}
  if fn_args.eval_steps:
    validation = dict(validation_steps=fn_args.eval_steps, validation_data=(
        input_pipeline.make_dataset(fn_args.eval_files, training=False, **dataset_args)))

  model = ran_model.build_model(
      config['model_name'], input_shape=(image_size, image_size, 3),
      classes=len(class_names), width_multiplier=config['width_multiplier'])
  model.compile(optimizer=_optimizer(config, fn_args.train_steps),
                loss=keras.losses.SparseCategoricalCrossentropy(),
                metrics=[keras.metrics.SparseCategoricalAccuracy(name='accuracy')])
  epochs = logging_epochs(fn_args.train_steps)
  class_weight = (transform.balanced_class_weights(stats.class_counts)
                  if config['class_weighting'] == 'balanced' else None)
  model.fit(train, epochs=epochs, steps_per_epoch=fn_args.train_steps // epochs, **validation,
            class_weight=class_weight,
            callbacks=[keras.callbacks.TensorBoard(fn_args.model_run_dir, update_freq=50)],
            verbose=2)
  serving.export_serving_model(model, fn_args.serving_model_dir, image_size=image_size,
                               mean=mean, std=std, class_names=class_names)
