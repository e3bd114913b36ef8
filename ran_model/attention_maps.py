"""The soft masks of a Residual Attention Network, read from the network itself.

Every attention module's mask is the output of the layer named exactly `stage{S}_attn{K}_mask`
(see `blocks.attention_mask_branch`). `AttentionMapModel(model)` is a second functional
`keras.Model` over the SAME layers whose outputs are the model's own output plus every mask,
so one forward pass gives the classification and the masks; no weight is copied.
A map is a mask reduced to one spatial map per module: the mean over channels, float32.

Value ranges by attention type: 'mixed' and 'spatial' maps lie in [0, 1] (sigmoids);
'channel' maps lie in [-1/sqrt(C), 1/sqrt(C)] (the mean of a unit-norm C-vector).
"""
import dataclasses
import re
from typing import Dict, List, Tuple

import numpy as np
import tensorflow as tf
import tf_keras as keras

_MASK_LAYER_NAME = re.compile(r'stage(\d+)_attn(\d+)_mask')
_MODULE_ADDRESS = re.compile(r'stage(\d+)_attn(\d+)')


def module_address(stage: int, module: int) -> str:
  """`module_address(2, 1)` -> `'stage2_attn1'`, the prefix of that module's layer names."""
  return f'stage{stage}_attn{module}'


def parse_module_address(name: str):
  """`'stage2_attn1'` -> `(2, 1)`; None for any other name."""
  match = _MODULE_ADDRESS.fullmatch(name)
  return (int(match[1]), int(match[2])) if match else None


@dataclasses.dataclass(frozen=True)
class MaskLayer:
  """One attention module's mask layer: `stage` 1..3, `module` 1..m within the stage."""
  stage: int
  module: int
  name: str  # the Keras layer name, `stage{S}_attn{K}_mask`

  @property
  def address(self) -> str:
    return module_address(self.stage, self.module)


@dataclasses.dataclass(frozen=True)
class AttentionMap:
  """One module's map for a batch: `values` float32 `[batch, h, w]`, `resolution` `(h, w)`."""
  stage: int
  module: int
  resolution: Tuple[int, int]
  values: np.ndarray

  @property
  def address(self) -> str:
    return module_address(self.stage, self.module)


def attention_mask_layers(model: keras.Model) -> Tuple[MaskLayer, ...]:
  """The mask layers of `model`, ordered by (stage, module); empty if it has none."""
  found = []
  for layer in model.layers:
    match = _MASK_LAYER_NAME.fullmatch(layer.name)
    if match:
      found.append(MaskLayer(stage=int(match[1]), module=int(match[2]), name=layer.name))
  return tuple(sorted(found, key=lambda m: (m.stage, m.module)))


class AttentionMapModel:
  """`model`'s output and every module's map from one forward pass over `model`'s layers.

  Call on float images `[batch, height, width, channels]` (the input `model` takes); returns
  `(output, maps)`: `output` is exactly `model`'s output (e.g. probabilities
  `[batch, classes]`), `maps` maps each module address (`'stage1_attn1'`, ...) in
  (stage, module) order to float32 `[batch, h, w]`, the mask's mean over channels at the
  module's resolution. Works in eager mode and inside `tf.function` (e.g. a serving
  signature). `keras_model` is the functional model with outputs
  `[model output, mask 1, ..., mask n]`; its variables are `model`'s variables.
  """

  def __init__(self, model: keras.Model):
    self.mask_layers = attention_mask_layers(model)
    if not self.mask_layers:
      raise ValueError(f'Model {model.name!r} has no attention mask layers (layers named '
                       'stage{S}_attn{K}_mask); expected a ran_model Residual Attention '
                       'Network.')
    masks = [model.get_layer(layer.name).output for layer in self.mask_layers]
    self.keras_model = keras.Model(model.inputs, [model.output] + masks,
                                   name=f'{model.name}_attention_maps')

  def __call__(self, images, *, training=False) -> Tuple[tf.Tensor, Dict[str, tf.Tensor]]:
    output, *masks = self.keras_model(images, training=training)
    maps = {layer.address: tf.reduce_mean(tf.cast(mask, tf.float32), axis=-1)
            for layer, mask in zip(self.mask_layers, masks)}
    return output, maps


def compute_attention_maps(model: keras.Model,
                           images) -> Tuple[np.ndarray, List[AttentionMap]]:
  """Runs `model` once on `images` (float `[batch, height, width, channels]`, inference).

  Returns `(output, maps)`: `output` equals `model(images, training=False)` as numpy;
  `maps` holds one `AttentionMap` per attention module in (stage, module) order.
  """
  mapper = AttentionMapModel(model)
  output, maps = mapper(images, training=False)
  records = [AttentionMap(stage=layer.stage, module=layer.module,
                          resolution=tuple(maps[layer.address].shape[1:3]),
                          values=maps[layer.address].numpy())
             for layer in mapper.mask_layers]
  return output.numpy(), records
