"""The shared evaluation preprocessing and the recipe table."""
import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from components import preprocessing
import example_data

SIZE = 16


def test_stretch_resize_resizes_the_whole_image_to_unit_range():
  image = np.full((20, 30, 3), 255, np.uint8)
  image[..., 1] = 0
  resized = preprocessing.stretch_resize(tf.constant(example_data.encode(image)), 16).numpy()
  assert resized.shape == (16, 16, 3)
  np.testing.assert_allclose(resized[..., 0], 1.0, atol=1e-6)
  np.testing.assert_allclose(resized[..., 1], 0.0, atol=1e-6)


@pytest.mark.parametrize('width, height', [(42, 30), (30, 45)])  # odd margins
def test_imagenet_eval_resizes_the_shorter_side_and_crops_the_centre(width, height):
  image = example_data.gradient_image(height, width)
  shorter = round(SIZE / preprocessing.EVAL_CROP_FRACTION)  # 18
  scale = shorter / min(width, height)
  resized_width, resized_height = round(width * scale), round(height * scale)
  resized = np.asarray(Image.fromarray(image).resize((resized_width, resized_height),
                                                     Image.BILINEAR)) / 255.0
  top, left = (resized_height - SIZE) // 2, (resized_width - SIZE) // 2
  expected = resized[top:top + SIZE, left:left + SIZE]
  actual = preprocessing.eval_image(tf.constant(example_data.encode(image)), SIZE, 'imagenet')
  np.testing.assert_allclose(actual.numpy(), expected, atol=1.01 / 255)


def test_the_recipe_table_holds_the_papers_recipes():
  signs, cifar, imagenet = (preprocessing.RECIPES[name] for name in ('signs', 'cifar', 'imagenet'))
  assert (signs.pad_px, signs.flip, signs.random_resized_crop) == (4, False, None)
  assert (cifar.pad_px, cifar.flip, cifar.random_resized_crop) == (4, True, None)
  assert signs.eval_image is cifar.eval_image is preprocessing.stretch_resize
  assert imagenet.eval_image is preprocessing.shorter_side_centre_crop
  assert imagenet.random_resized_crop == preprocessing.RandomResizedCrop(
      area=(0.08, 1.0), aspect_ratio=(3 / 4, 4 / 3))
  assert (imagenet.pad_px, imagenet.flip, imagenet.colour_jitter) == (0, True, 0.4)


def test_an_unknown_recipe_is_named():
  with pytest.raises(ValueError, match=r"Unknown recipe 'mnist'; expected one of \('cifar', "):
    preprocessing.eval_image(tf.constant(b''), SIZE, 'mnist')
