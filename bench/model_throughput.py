"""Training and inference images/s of Residual Attention Networks against Keras ResNets.

Every model runs in one process on the same random batch (`images` float32
`[batch, size, size, 3]`, `labels` int32 `[batch]` in [0, classes)), without and/or with XLA:
  train step: forward (training=True), sparse cross-entropy, backward, SGD momentum 0.9
    update, in one `tf.function(jit_compile=xla)`;
  inference: forward (training=False) in one `tf.function(jit_compile=xla)`.
The first call of each function (tracing, graph optimisation, XLA compilation) is timed
apart; compile seconds = first call - median step. `--warmup` more calls are not timed.
The timed steps are interleaved (one step of every model and mode per round) and each rate
is batch / median step seconds, so load from other processes hits all models alike and the
ratios stay comparable when absolute rates are noisy.

`--xla` defaults to off: on 2 CPU cores at 224x224, batch 8, XLA compiles a training step
for 20 s (ResNet-50) to 2 minutes (attention_92, ResNet-152) and then trains 2.7-5x slower
than without it (bench/results/model_throughput_xla.csv), so `--xla both` takes about 16
minutes against 4 for the default.

Efficiency = train images/s x forward GMACs/image (`ran_model.count_macs`: Conv2D and Dense
kernels only; biases, BN and element-wise ops count 0), i.e. forward multiply-adds per
second. The issue's target: attention_92's efficiency >= 0.9x resnet152's in the same run.

Usage: python bench/model_throughput.py [--models attention_92 resnet152] [--xla both]
Writes `--output_csv` (default bench/results/model_throughput.csv), one row per model and mode.
"""
import argparse
import csv
import os
import statistics
import time

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')  # one Keras (Keras 2) before TF loads
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position
import tf_keras as keras

import ran_model
from bench import report

BASELINES = {'resnet50': keras.applications.ResNet50,
             'resnet152': keras.applications.ResNet152}
REFERENCE = 'resnet152'
TARGET_MODEL, TARGET_RATIO = 'attention_92', 0.9
XLA_MODES = {'off': (False,), 'on': (True,), 'both': (False, True)}


def build_benchmarked_model(name, *, image_size, classes):
  """A ran_model variant or a `BASELINES` ResNet (weights=None), softmax over `classes`."""
  input_shape = (image_size, image_size, 3)
  if name in BASELINES:
    return BASELINES[name](weights=None, input_shape=input_shape, classes=classes)
  return ran_model.build_model(name, input_shape=input_shape, classes=classes)


def compiled_steps(model, *, xla):
  """Returns `(train_step(images, labels) -> loss, infer_step(images) -> probabilities)`."""
  optimizer = keras.optimizers.SGD(learning_rate=0.01, momentum=0.9, jit_compile=False)
  optimizer.build(model.trainable_variables)
  cross_entropy = keras.losses.SparseCategoricalCrossentropy()

  @tf.function(jit_compile=xla)
  def train_step(images, labels):
    with tf.GradientTape() as tape:
      probabilities = tf.cast(model(images, training=True), tf.float32)
      loss = cross_entropy(labels, probabilities)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss

  @tf.function(jit_compile=xla)
  def infer_step(images):
    return model(images, training=False)

  return train_step, infer_step


def seconds_of(step, *args):
  """Wall seconds of one call, including copying the result back to the host."""
  start = time.perf_counter()
  step(*args).numpy()
  return time.perf_counter() - start


def prepared_runs(args, images, labels):
  """Builds every model and mode, then times the first call and makes `--warmup` calls."""
  runs = []
  for name in args.models:
    model = build_benchmarked_model(name, image_size=args.image_size, classes=args.classes)
    for xla in XLA_MODES[args.xla]:
      train_step, infer_step = compiled_steps(model, xla=xla)
      run = dict(variant=name, xla='on' if xla else 'off', params=model.count_params(),
                 gmacs=ran_model.count_macs(model) / 1e9,
                 calls={'train': (train_step, (images, labels)), 'infer': (infer_step, (images,))},
                 first={}, seconds={'train': [], 'infer': []})
      for kind, (step, inputs) in run['calls'].items():
        run['first'][kind] = seconds_of(step, *inputs)
        print(f'{name} xla={run["xla"]} {kind}: first call {run["first"][kind]:.1f} s',
              flush=True)
        for _ in range(args.warmup):
          seconds_of(step, *inputs)
      runs.append(run)
  return runs


