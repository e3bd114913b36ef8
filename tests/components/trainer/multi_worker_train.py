"""One worker of test_distribution's two-process MultiWorkerMirroredStrategy run.

Usage: PYTHONPATH=. TF_CONFIG=... python tests/components/trainer/multi_worker_train.py EXPORT_DIR
Trains a tiny conv net for a few steps with Keras fit on a synthetic dataset that the strategy
shards, saves a SavedModel through `distribution.write_dir` and `clean_up`, and prints one
JSON line: the strategy, replicas, global batch, whether this worker is the chief, the
directory it wrote, and the SHA-256 and float64 sum of its final weights.
"""
import hashlib
import json
import os
import sys

import numpy as np
import tensorflow as tf
import tf_keras as keras

from components.trainer import distribution

PER_REPLICA_BATCH = 4
STEPS = 4
IMAGE_SHAPE = (8, 8, 1)


def _save(model: keras.Model, export_dir: str) -> None:
  """A SavedModel with the weights and a `serving_default` signature (logits), as the
  Trainer exports: a tf.Module, not a Keras SavedModel."""
  module = tf.Module()
  module.model_variables = list(model.variables)
  serve = tf.function(lambda images: model(images, training=False),
                      input_signature=[tf.TensorSpec([None, *IMAGE_SHAPE], tf.float32)])
  tf.saved_model.save(module, export_dir, signatures=serve)


def main(export_dir: str) -> None:
  strategy = distribution.make_strategy('auto')
  task_index = json.loads(os.environ['TF_CONFIG'])['task']['index']
  keras.utils.set_random_seed(task_index)  # different initial weights: the chief's must win
  global_batch = distribution.global_batch_size(PER_REPLICA_BATCH, strategy)
  rng = np.random.default_rng(0)  # the same data on every worker, which the strategy shards
  images = rng.normal(size=(STEPS * global_batch, *IMAGE_SHAPE)).astype('float32')
  labels = rng.integers(0, 2, size=STEPS * global_batch)
  dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(global_batch).repeat()
  with strategy.scope():
    model = keras.Sequential([
        keras.Input(IMAGE_SHAPE),
        keras.layers.Conv2D(4, 3, activation='relu'),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(2),
    ])
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
  model.fit(dataset, epochs=1, steps_per_epoch=STEPS, verbose=0)
  written = distribution.write_dir(export_dir, strategy)
  _save(model, written)
  distribution.clean_up(written, export_dir)
  weights = np.concatenate([w.ravel() for w in model.get_weights()])
  print(json.dumps({
      'strategy': type(strategy).__name__, 'replicas': strategy.num_replicas_in_sync,
      'global_batch': global_batch, 'chief': distribution.is_chief(strategy),
      'written': written, 'weights_sha256': hashlib.sha256(weights.tobytes()).hexdigest(),
      'weights_sum': float(weights.astype('float64').sum())}), flush=True)


if __name__ == '__main__':
  main(sys.argv[1])
