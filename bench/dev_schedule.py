"""The dev profile's training budget: accuracy by step count and learning-rate schedule.

Trains the dev profile's network (attention_56_cifar, 32 px, batch 64, bfloat16 where the
CPU has it) on an ingested sample with the Trainer's own input pipeline and compiled
recipe (components/trainer), once per `--runs` entry `STEPS:SCHEDULE[:FIELD=VALUE...]`
(`step`: the paper's drops at the profile's fractions; `cosine`; FIELD: a TrainerConfig field
to change, e.g. width_multiplier=1.0 or batch_size=32, the learning rate scaling with the
batch), each from the same seed, recalibrates its batch norms as the Trainer does
(`bn_recalibration_batches`), and evaluates it on the eval split through the serving
preprocessing: accuracy overall (also before the recalibration), on the challenge-free slice
and at severity level 5. Fit time is printed too; it varies with this shared machine's load.
Writes `--output_csv` (default bench/results/dev_schedule.csv).

Usage, on the artifacts of a first local run (`make run`: outputs/pipeline/ran-dev/...):
  python bench/dev_schedule.py --examples .../ExampleGen/examples/<id> \
      --transform_graph .../Transform/transform_graph/<id> \
      [--runs 400:step 300:cosine 300:cosine:width_multiplier=1.0]
"""
import argparse
import dataclasses
import functools
import os
import time

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')  # one Keras (Keras 2) before TF loads
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow_transform as tft  # pylint: disable=g-import-not-at-top,wrong-import-position
import tf_keras as keras  # pylint: disable=g-import-not-at-top,wrong-import-position

import ran_model  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import report  # pylint: disable=g-import-not-at-top,wrong-import-position
from components import example_files  # pylint: disable=g-import-not-at-top,wrong-import-position
from components import preprocessing  # pylint: disable=g-import-not-at-top,wrong-import-position
from components import transform  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge import pixels  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.trainer import batch_norm  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.trainer import distribution  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.trainer import input_pipeline  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.trainer import training  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.trainer.config import TrainerConfig  # pylint: disable=g-import-not-at-top,wrong-import-position
from pipeline import configs  # pylint: disable=g-import-not-at-top,wrong-import-position

SLICES = (('none', 'scenario/challenge', 'none'), ('level5', 'scenario/level', '5'))


def _value(value) -> str:
  return value.decode() if isinstance(value, bytes) else str(value)


def accuracies(model, examples, *, image_size: int, recipe: str, mean, std) -> dict:
  """Accuracy overall and on each of SLICES, through the serving preprocessing."""
  inputs = pixels.model_inputs(examples.encoded, image_size, recipe)
  predicted = []
  for start in range(0, len(inputs), 256):
    unit = tf.constant(inputs[start:start + 256], tf.float32) / 255.0
    outputs = model(preprocessing.normalize(unit, mean, std), training=False)
    predicted.append(np.argmax(outputs, -1))
  hits = np.concatenate(predicted) == examples.labels
  result = {'overall': float(hits.mean())}
  for name, feature, value in SLICES:
    chosen = np.array([_value(f[feature]) == value for f in examples.features])
    result[name] = float(hits[chosen].mean())
  return result


def _changes(profile: TrainerConfig, texts) -> dict:
  """{field: value} of `FIELD=VALUE` texts, each value of its field's type in `profile`."""
  changes = {}
  for text in texts:
    field, value = text.split('=')
    changes[field] = type(getattr(profile, field))(value)
  return changes


def _train(steps: int, config: TrainerConfig, changes: dict, train_files, stats, classes: int,
           examples) -> dict:
  previous = keras.mixed_precision.global_policy()
  keras.mixed_precision.set_global_policy(training.precision_policy(config.mixed_precision))
  try:
    keras.utils.set_random_seed(config.seed)
    data = input_pipeline.make_dataset(
        train_files, training=True, batch_size=config.batch_size, image_size=config.image_size,
        mean=stats.mean, std=stats.std, recipe=config.recipe, seed=config.seed, classes=classes)
    model = ran_model.build_model(config.model_name, classes=classes,
                                  input_shape=(config.image_size, config.image_size, 3),
                                  width_multiplier=config.width_multiplier)
    peak_lr = distribution.scaled_learning_rate(config.learning_rate, config.batch_size,
                                                config.lr_reference_batch)
    training.compile_model(model, config, training.Plan(steps, peak_lr, config.warmup_steps))
    epochs = training.logging_epochs(steps)
    started = time.perf_counter()
    model.fit(data, epochs=epochs, steps_per_epoch=steps // epochs, verbose=2)
    fit_s = time.perf_counter() - started
    measure = functools.partial(accuracies, model, examples, image_size=config.image_size,
                                recipe=config.recipe, mean=stats.mean, std=stats.std)
    as_trained = measure()
    batch_norm.recalibrate(model, data, tf.distribute.get_strategy(),
                           config.bn_recalibration_batches)
    return {'steps': steps, 'schedule': config.lr_schedule,
            'changes': ' '.join(f'{k}={v}' for k, v in changes.items()), 'fit_s': fit_s,
            'overall_as_trained': as_trained['overall'], **measure()}
  finally:
    keras.mixed_precision.set_global_policy(previous)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--examples', required=True, help='An ExampleGen Examples artifact.')
  parser.add_argument('--transform_graph', required=True,
                      help='The Transform graph computed on its train split.')
  parser.add_argument('--runs', nargs='+', default=['400:step', '300:step', '300:cosine',
                                                    '250:cosine'])
  parser.add_argument('--output_csv', default=os.path.join(
      os.path.dirname(os.path.abspath(__file__)), 'results', 'dev_schedule.csv'))
  args = parser.parse_args()
  train_files = pixels.split_files(args.examples, 'train')
  stats = transform.training_statistics(tft.TFTransformOutput(args.transform_graph),
                                        example_files.first_encoded_image(train_files))
  classes = len(stats.class_counts)
  examples = pixels.read_labelled(pixels.split_files(args.examples, 'eval'),
                                  tuple(feature for _, feature, _ in SLICES))
  profile = TrainerConfig.from_fields(configs.DEV, code_version='bench')
  rows = []
  for run in args.runs:
    steps, schedule, *texts = run.split(':')
    changes = _changes(profile, texts)
    config = dataclasses.replace(profile, lr_schedule=schedule, **changes)
    rows.append(_train(int(steps), config, changes, train_files, stats, classes, examples))
    report.print_table([('steps', 'steps', '{}'), ('schedule', 'schedule', '{}'),
                        ('changes', 'changes', '{}'),
                        ('fit_s', 'fit s', '{:.0f}'),
                        ('overall_as_trained', 'overall before BN recal.', '{:.4f}'),
                        ('overall', 'overall', '{:.4f}'),
                        ('none', 'challenge-free', '{:.4f}'), ('level5', 'level 5', '{:.4f}')],
                       rows, left_aligned=3)
  report.write_csv(args.output_csv, rows)


if __name__ == '__main__':
  main()
