"""Residual units, the soft mask branch and the attention module (Keras functional API).

Every function takes and returns Keras tensors `[batch, height, width, channels]` (NHWC) and
names each layer it makes `{name}_...`, so a layer's name is its address in the network.
No convolution has a bias. Convolutions and pools use 'same' padding, which gives Caffe's
output sizes (ceil(n / stride)) but pads a stride-2 conv bottom/right only.

A network uses one kind of bottleneck unit throughout (`Bottleneck.preact`). Layer names of
one unit `{name}`, pre-activation (He et al. 2016; Attention-56/92 and the CIFAR variants):
  {name}_preact_bn, _preact_relu   BN-ReLU of the input
  {name}_0_conv                    1x1 projection shortcut of the pre-activated input
                                   (only when the shape changes)
  {name}_1_conv, _1_bn, _1_relu    1x1 to `width`
  {name}_2_conv, _2_bn, _2_relu    3x3 `width` (stride here; grouped if `groups` > 1)
  {name}_3_conv                    1x1 to `channels`
  {name}_out                       shortcut + residual
post-activation (ResNeXt, Xie et al. 2017; the authors' AttentionNeXt-56/92):
  {name}_0_conv, _0_bn             1x1 projection shortcut of the input, then BN
                                   (only when the shape changes)
  {name}_1_conv, _1_bn, _1_relu    1x1 to `width`
  {name}_2_conv, _2_bn, _2_relu    3x3 `width` (stride here; grouped if `groups` > 1)
  {name}_3_conv, _3_bn             1x1 to `channels`, then BN
  {name}_add                       shortcut + residual
  {name}_out                       ReLU of the sum
"""
import dataclasses

import tf_keras as keras

from ran_model import layers as ran_layers

BN_EPSILON = 1e-5


def _bn(x, *, name):
  return keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f'{name}_bn')(x)


def _bn_relu(x, *, name):
  return keras.layers.ReLU(name=f'{name}_relu')(_bn(x, name=name))


def _conv(filters, kernel_size, *, name, strides=1, groups=1):
  return keras.layers.Conv2D(
      filters, kernel_size, strides=strides, padding='same', groups=groups,
      use_bias=False, kernel_initializer='he_normal', name=name)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Bottleneck:
  """The bottleneck residual unit of one stage; call it to add one unit to a network.

  width: channels of the unit's 1x1 and 3x3 convs.
  groups: groups of the 3x3 conv (the ResNeXt cardinality; 1 = plain bottleneck).
  preact: True for pre-activation units, False for post-activation ones (module docstring).
  """
  width: int
  groups: int = 1
  preact: bool = True

  def __call__(self, x, *, name, channels=None, stride=1):
    """`[b, h, w, c]` -> `[b, h/stride, w/stride, channels]`; `channels` defaults to c.

    The shortcut is the input when the shape is kept, else a 1x1 conv with `stride`.
    """
    channels = channels or x.shape[-1]
    projects = stride != 1 or channels != x.shape[-1]
    if self.preact:
      preact = _bn_relu(x, name=f'{name}_preact')
      shortcut = (_conv(channels, 1, strides=stride, name=f'{name}_0_conv')(preact)
                  if projects else x)
      y = self._residual(preact, channels=channels, stride=stride, name=name)
      return keras.layers.Add(name=f'{name}_out')([shortcut, y])
    shortcut = (_bn(_conv(channels, 1, strides=stride, name=f'{name}_0_conv')(x),
                    name=f'{name}_0') if projects else x)
    y = _bn(self._residual(x, channels=channels, stride=stride, name=name), name=f'{name}_3')
    y = keras.layers.Add(name=f'{name}_add')([shortcut, y])
    return keras.layers.ReLU(name=f'{name}_out')(y)

  def _residual(self, x, *, channels, stride, name):
    """1x1(width)-BN-ReLU-3x3(width, `stride`, groups)-BN-ReLU-1x1(`channels`)."""
    y = _conv(self.width, 1, name=f'{name}_1_conv')(x)
    y = _bn_relu(y, name=f'{name}_1')
    y = _conv(self.width, 3, strides=stride, groups=self.groups, name=f'{name}_2_conv')(y)
    y = _bn_relu(y, name=f'{name}_2')
    return _conv(channels, 1, name=f'{name}_3_conv')(y)


