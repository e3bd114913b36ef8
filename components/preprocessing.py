"""The one decode/resize/normalise path shared by Transform, training and serving, and the
recipe table.

Anything that turns image bytes into model input goes through here, so the statistics
Transform computes, the pixels the Trainer trains on and the pixels a served model sees
cannot drift apart (no training/serving skew). Bytes become pixels by
image_codec_graph.decode_rgb, the graph twin of ingestion's decoder.

`RECIPES` holds each recipe's evaluation preprocessing and, as data, its training
augmentation (applied by components/trainer/input_pipeline.py):
  'signs': evaluation `stretch_resize`; training pads PAD_PX and crops back at random, no flip
    (mirrored traffic signs change meaning: no_left <-> no_right).
  'cifar' (the paper's CIFAR recipe): 'signs' plus a random horizontal flip.
  'imagenet' (the paper's ImageNet recipe, ResNet/Inception convention): evaluation
    `shorter_side_centre_crop`; training takes a random-resized crop, flips, jitters colour.
"""
import dataclasses
from typing import Callable, Optional, Tuple

import tensorflow as tf

from components import image_codec_graph

EVAL_CROP_FRACTION = 0.875  # 'imagenet' evaluation: crop side / resized shorter side


def resize_to_unit_range(image: tf.Tensor, size) -> tf.Tensor:
  """`image`: [height, width, 3] in 0..255; returns float32 [*size, 3] in [0, 1]
  (bilinear, antialiased when shrinking)."""
  image = tf.image.resize(image, size, method='bilinear', antialias=True)
  return tf.clip_by_value(image / 255.0, 0.0, 1.0)


def stretch_resize(encoded: tf.Tensor, image_size: int) -> tf.Tensor:
  """'cifar'/'signs' evaluation: `encoded` scalar string, JPEG or PNG bytes; returns float32
  [size, size, 3] in [0, 1], the whole image resized (the aspect ratio is not kept)."""
  return resize_to_unit_range(image_codec_graph.decode_rgb(encoded), [image_size, image_size])


def shorter_side_centre_crop(encoded: tf.Tensor, image_size: int) -> tf.Tensor:
  """'imagenet' evaluation: `encoded` scalar string, JPEG or PNG bytes; returns float32
  [size, size, 3] in [0, 1]: the shorter side resized to round(size / EVAL_CROP_FRACTION),
  then the central size x size crop (offsets rounded down)."""
  image = image_codec_graph.decode_rgb(encoded)
  shape = tf.cast(tf.shape(image)[:2], tf.float32)
  scale = round(image_size / EVAL_CROP_FRACTION) / tf.reduce_min(shape)
  resized_shape = tf.maximum(tf.cast(tf.round(shape * scale), tf.int32), image_size)
  offset = (resized_shape - image_size) // 2
  return tf.slice(resize_to_unit_range(image, resized_shape),
                  tf.concat([offset, [0]], 0), [image_size, image_size, 3])


@dataclasses.dataclass(frozen=True)
class RandomResizedCrop:
  """A random window of the image, resized to image_size."""
  area: Tuple[float, float]          # window area / image area
  aspect_ratio: Tuple[float, float]  # window width / height


@dataclasses.dataclass(frozen=True)
class RecipeSpec:
  """One recipe: its evaluation view, and its training augmentation as data. Training takes
  the random-resized crop (else the evaluation view), pads and crops, flips, jitters colour,
  in that order, then normalises (components/trainer/input_pipeline.augment)."""
  # (encoded scalar string, image_size) -> float32 [size, size, 3] in [0, 1]: the view
  # Transform, evaluation and serving see.
  eval_image: Callable[[tf.Tensor, int], tf.Tensor]
  random_resized_crop: Optional[RandomResizedCrop]  # None: training starts from eval_image
  # px of the mean colour (zero after normalisation) on each side, then a random crop back
  # to image_size; 0: none.
  pad_px: int
  flip: bool            # a random horizontal flip
  colour_jitter: float  # brightness, contrast, saturation factors in 1 +- this; 0: none


PAD_PX = 4  # the paper's CIFAR translation, px
RECIPES = {
    'cifar': RecipeSpec(eval_image=stretch_resize, random_resized_crop=None, pad_px=PAD_PX,
                        flip=True, colour_jitter=0.0),
    'imagenet': RecipeSpec(
        eval_image=shorter_side_centre_crop,
        random_resized_crop=RandomResizedCrop(area=(0.08, 1.0), aspect_ratio=(3 / 4, 4 / 3)),
        pad_px=0, flip=True, colour_jitter=0.4),
    'signs': RecipeSpec(eval_image=stretch_resize, random_resized_crop=None, pad_px=PAD_PX,
                        flip=False, colour_jitter=0.0),
}


def recipe_spec(name: str) -> RecipeSpec:
  """RECIPES[name]; ValueError naming `name` and the recipes when there is none."""
  if name not in RECIPES:
    raise ValueError(f'Unknown recipe {name!r}; expected one of {tuple(RECIPES)}')
  return RECIPES[name]


def eval_image(encoded: tf.Tensor, image_size: int, recipe: str) -> tf.Tensor:
  """`encoded`: scalar string, JPEG or PNG bytes; returns float32 [size, size, 3] in [0, 1]."""
  return recipe_spec(recipe).eval_image(encoded, image_size)


def eval_images(encoded: tf.Tensor, image_size: int, recipe: str) -> tf.Tensor:
  """`encoded`: string [batch]; returns float32 [batch, size, size, 3] in [0, 1]."""
  preprocess = recipe_spec(recipe).eval_image
  return tf.map_fn(
      lambda x: preprocess(x, image_size), encoded,
      fn_output_signature=tf.TensorSpec([image_size, image_size, 3], tf.float32))


def normalize(pixels: tf.Tensor, mean, std) -> tf.Tensor:
  """`pixels`: float32 [..., 3] in [0, 1]; `mean`, `std`: per-channel [3]."""
  return (pixels - tf.constant(mean, tf.float32)) / tf.constant(std, tf.float32)
