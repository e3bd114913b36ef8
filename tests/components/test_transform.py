"""Transform: its pixel statistics and class counts are right; its config travels typed."""
import dataclasses
import json

import numpy as np
import pytest

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


def test_the_config_comes_from_the_profile_and_back_through_json():
  config = transform.TransformConfig.from_fields(configs.IMAGENET, num_classes=1000,
                                                 code_version='abc')
  assert config == transform.TransformConfig(image_size=224, recipe='imagenet',
                                             num_classes=1000, code_version='abc')
  custom_config = json.loads(json.dumps(config.to_custom_config()))
  assert transform.TransformConfig.from_custom_config(custom_config) == config


def test_an_unknown_recipe_fails_when_the_config_is_built():
  with pytest.raises(ValueError, match="'mnist'"):
    transform.TransformConfig.from_fields(dataclasses.replace(configs.DEV, recipe='mnist'),
                                          num_classes=14, code_version='abc')


def test_the_preprocessing_fn_refuses_a_hand_built_dict():
  with pytest.raises(step_config.StepConfigError, match="no 'transform_config'"):
    transform.preprocessing_fn({}, {'image_size': SIZE, 'recipe': 'signs', 'num_classes': 4})
