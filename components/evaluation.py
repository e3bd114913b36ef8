"""The TFMA evaluation config: what the Evaluator measures on each slice, and what blesses a model.

Metrics, by the names TFMA writes them under (sub keys in brackets):
  example_count; sparse_categorical_accuracy (top-1); sparse_top_k_categorical_accuracy (top-k,
  when there are more than k classes); precision and recall of the top-1 class [classId:<c>];
  macro_recall (recall averaged over the classes present in the slice); gated_accuracy (the
  floor gate on slices, see GatedAccuracy); expected_calibration_error (top-1 confidence,
  equal-width bins). Against a baseline, on the same examples (diff metrics of the candidate
  alone, like TFMA's flip rates): examples_lost and examples_gained (right before and wrong
  now, and the reverse), accuracy_loss_p_value (McNemar's exact test) and
  significant_accuracy_change (the regression gate on slices, see SignificantAccuracyChange).
  Plots: multi_class_confusion_matrix_plot and calibration_plot [k:1] (the top-1 confidence
  histogram: per bin its example count, sum of confidences and number correct).

TFMA 0.47.1 computes the confusion matrix, the calibration histogram, the keras accuracies and
the example count. The per-class metrics, macro recall, the calibration error, the slice gates
and the paired comparison are derived here: TFMA's own per-class route (binarize by class id
with `top_k=1`) scores a class the model never predicts with recall 1.0, and it has neither a
calibration error nor a paired test.
"""
import json
import math
from typing import Mapping, Optional, Sequence

import apache_beam as beam
import numpy as np
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.metrics import calibration_histogram
from tensorflow_model_analysis.metrics import metric_specs
from tensorflow_model_analysis.metrics import metric_util
from tensorflow_model_analysis.metrics import multi_class_confusion_matrix_metrics
import tf_keras as keras

from components import features
from components import signatures

EXAMPLE_COUNT = 'example_count'
ACCURACY = 'sparse_categorical_accuracy'
TOP_K_ACCURACY = 'sparse_top_k_categorical_accuracy'
PRECISION = 'precision'
RECALL = 'recall'
MACRO_RECALL = 'macro_recall'
GATED_ACCURACY = 'gated_accuracy'
CALIBRATION_ERROR = 'expected_calibration_error'
EXAMPLES_LOST = 'examples_lost'
EXAMPLES_GAINED = 'examples_gained'
LOSS_P_VALUE = 'accuracy_loss_p_value'
SIGNIFICANT_CHANGE = 'significant_accuracy_change'


def _key(name: str, model_name: str, output_name: str, example_weighted: bool,
         class_id: Optional[int] = None) -> tfma.metrics.MetricKey:
  return tfma.metrics.MetricKey(
      name=name, model_name=model_name, output_name=output_name,
      sub_key=None if class_id is None else tfma.metrics.SubKey(class_id=class_id),
      example_weighted=example_weighted)


def _from_top_one_confusion(keys, compute, *, eval_config, model_name: str, output_name: str,
                            example_weighted: bool):
  """Computations of metrics `keys` derived from TFMA's top-1 confusion matrix: `compute`
  maps its entries ({entry: weight}, entries with actual_class_id and predicted_class_id) to
  {key: value}. Threshold 0.0 makes them the matrices the confusion-matrix plot runs, so the
  matrix is computed once for every metric derived from it."""
  computations = multi_class_confusion_matrix_metrics.multi_class_confusion_matrices(
      thresholds=[0.0], eval_config=eval_config, model_name=model_name,
      output_name=output_name, example_weighted=example_weighted)
  matrices_key = computations[-1].keys[-1]
  return computations + [tfma.metrics.DerivedMetricComputation(
      keys=keys, result=lambda metrics: compute(metrics[matrices_key][0.0]))]


def _ratios(numerators: np.ndarray, denominators: np.ndarray) -> np.ndarray:
  """Elementwise numerators / denominators, NaN where a denominator is 0."""
  return np.divide(numerators, denominators, out=np.full(numerators.shape, np.nan),
                   where=denominators > 0)


