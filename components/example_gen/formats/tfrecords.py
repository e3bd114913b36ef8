"""TFRecords of tf.Examples made before: the standalone job's shards, or TF/TPU-style ImageNet.

Each record is checked and brought to the canonical keys: the image is decoded (and
re-encoded only when it is not RGB JPEG/PNG), `label_offset` is added to the label (-1 for the
TF/TPU ImageNet converters, whose labels run 1..1000), the class name comes from the curated
schema of the dataset named by `classes_of`, and a record's own `image/class/synset` must
agree with it. `scenario/*` features are kept. A shard that is corrupt or truncated is a
LostFile: the records before the fault are written, how many were lost is unknown. TF/TPU
shards (`train-00000-of-01024`, `validation-00000-of-00128`, uncompressed) import with
TPU_SPLIT_PATTERNS.
"""
import os
from typing import Iterator, List, Mapping, Tuple

import tensorflow as tf

from components import features
from components import image_codec
from components import schemas
from components.example_gen import layout
from components.example_gen import shards

JOB_SPLIT_PATTERNS = {split: shards.split_pattern(split) for split in ('train', 'eval')}
TPU_SPLIT_PATTERNS = {'train': 'train-*', 'eval': 'validation-*'}
_SYNSET = 'image/class/synset'  # the TF/TPU converters' wnid key


class TfRecords(layout.Layout):
  """TFRecord files (gzipped when named *.gz) matching a glob per split under the data root.

  `classes_of` names the dataset whose classes the labels index (its data_schemas/ file);
  `split_patterns` maps split -> glob, by default the standalone job's shards.
  """
  dataset = 'tfrecord'

  def __init__(self, data_root: str, *, classes_of: str, label_offset: int = 0,
               split_patterns: Mapping[str, str] = None, **options):
    super().__init__(data_root, **options)
    self.classes_of = classes_of
    self.label_offset = label_offset
    self.split_patterns = dict(split_patterns or JOB_SPLIT_PATTERNS)
    self.splits = tuple(self.split_patterns)
    self._class_names = schemas.class_names(
        schemas.load_schema(schemas.schema_path(classes_of)))

  @property
  def class_names(self) -> Tuple[str, ...]:
    return self._class_names

  def sources(self) -> List[Tuple[str, str]]:
    return [(split, os.path.join(self.data_root, pattern))
            for split, pattern in self.split_patterns.items()]

  def items(self, source: Tuple[str, str]) -> Iterator[layout.Item]:
    split, pattern = source
    for path in sorted(tf.io.gfile.glob(pattern)):
      yield layout.Item(split, path)

  def read(self, item: layout.Item) -> Iterator[layout.Outcome]:
    """Each record as a canonical example or rejected; a shard that cannot be read to its end
    (or whose link leads outside the data root) is a LostFile."""
    compression = 'GZIP' if item.source.endswith('.gz') else ''
    try:
      self.inside_root(item.source)
    except layout.BadInput as error:
      yield layout.LostFile.of(item.source, error)
      return
    records = iter(tf.data.TFRecordDataset(item.source, compression_type=compression))
    index = 0
    while True:
      source = f'{item.source}#{index}'
      try:
        record = next(records)
      except StopIteration:
        return
      except tf.errors.OpError as error:  # truncated or corrupt file: the rest is unreadable
        yield layout.LostFile(item.source, layout.CORRUPT_RECORD_FILE,
                              f'records from #{index} on are unreadable ({error.message})')
        return
      try:
        yield self._canonical(record.numpy(), source)
      except layout.BadInput as error:
        yield layout.Rejected.of(source, error)
      index += 1

  def _canonical(self, record: bytes, source: str) -> tf.train.Example:
    try:
      feature = tf.train.Example.FromString(record).features.feature
    except Exception as error:  # protobuf's DecodeError
      raise layout.BadInput(layout.MALFORMED_ROW, f'not a tf.Example ({error})') from None
    label = self.check_label(_single(feature, features.LABEL, 'int64_list') + self.label_offset)
    name = self.class_names[label]
    if _SYNSET in feature and _text(feature, _SYNSET) != name:
      raise layout.BadInput(layout.LABEL_MISMATCH, f'label {label} is class {name!r} but '
                            f'{_SYNSET} is {_text(feature, _SYNSET)!r}')
    image = image_codec.canonical_image(
        _single(feature, features.IMAGE_ENCODED, 'bytes_list'), max_pixels=self.max_pixels)
    filename = (_text(feature, features.IMAGE_FILENAME) if features.IMAGE_FILENAME in feature
                else self.relative(source))
    return features.make_example(
        encoded=image.encoded, image_format=image.image_format, height=image.height,
        width=image.width, filename=filename, label=label, label_text=name,
        scenario={key[len(features.SCENARIO_PREFIX):]: _text(feature, key)
                  for key in sorted(feature) if key.startswith(features.SCENARIO_PREFIX)})

  def fingerprint_paths(self) -> List[str]:
    return [path for _, pattern in self.sources() for path in sorted(tf.io.gfile.glob(pattern))]


def _single(feature, key: str, kind: str):
  """The one value of `key`, of `kind` ('bytes_list' | 'int64_list'); BadInput otherwise."""
  if key not in feature or feature[key].WhichOneof('kind') != kind:
    raise layout.BadInput(layout.MALFORMED_ROW, f'no {kind} feature {key}')
  values = getattr(feature[key], kind).value
  if len(values) != 1:
    raise layout.BadInput(layout.MALFORMED_ROW, f'{key} has {len(values)} values, expected 1')
  return values[0]


def _text(feature, key: str) -> str:
  return _single(feature, key, 'bytes_list').decode('utf-8', errors='replace')