def measure(args):
  """Returns one result dict per (model, xla), all measured in this process."""
  images = tf.random.uniform((args.batch, args.image_size, args.image_size, 3))
  labels = tf.random.uniform((args.batch,), maxval=args.classes, dtype=tf.int32)
  runs = prepared_runs(args, images, labels)
  for _ in range(args.steps):  # interleaved: every round times every model and mode once
    for run in runs:
      for kind, (step, inputs) in run['calls'].items():
        run['seconds'][kind].append(seconds_of(step, *inputs))
  for run in runs:
    for kind in ('train', 'infer'):
      median = statistics.median(run['seconds'][kind])
      run[f'{kind}_img_s'] = args.batch / median
      run[f'{kind}_compile_s'] = max(0.0, run['first'][kind] - median)
    run['train_gmac_s'] = run['train_img_s'] * run['gmacs']
  for run in runs:
    reference = [r for r in runs if r['variant'] == REFERENCE and r['xla'] == run['xla']]
    run['efficiency_vs_resnet152'] = (
        run['train_gmac_s'] / reference[0]['train_gmac_s'] if reference else None)
  return runs


COLUMNS = (  # (result field, table header, cell format)
    ('variant', 'model', '{}'), ('xla', 'xla', '{}'), ('params', 'params', '{:,}'),
    ('gmacs', 'GMACs/img', '{:.3f}'), ('train_img_s', 'train img/s', '{:.2f}'),
    ('infer_img_s', 'infer img/s', '{:.2f}'), ('train_gmac_s', 'train GMAC/s', '{:.1f}'),
    ('efficiency_vs_resnet152', 'eff vs resnet152', '{:.3f}x'),
    ('train_compile_s', 'train compile s', '{:.1f}'),
    ('infer_compile_s', 'infer compile s', '{:.1f}'))


def print_table(runs, args):
  """Prints one row per model and mode, then the target verdict for each mode."""
  print(f'\nimage size {args.image_size}, batch {args.batch}, precision {args.precision}, '
        f'median of {args.steps} timed steps after {args.warmup} warm-up; '
        'train GMAC/s = train img/s x GMACs/img')
  report.print_table(COLUMNS, runs, left_aligned=2)
  for run in runs:
    if run['variant'] == TARGET_MODEL and run['efficiency_vs_resnet152'] is not None:
      ratio = run['efficiency_vs_resnet152']
      print(f'target (xla {run["xla"]}): {TARGET_MODEL} train GMAC/s = {ratio:.3f}x '
            f'{REFERENCE}\'s (target >= {TARGET_RATIO}x): '
            f'{"MET" if ratio >= TARGET_RATIO else "NOT MET"}')


def write_csv(runs, args):
  os.makedirs(os.path.dirname(args.output_csv) or '.', exist_ok=True)
  fields = ['variant', 'image_size', 'batch', 'classes', 'xla', 'precision', 'params', 'gmacs',
            'train_img_s', 'infer_img_s', 'train_gmac_s', 'efficiency_vs_resnet152',
            'train_compile_s', 'infer_compile_s', 'timed_steps']
  with open(args.output_csv, 'w', newline='') as f:
    writer = csv.DictWriter(f, fields, extrasaction='ignore')
    writer.writeheader()
    for run in runs:
      row = {k: round(v, 4) if isinstance(v, float) else v for k, v in run.items()}
      writer.writerow(dict(row, image_size=args.image_size, batch=args.batch, classes=args.classes,
                           precision=args.precision, timed_steps=args.steps))
  print(f'wrote {args.output_csv}')


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--models', nargs='+',
                      default=['attention_56', 'attention_92', 'resnet50', 'resnet152'],
                      help=f'ran_model names or {sorted(BASELINES)}')
  parser.add_argument('--batch', type=int, default=8)
  parser.add_argument('--image_size', type=int, default=224)
  parser.add_argument('--classes', type=int, default=1000)
  parser.add_argument('--steps', type=int, default=5, help='timed steps per model and mode')
  parser.add_argument('--warmup', type=int, default=1, help='untimed calls after the first')
  parser.add_argument('--xla', choices=sorted(XLA_MODES), default='off',
                      help='jit_compile the steps: off, on, or both (slow on CPU)')
  parser.add_argument('--precision', choices=['float32', 'mixed_bfloat16'], default='float32')
  parser.add_argument('--output_csv', default='bench/results/model_throughput.csv')
  args = parser.parse_args(argv)
  unknown = [m for m in args.models if m not in BASELINES and m not in ran_model.MODEL_NAMES]
  if unknown:
    parser.error(f'unknown models {unknown}; expected ran_model.MODEL_NAMES or '
                 f'{sorted(BASELINES)}')
  return args


def main(argv=None):
  args = parse_args(argv)
  keras.mixed_precision.set_global_policy(args.precision)
  runs = measure(args)
  print_table(runs, args)
  write_csv(runs, args)


if __name__ == '__main__':
  main()
