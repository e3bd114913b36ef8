"""Tests for ran_model/blocks.py: unit wiring, the mask branch layout, ARL/NAL identities."""
import numpy as np
import pytest
import tf_keras as keras

import ran_model
from ran_model import blocks


def _unit_model(input_shape, *, width, groups=1, preact=True, **kwargs):
  inputs = keras.Input(input_shape)
  unit = blocks.Bottleneck(width=width, groups=groups, preact=preact)
  return keras.Model(inputs, unit(inputs, name='u', **kwargs))


def _source(model, layer_name, position=None):
  """Name of the layer feeding `layer_name` (its `position`-th input for merge layers)."""
  node_input = model.get_layer(layer_name).input
  tensor = node_input if position is None else node_input[position]
  return tensor.node.layer.name


def test_projection_unit_strides_on_3x3_and_reads_preactivated_input():
  model = _unit_model((8, 8, 16), width=4, channels=32, stride=2)
  assert model.output.shape.as_list() == [None, 4, 4, 32]
  convs = {l.name: l for l in model.layers if isinstance(l, keras.layers.Conv2D)}
  assert sorted(convs) == ['u_0_conv', 'u_1_conv', 'u_2_conv', 'u_3_conv']
  assert [convs[n].strides for n in sorted(convs)] == [(2, 2), (1, 1), (2, 2), (1, 1)]
  assert [convs[n].kernel_size for n in sorted(convs)] == [(1, 1), (1, 1), (3, 3), (1, 1)]
  assert not any(c.use_bias for c in convs.values())
  assert _source(model, 'u_0_conv') == _source(model, 'u_1_conv') == 'u_preact_relu'
  assert _source(model, 'u_preact_bn').startswith('input')


def test_identity_unit_adds_the_raw_input():
  model = _unit_model((8, 8, 16), width=4)
  assert model.output.shape.as_list() == [None, 8, 8, 16]
  assert 'u_0_conv' not in [l.name for l in model.layers]
  assert _source(model, 'u_out', 0).startswith('input')
  assert _source(model, 'u_out', 1) == 'u_3_conv'


def test_resnext_unit_groups_its_3x3():
  model = _unit_model((4, 4, 64), width=64, groups=32, preact=False)
  conv = model.get_layer('u_2_conv')
  assert conv.groups == 32 and conv.kernel.shape == (3, 3, 2, 64)


def test_post_activation_projection_unit_normalises_both_branches_then_relu():
  model = _unit_model((8, 8, 16), width=8, groups=4, preact=False, channels=32, stride=2)
  assert model.output.shape.as_list() == [None, 4, 4, 32]
  assert [l.name for l in model.layers[1:]] == [
      'u_1_conv', 'u_1_bn', 'u_1_relu', 'u_2_conv', 'u_2_bn', 'u_2_relu', 'u_0_conv',
      'u_3_conv', 'u_0_bn', 'u_3_bn', 'u_add', 'u_out']
  assert model.get_layer('u_2_conv').strides == model.get_layer('u_0_conv').strides == (2, 2)
  assert _source(model, 'u_0_conv').startswith('input')
  assert _source(model, 'u_1_conv').startswith('input')
  assert {_source(model, 'u_add', 0), _source(model, 'u_add', 1)} == {'u_0_bn', 'u_3_bn'}
  assert isinstance(model.get_layer('u_out'), keras.layers.ReLU)
  assert _source(model, 'u_out') == 'u_add'


def test_post_activation_identity_unit_adds_the_input_before_its_relu():
  model = _unit_model((8, 8, 16), width=8, preact=False)
  assert 'u_0_conv' not in [l.name for l in model.layers]
  assert _source(model, 'u_add', 0).startswith('input')
  assert _source(model, 'u_add', 1) == 'u_3_bn'
  x = np.random.default_rng(0).normal(size=(2, 8, 8, 16)).astype(np.float32)
  assert model(x, training=False).numpy().min() == 0.  # ReLU output


def _module_model(input_shape, *, residual_attention=True, attention_type='mixed', levels=2,
                  preact=True):
  inputs = keras.Input(input_shape)
  outputs = blocks.attention_module(
      inputs, blocks.Bottleneck(width=4, preact=preact), pre_post_units=1, trunk_units=2,
      mask_levels=levels, mask_units_per_level=1, attention_type=attention_type,
      residual_attention=residual_attention, name='m')
  model = keras.Model(inputs, outputs)
  probes = ['m_trunk_res2_out', 'm_mask', 'm_out']
  return model, keras.Model(inputs, [model.get_layer(n).output for n in probes])


