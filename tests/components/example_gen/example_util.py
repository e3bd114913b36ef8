"""Helpers the ingestion tests share for reading back what ingestion wrote."""
import io
import json
import os
from typing import Dict, List

import numpy as np
from PIL import Image
import tensorflow as tf

from components import features
from components.example_gen import ingest
from components.example_gen import shards
from components.example_gen.layout import Rejected


def feature(example: tf.train.Example, key: str):
  """The first value of `key` (bytes or int)."""
  value = example.features.feature[key]
  return (value.bytes_list.value or value.int64_list.value)[0]


def shard_glob(out_dir: str, split: str) -> str:
  """The glob of the shards `job.run` wrote for `split` under `out_dir`."""
  return os.path.join(out_dir, shards.split_pattern(split))


def read_examples(out_dir: str, split: str) -> List[tf.train.Example]:
  """Every example of `split` that `job.run` wrote, in shard order."""
  paths = sorted(tf.io.gfile.glob(shard_glob(out_dir, split)))
  return [tf.train.Example.FromString(record.numpy())
          for record in tf.data.TFRecordDataset(paths, compression_type='GZIP')]


def read_quarantine(out_dir: str) -> List[Rejected]:
  """The quarantine records ingestion wrote under `out_dir`."""
  with tf.io.gfile.GFile(ingest.quarantine_file(out_dir)) as f:
    return [Rejected(**json.loads(line)) for line in f if line.strip()]


def by_filename(out_dir: str, split: str) -> Dict[str, tf.train.Example]:
  """The examples `job.run` wrote for `split`, by `image/filename`."""
  return {feature(e, features.IMAGE_FILENAME).decode(): e for e in read_examples(out_dir, split)}


def decoded_pixels(data: bytes) -> np.ndarray:
  """The image file bytes' pixels, uint8 [height, width, 3] RGB."""
  with Image.open(io.BytesIO(data)) as image:
    return np.asarray(image.convert('RGB'))


def file_pixels(path: str) -> np.ndarray:
  """The image file's pixels, uint8 [height, width, 3] RGB."""
  with open(path, 'rb') as f:
    return decoded_pixels(f.read())


def read_bmp(path: str) -> np.ndarray:
  """The BMP file's pixels, uint8 [height, width, 3] RGB (asserting it is a BMP)."""
  with Image.open(path) as image:
    assert image.format == 'BMP'
    return np.asarray(image.convert('RGB'))


def file_tree(root: str) -> Dict[str, bytes]:
  """Relative path -> bytes of every file under `root`."""
  files = {}
  for folder, _, names in os.walk(root):
    for name in names:
      with open(os.path.join(folder, name), 'rb') as f:
        files[os.path.relpath(os.path.join(folder, name), root)] = f.read()
  return files
