"""Asks a served model (the exported SavedModel) for its attention maps and draws them.

Works on any SavedModel with the `attention_maps` signature of components/signatures.py: it
needs only the signature, not Keras or ran_model.
"""
import dataclasses
from typing import Callable, List, Sequence, Tuple

import numpy as np
import tensorflow as tf

from components import image_codec
from components import signatures
from components.attention_maps import overlay
from ran_model import attention_maps


class NoAttentionMapsError(ValueError):
  """The SavedModel cannot be loaded or has no `attention_maps` signature."""


@dataclasses.dataclass(frozen=True)
class Explanation:
  """One image as the served model saw it, its prediction and its per-module maps."""
  model_input: np.ndarray  # uint8 [image_size, image_size, 3]: the preprocessed pixels
  class_name: str  # the most probable class
  probability: float  # its probability
  maps: Tuple[Tuple[str, np.ndarray], ...]  # ('stage1_attn1', float32 [size, size]), ...

  def caption(self) -> str:
    return f'prediction: {self.class_name} (p={self.probability:.3f})'


def load_attention_signature(model_dir: str):
  """The `attention_maps` signature of the SavedModel in `model_dir`.

  Raises NoAttentionMapsError naming the directory (and the signatures it has).
  """
  try:
    served = tf.saved_model.load(model_dir)
  except (OSError, ValueError, tf.errors.OpError) as error:
    raise NoAttentionMapsError(
        f'{model_dir}: not a loadable SavedModel ({type(error).__name__}: {error})') from error
  if signatures.ATTENTION_MAPS not in served.signatures:
    raise NoAttentionMapsError(
        f'{model_dir}: the SavedModel has no {signatures.ATTENTION_MAPS!r} signature (it has '
        f'{sorted(served.signatures)}); export it with '
        'components.trainer.serving.export_serving_model from a Residual Attention Network.')
  return served.signatures[signatures.ATTENTION_MAPS]


def model_ready_bytes(data: bytes) -> bytes:
  """`data`, any image file Pillow reads (JPEG, PNG, BMP, PPM, ...), as RGB JPEG/PNG bytes,
  the formats the signature decodes (the ExampleGen conversion, components/image_codec.py).

  Raises ValueError for an empty, corrupt or unreadable file.
  """
  try:
    return image_codec.canonical_image(data).encoded
  except image_codec.BadInput as error:
    raise ValueError(str(error)) from error


def explain_all(signature, encoded: Sequence[bytes]) -> List[Explanation]:
  """Runs `signature` (from `load_attention_signature`) on a batch of JPEG/PNG images.

  Raises ValueError when the model cannot decode one of them.
  """
  try:
    outputs = signature(images=tf.constant(list(encoded)))
  except tf.errors.InvalidArgumentError as error:
    raise ValueError(f'the model could not decode the image ({error.message})') from error
  ordered = sorted((attention_maps.parse_module_address(key), key) for key in outputs
                   if attention_maps.parse_module_address(key))
  outputs = {key: value.numpy() for key, value in outputs.items()}
  explanations = []
  for i in range(len(encoded)):
    class_id = int(outputs[signatures.CLASS_IDS][i])
    explanations.append(Explanation(
        model_input=outputs[signatures.MODEL_INPUT][i],
        class_name=outputs[signatures.CLASS_NAMES][i].decode('utf-8'),
        probability=float(outputs[signatures.PROBABILITIES][i, class_id]),
        maps=tuple((key, outputs[key][i]) for _, key in ordered)))
  return explanations


def explain(signature, encoded: bytes) -> Explanation:
  """`explain_all` of one image."""
  return explain_all(signature, [encoded])[0]


def map_title(address: str) -> str:
  """`'stage2_attn1'` -> `'stage 2, module 1'`."""
  stage, module = attention_maps.parse_module_address(address)
  return f'stage {stage}, module {module}'


def render(explanation: Explanation, *, title: Callable[[str], str] = map_title,
           **kwargs) -> bytes:
  """The figure's bytes: the model input and one overlay per map, each titled `title(address)`,
  captioned with the prediction. `kwargs` go to overlay.render_overlays (size, columns, alpha,
  image_format: PNG by default)."""
  return overlay.render_overlays(
      explanation.model_input, [values for _, values in explanation.maps],
      titles=[title(address) for address, _ in explanation.maps],
      caption=explanation.caption(), **kwargs)
