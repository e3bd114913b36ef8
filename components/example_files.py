"""Finding and reading the files of an Examples split: gzipped TFRecords of canonical
tf.Examples (components/features.py), as ExampleGen writes them."""
from typing import List, Sequence

import tensorflow as tf

from components import features


def tfrecord_files(file_patterns: Sequence[str]) -> List[str]:
  """The sorted files matching `file_patterns`; ValueError when none match."""
  files = sorted(f for pattern in file_patterns for f in tf.io.gfile.glob(pattern))
  if not files:
    raise ValueError(f'No TFRecord files match {list(file_patterns)}')
  return files


def first_encoded_image(file_patterns: Sequence[str]) -> bytes:
  """The image bytes of the first example in the first matching file."""
  serialized = next(iter(tf.data.TFRecordDataset(tfrecord_files(file_patterns)[:1],
                                                 compression_type='GZIP')))
  parsed = tf.io.parse_single_example(
      serialized, {features.IMAGE_ENCODED: tf.io.FixedLenFeature([], tf.string)})
  return parsed[features.IMAGE_ENCODED].numpy()
