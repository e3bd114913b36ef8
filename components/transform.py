"""Transform: statistics of the training split, with tft analyzers.

Per-channel mean and std of every decoded pixel at the training resolution (the input
normalisation), and the number of training examples per class (for class weights). Image bytes,
labels and scenario features pass through untouched: nothing is materialised
(`Transform(materialize=False)`), since copying every image's bytes into a second set of
TFRecords would double the storage at ImageNet scale for no gain. The statistics live in the
transform graph; the Trainer reads them with `training_statistics`. The settings arrive as a
TransformConfig in `custom_config` (components/step_config.py).
"""
import dataclasses
from typing import Any, Dict, NamedTuple

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from components import features
from components import preprocessing
from components import step_config

CHANNEL_MEAN = 'pixel/channel_mean'  # float32 [batch, 3]: the same row for every example
CHANNEL_STD = 'pixel/channel_std'
CLASS_COUNTS = 'label/class_counts'  # float32 [batch, classes]: likewise
PREPROCESSING_FN = f'{__name__}.preprocessing_fn'  # the module path TFX's Transform imports


@dataclasses.dataclass(frozen=True)
class TransformConfig(step_config.StepConfig):
  """What `preprocessing_fn` reads; image_size and recipe as the PipelineConfig fields."""
  CUSTOM_CONFIG_KEY = 'transform_config'

  image_size: int    # px, square
  recipe: str        # preprocessing.RECIPES: its evaluation view is what the statistics see
  num_classes: int   # labels 0..num_classes - 1
  code_version: str  # the step's cache key

  def __post_init__(self):
    preprocessing.recipe_spec(self.recipe)  # ValueError naming an unknown recipe


class TrainingStatistics(NamedTuple):
  mean: np.ndarray          # float32 [3]
  std: np.ndarray           # float32 [3]
  class_counts: np.ndarray  # float32 [classes]


def preprocessing_fn(inputs: Dict[str, tf.Tensor],
                     custom_config: Dict[str, Any]) -> Dict[str, tf.Tensor]:
  """Pixel statistics of the evaluation view of each image (`recipe`, `image_size`) and the
  counts of `num_classes` labels; `custom_config` holds a TransformConfig."""
  config = TransformConfig.from_custom_config(custom_config)
  encoded = tf.reshape(inputs[features.IMAGE_ENCODED], [-1])
  pixels = preprocessing.eval_images(encoded, config.image_size, config.recipe)
  per_pixel = tf.reshape(pixels, [-1, 3])
  mean = tft.mean(per_pixel, reduce_instance_dims=False)
  std = tf.sqrt(tft.var(per_pixel, reduce_instance_dims=False))
  labels = tf.reshape(inputs[features.LABEL], [-1])
  counts = tft.sum(tf.one_hot(labels, config.num_classes), reduce_instance_dims=False)
  batch = tf.shape(encoded)[:1]
  return {
      CHANNEL_MEAN: tf.broadcast_to(mean, tf.concat([batch, [3]], 0)),
      CHANNEL_STD: tf.broadcast_to(std, tf.concat([batch, [3]], 0)),
      CLASS_COUNTS: tf.broadcast_to(counts, tf.concat([batch, tf.shape(counts)], 0)),
  }


def training_statistics(tft_output: tft.TFTransformOutput,
                        encoded_image: bytes) -> TrainingStatistics:
  """Reads the analyzers' results from the transform graph.

  The graph broadcasts them to every row, so transforming any one valid image (with any
  label) yields them.
  """
  layer = tft_output.transform_features_layer()
  outputs = layer({features.IMAGE_ENCODED: tf.constant([[encoded_image]]),
                   features.LABEL: tf.constant([[0]], tf.int64)})
  return TrainingStatistics(*(outputs[key].numpy()[0]
                              for key in (CHANNEL_MEAN, CHANNEL_STD, CLASS_COUNTS)))

