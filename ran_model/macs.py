"""Multiply-add count of a built Keras model: Conv2D and Dense layers only."""
import math

import tf_keras as keras


def _layer_macs(layer) -> int:
  """Multiply-adds of one layer for one example; 0 for layers that are not Conv2D/Dense."""
  if isinstance(layer, keras.Model):
    return sum(_layer_macs(inner) for inner in layer.layers)
  if not isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
    return 0
  if isinstance(layer, keras.layers.Conv2DTranspose):
    raise ValueError(f'count_macs does not count transposed convolutions. '
                     f'Received layer {layer.name!r}')
  positions = layer.output.shape[1:-1]  # output pixels (Conv2D) or leading dims (Dense)
  if not positions.is_fully_defined():
    raise ValueError('count_macs needs a model built for a fixed input size. Received '
                     f'layer {layer.name!r} with output shape {layer.output.shape}')
  # A Conv2D kernel is [kh, kw, in_channels / groups, out_channels]; a Dense one [in, out].
  return math.prod(positions) * math.prod(layer.kernel.shape)


def count_macs(model: keras.Model) -> int:
  """Multiply-adds of one forward pass of one example at the model's built input size.

  Counts the weights of every Conv2D (grouped and strided included: kernel size times
  output pixels) and Dense layer; biases, BatchNorm, pooling, activations, resizing and
  element-wise ops count 0. Raises ValueError if a spatial size is unknown (None).
  """
  return sum(_layer_macs(layer) for layer in model.layers)
