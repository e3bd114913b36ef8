"""The TFMA evaluation config: accuracy overall and per scenario slice, with blessing gates."""
from typing import Sequence

import tensorflow_model_analysis as tfma

from components import features
from components import serving


def eval_config(*, slice_features: Sequence[str], eval_accuracy_threshold: float,
                regression_tolerance: float) -> tfma.EvalConfig:
  """Blessing needs overall accuracy >= `eval_accuracy_threshold` and, once a blessed
  baseline exists, no drop below the baseline's accuracy by more than `regression_tolerance`.
  Slices are reported, not gated (per-slice floors come with the evaluation issue).
  """
  accuracy_gate = tfma.MetricThreshold(
      value_threshold=tfma.GenericValueThreshold(
          lower_bound={'value': eval_accuracy_threshold}),
      change_threshold=tfma.GenericChangeThreshold(
          direction=tfma.MetricDirection.HIGHER_IS_BETTER,
          absolute={'value': -regression_tolerance}))
  return tfma.EvalConfig(
      model_specs=[tfma.ModelSpec(signature_name='serving_default', model_type='tf_generic',
                                  label_key=features.LABEL,
                                  prediction_key=serving.PROBABILITIES)],
      slicing_specs=[tfma.SlicingSpec()] + [
          tfma.SlicingSpec(feature_keys=[key]) for key in slice_features],
      metrics_specs=[tfma.MetricsSpec(metrics=[
          tfma.MetricConfig(class_name='ExampleCount'),
          tfma.MetricConfig(
              class_name='SparseCategoricalAccuracy',
              per_slice_thresholds=[tfma.PerSliceMetricThreshold(
                  slicing_specs=[tfma.SlicingSpec()], threshold=accuracy_gate)]),
      ])])
