"""Tiny training inputs for Trainer tests: gzipped canonical examples and a real tf.Transform
output (the analyzers run through Beam, as the Transform component runs them)."""
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


def png(pixels: np.ndarray) -> bytes:
  out = io.BytesIO()
  Image.fromarray(pixels).save(out, format='PNG')
  return out.getvalue()


def write_examples(path: str, images: Sequence[np.ndarray], labels: Sequence[int]):
  """One gzipped TFRecord file of canonical examples."""
  with tf.io.TFRecordWriter(path, options='GZIP') as writer:
    for index, (pixels, label) in enumerate(zip(images, labels)):
      writer.write(features.make_example(
          encoded=png(pixels), image_format='png', height=pixels.shape[0],
          width=pixels.shape[1], filename=f'{index}.png', label=label, label_text='x',
          scenario={}).SerializeToString())


def analyze(images: Sequence[np.ndarray], labels: Sequence[int], output_dir: str, *,
            image_size: int, num_classes: int) -> tft.TFTransformOutput:
  """Runs the real preprocessing_fn's analyzers over the images; returns the transform output."""
  metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(
      {features.IMAGE_ENCODED: tf.io.FixedLenFeature([1], tf.string),
       features.LABEL: tf.io.FixedLenFeature([1], tf.int64)}))
  data = [{features.IMAGE_ENCODED: [png(pixels)], features.LABEL: [label]}
          for pixels, label in zip(images, labels)]
  with tft_beam.Context(temp_dir=os.path.join(output_dir, 'tmp')):
    transform_fn = ((data, metadata) | tft_beam.AnalyzeDataset(
        lambda inputs: transform.preprocessing_fn(
            inputs, {'image_size': image_size, 'recipe': 'signs',
                     'num_classes': num_classes})))
    _ = transform_fn | tft_beam.WriteTransformFn(output_dir)
  return tft.TFTransformOutput(output_dir)
