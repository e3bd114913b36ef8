"""One Evaluator output read back: metrics per slice, the baseline's and the deltas, the failed
thresholds, the calibration histogram and the confusion matrix.

The one reader of TFMA's output files, shared by the run report, the RegistryPusher's model
card and the HTML dashboard.
"""
import dataclasses
import json
import os
from typing import Dict, Optional, Tuple, Union

import numpy as np
import tensorflow as tf
import tensorflow_model_analysis as tfma
from google.protobuf import json_format

from components import evaluation

SliceKey = Tuple[Tuple[str, Union[str, int, float]], ...]  # () is the whole evaluation split
CANDIDATE = 'candidate'
BASELINE = 'baseline'
OVERALL = 'overall'


def slice_name(key: SliceKey) -> str:
  """'overall', 'scenario/level=5' or 'scenario/level=5, scenario/weather=rain'."""
  return ', '.join(f'{feature}={value}' for feature, value in key) or OVERALL


def metric_name(name: str, sub_key: str = '') -> str:
  """'sparse_categorical_accuracy', or 'precision[classId:3]' for a per-class value."""
  return f'{name}[{sub_key}]' if sub_key else name


@dataclasses.dataclass(frozen=True)
class SliceResult:
  """One slice's metrics by `metric_name`; `baseline` and `delta` are empty without a baseline."""
  key: SliceKey
  metrics: Dict[str, float]
  baseline: Dict[str, float]
  delta: Dict[str, float]  # candidate - baseline

  @property
  def name(self) -> str:
    return slice_name(self.key)

  @property
  def examples(self) -> int:
    return int(self.metrics[evaluation.EXAMPLE_COUNT])

  @property
  def accuracy(self) -> float:
    return self.metrics[evaluation.ACCURACY]


@dataclasses.dataclass(frozen=True)
class Failure:
  """A threshold a metric failed on a slice."""
  slice_name: str
  metric: str
  value: float       # the metric, or its change against the baseline when `is_diff`
  bound: float       # the floor, or the least change allowed (-tolerance) when `is_diff`
  is_diff: bool
  evidence: str = ''  # for the significant-change gate: the paired counts and the p-value

  def __str__(self) -> str:
    if self.metric == evaluation.SIGNIFICANT_CHANGE:
      return (f'{self.slice_name}: accuracy changed by {self.value:+.4f} against the baseline, '
              f'less than the {self.bound:+.4f} allowed ({self.evidence})')
    if self.is_diff:
      return (f'{self.slice_name}: {self.metric} changed by {self.value:+.4f} against the '
              f'baseline, less than the {self.bound:+.4f} allowed')
    return f'{self.slice_name}: {self.metric} = {self.value:.4f}, below its floor {self.bound:.4f}'


@dataclasses.dataclass(frozen=True)
class CalibrationBin:
  """Examples whose top-1 probability lies in [lower, upper)."""
  lower: float
  upper: float
  examples: float
  correct: float          # of them, how many were right
  confidence_sum: float   # the sum of their top-1 probabilities


@dataclasses.dataclass(frozen=True)
class Evaluation:
  """What one Evaluator run found. `slices` has the overall slice first, then by name."""
  uri: str
  slices: Tuple[SliceResult, ...]
  failures: Tuple[Failure, ...]
  missing_slices: Tuple[str, ...]
  blessed: bool       # every threshold passed (what the Evaluator's blessing says)
  has_baseline: bool
  calibration: Tuple[CalibrationBin, ...]   # overall, top-1
  confusion: np.ndarray                     # overall counts [actual class, predicted class]
  eval_config: dict                         # as TFMA wrote it (eval_config.json)

  @property
  def overall(self) -> SliceResult:
    return self.slices[0]

  def slice(self, name: str) -> SliceResult:
    for result in self.slices:
      if result.name == name:
        return result
    raise KeyError(f'No slice {name!r} in the evaluation at {self.uri}')

  @property
  def reasons(self) -> Tuple[str, ...]:
    """Why the model was not blessed, one line per failed threshold (empty when blessed)."""
    return tuple(str(f) for f in self.failures) + tuple(
        f'slice with no examples: {name}' for name in self.missing_slices)


