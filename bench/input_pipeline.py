"""Training input pipeline images/s against the model's training images/s, in one process.

For each image size, `--images` generated photo-like images (`imagenet_fixture.smooth_image`) are
written as canonical tf.Examples to `--shards` gzipped TFRecords on local disk:
  224: 'imagenet' recipe, 500x375 JPEGs (quality 90, about 53 KiB: ImageNet's typical size),
    against attention_56 (batch 8, 1000 classes);
  32: 'cifar' recipe, 32x32 PNGs, against attention_56_cifar (batch 64, 10 classes).
Two phases, after building each model and timing its first call:
  pipeline: `input_pipeline.make_dataset(training=True)` (read, parse, decode, augment, batch,
    prefetch), after `--warmup_batches` (autotuning ramps up), `--rounds` windows of
    `--round_batches` batches; images/s = images / median window seconds. Measured with
    `deterministic` True, then False (the default). Windows are not interleaved with model
    steps: the prefetch threads would fill buffers during a step and inflate the next window;
  train: bench/model_throughput.py's train step (`compiled_steps`), each round one step per
    precision on a constant batch (model img/s) and one fed from the default pipeline, the
    fetch timed (fed img/s); images/s = batch / median step seconds. The steps are interleaved
    so load from other processes hits both alike. On a CPU the pipeline's threads share the
    cores with training, so fed / constant is what the pipeline costs training here.
The issue's target: pipeline >= 2x attention_56's training images/s at 224 (each precision),
so training is never input-bound.

Usage: python bench/input_pipeline.py [--sizes 224 32] [--precisions float32 mixed_bfloat16]
Writes `--output_csv` (default bench/results/input_pipeline.csv), one row per size and precision.
"""
import argparse
import csv
import dataclasses
import io
import os
import statistics
import tempfile
import time

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')  # one Keras (Keras 2) before TF loads
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf
import tf_keras as keras

from bench import model_throughput
from bench import report
from components import features
from components.example_gen.formats import imagenet_fixture
from components.trainer import input_pipeline

TARGET_SIZE, TARGET_RATIO = 224, 2.0
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # any values: speed only


@dataclasses.dataclass(frozen=True)
class Setup:
  """One benchmarked image size: its recipe, source images and model."""
  recipe: str
  source_size: tuple  # (width, height) px
  image_format: str
  model: str
  batch: int
  classes: int


SETUPS = {
    224: Setup('imagenet', (500, 375), 'jpeg', 'attention_56', batch=8, classes=1000),
    32: Setup('cifar', (32, 32), 'png', 'attention_56_cifar', batch=64, classes=10),
}


def write_shards(directory: str, setup: Setup, *, images: int, shards: int) -> str:
  """Writes `images` examples round-robin into `shards` files; returns their glob pattern."""
  rng = np.random.default_rng(0)
  writers = [tf.io.TFRecordWriter(os.path.join(directory, f'train-{i:02d}.tfrecord.gz'),
                                  options='GZIP') for i in range(shards)]
  width, height = setup.source_size
  for i in range(images):
    out = io.BytesIO()
    imagenet_fixture.smooth_image(rng, setup.source_size, rng.integers(-40, 41, 3)).save(
        out, format=setup.image_format.upper(), quality=90)
    writers[i % shards].write(features.make_example(
        encoded=out.getvalue(), image_format=setup.image_format, height=height, width=width,
        filename=f'{i}.{setup.image_format}', label=i % setup.classes, label_text=str(i),
        scenario={}).SerializeToString())
  for writer in writers:
    writer.close()
  return os.path.join(directory, 'train-*.tfrecord.gz')


def pipeline_img_s(batches, args, batch: int) -> float:
  """Images/s of `batches` (an iterator): median over `args.rounds` windows."""
  for _ in range(args.warmup_batches):
    next(batches)
  seconds = []
  for _ in range(args.rounds):
    start = time.perf_counter()
    for _ in range(args.round_batches):
      next(batches)
    seconds.append(time.perf_counter() - start)
  return args.round_batches * batch / statistics.median(seconds)


def compiled_train_steps(setup: Setup, image_size: int, args, images, labels) -> dict:
  """{precision: train_step}, each model built under its precision policy; times each step's
  first call, then makes `args.warmup` more."""
  steps = {}
  for precision in args.precisions:
    keras.mixed_precision.set_global_policy(precision)
    model = model_throughput.build_benchmarked_model(
        setup.model, image_size=image_size, classes=setup.classes)
    steps[precision], _ = model_throughput.compiled_steps(model, xla=False)
    first = model_throughput.seconds_of(steps[precision], images, labels)
    print(f'{setup.model} {precision}: first call {first:.1f} s', flush=True)
    for _ in range(args.warmup):
      model_throughput.seconds_of(steps[precision], images, labels)
  keras.mixed_precision.set_global_policy('float32')
  return steps


def fed_seconds(step, batches) -> float:
  """Wall seconds of fetching the next batch and training on it."""
  start = time.perf_counter()
  step(*next(batches)).numpy()
  return time.perf_counter() - start


