"""Images of an Examples split as the edge models take them: uint8 [n, size, size, 3], the
serving preprocessing's pixels (components/preprocessing.py, the recipe's evaluation view)
rounded to 8 bits, as the served model's MODEL_INPUT gives them (components/signatures.py).
A camera frame's crop goes into the TFLite model as these bytes, with no float conversion."""
import dataclasses
import os
from typing import Dict, List, Sequence, Union

import numpy as np
import tensorflow as tf

from components import example_files
from components import features
from components import preprocessing

BATCH = 256  # images preprocessed at a time

FeatureValue = Union[bytes, int]


def model_input(pixels: tf.Tensor) -> tf.Tensor:
  """`pixels`: float32 [..., 3] in [0, 1]; returns them as uint8 in 0..255 (rounded)."""
  return tf.cast(tf.round(pixels * 255.0), tf.uint8)


def model_inputs(encoded: Sequence[bytes], image_size: int, recipe: str) -> np.ndarray:
  """`encoded`: JPEG or PNG bytes; returns uint8 [n, image_size, image_size, 3]."""
  dataset = tf.data.Dataset.from_tensor_slices(tf.constant(list(encoded), tf.string)).map(
      lambda image: model_input(preprocessing.eval_image(image, image_size, recipe)),
      num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).batch(BATCH)
  batches = [batch.numpy() for batch in dataset]
  return (np.concatenate(batches) if batches
          else np.zeros((0, image_size, image_size, 3), np.uint8))


def split_files(examples_uri: str, split: str) -> List[str]:
  """The TFRecord files of `split` of the Examples artifact at `examples_uri`."""
  return example_files.tfrecord_files([os.path.join(examples_uri, f'Split-{split}', '*')])


@dataclasses.dataclass(frozen=True)
class LabelledImages:
  """Examples of a split: their encoded images, labels int64 [n] and the features slices are
  taken from (per example: key -> bytes or int)."""
  encoded: List[bytes]
  labels: np.ndarray
  features: List[Dict[str, FeatureValue]]


def _value(feature: tf.train.Feature) -> FeatureValue:
  kind = feature.WhichOneof('kind')
  values = getattr(feature, kind).value if kind else []
  if len(values) != 1:
    raise ValueError(f'a slice feature holds {len(values)} values, not one')
  return values[0]


def read_labelled(files: Sequence[str], slice_features: Sequence[str]) -> LabelledImages:
  """Every example of `files` (gzipped TFRecords of canonical tf.Examples), in order, with
  the features in `slice_features` that it has. ValueError naming the file for an example
  without an image or a label."""
  encoded, labels, sliced = [], [], []
  for path in files:
    for record in tf.data.TFRecordDataset(path, compression_type='GZIP').as_numpy_iterator():
      example = tf.train.Example.FromString(record).features.feature
      if features.IMAGE_ENCODED not in example or features.LABEL not in example:
        raise ValueError(f'{path}: example {len(encoded)} has no {features.IMAGE_ENCODED} or '
                         f'no {features.LABEL}')
      encoded.append(_value(example[features.IMAGE_ENCODED]))
      labels.append(_value(example[features.LABEL]))
      sliced.append({key: _value(example[key]) for key in slice_features if key in example})
  return LabelledImages(encoded, np.array(labels, np.int64), sliced)


def sample_encoded(files: Sequence[str], count: int, seed: int) -> List[bytes]:
  """`count` encoded images drawn from `files` (all of them when there are fewer): the
  files in a seeded order, their records interleaved, and a seeded uniform sample of the
  first 10 x `count` of those (reservoir sampling), so that a large split is not read whole.
  The same files and seed give the same images in any process: numpy draws them, not a
  tf.data shuffle, whose seed TensorFlow combines with the global seed (the Trainer sets it
  in a local run's process, and the sample differed from a fresh process's)."""
  rng = np.random.default_rng(seed)
  order = rng.permutation(len(files))
  records = tf.data.Dataset.from_tensor_slices([files[i] for i in order]).interleave(
      lambda path: tf.data.TFRecordDataset(path, compression_type='GZIP'),
      cycle_length=4, deterministic=True).take(10 * count)
  sample = []
  for seen, record in enumerate(records.as_numpy_iterator()):
    if seen < count:
      sample.append(record)
    else:
      kept = rng.integers(seen + 1)
      if kept < count:
        sample[kept] = record
  spec = {features.IMAGE_ENCODED: tf.io.FixedLenFeature([], tf.string)}
  return [tf.io.parse_single_example(record, spec)[features.IMAGE_ENCODED].numpy()
          for record in sample]
