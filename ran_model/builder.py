"""`build_ran`: one builder for every `Spec`, with the keras.applications keyword contract.

Layer addresses: `stem_conv`, `stem_bn`, `stem_relu`, `stem_pool` (ImageNet layout; the
CIFAR stem is `stem_conv` only); `stage{S}_res1` (first unit of stage S = 1..3),
`stage{S}_attn{K}_*` (module K of stage S, see `blocks.attention_module`; its soft mask is the
output of the layer `stage{S}_attn{K}_mask`), `stage4_res{i}`, `final_bn`, `final_relu`
(pre-activation specs only), then `avg_pool`/`max_pool`, `logits` (Dense) and `predictions`
(float32 activation).

The "BN -> ReLU" after the ImageNet stem's max-pool in Attention-56/92 is the pre-activation
of `stage1_res1` (`stage1_res1_preact_bn`), whose projection shortcut reads it, as in the
authors' network definition; it is not repeated. AttentionNeXt (post-activation) has none
there: the pool feeds `stage1_res1`'s convs and shortcut, and every unit ends in a ReLU, so
no BN-ReLU follows the last unit either.
"""
import dataclasses
import numbers
import os

import tensorflow as tf
import tf_keras as keras

from ran_model import attention_maps
from ran_model import blocks
from ran_model import layers as ran_layers
from ran_model.variants import Spec

POOLINGS = (None, 'avg', 'max')


