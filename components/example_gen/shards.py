"""Where ingestion writes its TFRecords: `<dir>/<split>/<split>-SSSSS-of-NNNNN.tfrecord.gz`.

The standalone job writes this layout and the TfRecords format imports it by default
(`split_pattern`), so it is spelt here only.
"""
import os

SUFFIX = '.tfrecord.gz'  # gzipped TFRecords


def shard_path(directory: str, split: str, shard: int, num_shards: int) -> str:
  """E.g. ('out', 'train', 3, 16) -> 'out/train/train-00003-of-00016.tfrecord.gz'."""
  return os.path.join(directory, split, f'{split}-{shard:05d}-of-{num_shards:05d}{SUFFIX}')


def split_pattern(split: str) -> str:
  """The glob of `split`'s shards, relative to the directory: 'train/*.tfrecord.gz'."""
  return f'{split}/*{SUFFIX}'
