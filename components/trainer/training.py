"""Trainer: `run_fn` trains a ran_model network on the canonical examples and exports it.

The same code runs on one CPU, several GPUs, several workers or a TPU (`strategy`, see
distribution.py). Hyperparameters arrive as a TrainerConfig in `custom_config` (config.py);
`batch_size` is per replica, and the learning rate scales linearly with the global batch from
`lr_reference_batch`.

Fault tolerance: a checkpoint is written every `checkpoint_every` steps into a folder keyed by
what determines the training (resume.py; Keras BackupAndRestore, which under
MultiWorkerMirroredStrategy has every worker write, the chief to the real directory, and every
worker restore from the chief's); a process killed mid-run and started again for the same
training, even as a new TFX execution, resumes from its last checkpoint. A lost worker stalls
the others in the next all-reduce: the job is restarted whole (Vertex AI's
`restart_job_on_worker_restart`), and all workers resume from the same step. Only the chief
writes the serving model.

Warm start (warm_start.py): given a base model whose network and classes equal this run's,
and `warm_start` on, training starts from its weights and runs `warm_start_steps` steps
(default: train_steps); the Model artifact records what it started from.

After training, every BatchNorm's moving mean and variance are recomputed at the final weights
from `bn_recalibration_batches` training batches (batch_norm.py), then the model is exported.
"""
import dataclasses
import os
import time
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from tfx.components.trainer.fn_args_utils import FnArgs

import ran_model
from components import example_files
from components import schemas
from components import transform
from components.trainer import batch_norm
from components.trainer import distribution
from components.trainer import input_pipeline
from components.trainer import resume
from components.trainer import schedules
from components.trainer import serving
from components.trainer import warm_start
from components.trainer.config import TrainerConfig

THROUGHPUT_DIR = 'throughput'  # under the model run directory: images/s, learning rate


@dataclasses.dataclass(frozen=True)
class Plan:
  """How long and how fast one Trainer run trains."""
  steps: int
  peak_lr: float
  warmup_steps: int


def _optimizer(config: TrainerConfig, plan: Plan) -> keras.optimizers.Optimizer:
  """Nesterov SGD, momentum 0.9, weight decay on kernels only (not BN or biases)."""
  schedule = schedules.make_schedule(
      config.lr_schedule, peak=plan.peak_lr, warmup_steps=plan.warmup_steps,
      total_steps=plan.steps, decay_fractions=config.lr_decay_fractions)
  optimizer = keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True,
                                   weight_decay=config.weight_decay)
  optimizer.exclude_from_weight_decay(var_names=['gamma', 'beta', 'bias'])
  return optimizer


def compile_model(model: keras.Model, config: TrainerConfig, plan: Plan) -> None:
  """Nesterov SGD on the schedule, label-smoothed cross-entropy on one-hot labels, XLA if
  asked. Under the mixed_float16 policy Keras wraps the optimizer in dynamic loss scaling.

  The variables Keras would create in the first training step (the optimizer's iteration
  count and momenta, the loss and accuracy accumulators) are created here: a tf.function that
  creates variables on its first call is traced a second time for the calls after it, and a
  trace of attention_56_cifar's training step takes about 12 s."""
  model.compile(
      optimizer=_optimizer(config, plan),
      loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
      metrics=[keras.metrics.CategoricalAccuracy(name='accuracy')],
      jit_compile=config.xla)
  model.optimizer.build(model.trainable_variables)
  outputs = tf.zeros([1, model.output_shape[-1]])  # only the structure of the outputs matters
  model.compiled_loss.build(outputs)
  model.compiled_metrics.build(outputs, outputs)


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
                     has_tpu: bool = False, cpu_flags: Optional[frozenset] = None) -> str:
  """`requested`, or for 'auto': mixed_bfloat16 on a TPU, mixed_float16 on a GPU (Keras
  wraps the optimizer in dynamic loss scaling), mixed_bfloat16 on a CPU with native bfloat16
  instructions (AVX512-BF16 or AMX), float32 otherwise (emulated bf16 is slow).
  `has_gpu` and `cpu_flags` default to this machine's."""
  if requested != 'auto':
    return requested
  if has_tpu:
    return 'mixed_bfloat16'
  if has_gpu is None:
    has_gpu = bool(tf.config.list_physical_devices('GPU'))
  if has_gpu:
    return 'mixed_float16'
  flags = _cpu_flags() if cpu_flags is None else cpu_flags
  return 'mixed_bfloat16' if flags & {'avx512_bf16', 'amx_bf16'} else 'float32'