@pytest.mark.parametrize('residual_attention, preact', [(True, True), (False, True),
                                                        (True, False)])
def test_module_output_is_mask_times_trunk(residual_attention, preact):
  _, probe = _module_model((12, 10, 16), residual_attention=residual_attention, preact=preact)
  x = np.random.default_rng(0).normal(size=(2, 12, 10, 16)).astype(np.float32)
  trunk, mask, out = (t.numpy() for t in probe(x, training=False))
  assert trunk.shape == mask.shape == out.shape == (2, 12, 10, 16)
  assert 0. <= mask.min() and mask.max() <= 1.
  expected = (1. + mask) * trunk if residual_attention else mask * trunk
  np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_mask_branch_layout_with_two_levels():
  model, _ = _module_model((16, 16, 16), levels=2)
  names = {l.name for l in model.layers if l.name.startswith('m_mask')}
  units = {n[:-len('_out')] for n in names if n.endswith('_out')}
  assert units == {'m_mask_down1_res1', 'm_mask_skip1', 'm_mask_down2_res1',
                   'm_mask_up1_res1', 'm_mask_up2_res1'}
  inside_units = tuple(f'{u}_' for u in units) + ('m_mask_head_',)
  assert {n for n in names if not n.startswith(inside_units)} == {
      'm_mask', 'm_mask_down1_pool', 'm_mask_down2_pool', 'm_mask_up1_resize',
      'm_mask_up1_add', 'm_mask_up2_resize'}
  # The skip is added right after the first upsample, which resizes to the skip's size.
  assert _source(model, 'm_mask_up1_add', 1) == 'm_mask_skip1_out'
  assert _source(model, 'm_mask_up1_resize', 1) == 'm_mask_skip1_out'
  assert _source(model, 'm_mask_up2_resize', 1) == 'm_pre1_out'
  assert _source(model, 'm_mask_down1_pool') == 'm_pre1_out'


@pytest.fixture(scope='module')
def tiny_attention_56():
  return ran_model.build_model('attention_56', input_shape=(64, 64, 3),
                               width_multiplier=1 / 16)


@pytest.mark.parametrize('stage, pools, skips', [(1, 3, 2), (2, 2, 1), (3, 1, 0)])
def test_mask_pooling_levels_per_stage(tiny_attention_56, stage, pools, skips):
  names = [l.name for l in tiny_attention_56.layers]
  prefix = f'stage{stage}_attn1_mask_'
  mask_pools = [l for l in tiny_attention_56.layers
                if l.name.startswith(prefix) and isinstance(l, keras.layers.MaxPool2D)]
  assert len(mask_pools) == pools
  assert all(l.pool_size == (3, 3) and l.strides == (2, 2) for l in mask_pools)
  assert len([n for n in names if n.startswith(prefix + 'skip') and n.endswith('_out')]) == skips
  # Units below the last pool: r down + r up = 2; one unit per other level each way.
  assert len([n for n in names if n.startswith(prefix) and n.endswith('_out')]) == (
      2 * pools + skips)


def test_stage_c_mask_pins_its_layer_names(tiny_attention_56):
  names = sorted(l.name for l in tiny_attention_56.layers
                 if l.name.startswith('stage3_attn1_mask'))
  unit_layers = ['preact_bn', 'preact_relu', '1_conv', '1_bn', '1_relu', '2_conv', '2_bn',
                 '2_relu', '3_conv', 'out']
  expected = (
      ['stage3_attn1_mask', 'stage3_attn1_mask_down1_pool', 'stage3_attn1_mask_up1_resize']
      + [f'stage3_attn1_mask_{u}_{l}' for u in ('down1_res1', 'up1_res1') for l in unit_layers]
      + [f'stage3_attn1_mask_head_{k}_{l}' for k in (1, 2) for l in ('bn', 'relu', 'conv')])
  assert names == sorted(expected)


def test_post_activation_mask_head_is_conv_bn_relu_conv_sigmoid():
  model, _ = _module_model((8, 8, 16), levels=1, preact=False)
  head = [l.name for l in model.layers if l.name.startswith('m_mask_head_')]
  assert head == ['m_mask_head_1_conv', 'm_mask_head_1_bn', 'm_mask_head_1_relu',
                  'm_mask_head_2_conv']
  assert _source(model, 'm_mask_head_1_conv') == 'm_mask_up1_resize'
  assert _source(model, 'm_mask') == 'm_mask_head_2_conv'
