"""Transform: per-channel pixel statistics of the training split, with tft analyzers.

Nothing is materialised (`Transform(materialize=False)`): copying every image's bytes into a
second set of TFRecords would double the storage at ImageNet scale for no gain. The statistics
live in the transform graph; the Trainer reads them with `channel_statistics`.
"""
from typing import Any, Dict, Tuple

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from components import features
from components import preprocessing

CHANNEL_MEAN = 'pixel/channel_mean'  # float32 [batch, 3]: the same row for every example
CHANNEL_STD = 'pixel/channel_std'


def preprocessing_fn(inputs: Dict[str, tf.Tensor],
                     custom_config: Dict[str, Any]) -> Dict[str, tf.Tensor]:
  """Mean and std of every decoded pixel at `custom_config['image_size']`, per RGB channel."""
  encoded = tf.reshape(inputs[features.IMAGE_ENCODED], [-1])
  pixels = preprocessing.decode_images(encoded, custom_config['image_size'])
  per_pixel = tf.reshape(pixels, [-1, 3])
  mean = tft.mean(per_pixel, reduce_instance_dims=False)
  std = tf.sqrt(tft.var(per_pixel, reduce_instance_dims=False))
  batch = tf.shape(encoded)[:1]
  return {
      CHANNEL_MEAN: tf.broadcast_to(mean, tf.concat([batch, [3]], 0)),
      CHANNEL_STD: tf.broadcast_to(std, tf.concat([batch, [3]], 0)),
  }


def channel_statistics(tft_output: tft.TFTransformOutput,
                       encoded_image: bytes) -> Tuple[np.ndarray, np.ndarray]:
  """Reads the analyzers' per-channel (mean, std), each float32 [3], from the transform graph.

  The graph broadcasts them to every row, so transforming any one valid image yields them.
  """
  layer = tft_output.transform_features_layer()
  raw = {features.IMAGE_ENCODED: tf.constant([[encoded_image]])}
  outputs = layer(raw)
  return outputs[CHANNEL_MEAN].numpy()[0], outputs[CHANNEL_STD].numpy()[0]
