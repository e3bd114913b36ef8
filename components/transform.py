"""Transform: statistics of the training split, with tft analyzers.

Per-channel mean and std of every decoded pixel at the training resolution (the input
normalisation), and the number of training examples per class (for class weights). Image bytes,
labels and scenario features pass through untouched: nothing is materialised
(`Transform(materialize=False)`), since copying every image's bytes into a second set of
TFRecords would double the storage at ImageNet scale for no gain. The statistics live in the
transform graph; the Trainer reads them with `training_statistics`. The settings arrive as a
TransformConfig in `custom_config` (components/step_config.py).

Analyzer cache: tf.Transform keeps each analysed dataset's accumulators (TFX's
`updated_analyzer_cache`, per split URI), so a run over spans 1..N that is given the cache of
the run over spans 1..N-1 reads only span N. TFX feeds it through the `analyzer_cache` input,
but an input that changes with every run (the latest cache) would change the Transform's
execution cache key, and so re-run the Transform and retrain on an unchanged rerun. `Transform`
here takes it from a folder under the pipeline root instead (`analyzer_cache_store`), where
each run records the cache it wrote. The statistics are the same, to float rounding, with
or without it.
"""
import dataclasses
import json
import os
from typing import Any, Dict, List, NamedTuple, Optional

from absl import logging
import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
from tfx import types
from tfx.components.transform import component as transform_component
from tfx.components.transform import executor as transform_executor
from tfx.dsl.components.base import executor_spec
from tfx.types import standard_artifacts
from tfx.types import standard_component_specs
from tfx.utils import json_utils

from components import atomic_file
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
  analyzer_cache_store: Optional[str]  # a folder; None: no cache between runs

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


_LATEST_CACHE_FILE = 'latest.json'  # in the analyzer cache store: {"uri": a TransformCache's}


def latest_analyzer_cache(store: str) -> Optional[str]:
  """The URI of the analyzer cache the last Transform run recorded in `store`; None when none
  was recorded, or its folder is gone."""
  path = os.path.join(store, _LATEST_CACHE_FILE)
  if not tf.io.gfile.exists(path):
    return None
  with tf.io.gfile.GFile(path) as f:
    uri = json.load(f)['uri']
  return uri if tf.io.gfile.isdir(uri) else None


def record_analyzer_cache(store: str, uri: str) -> None:
  """Records `uri` as `store`'s latest analyzer cache (written whole, then renamed)."""
  tf.io.gfile.makedirs(store)
  atomic_file.write(os.path.join(store, _LATEST_CACHE_FILE), json.dumps({'uri': uri}))


class Executor(transform_executor.Executor):
  """TFX's Transform executor, given the analyzer cache its TransformConfig's
  `analyzer_cache_store` records when the DAG gives none; records the cache it writes."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    config = TransformConfig.from_custom_config(json_utils.loads(
        exec_properties[standard_component_specs.CUSTOM_CONFIG_KEY]))
    store = config.analyzer_cache_store
    if store and not input_dict.get(standard_component_specs.ANALYZER_CACHE_KEY):
      previous = latest_analyzer_cache(store)
      if previous:
        logging.info('Transform: the analyzer cache of %s', previous)
        cache = standard_artifacts.TransformCache()
        cache.uri = previous
        input_dict = {**input_dict, standard_component_specs.ANALYZER_CACHE_KEY: [cache]}
    super().Do(input_dict, output_dict, exec_properties)
    updated = output_dict.get(standard_component_specs.UPDATED_ANALYZER_CACHE_KEY)
    if store and updated:
      record_analyzer_cache(store, updated[0].uri)


class Transform(transform_component.Transform):
  """TFX's Transform with this module's Executor."""
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
