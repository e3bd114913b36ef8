"""Transform: its pixel statistics and class counts are right, also when earlier spans come
from the analyzer cache; its config travels typed."""
import dataclasses
import json
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
from tensorflow_transform.tf_metadata import schema_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils
from tfx.types import standard_artifacts
from tfx.types import standard_component_specs as specs
from tfx.utils import io_utils
from tfx.utils import json_utils

from components import features
from components import step_config
from components import transform
import example_data
from pipeline import configs

SIZE = 8
CLASSES = 4
LABELS = (0, 2, 2, 1, 2, 0)  # class 3 never occurs


@pytest.fixture(name='images', scope='module')
def fixture_images():
  rng = np.random.default_rng(0)
  return [rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8) for _ in range(6)]


def test_statistics_equal_numpy_over_all_pixels_and_labels(images, tmp_path):
  output = example_data.analyze(images, LABELS, str(tmp_path), image_size=SIZE,
                                num_classes=CLASSES)
  stats = transform.training_statistics(output, example_data.encode(images[0]))
  pixels = np.stack(images).reshape(-1, 3) / 255.0
  np.testing.assert_allclose(stats.mean, pixels.mean(axis=0), atol=1e-5)
  np.testing.assert_allclose(stats.std, pixels.std(axis=0), atol=1e-5)
  np.testing.assert_array_equal(stats.class_counts, [2, 1, 3, 0])


def _span(tmp_path, name, images, labels):
  """Examples with a train split, as ExampleGen writes them."""
  examples = standard_artifacts.Examples()
  examples.uri = str(tmp_path / name)
  examples.split_names = artifact_utils.encode_split_names(['train'])
  os.makedirs(tmp_path / name / 'Split-train')
  example_data.write_examples(tmp_path / name / 'Split-train' / 'data.gz', images, labels)
  return examples


def _transform(tmp_path, run, spans, store):
  """Runs the Transform step's executor over `spans` as the pipeline configures it; returns
  its output and the URI of the analyzer cache it wrote."""
  schema = standard_artifacts.Schema()
  schema.uri = str(tmp_path / 'schema')
  io_utils.write_pbtxt_file(os.path.join(schema.uri, 'schema.pbtxt'),
                            schema_utils.schema_from_feature_spec({
                                features.IMAGE_ENCODED: tf.io.FixedLenFeature([1], tf.string),
                                features.LABEL: tf.io.FixedLenFeature([1], tf.int64)}))
  graph, cache = standard_artifacts.TransformGraph(), standard_artifacts.TransformCache()
  graph.uri, cache.uri = str(tmp_path / run / 'graph'), str(tmp_path / run / 'cache')
  config = transform.TransformConfig(image_size=SIZE, recipe='signs', num_classes=CLASSES,
                                     code_version='test', analyzer_cache_store=store)
  context = base_beam_executor.BaseBeamExecutor.Context(
      beam_pipeline_args=[], tmp_dir=str(tmp_path / run / 'tmp'), unique_id=run)
  transform.Executor(context).Do(
      {specs.EXAMPLES_KEY: spans, specs.SCHEMA_KEY: [schema]},
      {specs.TRANSFORM_GRAPH_KEY: [graph], specs.UPDATED_ANALYZER_CACHE_KEY: [cache]},
      {specs.PREPROCESSING_FN_KEY: transform.PREPROCESSING_FN,
       specs.CUSTOM_CONFIG_KEY: json_utils.dumps(config.to_custom_config()),
       specs.DISABLE_STATISTICS_KEY: 1, specs.FORCE_TF_COMPAT_V1_KEY: 0})
  return tft.TFTransformOutput(graph.uri), cache.uri


def test_a_run_over_one_more_span_reads_only_the_new_one(images, tmp_path):
  store = str(tmp_path / 'store')
  assert transform.latest_analyzer_cache(store) is None
  first = _span(tmp_path, 'span-1', images[:3], LABELS[:3])
  second = _span(tmp_path, 'span-2', images[3:], LABELS[3:])
  _, first_cache = _transform(tmp_path, 'run-1', [first], store)
  assert transform.latest_analyzer_cache(store) == first_cache
  # Span 1 can no longer be read: its statistics can only come from the cache.
  (tmp_path / 'span-1' / 'Split-train' / 'data.gz').write_bytes(b'not a gzipped TFRecord')
  with pytest.raises(Exception, match='(?i)corrupt|gzip|data ?loss|incorrect header'):
    _transform(tmp_path, 'no-cache', [first, second], None)
  output, second_cache = _transform(tmp_path, 'run-2', [first, second], store)
  stats = transform.training_statistics(output, example_data.encode(images[0]))
  pixels = np.stack(images).reshape(-1, 3) / 255.0
  np.testing.assert_allclose(stats.mean, pixels.mean(axis=0), atol=1e-5)
  np.testing.assert_allclose(stats.std, pixels.std(axis=0), atol=1e-5)
  np.testing.assert_array_equal(stats.class_counts, [2, 1, 3, 0])
  assert transform.latest_analyzer_cache(store) == second_cache
  tf.io.gfile.rmtree(second_cache)  # a cleaned-up cache is not offered
  assert transform.latest_analyzer_cache(store) is None


def test_the_config_comes_from_the_profile_and_back_through_json():
  config = transform.TransformConfig.from_fields(configs.IMAGENET, num_classes=1000,
                                                 code_version='abc', analyzer_cache_store='/c')
  assert config == transform.TransformConfig(image_size=224, recipe='imagenet',
                                             num_classes=1000, code_version='abc',
                                             analyzer_cache_store='/c')
  custom_config = json.loads(json.dumps(config.to_custom_config()))
  assert transform.TransformConfig.from_custom_config(custom_config) == config


def test_an_unknown_recipe_fails_when_the_config_is_built():
  with pytest.raises(ValueError, match="'mnist'"):
    transform.TransformConfig.from_fields(dataclasses.replace(configs.DEV, recipe='mnist'),
                                          num_classes=14, code_version='abc',
                                          analyzer_cache_store=None)


def test_the_preprocessing_fn_refuses_a_hand_built_dict():
  with pytest.raises(step_config.StepConfigError, match="no 'transform_config'"):
    transform.preprocessing_fn({}, {'image_size': SIZE, 'recipe': 'signs', 'num_classes': 4})
