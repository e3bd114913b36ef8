"""Batch-norm recalibration (components/trainer/batch_norm.py) on models the pipeline exported.

For each `--model` (a Trainer Model artifact), the network rebuilt in float32 with the
exported weights (components/edge/converter.py) is evaluated on the eval split of
`--eval_examples` through the serving preprocessing, its batch norms are recalibrated on
`--batches` training batches of the `--train_examples` artifacts (the Trainer's input pipeline
and recipe, the serving graph's mean and std), and it is evaluated again: accuracy overall, on
the challenge-free slice and at severity level 5, before and after. Models exported before
the Trainer recalibrated show what it gains; one exported since is already recalibrated.
Writes `--output_csv` (default bench/results/bn_recalibration.csv).

Usage, after the README's three-command loop into /tmp/b (examples: span 1's artifact, then
span 2's):
  python bench/bn_recalibration.py --model /tmp/b/pipeline/ran-dev/Trainer/model/<id> \
      --train_examples .../ExampleGen/examples/<id> .../ExampleGen/examples/<id> \
      --eval_examples .../ExampleGen/examples/<id> [--batches 30]
"""
import argparse
import functools
import os
import time

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')  # one Keras (Keras 2) before TF loads
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position
from tfx.utils import path_utils  # pylint: disable=g-import-not-at-top,wrong-import-position

from bench import dev_schedule  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import report  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge import converter  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge import pixels  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.trainer import batch_norm  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.trainer import input_pipeline  # pylint: disable=g-import-not-at-top,wrong-import-position

COLUMNS = [('model', 'model', '{}'), ('batches', 'batches', '{}'),
           ('recalibration_s', 'recalibration s', '{:.1f}'),
           ('overall_before', 'overall before', '{:.4f}'), ('overall', 'after', '{:.4f}'),
           ('none_before', 'challenge-free before', '{:.4f}'), ('none', 'after', '{:.4f}'),
           ('level5_before', 'level 5 before', '{:.4f}'), ('level5', 'after', '{:.4f}')]


def measure(model_uri: str, train_files, examples, *, batches: int, batch_size: int,
            recipe: str) -> dict:
  network = converter.read_network(model_uri)
  classifier = converter.PixelClassifier(path_utils.serving_model_path(model_uri), network)
  evaluate = functools.partial(dev_schedule.accuracies, classifier.model, examples,
                               image_size=network.image_size, recipe=recipe,
                               mean=classifier.mean, std=classifier.std)
  before = evaluate()
  data = input_pipeline.make_dataset(
      train_files, training=True, batch_size=batch_size, image_size=network.image_size,
      mean=classifier.mean, std=classifier.std, recipe=recipe)
  started = time.perf_counter()
  batch_norm.recalibrate(classifier.model, data, tf.distribute.get_strategy(), batches)
  seconds = time.perf_counter() - started
  return {'model': model_uri, 'batches': batches, 'recalibration_s': seconds,
          **{f'{key}_before': value for key, value in before.items()}, **evaluate()}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--model', nargs='+', required=True, help='Trainer Model artifacts.')
  parser.add_argument('--train_examples', nargs='+', required=True,
                      help='ExampleGen Examples artifacts whose train splits recalibrate.')
  parser.add_argument('--eval_examples', required=True,
                      help='The ExampleGen Examples artifact whose eval split is evaluated.')
  parser.add_argument('--batches', type=int, default=30)
  parser.add_argument('--batch_size', type=int, default=64)
  parser.add_argument('--recipe', default='signs')
  parser.add_argument('--output_csv', default=os.path.join(
      os.path.dirname(os.path.abspath(__file__)), 'results', 'bn_recalibration.csv'))
  args = parser.parse_args()
  train_files = [path for uri in args.train_examples
                 for path in pixels.split_files(uri, 'train')]
  examples = pixels.read_labelled(pixels.split_files(args.eval_examples, 'eval'),
                                  tuple(feature for _, feature, _ in dev_schedule.SLICES))
  rows = []
  for uri in args.model:
    rows.append({**measure(uri, train_files, examples, batches=args.batches,
                           batch_size=args.batch_size, recipe=args.recipe),
                 'eval_examples': args.eval_examples})
    report.print_table(COLUMNS, rows, left_aligned=1)
  report.write_csv(args.output_csv, rows)


if __name__ == '__main__':
  main()
