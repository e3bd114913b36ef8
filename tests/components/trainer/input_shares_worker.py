"""One worker of test_input_pipeline's two-process MultiWorkerMirroredStrategy run.

Usage: PYTHONPATH=... TF_CONFIG=... python input_shares_worker.py CASES.json
CASES.json: {"classes": C, "steps": S, "cases": {name: [file, ...]}}. For each case, takes S
steps of the Trainer's own training dataset (training.training_dataset, batch 4 per replica)
under MultiWorkerMirroredStrategy and prints one JSON line: per case, the labels (argmax of
the one-hot labels) this worker's replicas consumed, in order.
"""
import json
import sys

import numpy as np
import tensorflow as tf

from components import transform
from components.trainer import distribution
from components.trainer import training
import training_data


def consumed_labels(strategy: tf.distribute.Strategy, files, classes: int, steps: int):
  """The labels this worker's replicas consumed in `steps` steps, in order."""
  config = training_data.trainer_config(image_size=8, checkpoint_every=1,
                                        strategy='multi_worker')
  stats = transform.TrainingStatistics(mean=np.full(3, 0.5, np.float32),
                                       std=np.full(3, 0.25, np.float32),
                                       class_counts=np.ones(classes, np.float32))
  global_batch = distribution.global_batch_size(config.batch_size, strategy)
  dataset = training.training_dataset(files, config, strategy, stats, classes, global_batch)
  labels, batches = [], iter(dataset)
  for _ in range(steps):
    _, one_hot = next(batches)
    for local in strategy.experimental_local_results(one_hot):
      labels.extend(int(label) for label in np.argmax(local.numpy(), axis=-1))
  return labels


def main(cases_file: str) -> None:
  with open(cases_file) as f:
    request = json.load(f)
  strategy = distribution.make_strategy('multi_worker')
  print(json.dumps({name: consumed_labels(strategy, files, request['classes'], request['steps'])
                    for name, files in request['cases'].items()}), flush=True)


if __name__ == '__main__':
  main(sys.argv[1])
