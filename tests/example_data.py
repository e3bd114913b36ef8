"""Tiny canonical examples for the Transform, preprocessing and Trainer tests: encoded images,
gzipped TFRecord shards of them, and a real tf.Transform output (the analyzers run through
Beam, as the Transform component runs them)."""
import io
import os
from typing import Sequence

import numpy as np
from PIL import Image
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata
from tensorflow_transform.tf_metadata import schema_utils

from components import features
from components import transform


def encode(pixels: np.ndarray, image_format: str = 'png') -> bytes:
  """uint8 [height, width, 3] as PNG or JPEG bytes."""
  out = io.BytesIO()
  Image.fromarray(pixels).save(out, format=image_format.upper())
  return out.getvalue()


def gradient_image(height: int, width: int) -> np.ndarray:
  """uint8 [height, width, 3] gradients: resampling methods agree to about one grey level."""
  y, x = np.mgrid[0:height, 0:width]
  channels = (x * 200 // width + 20, y * 200 // height + 30, (x + y) * 100 // (width + height))
  return np.stack(channels, axis=-1).astype(np.uint8)


def write_examples(path, images: Sequence[np.ndarray], labels: Sequence[int],
                   image_format: str = 'png') -> str:
  """One gzipped TFRecord file of canonical examples; returns its path."""
  with tf.io.TFRecordWriter(str(path), options='GZIP') as writer:
    for index, (pixels, label) in enumerate(zip(images, labels)):
      writer.write(features.make_example(
          encoded=encode(pixels, image_format), image_format=image_format,
          height=pixels.shape[0], width=pixels.shape[1], filename=f'{index}.{image_format}',
          label=label, label_text=str(label), scenario={}).SerializeToString())
  return str(path)


def analyze(images: Sequence[np.ndarray], labels: Sequence[int], output_dir: str, *,
            image_size: int, num_classes: int) -> tft.TFTransformOutput:
  """Runs the real preprocessing_fn's analyzers over the images ('signs' recipe); returns
  the transform output."""
  metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(
      {features.IMAGE_ENCODED: tf.io.FixedLenFeature([1], tf.string),
       features.LABEL: tf.io.FixedLenFeature([1], tf.int64)}))
  data = [{features.IMAGE_ENCODED: [encode(pixels)], features.LABEL: [label]}
          for pixels, label in zip(images, labels)]
  custom_config = transform.TransformConfig(
      image_size=image_size, recipe='signs', num_classes=num_classes,
      code_version='test', analyzer_cache_store=None).to_custom_config()
  with tft_beam.Context(temp_dir=os.path.join(output_dir, 'tmp')):
    transform_fn = ((data, metadata) | tft_beam.AnalyzeDataset(
        lambda inputs: transform.preprocessing_fn(inputs, custom_config)))
    _ = transform_fn | tft_beam.WriteTransformFn(output_dir)
  return tft.TFTransformOutput(output_dir)
