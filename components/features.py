"""The canonical tf.Example: every key every dataset format emits, defined once.

Every ExampleGen format, the Transform and Trainer code and the evaluation config import
their feature names from here, so they cannot drift apart.
"""
from typing import Mapping

import tensorflow as tf

IMAGE_ENCODED = 'image/encoded'    # bytes: the image file (JPEG or PNG)
IMAGE_FORMAT = 'image/format'      # bytes: b'jpeg' or b'png'
IMAGE_HEIGHT = 'image/height'      # int64: decoded height in pixels
IMAGE_WIDTH = 'image/width'        # int64: decoded width in pixels
IMAGE_FILENAME = 'image/filename'  # bytes: path relative to the data root (provenance)
LABEL = 'image/class/label'        # int64: 0-based class index
LABEL_TEXT = 'image/class/text'    # bytes: class name

SCENARIO_PREFIX = 'scenario/'
UNKNOWN_SCENARIO = 'unknown'


def scenario_key(name: str) -> str:
  """`scenario_key('challenge')` -> `'scenario/challenge'`."""
  return SCENARIO_PREFIX + name


def _bytes(value) -> tf.train.Feature:
  if isinstance(value, str):
    value = value.encode('utf-8')
  return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int64(value: int) -> tf.train.Feature:
  return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))


def make_example(*, encoded: bytes, image_format: str, height: int, width: int,
                 filename: str, label: int, label_text: str,
                 scenario: Mapping[str, str]) -> tf.train.Example:
  """Builds the canonical tf.Example; `scenario` maps short names to values."""
  feature = {
      IMAGE_ENCODED: _bytes(encoded),
      IMAGE_FORMAT: _bytes(image_format),
      IMAGE_HEIGHT: _int64(height),
      IMAGE_WIDTH: _int64(width),
      IMAGE_FILENAME: _bytes(filename),
      LABEL: _int64(label),
      LABEL_TEXT: _bytes(label_text),
  }
  for name, value in scenario.items():
    feature[scenario_key(name)] = _bytes(value)
  return tf.train.Example(features=tf.train.Features(feature=feature))