class TrainingLog(keras.callbacks.Callback):
  """Says where training starts (0, or the step a checkpoint resumes) and how many steps this
  process trained; writes images/s and the learning rate to TensorBoard every `every` steps."""

  def __init__(self, log_dir: str, global_batch: int, total_steps: int, every: int):
    super().__init__()
    self._writer = tf.summary.create_file_writer(log_dir)
    self._global_batch, self._total_steps, self._every = global_batch, total_steps, every

  def _step(self) -> int:
    return int(keras.backend.get_value(self.model.optimizer.iterations))

  def on_train_begin(self, logs=None):
    self.start_step = self._step()
    resumed = ', resumed from a checkpoint' if self.start_step else ''
    print(f'Training steps {self.start_step}..{self._total_steps}{resumed}', flush=True)
    self._mark = (self.start_step, time.perf_counter())

  def on_train_batch_end(self, batch, logs=None):
    step = self._step()
    if step % self._every:
      return
    last_step, last_time = self._mark
    now = time.perf_counter()
    self._mark = (step, now)
    with self._writer.as_default(step=step):
      tf.summary.scalar('images_per_second',
                        self._global_batch * (step - last_step) / max(now - last_time, 1e-9))
      tf.summary.scalar('learning_rate',
                        float(keras.backend.get_value(self.model.optimizer.learning_rate)))

  def on_train_end(self, logs=None):
    self._writer.flush()
    end = self._step()
    print(f'Trained {end - self.start_step} steps in this process, {end} in all', flush=True)


def run_fn(fn_args: FnArgs) -> None:
  """TFX Trainer entry point. Keras' global precision policy is restored afterwards: local
  runs execute every component in one process."""
  previous_policy = keras.mixed_precision.global_policy()
  try:
    _train_and_export(fn_args)
  finally:
    keras.mixed_precision.set_global_policy(previous_policy)


def balanced_class_weights(class_counts: np.ndarray) -> Dict[int, float]:
  """Keras `class_weight` that gives every class the same total weight: total / (classes x
  count); a class absent from training gets weight 0 (nothing to weigh)."""
  total, classes = float(class_counts.sum()), len(class_counts)
  return {label: (total / (classes * count) if count else 0.0)
          for label, count in enumerate(class_counts.tolist())}


def _dataset_args(config: TrainerConfig, stats: transform.TrainingStatistics,
                  classes: int) -> dict:
  return dict(image_size=config.image_size, mean=stats.mean, std=stats.std,
              recipe=config.recipe, seed=config.seed, classes=classes)


def training_dataset(train_files: Sequence[str], config: TrainerConfig,
                     strategy: tf.distribute.Strategy, stats: transform.TrainingStatistics,
                     classes: int, global_batch: int) -> tf.distribute.DistributedDataset:
  """Per-replica batches of (pixels, one-hot labels [batch, classes]) from `strategy`'s input
  pipelines, one per worker, each reading its share of `train_files`
  (input_pipeline.pipeline_share): no example twice in a worker's epoch, nor in two
  workers'."""
  def pipeline(input_context):
    return input_pipeline.make_dataset(
        train_files, training=True, batch_size=global_batch,
        deterministic=config.deterministic_input, input_context=input_context,
        **_dataset_args(config, stats, classes))

  return strategy.distribute_datasets_from_function(pipeline)


def _validation(fn_args, config: TrainerConfig, stats: transform.TrainingStatistics,
                classes: int, global_batch: int) -> dict:
  """Validation kwargs for fit: none without `eval_steps`."""
  if not fn_args.eval_steps:
    return {}
  validation = input_pipeline.make_dataset(
      fn_args.eval_files, training=False, batch_size=global_batch,
      **_dataset_args(config, stats, classes))
  return dict(validation_data=validation, validation_steps=fn_args.eval_steps)


def build_network(config: TrainerConfig, class_names: Sequence[str],
                  strategy: tf.distribute.Strategy, base_model: Optional[str]
                  ) -> Tuple[keras.Model, warm_start.Network, warm_start.Decision]:
  """The network in `strategy`'s scope, holding `base_model`'s weights (FnArgs' base_model, a
  Format-Serving folder, or None) when warm_start.decide takes them, else freshly
  initialised; says which on stdout."""
  network = warm_start.Network(config.model_name, config.width_multiplier, config.image_size,
                               tuple(class_names))
  decision = warm_start.decide(config.warm_start, network, base_model)
  with strategy.scope():
    model = ran_model.build_model(
        config.model_name, input_shape=(config.image_size, config.image_size, 3),
        classes=len(class_names), width_multiplier=config.width_multiplier)
    if decision.warm_started_from:
      serving.restore_model_variables(model, base_model)
  print(f'Warm start from {decision.warm_started_from}' if decision.warm_started_from else
        f'No warm start: {decision.reason}', flush=True)
  return model, network, decision