class _Metric(tfma.metrics.Metric):
  """A metric defined in this module. Its config carries `code_version`, the key of this
  module's code (pipeline/code_versions.py), only so that the Evaluator's cache key, which
  covers the eval config but not code named by a module path, changes with this code."""

  def __init__(self, create_computations_fn, *, code_version: str = '', per_model: bool = True,
               **kwargs):
    """`per_model`: `create_computations_fn` computes one model's metric and is called for each
    model and output; else it gets `model_names` and `output_names` itself."""
    super().__init__(metric_util.merge_per_key_computations(create_computations_fn)
                     if per_model else create_computations_fn, **kwargs)
    self.code_version = code_version

  def get_config(self):
    return {**super().get_config(), 'code_version': self.code_version}


class ClassMetrics(_Metric):
  """Precision and recall of the top-1 class for every class [classId:<c>] (NaN where the class
  is never predicted, resp. absent), and `name`: recall averaged over the classes present in the
  slice (balanced accuracy)."""

  def __init__(self, num_classes: int, name: str = MACRO_RECALL, **kwargs):
    super().__init__(_class_metrics, num_classes=num_classes, name=name, **kwargs)


def _class_metrics(num_classes: int, name: str, eval_config=None, model_name: str = '',
                   output_name: str = '', example_weighted: bool = False):
  macro_key = _key(name, model_name, output_name, example_weighted)
  precision_keys = [_key(PRECISION, model_name, output_name, example_weighted, class_id)
                    for class_id in range(num_classes)]
  recall_keys = [_key(RECALL, model_name, output_name, example_weighted, class_id)
                 for class_id in range(num_classes)]

  def compute(entries):
    # Rows: labels; columns: the top-1 class, the last one for no prediction (top probability 0).
    confusion = np.zeros((num_classes, num_classes + 1))
    for entry, weight in entries.items():
      if not 0 <= entry.actual_class_id < num_classes:
        raise ValueError(f'Label {entry.actual_class_id} outside [0, {num_classes})')
      confusion[entry.actual_class_id, entry.predicted_class_id] += weight  # -1: no prediction
    correct = np.diag(confusion)
    support = confusion.sum(axis=1)
    recall = _ratios(correct, support)
    precision = _ratios(correct, confusion[:, :num_classes].sum(axis=0))
    macro_recall = recall[support > 0].mean() if support.any() else np.nan
    return {macro_key: macro_recall, **dict(zip(precision_keys, precision)),
            **dict(zip(recall_keys, recall))}

  return _from_top_one_confusion(
      [macro_key, *precision_keys, *recall_keys], compute, eval_config=eval_config,
      model_name=model_name, output_name=output_name, example_weighted=example_weighted)


class GatedAccuracy(_Metric):
  """Top-1 accuracy on a slice of at least `min_examples` examples; 1.0 on a smaller one, so that
  no floor on it can fail.

  TFMA's own `Options.min_slice_size` does not serve: it replaces a small slice's metrics with an
  error, and its validator then fails every threshold there as 'Metric not found'.
  """

  def __init__(self, min_examples: int, name: str = GATED_ACCURACY, **kwargs):
    super().__init__(_gated_accuracy, min_examples=min_examples, name=name, **kwargs)


def _gated_accuracy(min_examples: int, name: str, eval_config=None, model_name: str = '',
                    output_name: str = '', example_weighted: bool = False):
  key = _key(name, model_name, output_name, example_weighted)

  def compute(entries):
    examples = sum(entries.values())
    correct = sum(weight for entry, weight in entries.items()
                  if entry.actual_class_id == entry.predicted_class_id)
    return {key: correct / examples if examples >= min_examples else 1.0}

  return _from_top_one_confusion(
      [key], compute, eval_config=eval_config, model_name=model_name,
      output_name=output_name, example_weighted=example_weighted)


