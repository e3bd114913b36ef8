"""A TFLite model's accuracy on the Evaluator's slices, against the float model, and the int8
gate.

The slices are the Evaluator's own: the slicing specs of the eval config it ran with
(components/evaluation.py wrote it; the evaluation's eval_config.json holds it), matched to
each example by TFMA's slicer, so a slice here has the name and the examples it has in the
Evaluator's output. TFMA's `model_type='tf_lite'` is not used: it feeds a TFLite input from a
feature of the same name, and these models take preprocessed pixels, which the examples do not
hold (they hold the encoded image).
"""
from typing import Dict, List, Mapping, Sequence, Tuple

import numpy as np
import tensorflow_model_analysis as tfma
from google.protobuf import json_format
from tensorflow_model_analysis.slicer import slicer_lib

from components import features
from components import evaluation_results
from components.edge.report import SliceAccuracy

SliceKey = evaluation_results.SliceKey


def slicing_specs(evaluated: evaluation_results.Evaluation) -> List[tfma.SlicingSpec]:
  """The slicing specs of the eval config the Evaluator ran with."""
  config = json_format.ParseDict(evaluated.eval_config['evalConfig'], tfma.EvalConfig(),
                                 ignore_unknown_fields=True)
  return list(config.slicing_specs)


def slice_keys(example_features: Sequence[Mapping[str, bytes]],
               specs: Sequence[tfma.SlicingSpec]) -> List[Tuple[SliceKey, ...]]:
  """Per example (its features: key -> value, bytes or int), the keys of the slices it falls
  in, as TFMA's slicer gives them (() for overall, when a spec asks for it)."""
  singles = [slicer_lib.SingleSliceSpec(spec=spec) for spec in specs]
  return [tuple(slicer_lib.get_slices_for_features_dicts(
      [{key: np.array([value]) for key, value in values.items()}], None, singles))
          for values in example_features]


def slice_accuracy(predicted: np.ndarray, float_predicted: np.ndarray, labels: np.ndarray,
                   keys: Sequence[Tuple[SliceKey, ...]],
                   evaluated: evaluation_results.Evaluation) -> Dict[str, SliceAccuracy]:
  """Top-1 accuracy per slice of class ids `predicted` and, beside it, of the float model's
  `float_predicted` (int [n] each) against `labels` (int [n]), `keys` the slices of each
  example, and the Evaluator's accuracy of the served model on that slice. 'overall' first,
  then the Evaluator's order.

  ValueError when a slice's examples differ in number from the Evaluator's (not the same
  examples)."""
  correct: Dict[SliceKey, List[Tuple[bool, bool]]] = {}
  for hits, example_keys in zip(zip(predicted == labels, float_predicted == labels), keys):
    for key in example_keys:
      correct.setdefault(key, []).append(hits)
  accuracy = {}
  for result in evaluated.slices:
    hits = np.array(correct.get(result.key, []), bool).reshape(-1, 2)
    if len(hits) != result.examples:
      raise ValueError(f'slice {result.name}: {len(hits)} examples here, {result.examples} in '
                       f'the evaluation at {evaluated.uri}: not the examples it evaluated')
    accuracy[result.name] = SliceAccuracy(len(hits), *map(float, hits.mean(axis=0)),
                                          result.accuracy)
  return accuracy


def gated(name: str, examples: int, min_slice_size: int) -> bool:
  """Whether the int8 gate judges slice `name` of `examples` examples: overall always; a
  scenario slice (every feature of it a scenario feature, not a class) of at least
  `min_slice_size` examples."""
  if name == evaluation_results.OVERALL:
    return True
  return examples >= min_slice_size and all(
      part.startswith(features.SCENARIO_PREFIX) for part in name.split(', '))


def too_far_below(result: SliceAccuracy, max_drop: float) -> bool:
  """Whether `result` is more than `max_drop` below the float model's accuracy."""
  return result.delta < -max_drop - 1e-9  # within rounding of the limit passes


def gate_failures(slices: Mapping[str, SliceAccuracy], *, max_drop: float,
                  min_slice_size: int) -> Tuple[str, ...]:
  """Why a TFLite model with accuracy `slices` may not replace the float model: one line per
  gated slice whose accuracy is more than `max_drop` below the float model's; () when none
  is."""
  return tuple(
      f'{name}: accuracy {result.accuracy:.4f} is {-result.delta:.4f} below the float '
      f'model\'s {result.float_accuracy:.4f} ({result.examples} examples; at most '
      f'{max_drop:.4f} allowed)' for name, result in slices.items()
      if gated(name, result.examples, min_slice_size) and too_far_below(result, max_drop))
