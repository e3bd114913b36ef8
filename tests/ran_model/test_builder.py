"""Tests for ran_model/builder.py: keyword contract, shapes, training, saving, precision."""
import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

import ran_model
from ran_model import builder
from ran_model import layers as ran_layers

# Small widths keep these fast; none of the facts below depends on width.
TINY = 1 / 16


def _images(batch, height, width, seed=0):
  return np.random.default_rng(seed).random((batch, height, width, 3), dtype=np.float32)


@pytest.fixture(scope='module')
def tiny_cifar():
  return ran_model.build_model(
      'attention_56_cifar', input_shape=(32, 32, 3), classes=14, width_multiplier=0.25)


@pytest.mark.parametrize('name', ['attention_56_cifar', 'attention_92_cifar'])
def test_cifar_model_gives_class_probabilities(name):
  model = ran_model.build_model(
      name, input_shape=(32, 32, 3), classes=14, width_multiplier=0.25)
  probs = model(_images(3, 32, 32), training=False).numpy()
  assert model.name == name
  assert probs.shape == (3, 14)
  np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
  assert model.get_layer('stage3_attn1_mask').output.shape[1:3] == (8, 8)


def test_layer_addresses_of_attention_92():
  model = ran_model.build_model('attention_92', input_shape=(64, 64, 3), width_multiplier=TINY)
  names = [l.name for l in model.layers]
  assert len(names) == len(set(names)) == 632
  masks = [l.name for l in model.layers if isinstance(l, ran_layers.AttentionActivation)]
  assert masks == ['stage1_attn1_mask', 'stage2_attn1_mask', 'stage2_attn2_mask',
                   'stage3_attn1_mask', 'stage3_attn2_mask', 'stage3_attn3_mask']
  assert names[:5] == ['images', 'stem_conv', 'stem_bn', 'stem_relu', 'stem_pool']
  assert names[-5:] == ['final_bn', 'final_relu', 'avg_pool', 'logits', 'predictions']
  for address in ['stage1_res1_0_conv', 'stage2_attn2_pre1_out', 'stage2_attn2_trunk_res2_out',
                  'stage2_attn1_mask_down2_pool', 'stage2_attn1_mask_skip1_out',
                  'stage2_attn1_mask_up1_add', 'stage2_attn1_attended', 'stage2_attn1_out',
                  'stage3_attn3_post1_out', 'stage4_res3_out']:
    assert address in names


def test_layer_addresses_of_attention_next_56():
  model = ran_model.build_model('attention_next_56', input_shape=(64, 64, 3),
                                width_multiplier=TINY)
  names = [l.name for l in model.layers]
  assert len(names) == len(set(names)) == 382  # the prototxt's 381 layers plus the input
  assert names[:5] == ['images', 'stem_conv', 'stem_bn', 'stem_relu', 'stem_pool']
  # Post-activation units end in a ReLU: no pre-activation, no BN-ReLU before the pool.
  assert names[-4:] == ['stage4_res3_out', 'avg_pool', 'logits', 'predictions']
  assert not [n for n in names if 'preact' in n or n.startswith('final_')]
  stage1_inputs = {l.name: l.input.node.layer.name for l in model.layers
                   if l.name in ('stage1_res1_0_conv', 'stage1_res1_1_conv')}
  assert stage1_inputs == {'stage1_res1_0_conv': 'stem_pool', 'stage1_res1_1_conv': 'stem_pool'}
  for address in ['stage1_res1_0_bn', 'stage2_attn1_trunk_res2_3_bn',
                  'stage2_attn1_trunk_res2_add', 'stage2_attn1_mask_skip1_out',
                  'stage3_attn1_mask_head_1_bn', 'stage3_attn1_mask', 'stage3_attn1_out',
                  'stage4_res1_0_bn']:
    assert address in names