def loss_p_value(lost: int, gained: int) -> float:
  """McNemar's exact one-sided test on paired predictions: the probability that a model no
  worse than the baseline loses at least `lost` of the `lost + gained` examples on which the two
  disagree (Binomial(lost + gained, 1/2)). 1.0 when they never disagree."""
  lost, disagreements = int(lost), int(lost) + int(gained)  # Python ints: 2**n is exact
  return sum(math.comb(disagreements, k) for k in range(lost, disagreements + 1)) / (
      2 ** disagreements)


def significant_change(lost: int, gained: int, examples: int, *, significance: float,
                       min_examples: int) -> float:
  """A slice's accuracy change against the baseline, (gained - lost) / examples, with a loss
  that may be chance (loss_p_value at least `significance`) counted as 0.0; 0.0 on a slice of
  fewer than `min_examples` examples."""
  if examples < min_examples or (lost > gained and loss_p_value(lost, gained) >= significance):
    return 0.0
  return (gained - lost) / examples


class SignificantAccuracyChange(_Metric):
  """The candidate's top-1 accuracy change against the baseline on a slice, with a loss that
  chance may explain counted as none (significant_change): McNemar's exact test
  (loss_p_value) on the examples one model gets right and the other wrong must give p below
  `significance`. A change threshold of -tolerance on it blocks a loss over the tolerance only
  when it is significant: on a 70-example slice, 1 to 4 examples lost and none gained never
  block (p >= 0.0625), 5 do (p = 0.031, 7 points). Slices under `min_examples`: 0.0.

  Beside it, on every slice: examples_lost, examples_gained and accuracy_loss_p_value. Like
  TFMA's flip rates these are diff metrics of the candidate, computed per example from both
  models' predictions (unweighted); with no baseline there are none.
  """

  def __init__(self, significance: float, min_examples: int, name: str = SIGNIFICANT_CHANGE,
               **kwargs):
    super().__init__(_significant_change, significance=significance, min_examples=min_examples,
                     name=name, per_model=False, **kwargs)


class _PairedCountsCombiner(beam.CombineFn):
  """[examples lost, examples gained, examples] of `model_name` against `baseline_name`, top-1
  against the label; counts of examples, not example weights."""

  def __init__(self, key, *, eval_config, model_name: str, baseline_name: str,
               output_name: str):
    self._key = key
    self._eval_config = eval_config
    self._models = (model_name, baseline_name)
    self._output_name = output_name

  def create_accumulator(self):
    return np.zeros(3, np.int64)

  def add_input(self, accumulator, element):
    correct = []
    for model_name in self._models:
      label, prediction, _ = next(metric_util.to_label_prediction_example_weight(
          element, eval_config=self._eval_config, model_name=model_name,
          output_name=self._output_name, flatten=False))
      correct.append(int(np.argmax(prediction)) == int(np.asarray(label).reshape(-1)[0]))
    model_right, baseline_right = correct
    accumulator += (baseline_right and not model_right, model_right and not baseline_right, 1)
    return accumulator

  def merge_accumulators(self, accumulators):
    return sum(accumulators, self.create_accumulator())

  def extract_output(self, accumulator):
    return {self._key: accumulator}


def _significant_change(significance: float, min_examples: int, name: str, eval_config,
                        model_names, output_names):
  baseline = tfma.utils.get_baseline_model_spec(eval_config) if eval_config else None
  if baseline is None:
    return []
  computations = []
  for model_name in model_names:
    if model_name == baseline.name:
      continue
    for output_name in output_names:
      counts_key = tfma.metrics.MetricKey(name=f'_{name}_paired_counts', model_name=model_name,
                                          output_name=output_name)
      keys = [tfma.metrics.MetricKey(name=metric, model_name=model_name,
                                     output_name=output_name, is_diff=True)
              for metric in (name, LOSS_P_VALUE, EXAMPLES_LOST, EXAMPLES_GAINED)]

      def result(metrics, counts_key=counts_key, keys=keys):
        lost, gained, examples = (int(n) for n in metrics[counts_key])
        change = significant_change(lost, gained, examples, significance=significance,
                                    min_examples=min_examples)
        return dict(zip(keys, (change, loss_p_value(lost, gained), lost, gained)))

      computations += [
          tfma.metrics.MetricComputation(
              keys=[counts_key], preprocessors=None, combiner=_PairedCountsCombiner(
                  counts_key, eval_config=eval_config, model_name=model_name,
                  baseline_name=baseline.name, output_name=output_name)),
          tfma.metrics.DerivedMetricComputation(keys=keys, result=result)]
  return computations


