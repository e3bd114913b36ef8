"""Tests for ran_model/macs.py against hand-computed multiply-adds."""
import pytest
import tf_keras as keras

from ran_model import count_macs


def _tiny_network(input_shape=(8, 8, 3)):
  inputs = keras.Input(input_shape)
  x = keras.layers.Conv2D(4, 3, strides=2, padding='same')(inputs)   # -> 4x4x4
  x = keras.layers.Conv2D(8, 3, padding='same', groups=2)(x)         # -> 4x4x8
  x = keras.layers.BatchNormalization()(x)
  x = keras.layers.GlobalAveragePooling2D()(x)
  outputs = keras.layers.Dense(5)(x)
  return keras.Model(inputs, outputs)


def test_counts_strided_grouped_conv_and_dense():
  strided = 4 * 4 * (3 * 3 * 3) * 4        # 16 output pixels x 27 inputs x 4 filters
  grouped = 4 * 4 * (3 * 3 * 4 // 2) * 8   # each filter sees 4 / 2 groups = 2 channels
  dense = 8 * 5
  assert count_macs(_tiny_network()) == strided + grouped + dense == 4072


def test_counts_nested_models():
  inner = _tiny_network()
  inputs = keras.Input((8, 8, 3))
  outer = keras.Model(inputs, keras.layers.Dense(2)(inner(inputs)))
  assert count_macs(outer) == 4072 + 5 * 2


def test_unknown_input_size_is_refused():
  with pytest.raises(ValueError, match='fixed input size'):
    count_macs(_tiny_network((None, None, 3)))