@pytest.mark.parametrize('input_shape, batch_shape', [
    ((320, 320, 3), (1, 320, 320, 3)),
    ((257, 193, 3), (1, 257, 193, 3)),
    ((None, None, 3), (2, 96, 72, 3)),
])
def test_imagenet_layout_runs_at_any_size(input_shape, batch_shape):
  model = ran_model.build_model(
      'attention_56', input_shape=input_shape, classes=5, width_multiplier=TINY)
  x = _images(*batch_shape)
  assert model(x, training=False).shape == (batch_shape[0], 5)
  probe = keras.Model(model.input, [model.get_layer(f'stage{s}_attn1_{part}').output
                                   for s in (1, 2, 3) for part in ('mask', 'out')])
  outputs = probe(x, training=False)
  height, width = batch_shape[1:3]
  for stage in (1, 2, 3):
    mask, out = outputs[2 * stage - 2:2 * stage]
    assert mask.shape == out.shape
    # 'same' padding: every stride-2 step rounds up.
    assert mask.shape[1:3] == (-(-height // 2 ** (stage + 1)), -(-width // 2 ** (stage + 1)))


@pytest.mark.parametrize('pooling, shape', [(None, [None, 2, 2, 128]),
                                            ('avg', [None, 128]), ('max', [None, 128])])
def test_headless_pooling(pooling, shape):
  model = ran_model.build_model('attention_56', include_top=False, pooling=pooling,
                                input_shape=(64, 64, 3), width_multiplier=TINY)
  assert model.output.shape.as_list() == shape


def test_resnext_width_multiplier_scales_cardinality():
  spec = builder.scale_widths(ran_model.VARIANTS['attention_next_56'], 0.25)
  assert spec.cardinality == 8 and spec.widths == (32, 64, 128, 256)
  assert spec.channels == (64, 128, 256, 512) and spec.stem_channels == 16
  model = ran_model.build_model('attention_next_56', input_shape=(64, 64, 3), classes=3,
                                width_multiplier=TINY)
  assert model.get_layer('stage4_res1_2_conv').groups == 2
  assert model(_images(1, 64, 64), training=False).shape == (1, 3)


@pytest.mark.parametrize('kwargs, message', [
    (dict(classes=0), 'Received classes=0'),
    (dict(include_top=False, pooling='sum'), "Received pooling='sum'"),
    (dict(attention_type='soft'), "Received attention_type='soft'"),
    (dict(width_multiplier=0), 'Received width_multiplier=0'),
    (dict(input_shape=(32, 32, 3)), r'Received input_shape=\(32, 32, 3\)'),
    (dict(input_shape=(64, 3)), r'Received input_shape=\(64, 3\)'),
    (dict(weights='/no/such/file.h5'), "Received weights='/no/such/file.h5'"),
])
def test_bad_arguments_are_refused_with_their_value(kwargs, message):
  with pytest.raises(ValueError, match=message):
    ran_model.build_model('attention_56', **kwargs)


def test_keyword_only_after_spec():
  with pytest.raises(TypeError):
    ran_model.build_ran(ran_model.VARIANTS['attention_56'], False)  # noqa: positional bool


def test_input_tensor_becomes_the_model_input():
  images = keras.Input((40, 40, 3), name='camera')
  model = ran_model.build_model('attention_56_cifar', input_tensor=images, classes=2,
                                width_multiplier=0.25)
  assert model.input is images and model.output.shape.as_list() == [None, 2]


def test_gradients_reach_the_stem(tiny_cifar):
  x = _images(2, 32, 32)
  with tf.GradientTape() as tape:
    loss = keras.losses.sparse_categorical_crossentropy([0, 3], tiny_cifar(x, training=True))
  stem = tiny_cifar.get_layer('stem_conv').kernel
  gradient = tape.gradient(loss, stem)
  assert gradient is not None and np.abs(gradient.numpy()).max() > 0


def test_batch_norm_differs_between_training_and_inference(tiny_cifar):
  x = _images(4, 32, 32)
  train_out = tiny_cifar(x, training=True).numpy()
  infer_out = tiny_cifar(x, training=False).numpy()
  assert np.abs(train_out - infer_out).max() > 1e-4


def test_saved_model_and_weights_round_trip(tiny_cifar, tmp_path):
  x = _images(2, 32, 32)
  expected = tiny_cifar(x, training=False).numpy()
  # save_traces=False rebuilds layers from their configs (a traced save of this model takes
  # ~45 s on 2 CPU cores); exporting serving signatures is the Trainer's job.
  tiny_cifar.save(tmp_path / 'saved_model', save_format='tf', save_traces=False)
  reloaded = keras.models.load_model(tmp_path / 'saved_model')
  np.testing.assert_array_equal(reloaded(x, training=False).numpy(), expected)
  weights_file = str(tmp_path / 'ran.weights.h5')
  tiny_cifar.save_weights(weights_file)
  rebuilt = ran_model.build_model('attention_56_cifar', classes=14, width_multiplier=0.25,
                                  weights=weights_file)
  np.testing.assert_array_equal(rebuilt(x, training=False).numpy(), expected)


@pytest.mark.parametrize('policy, compute_dtype', [('mixed_float16', tf.float16),
                                                   ('mixed_bfloat16', tf.bfloat16)])
def test_mixed_precision_gives_float32_outputs(policy, compute_dtype):
  keras.mixed_precision.set_global_policy(policy)
  try:
    model = ran_model.build_model('attention_56', input_shape=(64, 64, 3), classes=4,
                                  width_multiplier=TINY)
    probe = keras.Model(model.input, [model.output, model.get_layer('stage1_attn1_mask').output])
    probs, mask = probe(_images(2, 64, 64), training=False)
  finally:
    keras.mixed_precision.set_global_policy('float32')
  assert probs.dtype == tf.float32 and mask.dtype == compute_dtype
  assert np.isfinite(probs.numpy()).all()
  np.testing.assert_allclose(probs.numpy().sum(axis=1), 1.0, rtol=1e-5)


def test_jit_compiled_call_matches_eager(tiny_cifar):
  x = tf.constant(_images(2, 32, 32))
  jit_call = tf.function(lambda images: tiny_cifar(images, training=False), jit_compile=True)
  np.testing.assert_allclose(jit_call(x).numpy(), tiny_cifar(x, training=False).numpy(),
                             rtol=1e-4, atol=1e-6)