class ExpectedCalibrationError(_Metric):
  """Top-1 expected calibration error: sum over `num_bins` equal-width confidence bins of
  (examples in bin / examples) x |accuracy in bin - mean top probability in bin|.

  Bins are [i / num_bins, (i + 1) / num_bins), the last one closed. Built on TFMA's calibration
  histogram of (top probability, top-1 correct), the one calibration_plot [k:1] draws.
  """

  def __init__(self, num_bins: int = 10, name: str = CALIBRATION_ERROR, **kwargs):
    super().__init__(_calibration_error, num_bins=num_bins, name=name, **kwargs)


def _calibration_error(num_bins: int, name: str, eval_config=None, model_name: str = '',
                       output_name: str = '', example_weighted: bool = False):
  histogram = calibration_histogram.calibration_histogram(
      left=0.0, right=1.0, eval_config=eval_config, model_name=model_name,
      output_name=output_name, sub_key=tfma.metrics.SubKey(k=1),
      example_weighted=example_weighted)
  histogram_key = histogram[-1].keys[-1]
  key = _key(name, model_name, output_name, example_weighted)

  def result(metrics):
    bins = calibration_histogram.rebin([i / num_bins for i in range(num_bins)],
                                       metrics[histogram_key])
    examples = sum(b.weighted_examples for b in bins)
    gaps = sum(abs(b.weighted_labels - b.weighted_predictions) for b in bins)
    return {key: gaps / examples if examples else np.nan}

  return histogram + [tfma.metrics.DerivedMetricComputation(keys=[key], result=result)]


def _metric_config(metric, *thresholds: tfma.PerSliceMetricThreshold) -> tfma.MetricConfig:
  """A tfma.metrics.Metric's config; a keras metric by its name in tf_keras.metrics."""
  if isinstance(metric, keras.metrics.Metric):
    config = tfma.MetricConfig(class_name=type(metric).__name__,
                               config=json.dumps(metric.get_config()))
  else:
    config = metric_specs.config_from_metric(metric)
    if type(metric).__module__ == __name__:
      config.module = __name__
  config.per_slice_thresholds.extend(thresholds)
  return config


def _floor(slicing_spec: tfma.SlicingSpec, value: float) -> tfma.PerSliceMetricThreshold:
  """At least `value` on every slice `slicing_spec` matches."""
  return tfma.PerSliceMetricThreshold(
      slicing_specs=[slicing_spec], threshold=tfma.MetricThreshold(
          value_threshold=tfma.GenericValueThreshold(lower_bound={'value': value})))


def _no_regression(slicing_spec: tfma.SlicingSpec,
                   tolerance: float) -> tfma.PerSliceMetricThreshold:
  """At most `tolerance` below the baseline on every slice `slicing_spec` matches."""
  return tfma.PerSliceMetricThreshold(
      slicing_specs=[slicing_spec], threshold=tfma.MetricThreshold(
          change_threshold=tfma.GenericChangeThreshold(
              direction=tfma.MetricDirection.HIGHER_IS_BETTER, absolute={'value': -tolerance})))