def training_plan(config: TrainerConfig, decision: warm_start.Decision, train_steps: int,
                  peak_lr: float) -> Plan:
  """From scratch: `train_steps` at `peak_lr` after `warmup_steps` of warm-up. Warm-started,
  the run fine-tunes trained weights: `warm_start_steps` (when set), no warm-up, from the peak
  rate x `warm_start_lr_scale` (the faster, the more of what the parent learnt it undoes), on
  the run's schedule."""
  if not decision.warm_started_from:
    return Plan(train_steps, peak_lr, config.warmup_steps)
  steps = train_steps if config.warm_start_steps is None else config.warm_start_steps
  return Plan(steps, peak_lr * config.warm_start_lr_scale, 0)


def _train_and_export(fn_args: FnArgs) -> None:
  config = TrainerConfig.from_custom_config(fn_args.custom_config)
  strategy = distribution.make_strategy(config.strategy)
  keras.mixed_precision.set_global_policy(precision_policy(
      config.mixed_precision, has_tpu=isinstance(strategy, tf.distribute.TPUStrategy)))
  keras.utils.set_random_seed(config.seed)
  class_names = schemas.class_names(schemas.load_schema(fn_args.schema_path))
  stats = transform.training_statistics(
      tft.TFTransformOutput(fn_args.transform_output),
      example_files.first_encoded_image(fn_args.train_files))
  global_batch = distribution.global_batch_size(config.batch_size, strategy)
  peak_lr = distribution.scaled_learning_rate(config.learning_rate, global_batch,
                                              config.lr_reference_batch)
  train = training_dataset(fn_args.train_files, config, strategy, stats, len(class_names),
                           global_batch)
  validation = _validation(fn_args, config, stats, len(class_names), global_batch)
  model, network, decision = build_network(config, class_names, strategy, fn_args.base_model)
  plan = training_plan(config, decision, fn_args.train_steps, peak_lr)
  steps = plan.steps
  with strategy.scope():
    compile_model(model, config, plan)
  log_dir = distribution.write_dir(fn_args.model_run_dir, strategy)
  every = min(50, config.checkpoint_every)
  backup_dir = resume.resume_dir(fn_args)
  callbacks = [
      keras.callbacks.BackupAndRestore(backup_dir, save_freq=config.checkpoint_every),
      TrainingLog(os.path.join(log_dir, THROUGHPUT_DIR), global_batch, steps, every),
      keras.callbacks.TensorBoard(log_dir, update_freq=every),
  ]
  class_weight = (balanced_class_weights(stats.class_counts)
                  if config.class_weighting == 'balanced' else None)
  epochs = logging_epochs(steps)
  model.fit(train, epochs=epochs, steps_per_epoch=steps // epochs,
            class_weight=class_weight, callbacks=callbacks, verbose=2, **validation)
  if config.bn_recalibration_batches:
    started = time.perf_counter()
    batch_norm.recalibrate(model, train, strategy, config.bn_recalibration_batches)
    print(f'Recalibrated the batch norms on {config.bn_recalibration_batches} batches in '
          f'{time.perf_counter() - started:.1f} s', flush=True)
  export_dir = distribution.write_dir(fn_args.serving_model_dir, strategy)
  serving.export_serving_model(model, export_dir, image_size=config.image_size,
                               mean=stats.mean, std=stats.std, class_names=class_names,
                               recipe=config.recipe)
  # Keras deleted the checkpoints, not their folder. Only now: the export's collective reads
  # wait for every worker, so none is still writing its last checkpoint under the folder.
  if distribution.is_chief(strategy) and tf.io.gfile.exists(backup_dir):
    tf.io.gfile.rmtree(backup_dir)
  if distribution.is_chief(strategy):
    warm_start.write_records(warm_start.model_uri(fn_args.serving_model_dir), network,
                             decision, steps)
  distribution.clean_up(export_dir, fn_args.serving_model_dir)
  distribution.clean_up(log_dir, fn_args.model_run_dir)
