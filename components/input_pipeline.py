"""tf.data input for training and evaluation: canonical tf.Examples -> (pixels, label) batches."""
from typing import Sequence

import tensorflow as tf

from components import features
from components import preprocessing

_PARSE_SPEC = {
    features.IMAGE_ENCODED: tf.io.FixedLenFeature([], tf.string),
    features.LABEL: tf.io.FixedLenFeature([], tf.int64),
}


def tfrecord_files(file_patterns: Sequence[str]) -> list:
  """The sorted files matching `file_patterns`; ValueError when none match."""
  files = sorted(f for pattern in file_patterns for f in tf.io.gfile.glob(pattern))
  if not files:
    raise ValueError(f'No TFRecord files match {list(file_patterns)}')
  return files


def first_encoded_image(file_patterns: Sequence[str]) -> bytes:
  """The image bytes of the first example in the first matching file."""
  serialized = next(iter(tf.data.TFRecordDataset(tfrecord_files(file_patterns)[:1],
                                                 compression_type='GZIP')))
  return tf.io.parse_single_example(serialized, _PARSE_SPEC)[features.IMAGE_ENCODED].numpy()


def pad_and_crop(pixels: tf.Tensor, padding: int, seed: int) -> tf.Tensor:
  """The CIFAR recipe's translation: zero-pad by `padding` pixels, crop back at random."""
  height, width, channels = pixels.shape
  padded = tf.pad(pixels, [[padding, padding], [padding, padding], [0, 0]])
  return tf.image.random_crop(padded, [height, width, channels], seed=seed)


def make_dataset(file_patterns: Sequence[str], *, image_size: int, batch_size: int,
                 mean, std, training: bool, seed: int = 0) -> tf.data.Dataset:
  """Batches of (float32 [batch, size, size, 3] normalised pixels, int64 [batch] labels).

  Training: shuffled, repeated, pad-4-and-crop augmented; no horizontal flip, because
  mirrored traffic signs change meaning (no_left <-> no_right). Evaluation: one pass, in order.
  """
  files = tfrecord_files(file_patterns)
  dataset = tf.data.Dataset.from_tensor_slices(files)
  if training:
    dataset = dataset.shuffle(len(files), seed=seed)
  dataset = dataset.interleave(
      lambda f: tf.data.TFRecordDataset(f, compression_type='GZIP'),
      num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  if training:
    dataset = dataset.shuffle(10_000, seed=seed).repeat()

  def decode(serialized):
    parsed = tf.io.parse_single_example(serialized, _PARSE_SPEC)
    pixels = preprocessing.normalize(
        preprocessing.decode_image(parsed[features.IMAGE_ENCODED], image_size), mean, std)
    if training:
      pixels = pad_and_crop(pixels, padding=4, seed=seed)
    return pixels, parsed[features.LABEL]

  dataset = dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE)
  return dataset.batch(batch_size, drop_remainder=training).prefetch(tf.data.AUTOTUNE)