def eval_config(*, num_classes: int, slice_features: Sequence[str],
                slice_crosses: Sequence[Sequence[str]] = (), class_slices: bool = True,
                accuracy_floor: float, slice_floors: Optional[Mapping[str, float]] = None,
                regression_tolerance: float, regression_significance: float = 0.05,
                min_slice_size: int = 1, top_k: int = 5,
                calibration_bins: int = 10, gates: bool = True,
                code_version: str = '') -> tfma.EvalConfig:
  """The Evaluator's config for the serving model (`serving_default`: serialized tf.Examples ->
  PROBABILITIES float32 [batch, num_classes]; label features.LABEL).

  Slices: overall, each of `slice_features`, each cross in `slice_crosses` (feature tuples),
  and each class (features.LABEL) when `class_slices`.
  Blessing needs: overall accuracy >= `accuracy_floor`; gated_accuracy >= `slice_floors[f]` on
  every slice of feature f (a key of `slice_features`, or features.LABEL); and, once a blessed
  baseline exists, no drop of more than `regression_tolerance` below its accuracy overall, and
  on every slice of `slice_features` no such drop that McNemar's test finds significant at
  `regression_significance` (SignificantAccuracyChange; 1.0: every drop over the tolerance
  counts). Slices under `min_slice_size` examples are reported, never gated; the overall slice
  is always gated.
  `gates=False`: the same slices and metrics with no threshold at all, for a split that is
  reported, not gated (the published test split); TFMA's validation then says
  `missing_thresholds` and blesses nothing, so that split's blessing is never read.
  `code_version`: this module's code key, carried in its metrics' configs (see _Metric).
  """
  slice_floors = dict(slice_floors or {})
  overall = tfma.SlicingSpec()
  by_feature = {key: tfma.SlicingSpec(feature_keys=[key]) for key in slice_features}
  if class_slices:
    by_feature.setdefault(features.LABEL, tfma.SlicingSpec(feature_keys=[features.LABEL]))
  unknown = sorted(set(slice_floors) - set(by_feature))
  if unknown:
    raise ValueError(f'slice_floors keys {unknown} are not sliced by (slice_features='
                     f'{list(slice_features)}, class_slices={class_slices})')
  slicing_specs = [overall, *by_feature.values()]
  slicing_specs += [tfma.SlicingSpec(feature_keys=list(cross)) for cross in slice_crosses]
  top_k_accuracy = (_metric_config(keras.metrics.SparseTopKCategoricalAccuracy(
      k=top_k, name=TOP_K_ACCURACY)),) if num_classes > top_k else ()
  accuracy_gates = (_floor(overall, accuracy_floor),
                    _no_regression(overall, regression_tolerance)) if gates else ()
  floor_gates = tuple(_floor(by_feature[key], floor)
                      for key, floor in slice_floors.items()) if gates else ()
  regression_gates = tuple(_no_regression(by_feature[key], regression_tolerance)
                           for key in slice_features) if gates else ()
  metrics = [
      _metric_config(tfma.metrics.ExampleCount(name=EXAMPLE_COUNT)),
      _metric_config(keras.metrics.SparseCategoricalAccuracy(name=ACCURACY), *accuracy_gates),
      *top_k_accuracy,
      _metric_config(GatedAccuracy(min_slice_size, code_version=code_version), *floor_gates),
      _metric_config(SignificantAccuracyChange(regression_significance, min_slice_size,
                                               code_version=code_version), *regression_gates),
      _metric_config(ClassMetrics(num_classes, code_version=code_version)),
      _metric_config(ExpectedCalibrationError(calibration_bins, code_version=code_version)),
      _metric_config(tfma.metrics.MultiClassConfusionMatrixPlot()),
  ]
  return tfma.EvalConfig(
      model_specs=[tfma.ModelSpec(signature_name='serving_default', model_type='tf_generic',
                                  label_key=features.LABEL,
                                  prediction_key=signatures.PROBABILITIES)],
      slicing_specs=slicing_specs,
      metrics_specs=[
          tfma.MetricsSpec(metrics=metrics),
          tfma.MetricsSpec(
              metrics=[_metric_config(tfma.metrics.CalibrationPlot(
                  num_buckets=calibration_bins, left=0.0, right=1.0))],
              binarize=tfma.BinarizationOptions(k_list={'values': [1]})),
      ])