def measure_size(image_size: int, args, directory: str) -> list:
  """One result dict per precision at `image_size`, all measured in this process."""
  setup = SETUPS[image_size]
  start = time.perf_counter()
  pattern = write_shards(directory, setup, images=args.images, shards=args.shards)
  print(f'{image_size}: wrote {args.images} {setup.image_format.upper()}s in '
        f'{time.perf_counter() - start:.1f} s', flush=True)
  images = tf.random.uniform((setup.batch, image_size, image_size, 3))
  labels = tf.random.uniform((setup.batch,), maxval=setup.classes, dtype=tf.int64)
  steps = compiled_train_steps(setup, image_size, args, images, labels)

  def batches(deterministic):
    return iter(input_pipeline.make_dataset(
        [pattern], image_size=image_size, batch_size=setup.batch, mean=MEAN, std=STD,
        training=True, recipe=setup.recipe, deterministic=deterministic))

  deterministic_img_s = pipeline_img_s(batches(True), args, setup.batch)
  default_batches = batches(False)
  pipeline = pipeline_img_s(default_batches, args, setup.batch)
  constant, fed = ({precision: [] for precision in steps} for _ in range(2))
  for _ in range(args.steps):
    for precision, step in steps.items():
      constant[precision].append(model_throughput.seconds_of(step, images, labels))
      fed[precision].append(fed_seconds(step, default_batches))
  runs = []
  for precision in steps:
    model = setup.batch / statistics.median(constant[precision])
    fed_img_s = setup.batch / statistics.median(fed[precision])
    runs.append(dict(
        image_size=image_size, recipe=setup.recipe, batch=setup.batch,
        source=f'{setup.source_size[0]}x{setup.source_size[1]} {setup.image_format}',
        pipeline_img_s=pipeline, pipeline_deterministic_img_s=deterministic_img_s,
        variant=setup.model, precision=precision, model_train_img_s=model,
        pipeline_over_model=pipeline / model, fed_train_img_s=fed_img_s,
        fed_over_constant=fed_img_s / model))
  return runs


COLUMNS = (  # (result field, table header, cell format)
    ('image_size', 'size', '{}'), ('recipe', 'recipe', '{}'), ('source', 'source', '{}'),
    ('batch', 'batch', '{}'), ('pipeline_img_s', 'pipeline img/s', '{:.1f}'),
    ('pipeline_deterministic_img_s', 'deterministic img/s', '{:.1f}'),
    ('variant', 'model', '{}'), ('precision', 'precision', '{}'),
    ('model_train_img_s', 'train img/s', '{:.2f}'),
    ('pipeline_over_model', 'pipeline/train', '{:.1f}x'),
    ('fed_train_img_s', 'fed train img/s', '{:.2f}'),
    ('fed_over_constant', 'fed/constant', '{:.3f}x'))


def print_table(runs, args):
  """Prints one row per size and precision, then the target verdict for each precision."""
  print(f'\nmedian of {args.rounds} windows of {args.round_batches} batches (pipeline) and '
        f'{args.steps} steps (train); {args.images} images in {args.shards} shards; '
        'fed = training on the pipeline\'s batches')
  report.print_table(COLUMNS, runs)
  for run in runs:
    if run['image_size'] == TARGET_SIZE:
      ratio = run['pipeline_over_model']
      print(f'target ({run["precision"]}): pipeline = {ratio:.1f}x {run["variant"]}\'s training '
            f'images/s at {TARGET_SIZE} (target >= {TARGET_RATIO}x): '
            f'{"MET" if ratio >= TARGET_RATIO else "NOT MET"}')


def write_csv(runs, args):
  os.makedirs(os.path.dirname(args.output_csv) or '.', exist_ok=True)
  with open(args.output_csv, 'w', newline='') as f:
    writer = csv.DictWriter(f, [field for field, _, _ in COLUMNS] + ['images', 'shards'])
    writer.writeheader()
    for run in runs:
      row = {k: round(v, 4) if isinstance(v, float) else v for k, v in run.items()}
      writer.writerow(dict(row, images=args.images, shards=args.shards))
  print(f'wrote {args.output_csv}')


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--sizes', type=int, nargs='+', choices=sorted(SETUPS), default=[224, 32])
  parser.add_argument('--precisions', nargs='+', choices=['float32', 'mixed_bfloat16'],
                      default=['float32', 'mixed_bfloat16'])
  parser.add_argument('--images', type=int, default=256, help='generated images per size')
  parser.add_argument('--shards', type=int, default=4)
  parser.add_argument('--steps', type=int, default=5, help='timed train steps per phase')
  parser.add_argument('--warmup', type=int, default=1, help='untimed train steps after the first')
  parser.add_argument('--rounds', type=int, default=5, help='timed pipeline windows')
  parser.add_argument('--round_batches', type=int, default=50, help='batches per window')
  parser.add_argument('--warmup_batches', type=int, default=20)
  parser.add_argument('--output_csv', default='bench/results/input_pipeline.csv')
  return parser.parse_args(argv)


def main(argv=None):
  args = parse_args(argv)
  runs = []
  for image_size in args.sizes:
    with tempfile.TemporaryDirectory() as directory:
      runs += measure_size(image_size, args, directory)
  print_table(runs, args)
  write_csv(runs, args)


if __name__ == '__main__':
  main()
