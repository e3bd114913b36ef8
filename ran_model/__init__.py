"""Residual Attention Networks (Wang et al., CVPR 2017) as plain Keras 2 (tf_keras) models.

`build_model('attention_92', classes=1000)` returns an uncompiled `keras.Model`;
`MODEL_NAMES` lists the variants and `count_macs(model)` counts multiply-adds.
`compute_attention_maps(model, images)` gives the output and every attention module's mask.
"""
from ran_model.attention_maps import AttentionMap
from ran_model.attention_maps import AttentionMapModel
from ran_model.attention_maps import attention_mask_layers
from ran_model.attention_maps import compute_attention_maps
from ran_model.builder import build_ran
from ran_model.macs import count_macs
from ran_model.variants import MODEL_NAMES
from ran_model.variants import Spec
from ran_model.variants import VARIANTS


def build_model(name, /, **kwargs):
  """Builds the variant `name` (one of `MODEL_NAMES`); `kwargs` go to `build_ran`.

  The model's display name defaults to the variant name.
  """
  if name not in VARIANTS:
    raise ValueError(f'Unknown model name. Expected one of {MODEL_NAMES}. '
                     f'Received name={name!r}')
  kwargs.setdefault('name', name)
  return build_ran(VARIANTS[name], **kwargs)


__all__ = ['AttentionMap', 'AttentionMapModel', 'MODEL_NAMES', 'Spec', 'VARIANTS',
           'attention_mask_layers', 'build_model', 'build_ran', 'compute_attention_maps',
           'count_macs']
