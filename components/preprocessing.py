"""The one decode/resize/normalise path shared by Transform, training and serving.

Anything that turns image bytes into model input goes through here, so the statistics
Transform computes, the pixels the Trainer trains on and the pixels a served model sees
cannot drift apart (no training/serving skew).

Evaluation preprocessing per augmentation recipe (`RECIPES`; training augmentation is in
components/input_pipeline.py):
  'cifar', 'signs': decode, resize to image_size x image_size (the aspect ratio is not kept);
  'imagenet': decode, resize the shorter side to image_size / EVAL_CROP_FRACTION (256 px for
    224), keeping the aspect ratio, then crop the central image_size x image_size.
"""
import tensorflow as tf

EVAL_CROP_FRACTION = 0.875  # 'imagenet' evaluation: crop side / resized shorter side


def decode_rgb(encoded: tf.Tensor) -> tf.Tensor:
  """`encoded`: scalar string, JPEG or PNG bytes; returns uint8 [height, width, 3]."""
  return tf.io.decode_image(encoded, channels=3, expand_animations=False)


def resize_to_unit_range(image: tf.Tensor, size) -> tf.Tensor:
  """`image`: [height, width, 3] in 0..255; returns float32 [*size, 3] in [0, 1]
  (bilinear, antialiased when shrinking)."""
  image = tf.image.resize(image, size, method='bilinear', antialias=True)
  return tf.clip_by_value(image / 255.0, 0.0, 1.0)


def decode_image(encoded: tf.Tensor, image_size: int) -> tf.Tensor:
  """'cifar'/'signs' evaluation: `encoded` scalar string, JPEG or PNG bytes; returns float32
  [size, size, 3] in [0, 1]."""
  return resize_to_unit_range(decode_rgb(encoded), [image_size, image_size])


def shorter_side_centre_crop(encoded: tf.Tensor, image_size: int) -> tf.Tensor:
  """'imagenet' evaluation: `encoded` scalar string, JPEG or PNG bytes; returns float32
  [size, size, 3] in [0, 1]: the shorter side resized to round(size / EVAL_CROP_FRACTION),
  then the central size x size crop (offsets rounded down)."""
  image = decode_rgb(encoded)
  shape = tf.cast(tf.shape(image)[:2], tf.float32)
  scale = round(image_size / EVAL_CROP_FRACTION) / tf.reduce_min(shape)
  resized_shape = tf.maximum(tf.cast(tf.round(shape * scale), tf.int32), image_size)
  offset = (resized_shape - image_size) // 2
  return tf.slice(resize_to_unit_range(image, resized_shape),
                  tf.concat([offset, [0]], 0), [image_size, image_size, 3])


_EVAL_PREPROCESSING = {'cifar': decode_image, 'signs': decode_image,
                       'imagenet': shorter_side_centre_crop}
RECIPES = tuple(sorted(_EVAL_PREPROCESSING))  # ('cifar', 'imagenet', 'signs')


def eval_image(encoded: tf.Tensor, image_size: int, recipe: str) -> tf.Tensor:
  """`encoded`: scalar string, JPEG or PNG bytes; returns float32 [size, size, 3] in [0, 1]."""
  if recipe not in _EVAL_PREPROCESSING:
    raise ValueError(f'Unknown recipe {recipe!r}; expected one of {RECIPES}')
  return _EVAL_PREPROCESSING[recipe](encoded, image_size)


def eval_images(encoded: tf.Tensor, image_size: int, recipe: str) -> tf.Tensor:
  """`encoded`: string [batch]; returns float32 [batch, size, size, 3] in [0, 1]."""
  return tf.map_fn(
      lambda x: eval_image(x, image_size, recipe), encoded,
      fn_output_signature=tf.TensorSpec([image_size, image_size, 3], tf.float32))


def normalize(pixels: tf.Tensor, mean, std) -> tf.Tensor:
  """`pixels`: float32 [..., 3] in [0, 1]; `mean`, `std`: per-channel [3]."""
  return (pixels - tf.constant(mean, tf.float32)) / tf.constant(std, tf.float32)