def _values(by_output) -> Tuple[Dict[str, float], Dict[str, float]]:
  """(metrics, deltas) of one model's metrics on one slice; non-scalar values left out."""
  metrics, deltas = {}, {}
  for sub_key, values in by_output.get('', {}).items():
    for name, value in values.items():
      if 'doubleValue' not in value:
        continue
      if name.endswith('_diff'):
        deltas[metric_name(name[:-len('_diff')], sub_key)] = float(value['doubleValue'])
      else:
        metrics[metric_name(name, sub_key)] = float(value['doubleValue'])
  return metrics, deltas


def _evidence(result: SliceResult, significance: float) -> str:
  """'5 examples lost, 0 gained; McNemar p = 0.0312 < 0.05: not chance' (or, for a change that
  is not a significant loss, '...; McNemar p = 1.0000') from a slice's paired counts."""
  delta = result.delta
  p_value = delta[evaluation.LOSS_P_VALUE]
  return (f'{delta[evaluation.EXAMPLES_LOST]:.0f} examples lost, '
          f'{delta[evaluation.EXAMPLES_GAINED]:.0f} gained; McNemar p = {p_value:.4f}'
          + (f' < {significance:g}: not chance' if p_value < significance else ''))


def _failures(validation, slices, eval_config: dict) -> Tuple[Failure, ...]:
  by_key = {result.key: result for result in slices}
  significance = _significance(eval_config)
  failures = []
  for per_slice in validation.metric_validations_per_slice:
    key = tfma.slicer.deserialize_slice_key(per_slice.slice_key)
    for failure in per_slice.failures:
      threshold = failure.metric_threshold
      name, is_diff = failure.metric_key.name, failure.metric_key.is_diff
      bound = (threshold.change_threshold.absolute.value if is_diff
               else threshold.value_threshold.lower_bound.value)
      evidence = (_evidence(by_key[key], significance)
                  if name == evaluation.SIGNIFICANT_CHANGE else '')
      failures.append(Failure(slice_name(key), name, failure.metric_value.double_value.value,
                              bound, is_diff, evidence))
  return tuple(failures)


def _calibration(plots) -> Tuple[CalibrationBin, ...]:
  """The histogram's bins over [0, 1]. TFMA adds a bucket below 0 (empty for probabilities)
  and one from 1.0 up (top-1 probabilities of exactly 1.0), merged here into the last bin."""
  buckets = plots.get('k:1', {}).get('calibrationHistogramBuckets', {}).get('buckets', [])
  bins = []
  for bucket in buckets:
    lower = float(bucket.get('lowerThresholdInclusive', 0.0))  # JSON spells +-inf as text
    upper = float(bucket.get('upperThresholdExclusive', 0.0))
    counts = np.array([bucket.get(k, 0.0) for k in (
        'numWeightedExamples', 'totalWeightedLabel', 'totalWeightedRefinedPrediction')])
    if upper <= 0:
      continue
    if lower >= 1 and bins:
      last = bins.pop()
      counts += (last.examples, last.correct, last.confidence_sum)
      lower, upper = last.lower, last.upper
    bins.append(CalibrationBin(lower, upper, *counts.tolist()))
  return tuple(bins)


def _confusion(plots, num_classes: int) -> np.ndarray:
  matrix = np.zeros((num_classes, num_classes))
  matrices = plots.get('', {}).get('multiClassConfusionMatrixAtThresholds', {}).get('matrices')
  for entry in (matrices[0]['entries'] if matrices else ()):
    predicted = entry.get('predictedClassId', 0)
    if predicted >= 0:  # -1: below every threshold; none with top-1 at threshold 0
      matrix[entry.get('actualClassId', 0), predicted] += entry['numWeightedExamples']
  return matrix


def _metric_settings(eval_config: dict, class_name: str) -> Optional[dict]:
  """The config of the first metric of class `class_name` (e.g. 'GatedAccuracy'), or None."""
  for spec in eval_config['evalConfig']['metricsSpecs']:
    for metric in spec.get('metrics', ()):
      if metric['className'] == class_name:
        return json.loads(metric.get('config') or '{}')
  return None


def _num_classes(eval_config: dict) -> int:
  settings = _metric_settings(eval_config, 'ClassMetrics')
  if settings is None:
    raise ValueError('The evaluation has no ClassMetrics: it was not configured by '
                     'components.evaluation.eval_config')
  return settings['num_classes']


