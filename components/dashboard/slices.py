"""The dashboard's view of each slice: which metric gates it, its bounds, and its status."""
import dataclasses
import re
from typing import Dict, List, Optional, Sequence, Tuple

from components import evaluation
from components import evaluation_results
from components import features

PASS = 'pass'
FAIL = 'fail'
TOO_SMALL = 'too small'    # fewer examples than min_slice_size: reported, never gated
NOT_GATED = 'not gated'    # no threshold names this slice (e.g. a crossed slice)


@dataclasses.dataclass(frozen=True)
class SliceRow:
  """One slice as the dashboard shows it."""
  result: evaluation_results.SliceResult
  gate_metric: str           # ACCURACY on the overall slice, GATED_ACCURACY on the others
  floor: Optional[float]     # the gate metric's floor, if any
  max_drop: Optional[float]  # the largest drop allowed against the baseline (on a slice: the
                             # largest significant one), if any
  status: str                # PASS, FAIL, TOO_SMALL or NOT_GATED
  reasons: Tuple[str, ...]   # the failed thresholds on this slice

  @property
  def name(self) -> str:
    return self.result.name

  def value(self, metric: str) -> Optional[float]:
    return self.result.metrics.get(metric)

  def baseline(self, metric: str) -> Optional[float]:
    return self.result.baseline.get(metric)

  def delta(self, metric: str) -> Optional[float]:
    return self.result.delta.get(metric)


def slice_rows(evaluation_result: evaluation_results.Evaluation) -> Tuple[SliceRow, ...]:
  """Every slice of the evaluation, in its order (overall first)."""
  thresholds = evaluation_results.describe_thresholds(evaluation_result)
  min_examples = evaluation_results.min_slice_size(evaluation_result)
  reasons: Dict[str, List[str]] = {}
  for failure in evaluation_result.failures:
    reasons.setdefault(failure.slice_name, []).append(str(failure))
  rows = []
  for result in evaluation_result.slices:
    overall = not result.key
    gate_metric = evaluation.ACCURACY if overall else evaluation.GATED_ACCURACY
    bounds = evaluation_results.bounds_for(thresholds, result, gate_metric)
    if not overall:
      bounds.update(evaluation_results.bounds_for(thresholds, result,
                                                  evaluation.SIGNIFICANT_CHANGE))
    if result.name in reasons:
      status = FAIL
    elif not overall and result.examples < min_examples:
      status = TOO_SMALL
    elif 'floor' in bounds or ('max_drop' in bounds and evaluation_result.has_baseline):
      status = PASS
    else:
      status = NOT_GATED
    rows.append(SliceRow(result=result, gate_metric=gate_metric, floor=bounds.get('floor'),
                         max_drop=bounds.get('max_drop'), status=status,
                         reasons=tuple(reasons.get(result.name, ()))))
  return tuple(rows)


def value_order(value):
  """Numbers by value before text, and digits within text by value: levels read 1, 2, ...,
  10 and cameras cam2, cam10 (not 1, 10, 2)."""
  try:
    return (0, float(value), ())
  except ValueError:
    parts = re.split(r'(\d+)', str(value))
    return (1, 0.0, tuple((0, int(p), '') if p.isdigit() else (1, 0, p) for p in parts))


def _spec_order(evaluation_result: evaluation_results.Evaluation) -> List[Tuple[str, ...]]:
  """The feature tuples of the eval config's slicing specs, in its order (sorted within a
  cross, as TFMA sorts a slice key)."""
  specs = evaluation_result.eval_config['evalConfig'].get('slicingSpecs', ())
  return [tuple(sorted(spec['featureKeys'])) for spec in specs if spec.get('featureKeys')]


def slice_groups(evaluation_result: evaluation_results.Evaluation,
                 rows: Sequence[SliceRow]) -> List[Tuple[Tuple[str, ...], List[SliceRow]]]:
  """[(sliced features, their slices' rows)], one group per slicing spec but overall, in the
  eval config's order; within a group by feature value, numbers numerically."""
  groups: Dict[Tuple[str, ...], List[SliceRow]] = {}
  for row in rows:
    if row.result.key:
      groups.setdefault(tuple(feature for feature, _ in row.result.key), []).append(row)
  order = _spec_order(evaluation_result)
  ranked = sorted(groups, key=lambda f: (order.index(f) if f in order else len(order), f))
  return [(features_, sorted(groups[features_], key=lambda r: [
      value_order(value) for _, value in r.result.key])) for features_ in ranked]


def value_label(key: evaluation_results.SliceKey,
                class_names: Optional[Sequence[str]] = None) -> str:
  """A slice's values without the feature names ('5', '5, rain'); a class by its name."""
  return ', '.join(class_label(int(value), class_names) if feature == features.LABEL
                   else str(value) for feature, value in key)


def class_label(class_id: int, class_names: Optional[Sequence[str]] = None) -> str:
  """'stop' with class names, else the id as text."""
  return class_names[class_id] if class_names else str(class_id)
