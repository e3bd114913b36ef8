"""The two non-stock Keras layers of the Residual Attention Network.

Both are registered as serializable (package `ran_model`), so a saved model reloads without
`custom_objects` once `ran_model` is imported.
"""
import tensorflow as tf
import tf_keras as keras

ATTENTION_TYPES = ('mixed', 'channel', 'spatial')

_NORM_EPSILON = 1e-5


def _at_least_float32(x):
  """Upcasts float16/bfloat16 `x` to float32 so sums and variances cannot overflow."""
  return tf.cast(x, tf.float32) if x.dtype.size < 4 else x


@keras.utils.register_keras_serializable(package='ran_model')
class ResizeToMatch(keras.layers.Layer):
  """Bilinear resize, align_corners=True, of `images` to the dynamic size of `target`.

  Call on `[images, target]`: `images` `[batch, h, w, c]`, `target` `[batch, H, W, any]`;
  returns `[batch, H, W, c]` in the dtype of `images`. Sizes are read at run time, so any
  input size (including `None` spatial dims) works. Only resizes; adds nothing.
  """

  def call(self, inputs):
    images, target = inputs
    resized = tf.raw_ops.ResizeBilinear(
        images=images, size=tf.shape(target)[1:3], align_corners=True)
    resized = tf.cast(resized, images.dtype)  # the op always returns float32
    resized.set_shape(
        images.shape[:1].concatenate(target.shape[1:3]).concatenate(images.shape[3:]))
    return resized

  def compute_output_shape(self, input_shape):
    images_shape, target_shape = (tf.TensorShape(s) for s in input_shape)
    return images_shape[:1].concatenate(target_shape[1:3]).concatenate(images_shape[3:])


@keras.utils.register_keras_serializable(package='ran_model')
class AttentionActivation(keras.layers.Layer):
  """The soft mask's activation, `[batch, h, w, c]` -> same shape and dtype.

  `attention_type`:
    'mixed':   sigmoid, values in [0, 1] (the paper's default).
    'channel': L2 normalisation over channels at each spatial position.
    'spatial': sigmoid((x - mean) / std), mean and std over channels at each position.
  The statistics are computed in float32 under mixed precision.
  """

  def __init__(self, attention_type='mixed', **kwargs):
    super().__init__(**kwargs)
    if attention_type not in ATTENTION_TYPES:
      raise ValueError(f'attention_type must be one of {ATTENTION_TYPES}. '
                       f'Received attention_type={attention_type!r}')
    self.attention_type = attention_type

  def call(self, inputs):
    x = _at_least_float32(inputs)
    if self.attention_type == 'mixed':
      mask = tf.sigmoid(x)
    elif self.attention_type == 'channel':
      mask = tf.math.l2_normalize(x, axis=-1)
    else:
      mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
      mask = tf.sigmoid((x - mean) * tf.math.rsqrt(variance + _NORM_EPSILON))
    return tf.cast(mask, inputs.dtype)

  def get_config(self):
    return {**super().get_config(), 'attention_type': self.attention_type}