def _mask_head(y, unit, *, channels, name):
  """Two 1x1 convs to `channels` (`{name}_head_*`): BN-ReLU-conv-BN-ReLU-conv for
  pre-activation units (Attention-56/92), conv-BN-ReLU-conv for post-activation ones
  (AttentionNeXt-56/92)."""
  if unit.preact:
    for k in (1, 2):
      y = _bn_relu(y, name=f'{name}_head_{k}')
      y = _conv(channels, 1, name=f'{name}_head_{k}_conv')(y)
    return y
  y = _conv(channels, 1, name=f'{name}_head_1_conv')(y)
  y = _bn_relu(y, name=f'{name}_head_1')
  return _conv(channels, 1, name=f'{name}_head_2_conv')(y)


def attention_mask_branch(x, unit, *, levels, units_per_level, attention_type, name):
  """Bottom-up top-down soft mask, `[b, h, w, c]` -> mask `[b, h, w, c]`.

  Bottom-up, for level i = 1..levels: max-pool 3x3/2 (`{name}_down{i}_pool`) then
  `units_per_level` units (`{name}_down{i}_res{j}`); below every level but the last a skip
  unit branches off (`{name}_skip{i}`). Top-down, for level i = 1..levels:
  `units_per_level` units (`{name}_up{i}_res{j}`), a bilinear resize to the matching skip
  tensor's size (to `x`'s size at the last level, `{name}_up{i}_resize`), and the skip
  added (`{name}_up{i}_add`). So the lowest resolution holds 2 * units_per_level units.
  With units_per_level=1 and levels 3 / 2 / 1 this is the paper's stage A / B / C mask.
  Then the head (see `_mask_head`) and the attention activation, a layer named exactly
  `name`, whose output is the mask.

  `unit`: the `Bottleneck` of the module, called shape-preserving.
  """
  skips = []
  y = x
  for level in range(1, levels + 1):
    y = keras.layers.MaxPool2D(3, 2, padding='same', name=f'{name}_down{level}_pool')(y)
    for j in range(1, units_per_level + 1):
      y = unit(y, name=f'{name}_down{level}_res{j}')
    if level < levels:
      skips.append(unit(y, name=f'{name}_skip{level}'))
  targets = skips[::-1] + [x]
  for level, target in enumerate(targets, start=1):
    for j in range(1, units_per_level + 1):
      y = unit(y, name=f'{name}_up{level}_res{j}')
    y = ran_layers.ResizeToMatch(name=f'{name}_up{level}_resize')([y, target])
    if level < levels:
      y = keras.layers.Add(name=f'{name}_up{level}_add')([y, target])
  y = _mask_head(y, unit, channels=x.shape[-1], name=name)
  return ran_layers.AttentionActivation(attention_type, name=name)(y)


def attention_module(x, unit, *, pre_post_units, trunk_units, mask_levels,
                     mask_units_per_level, attention_type, residual_attention, name):
  """Attention module, `[b, h, w, c]` -> `[b, h, w, c]`; `unit` is its `Bottleneck`.

  `pre_post_units` units (`{name}_pre{i}`); from their output a trunk of `trunk_units`
  units (`{name}_trunk_res{i}`, output T) and the soft mask branch (`{name}_mask`, output M,
  see `attention_mask_branch`); `{name}_out` = (1 + M) * T if `residual_attention` (ARL)
  else M * T (NAL); then `pre_post_units` units (`{name}_post{i}`).
  """
  for i in range(1, pre_post_units + 1):
    x = unit(x, name=f'{name}_pre{i}')
  trunk = x
  for i in range(1, trunk_units + 1):
    trunk = unit(trunk, name=f'{name}_trunk_res{i}')
  mask = attention_mask_branch(
      x, unit, levels=mask_levels, units_per_level=mask_units_per_level,
      attention_type=attention_type, name=f'{name}_mask')
  if residual_attention:
    attended = keras.layers.Multiply(name=f'{name}_attended')([mask, trunk])
    y = keras.layers.Add(name=f'{name}_out')([trunk, attended])
  else:
    y = keras.layers.Multiply(name=f'{name}_out')([mask, trunk])
  for i in range(1, pre_post_units + 1):
    y = unit(y, name=f'{name}_post{i}')
  return y
