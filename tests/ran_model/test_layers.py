"""Tests for ran_model/layers.py: the resize and the three attention activations."""
import numpy as np
import pytest
import tensorflow as tf

from ran_model import layers as ran_layers


def test_resize_aligns_corners_to_target_size():
  images = tf.constant([[0., 1.], [2., 3.]])[None, :, :, None]  # [1, 2, 2, 1]
  target = tf.zeros([1, 3, 5, 7])
  resized = ran_layers.ResizeToMatch()([images, target])[0, :, :, 0].numpy()
  assert resized.shape == (3, 5)
  # align_corners=True: corners keep their values, the rest is linear in between.
  np.testing.assert_allclose(resized[:, 0], [0., 1., 2.])
  np.testing.assert_allclose(resized[0], [0., .25, .5, .75, 1.])
  np.testing.assert_allclose(resized[2], [2., 2.25, 2.5, 2.75, 3.])


def test_resize_keeps_half_precision():
  images = tf.random.normal([1, 3, 3, 2], dtype=tf.float16)
  resized = ran_layers.ResizeToMatch(dtype='mixed_float16')([images, tf.zeros([1, 5, 5, 1])])
  assert resized.dtype == tf.float16 and resized.shape == (1, 5, 5, 2)


def _activation(attention_type, x):
  return ran_layers.AttentionActivation(attention_type)(x).numpy()


def test_mixed_is_sigmoid():
  x = tf.random.normal([2, 4, 4, 8], stddev=5.)
  mask = _activation('mixed', x)
  np.testing.assert_allclose(mask, 1 / (1 + np.exp(-x.numpy())), rtol=1e-5)
  assert mask.min() >= 0. and mask.max() <= 1.


def test_channel_has_unit_l2_norm_at_each_position():
  x = tf.random.normal([2, 4, 4, 8])
  np.testing.assert_allclose(
      np.linalg.norm(_activation('channel', x), axis=-1), 1., rtol=1e-5)


def test_spatial_standardises_over_channels_at_each_position():
  x = tf.random.normal([2, 4, 4, 8], mean=3., stddev=2.).numpy()
  z = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
  np.testing.assert_allclose(_activation('spatial', x), 1 / (1 + np.exp(-z)), rtol=1e-4)


@pytest.mark.parametrize('attention_type, expected', [
    ('mixed', [1., 0.]),
    ('channel', [.125, -.125]),                              # norm 2400 over 64 channels
    ('spatial', [1 / (1 + np.exp(-1)), 1 / (1 + np.exp(1))]),  # std 300 > sqrt(f16 max)
])
def test_half_precision_statistics_do_not_overflow(attention_type, expected):
  x = tf.constant(np.tile([300., -300.], 32), tf.float16)[None, None, None, :]
  mask = ran_layers.AttentionActivation(attention_type, dtype='mixed_float16')(x)
  assert mask.dtype == tf.float16
  np.testing.assert_allclose(mask.numpy()[0, 0, 0, :2], expected, rtol=1e-3, atol=1e-3)


def test_unknown_attention_type_is_refused_with_value():
  with pytest.raises(ValueError, match="attention_type='softmax'"):
    ran_layers.AttentionActivation('softmax')


def test_activation_config_round_trips():
  layer = ran_layers.AttentionActivation('spatial', name='m')
  clone = ran_layers.AttentionActivation.from_config(layer.get_config())
  assert clone.attention_type == 'spatial' and clone.name == 'm'
