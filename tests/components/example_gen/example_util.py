"""Helpers the format tests share for reading back what ingestion wrote."""
import os
from typing import Dict

import tensorflow as tf

from components import features
from components.example_gen import job


def feature(example: tf.train.Example, key: str):
  """The first value of `key` (bytes or int)."""
  value = example.features.feature[key]
  return (value.bytes_list.value or value.int64_list.value)[0]


def by_filename(out_dir: str, split: str) -> Dict[str, tf.train.Example]:
  """The examples `job.run` wrote for `split`, by `image/filename`."""
  return {feature(e, features.IMAGE_FILENAME).decode(): e
          for e in job.read_examples(out_dir, split)}


def file_tree(root: str) -> Dict[str, bytes]:
  """Relative path -> bytes of every file under `root`."""
  files = {}
  for folder, _, names in os.walk(root):
    for name in names:
      with open(os.path.join(folder, name), 'rb') as f:
        files[os.path.relpath(os.path.join(folder, name), root)] = f.read()
  return files
