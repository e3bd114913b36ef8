"""The curated schemas in data_schemas/ and the label vocabulary they carry."""
import os
from typing import Tuple

from google.protobuf import text_format
import tensorflow as tf
from tensorflow_metadata.proto.v0 import schema_pb2

from components import features

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          'data_schemas')


def schema_path(dataset: str) -> str:
  """`data_schemas/<dataset>.pbtxt`; ValueError when the dataset has no curated schema."""
  path = os.path.join(SCHEMA_DIR, f'{dataset}.pbtxt')
  if not os.path.isfile(path):
    raise ValueError(f'No curated schema for dataset {dataset!r}: {path} does not exist')
  return path


def load_schema(path: str) -> schema_pb2.Schema:
  """The schema at `path` (local or gs://)."""
  with tf.io.gfile.GFile(path) as f:
    return text_format.Parse(f.read(), schema_pb2.Schema())


def write_schema(schema: schema_pb2.Schema, path: str):
  """Writes `schema` as text to `path` (local or gs://), making its folder."""
  tf.io.gfile.makedirs(os.path.dirname(path))
  with tf.io.gfile.GFile(path, 'w') as f:
    f.write(text_format.MessageToString(schema))


def class_names(schema: schema_pb2.Schema) -> Tuple[str, ...]:
  """Class names in label order: the string domain of the class-text feature."""
  text = next(f for f in schema.feature if f.name == features.LABEL_TEXT)
  domain = next(d for d in schema.string_domain if d.name == text.domain)
  names = tuple(domain.value)
  label = next(f for f in schema.feature if f.name == features.LABEL)
  if label.int_domain.max != len(names) - 1:
    raise ValueError(f'Schema label domain max {label.int_domain.max} does not match '
                     f'{len(names)} class names')
  return names


def scenario_features(schema: schema_pb2.Schema) -> Tuple[str, ...]:
  """The schema's `scenario/*` feature keys, in schema order: the default evaluation slices."""
  return tuple(f.name for f in schema.feature if f.name.startswith(features.SCENARIO_PREFIX))