def load_evaluation(uri: str) -> Evaluation:
  """Reads the Evaluator output directory `uri` (candidate alone, or against a baseline)."""
  with tf.io.gfile.GFile(os.path.join(uri, 'eval_config.json')) as f:
    eval_config = json.load(f)
  specs = eval_config['evalConfig']['modelSpecs']
  has_baseline = any(spec.get('isBaseline') for spec in specs)
  candidate = CANDIDATE if has_baseline else None
  result = tfma.load_eval_result(uri, model_name=candidate)
  baselines: Dict[SliceKey, Dict[str, float]] = {}
  if has_baseline:
    for key, by_output in tfma.load_eval_result(uri, model_name=BASELINE).slicing_metrics:
      baselines[key] = _values(by_output)[0]
  slices = []
  for key, by_output in result.slicing_metrics:
    metrics, deltas = _values(by_output)
    slices.append(SliceResult(key, metrics, baselines.get(key, {}), deltas))
  slices.sort(key=lambda s: (s.key != (), s.name))
  validation = tfma.load_validation_result(uri)
  overall_plots = dict(result.plots).get((), {}).get('', {})  # the one output, ''
  return Evaluation(
      uri=uri, slices=tuple(slices), failures=_failures(validation, slices, eval_config),
      missing_slices=tuple(_spec_name(json_format.MessageToDict(spec))
                           for spec in validation.missing_slices),
      blessed=validation.validation_ok, has_baseline=has_baseline,
      calibration=_calibration(overall_plots),
      confusion=_confusion(overall_plots, _num_classes(eval_config)),
      eval_config=eval_config)


def describe_thresholds(evaluation_result: Evaluation) -> Dict[Tuple[str, str], Dict[str, float]]:
  """{(slice spec, metric): {'floor': x} and/or {'max_drop': d}} from the eval config, where a
  slice spec is 'overall', a feature ('scenario/level': every value) or a value
  ('scenario/level=5')."""
  thresholds: Dict[Tuple[str, str], Dict[str, float]] = {}
  for spec in evaluation_result.eval_config['evalConfig']['metricsSpecs']:
    for metric in spec.get('metrics', ()):
      name = json.loads(metric['config'])['name'] if metric.get('config') else metric['className']
      for per_slice in metric.get('perSliceThresholds', ()):
        for slicing in per_slice['slicingSpecs']:
          where = _spec_name(slicing)
          bounds = thresholds.setdefault((where, name), {})
          threshold = per_slice['threshold']
          if 'valueThreshold' in threshold:
            bounds['floor'] = threshold['valueThreshold']['lowerBound']
          if 'changeThreshold' in threshold:
            bounds['max_drop'] = -threshold['changeThreshold']['absolute']
  return thresholds


def _spec_name(slicing: dict) -> str:
  parts = list(slicing.get('featureKeys', ()))
  parts += [f'{k}={v}' for k, v in sorted(slicing.get('featureValues', {}).items())]
  return ', '.join(parts) or OVERALL


def bounds_for(thresholds, result: SliceResult, metric: str) -> Dict[str, float]:
  """{'floor': x} and/or {'max_drop': d} that gate `metric` on `result`'s slice: those of its
  value spec ('scenario/level=5') over those of its feature spec ('scenario/level')."""
  bounds = dict(thresholds.get((', '.join(f for f, _ in result.key) or OVERALL, metric), {}))
  bounds.update(thresholds.get((result.name, metric), {}))
  return bounds


def min_slice_size(evaluation_result: Evaluation) -> int:
  """Examples a slice needs to be gated (GatedAccuracy's `min_examples`); 1 without one."""
  settings = _metric_settings(evaluation_result.eval_config, 'GatedAccuracy')
  return settings['min_examples'] if settings else 1


def _significance(eval_config: dict) -> Optional[float]:
  settings = _metric_settings(eval_config, 'SignificantAccuracyChange')
  return settings['significance'] if settings else None


def regression_significance(evaluation_result: Evaluation) -> Optional[float]:
  """The p-value under which a slice's drop counts (SignificantAccuracyChange), None without
  that gate."""
  return _significance(evaluation_result.eval_config)


def top_k(evaluation_result: Evaluation) -> Optional[int]:
  """The k of the top-k accuracy, None when it was not measured (k classes or fewer)."""
  settings = _metric_settings(evaluation_result.eval_config, 'SparseTopKCategoricalAccuracy')
  return settings.get('k', 5) if settings is not None else None
