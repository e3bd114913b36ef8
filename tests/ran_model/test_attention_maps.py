"""Tests for ran_model/attention_maps.py: the soft masks, read over the model's own layers."""
import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

import ran_model
from ran_model import attention_maps

TINY = 1 / 16  # widths do not change which masks exist or their resolutions


def _images(batch, size, seed=0):
  return np.random.default_rng(seed).random((batch, size, size, 3), dtype=np.float32)


@pytest.fixture(name='cifar_model', scope='module')
def fixture_cifar_model():
  return ran_model.build_model(
      'attention_56_cifar', input_shape=(32, 32, 3), classes=5, width_multiplier=0.125)


@pytest.mark.parametrize('name, size, expected', [
    ('attention_56', 224, [(1, 1, (56, 56)), (2, 1, (28, 28)), (3, 1, (14, 14))]),
    ('attention_92', 224, [(1, 1, (56, 56)), (2, 1, (28, 28)), (2, 2, (28, 28)),
                           (3, 1, (14, 14)), (3, 2, (14, 14)), (3, 3, (14, 14))]),
    ('attention_next_56', 64, [(1, 1, (16, 16)), (2, 1, (8, 8)), (3, 1, (4, 4))]),
    ('attention_92_cifar', 32, [(1, 1, (32, 32)), (1, 2, (32, 32)), (2, 1, (16, 16)),
                                (2, 2, (16, 16)), (3, 1, (8, 8)), (3, 2, (8, 8))]),
])
def test_one_map_per_module_at_its_resolution(name, size, expected):
  model = ran_model.build_model(name, input_shape=(size, size, 3), classes=3,
                                width_multiplier=TINY)
  assert [(m.stage, m.module) for m in ran_model.attention_mask_layers(model)] == [
      (s, k) for s, k, _ in expected]
  _, maps = ran_model.compute_attention_maps(model, _images(2, size))
  assert [(m.stage, m.module, m.resolution) for m in maps] == expected
  assert [m.address for m in maps] == [f'stage{s}_attn{k}' for s, k, _ in expected]
  for m in maps:
    assert m.values.shape == (2, *m.resolution) and m.values.dtype == np.float32


def test_mask_layers_are_parsed_from_names_and_sorted():
  inputs = keras.Input((4, 4, 2))
  x = inputs
  for name in ['stage3_attn1_mask', 'stage1_attn2_mask', 'stage1_attn2_mask_down1_pool',
               'stage1_attn10_mask', 'stage12_attn1_trunk_res1']:
    x = keras.layers.Activation('linear', name=name)(x)
  found = ran_model.attention_mask_layers(keras.Model(inputs, x))
  assert [(m.stage, m.module, m.name) for m in found] == [
      (1, 2, 'stage1_attn2_mask'), (1, 10, 'stage1_attn10_mask'), (3, 1, 'stage3_attn1_mask')]
  assert attention_maps.parse_module_address('stage1_attn10') == (1, 10)
  assert attention_maps.parse_module_address('stage1_attn1_mask') is None
  assert attention_maps.parse_module_address('probabilities') is None


def test_a_model_without_attention_modules_is_refused():
  inputs = keras.Input((4, 4, 3))
  model = keras.Model(inputs, keras.layers.Dense(2)(inputs), name='plain')
  assert ran_model.attention_mask_layers(model) == ()
  with pytest.raises(ValueError, match="'plain' has no attention mask layers"):
    ran_model.AttentionMapModel(model)


def test_output_equals_the_model_and_maps_are_channel_means(cifar_model):
  images = _images(3, 32)
  output, maps = ran_model.compute_attention_maps(cifar_model, images)
  np.testing.assert_array_equal(output, cifar_model(images, training=False).numpy())
  masks = keras.Model(cifar_model.inputs, [
      cifar_model.get_layer(f'stage{s}_attn1_mask').output for s in (1, 2, 3)])(images)
  for m, mask in zip(maps, masks):
    np.testing.assert_allclose(m.values, mask.numpy().mean(axis=-1), rtol=1e-6)
    assert 0.0 <= m.values.min() < m.values.max() <= 1.0  # sigmoid masks ('mixed')


def test_no_weight_copy_variables_are_the_models_own(cifar_model):
  mapper = ran_model.AttentionMapModel(cifar_model)
  assert len(mapper.keras_model.variables) == len(cifar_model.variables)
  assert {id(v) for v in mapper.keras_model.variables} == {
      id(v) for v in cifar_model.variables}
  images = _images(1, 32)
  before = mapper(images)[1]['stage1_attn1'].numpy()
  kernel = cifar_model.get_layer('stage1_attn1_mask_head_2_conv').kernel
  original = kernel.numpy()
  try:
    kernel.assign(original * 3.0)  # changing the model's weight changes the mapper's mask
    after = mapper(images)[1]['stage1_attn1'].numpy()
  finally:
    kernel.assign(original)
  assert np.abs(after - before).max() > 1e-3
  np.testing.assert_array_equal(mapper(images)[1]['stage1_attn1'].numpy(), before)


def test_each_image_gets_its_own_maps(cifar_model):
  images = _images(2, 32)
  _, together = ran_model.compute_attention_maps(cifar_model, images)
  for i in range(2):
    _, alone = ran_model.compute_attention_maps(cifar_model, images[i:i + 1])
    for m, single in zip(together, alone):
      np.testing.assert_allclose(m.values[i], single.values[0], atol=1e-6)
  assert np.abs(together[0].values[0] - together[0].values[1]).max() > 1e-4


@pytest.mark.parametrize('attention_type', ['spatial', 'channel'])
def test_value_range_of_each_attention_type(attention_type):
  # Relies on the seed tests/conftest.py sets before each test: at this width bottleneck
  # units have one channel, and about one initialisation in 20 has one such ReLU dead for
  # every input; every later mask is then constant (0.5 for spatial attention). Seed 6 is one.
  model = ran_model.build_model('attention_56_cifar', input_shape=(32, 32, 3), classes=3,
                                width_multiplier=TINY, attention_type=attention_type)
  mapper = ran_model.AttentionMapModel(model)
  channels = {layer.address: model.get_layer(layer.name).output.shape[-1]
              for layer in mapper.mask_layers}
  _, maps = mapper(_images(2, 32))
  for address, values in maps.items():
    values = values.numpy()
    if attention_type == 'spatial':  # sigmoid of standardised channels
      assert 0.0 < values.min() < values.max() < 1.0
    else:  # mean of a unit-norm C-vector: |mean| <= 1/sqrt(C) (Cauchy-Schwarz)
      assert np.abs(values).max() <= 1 / np.sqrt(channels[address]) + 1e-6


def test_maps_are_float32_under_mixed_precision():
  keras.mixed_precision.set_global_policy('mixed_float16')
  try:
    model = ran_model.build_model('attention_56_cifar', input_shape=(32, 32, 3), classes=3,
                                  width_multiplier=TINY)
  finally:
    keras.mixed_precision.set_global_policy('float32')
  output, maps = ran_model.AttentionMapModel(model)(_images(1, 32))
  assert output.dtype == tf.float32
  assert all(values.dtype == tf.float32 for values in maps.values())