def scale_widths(spec: Spec, width_multiplier: float) -> Spec:
  """Returns `spec` with stem, bottleneck and output channels scaled by `width_multiplier`.

  Channels become `max(1, round(c * width_multiplier))`. For ResNeXt specs the cardinality
  is scaled the same way and the per-group width kept, so every width stays divisible by
  the cardinality (multiplier 0.25: 32x4d becomes 8x4d).
  """
  if width_multiplier == 1:
    return spec
  scale = lambda c: max(1, round(c * width_multiplier))
  if spec.cardinality > 1:
    cardinality = scale(spec.cardinality)
    widths = tuple(cardinality * (w // spec.cardinality) for w in spec.widths)
  else:
    cardinality = 1
    widths = tuple(scale(w) for w in spec.widths)
  return dataclasses.replace(
      spec, stem_channels=scale(spec.stem_channels), widths=widths,
      channels=tuple(scale(c) for c in spec.channels), cardinality=cardinality)


def _weights_exist(path):
  """True for an HDF5/.weights.h5 file or a TensorFlow checkpoint prefix."""
  return tf.io.gfile.exists(path) or tf.io.gfile.exists(path + '.index')


def _validate(spec, *, include_top, weights, input_shape, pooling, classes,
              attention_type, width_multiplier):
  if weights is not None and not _weights_exist(os.fspath(weights)):
    raise ValueError('weights must be None or the path of a saved weights file. '
                     f'Received weights={weights!r}')
  if include_top and (isinstance(classes, bool) or not isinstance(classes, numbers.Integral)
                      or classes < 1):
    raise ValueError(f'classes must be a positive int. Received classes={classes!r}')
  if not include_top and pooling not in POOLINGS:
    raise ValueError(f'pooling must be one of {POOLINGS}. Received pooling={pooling!r}')
  if attention_type not in ran_layers.ATTENTION_TYPES:
    raise ValueError(f'attention_type must be one of {ran_layers.ATTENTION_TYPES}. '
                     f'Received attention_type={attention_type!r}')
  if not width_multiplier > 0:
    raise ValueError('width_multiplier must be > 0. '
                     f'Received width_multiplier={width_multiplier!r}')
  if len(input_shape) != 3:
    raise ValueError('input_shape must be (height, width, channels). '
                     f'Received input_shape={input_shape!r}')
  if any(d is not None and d < spec.min_input_size for d in input_shape[:2]):
    raise ValueError(f'input height and width must be >= {spec.min_input_size} for the '
                     f'{spec.layout} layout. Received input_shape={input_shape!r}')


def _model_input(input_tensor, input_shape):
  """Returns `(inputs to the Model, image tensor [b, h, w, c])`."""
  if input_tensor is None:
    image = keras.Input(shape=input_shape, name='images')
    return image, image
  if keras.backend.is_keras_tensor(input_tensor):
    return keras.utils.get_source_inputs(input_tensor), input_tensor
  image = keras.Input(tensor=input_tensor, name='images')
  return image, image


def _stem(x, spec):
  x = keras.layers.Conv2D(
      spec.stem_channels, 7 if spec.layout == 'imagenet' else 3,
      strides=2 if spec.layout == 'imagenet' else 1, padding='same', use_bias=False,
      kernel_initializer='he_normal', name='stem_conv')(x)
  if spec.layout == 'imagenet':
    x = keras.layers.BatchNormalization(epsilon=blocks.BN_EPSILON, name='stem_bn')(x)
    x = keras.layers.ReLU(name='stem_relu')(x)
    x = keras.layers.MaxPool2D(3, 2, padding='same', name='stem_pool')(x)
  return x


def _stages(x, spec, *, attention_type, residual_attention):
  """Stages 1-3 (unit + attention modules) and stage 4 (final units), then, for
  pre-activation specs, BN-ReLU."""
  for stage, modules in enumerate(spec.modules, start=1):
    unit = blocks.Bottleneck(
        width=spec.widths[stage - 1], groups=spec.cardinality, preact=spec.preact)
    x = unit(x, channels=spec.channels[stage - 1], stride=spec.strides[stage - 1],
             name=f'stage{stage}_res1')
    for k in range(1, modules + 1):
      x = blocks.attention_module(
          x, unit, pre_post_units=spec.pre_post_units, trunk_units=spec.trunk_units,
          mask_levels=spec.mask_levels[stage - 1], mask_units_per_level=spec.mask_units,
          attention_type=attention_type, residual_attention=residual_attention,
          name=attention_maps.module_address(stage, k))
  unit = blocks.Bottleneck(width=spec.widths[3], groups=spec.cardinality, preact=spec.preact)
  for i in range(1, spec.final_units + 1):
    x = unit(x, channels=spec.channels[3], stride=spec.strides[3] if i == 1 else 1,
             name=f'stage4_res{i}')
  if not spec.preact:
    return x
  x = keras.layers.BatchNormalization(epsilon=blocks.BN_EPSILON, name='final_bn')(x)
  return keras.layers.ReLU(name='final_relu')(x)


def build_ran(spec: Spec, *, include_top=True, weights=None, input_tensor=None,
              input_shape=None, pooling=None, classes=1000,
              classifier_activation='softmax', attention_type='mixed',
              residual_attention=True, width_multiplier=1.0, name=None):
  """Builds an uncompiled Residual Attention Network `keras.Model`.

  Input: float images `[batch, height, width, channels]` (default size from `spec`;
  `None` spatial dims allowed). Output with `include_top`: float32 `[batch, classes]`
  after `classifier_activation` (None gives logits); else the final feature map
  `[batch, h/32, w/32, C]` (ImageNet layout; h/4 for CIFAR), or `[batch, C]` with
  `pooling='avg'|'max'`.

  attention_type: 'mixed' | 'channel' | 'spatial' (see `layers.AttentionActivation`).
  residual_attention: True for (1 + M) * T (ARL), False for M * T (NAL).
  width_multiplier: scales all channel counts (see `scale_widths`).
  weights: None or the path of a weights file for `Model.load_weights`.
  """
  if not isinstance(spec, Spec):
    raise TypeError(f'spec must be a ran_model Spec. Received spec={spec!r}')
  if input_shape is None:
    input_shape = (tuple(input_tensor.shape[1:]) if input_tensor is not None else
                   (spec.default_input_size, spec.default_input_size, 3))
  _validate(spec, include_top=include_top, weights=weights, input_shape=input_shape,
            pooling=pooling, classes=classes, attention_type=attention_type,
            width_multiplier=width_multiplier)
  spec = scale_widths(spec, width_multiplier)
  inputs, x = _model_input(input_tensor, input_shape)
  x = _stem(x, spec)
  x = _stages(x, spec, attention_type=attention_type, residual_attention=residual_attention)
  if include_top:
    x = keras.layers.GlobalAveragePooling2D(name='avg_pool')(x)
    x = keras.layers.Dense(classes, name='logits')(x)
    x = keras.layers.Activation(
        classifier_activation or 'linear', dtype='float32', name='predictions')(x)
  elif pooling == 'avg':
    x = keras.layers.GlobalAveragePooling2D(name='avg_pool')(x)
  elif pooling == 'max':
    x = keras.layers.GlobalMaxPooling2D(name='max_pool')(x)
  model = keras.Model(inputs, x, name=name or 'residual_attention_network')
  if weights is not None:
    model.load_weights(os.fspath(weights))
  return model
