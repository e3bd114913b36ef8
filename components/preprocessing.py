"""The one decode/resize/normalise path shared by Transform, training and serving.

Anything that turns image bytes into model input goes through here, so the statistics
Transform computes, the pixels the Trainer trains on and the pixels a served model sees
cannot drift apart (no training/serving skew).
"""
import tensorflow as tf


def decode_image(encoded: tf.Tensor, image_size: int) -> tf.Tensor:
  """`encoded`: scalar string, JPEG or PNG bytes; returns float32 [size, size, 3] in [0, 1]."""
  image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
  image = tf.image.resize(image, [image_size, image_size], method='bilinear', antialias=True)
  return tf.clip_by_value(image / 255.0, 0.0, 1.0)


def decode_images(encoded: tf.Tensor, image_size: int) -> tf.Tensor:
  """`encoded`: string [batch]; returns float32 [batch, size, size, 3] in [0, 1]."""
  return tf.map_fn(
      lambda x: decode_image(x, image_size), encoded,
      fn_output_signature=tf.TensorSpec([image_size, image_size, 3], tf.float32))


def normalize(pixels: tf.Tensor, mean, std) -> tf.Tensor:
  """`pixels`: float32 [..., 3] in [0, 1]; `mean`, `std`: per-channel [3]."""
  return (pixels - tf.constant(mean, tf.float32)) / tf.constant(std, tf.float32)
