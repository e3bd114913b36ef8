"""The evaluation config, run by TFMA as the Evaluator runs it, on models with known outputs."""
import json

from apache_beam.internal import pickler
import numpy as np
import pytest
import tensorflow_model_analysis as tfma

from components import evaluation
from components import features

import evaluation_data
from evaluation_data import CALIBRATION_BINS, CANDIDATE, CLASSES, CONFIG, LABELS, LEVEL, WEATHER

FLOOR_FAILURES = {((), evaluation.ACCURACY, 'value'),
                  (((LEVEL, '5'),), evaluation.GATED_ACCURACY, 'value'),
                  (((features.LABEL, 1),), evaluation.GATED_ACCURACY, 'value'),
                  (((features.LABEL, 3),), evaluation.GATED_ACCURACY, 'value')}


def _metrics(evaluation_dir):
  """{slice key: {(metric name, sub key): value}} of a lone candidate."""
  result = {}
  for slice_key, by_output in tfma.load_eval_result(evaluation_dir).slicing_metrics:
    result[slice_key] = {(name, sub_key): float(value['doubleValue'])
                         for sub_key, values in by_output[''].items()
                         for name, value in values.items() if 'doubleValue' in value}
  return result


@pytest.fixture(name='metrics', scope='module')
def fixture_metrics(evaluations):
  return _metrics(evaluations[0])


def _failures(evaluation_dir):
  """{(slice key, metric name, 'diff' or 'value')} of every failed threshold."""
  validation = tfma.load_validation_result(evaluation_dir)
  assert not validation.missing_slices
  assert validation.validation_ok == (not validation.metric_validations_per_slice)
  return {(tfma.slicer.deserialize_slice_key(s.slice_key), f.metric_key.name,
           'diff' if f.metric_key.is_diff else 'value')
          for s in validation.metric_validations_per_slice for f in s.failures}


def _calibration_error(probabilities, labels, bins):
  """Top-1 ECE by its definition, with numpy."""
  confidence = probabilities.max(axis=1)
  correct = probabilities.argmax(axis=1) == labels
  which = np.minimum((confidence * bins).astype(int), bins - 1)
  return sum(abs(correct[which == b].sum() - confidence[which == b].sum())
             for b in range(bins)) / len(labels)


def test_overall_metrics_equal_their_definitions(metrics):
  overall = metrics[()]
  assert overall[('example_count', '')] == 8
  assert overall[(evaluation.ACCURACY, '')] == pytest.approx(5 / 8)
  assert overall[(evaluation.TOP_K_ACCURACY, '')] == pytest.approx(7 / 8)
  assert overall[(evaluation.MACRO_RECALL, '')] == pytest.approx((1 + 0.5 + 1 + 0.5 + 0) / 5)
  expected_ece = _calibration_error(CANDIDATE, LABELS, CALIBRATION_BINS)
  assert expected_ece == pytest.approx(2.08 / 8, abs=1e-6)
  assert overall[(evaluation.CALIBRATION_ERROR, '')] == pytest.approx(expected_ece, abs=1e-6)


def test_per_class_precision_and_recall_of_the_top_class(metrics):
  overall = metrics[()]
  precision = [overall[(evaluation.PRECISION, f'classId:{c}')] for c in range(CLASSES)]
  recall = [overall[(evaluation.RECALL, f'classId:{c}')] for c in range(CLASSES)]
  # Never predicted: precision NaN; absent: recall NaN; class 4 is missed: recall 0.
  np.testing.assert_allclose(precision, [2 / 3, 1, 0.5, 1, np.nan, 0])
  np.testing.assert_allclose(recall, [1, 0.5, 1, 0.5, 0, np.nan])


def test_slices_cover_scenarios_their_cross_and_classes(metrics):
  counts = {key: values[('example_count', '')] for key, values in metrics.items()}
  assert counts == {
      (): 8, ((WEATHER, 'sun'),): 3, ((WEATHER, 'rain'),): 4, ((WEATHER, 'fog'),): 1,
      ((LEVEL, '1'),): 5, ((LEVEL, '5'),): 3,
      ((LEVEL, '1'), (WEATHER, 'sun')): 2, ((LEVEL, '5'), (WEATHER, 'sun')): 1,
      ((LEVEL, '1'), (WEATHER, 'rain')): 2, ((LEVEL, '5'), (WEATHER, 'rain')): 2,
      ((LEVEL, '1'), (WEATHER, 'fog')): 1,
      **{((features.LABEL, c),): n for c, n in zip(range(5), (2, 2, 1, 2, 1))}}
  rain_level5 = metrics[((LEVEL, '5'), (WEATHER, 'rain'))]  # TFMA sorts by feature
  assert rain_level5[(evaluation.ACCURACY, '')] == 0
  assert metrics[((features.LABEL, 3),)][(evaluation.ACCURACY, '')] == pytest.approx(0.5)


def test_small_slices_are_reported_but_never_gated(metrics):
  fog = metrics[((WEATHER, 'fog'),)]
  assert fog[(evaluation.ACCURACY, '')] == 0
  assert fog[(evaluation.GATED_ACCURACY, '')] == 1
  level5 = metrics[((LEVEL, '5'),)]
  assert level5[(evaluation.GATED_ACCURACY, '')] == pytest.approx(1 / 3)


def test_plots_hold_the_top_one_calibration_histogram_and_confusion_matrix(evaluations):
  [overall] = [plots for key, plots in tfma.load_eval_result(evaluations[0]).plots if key == ()]
  buckets = overall['']['k:1']['calibrationHistogramBuckets']['buckets']
  counts = {round(b.get('lowerThresholdInclusive', 0.0), 1): b['numWeightedExamples']
            for b in buckets if b['numWeightedExamples']}
  correct = {round(b.get('lowerThresholdInclusive', 0.0), 1): b['totalWeightedLabel']
             for b in buckets if b['numWeightedExamples']}
  assert counts == {0.3: 1, 0.4: 2, 0.5: 1, 0.6: 2, 0.7: 1, 0.8: 1}
  assert correct == {0.3: 0, 0.4: 1, 0.5: 0, 0.6: 2, 0.7: 1, 0.8: 1}
  matrix = overall['']['']['multiClassConfusionMatrixAtThresholds']['matrices'][0]['entries']
  assert {(e.get('actualClassId', 0), e.get('predictedClassId', 0)): e['numWeightedExamples']
          for e in matrix} == {(0, 0): 2, (1, 1): 1, (1, 2): 1, (2, 2): 1, (3, 0): 1, (3, 3): 1,
                               (4, 5): 1}


def test_without_a_baseline_only_the_floors_gate(evaluations):
  failures = _failures(evaluations[0])
  # Under min_slice_size (2), below their floors but not gated: fog and class 4 (1 example,
  # accuracy 0). Classes 1 and 3 (2 examples, accuracy 0.5) are gated.
  assert failures == FLOOR_FAILURES


def test_regressions_against_the_baseline_fail_overall_and_per_scenario_slice(evaluations):
  failures = _failures(evaluations[1])
  # Baseline better: overall by 3/8, rain by 1/2 and level 5 by 2/3 (tolerance 0.3), each slice
  # 2 examples lost and none gained (McNemar p = 0.25, under the 0.3 of CONFIG); not failed: fog
  # by 1 (too small to gate), the rain x level-5 cross and classes 1, 3 and 4 (only scenario
  # slices are regression-gated).
  assert failures == FLOOR_FAILURES | {
      ((), evaluation.ACCURACY, 'diff'),
      (((WEATHER, 'rain'),), evaluation.SIGNIFICANT_CHANGE, 'diff'),
      (((LEVEL, '5'),), evaluation.SIGNIFICANT_CHANGE, 'diff')}


def _paired(evaluation_dir):
  """{slice key: (lost, gained, p-value, significant change)} of the candidate's diff metrics."""
  result = tfma.load_eval_result(evaluation_dir, model_name='candidate')
  names = (evaluation.EXAMPLES_LOST, evaluation.EXAMPLES_GAINED, evaluation.LOSS_P_VALUE,
           evaluation.SIGNIFICANT_CHANGE)
  return {key: tuple(by_output[''][''][f'{name}_diff']['doubleValue'] for name in names)
          for key, by_output in result.slicing_metrics}


def test_paired_counts_against_the_baseline_and_mcnemar_p_values(evaluations):
  paired = _paired(evaluations[1])
  # The baseline gets examples 4, 6 (rain, level 5) and 8 (fog, level 1) right, the candidate
  # none that the baseline misses.
  assert paired[()] == (3, 0, 0.125, -0.375)
  assert paired[((WEATHER, 'rain'),)] == (2, 0, 0.25, -0.5)
  assert paired[((LEVEL, '5'),)] == pytest.approx((2, 0, 0.25, -2 / 3))
  assert paired[((WEATHER, 'sun'),)] == (0, 0, 1.0, 0.0)
  # Fog: one example lost (p = 0.5, over 0.3) and under min_slice_size: no significant change.
  assert paired[((WEATHER, 'fog'),)] == (1, 0, 0.5, 0.0)
  assert not any(name.startswith(evaluation.EXAMPLES_LOST) for name in
                 tfma.load_eval_result(evaluations[0]).slicing_metrics[0][1]['']['']), (
      'no paired metrics without a baseline')


def test_a_slice_loss_that_may_be_chance_does_not_block(evaluation_workspace):
  """At significance 0.2, the 2-of-2 losses on rain and level 5 (p = 0.25) pass; the overall
  slice is held to the tolerance alone and still fails."""
  config = evaluation.eval_config(**{**CONFIG, 'regression_significance': 0.2})
  output = evaluation_data.evaluate(evaluation_workspace, 'significance_0.2', config,
                                    has_baseline=True)
  assert _failures(output) == FLOOR_FAILURES | {((), evaluation.ACCURACY, 'diff')}
  assert _paired(output)[((WEATHER, 'rain'),)] == (2, 0, 0.25, 0.0)


def test_paired_counts_leave_out_examples_both_models_get_wrong():
  """Per example (label, candidate's and baseline's top-1): both right, only the candidate
  right (gained), only the baseline right (lost), both wrong with different answers (neither).
  The combiner is used as a Beam worker gets it, through Beam's pickler."""
  config = tfma.utils.update_eval_config_with_defaults(
      evaluation.eval_config(**CONFIG), has_baseline=True)
  computations = evaluation.SignificantAccuracyChange(0.05, 1).computations(
      eval_config=config, model_names=['candidate', 'baseline'], output_names=[''])
  combiner = pickler.loads(pickler.dumps(computations))[0].combiner
  accumulator = combiner.create_accumulator()
  for label, candidate, baseline in ((0, 0, 0), (1, 1, 2), (2, 0, 2), (3, 4, 5)):
    accumulator = combiner.add_input(accumulator, tfma.metrics.StandardMetricInputs(
        labels=np.array([label]), predictions={
            name: np.eye(CLASSES, dtype=np.float32)[top] for name, top in (
                ('candidate', candidate), ('baseline', baseline))}))
  merged = combiner.merge_accumulators([accumulator, combiner.create_accumulator()])
  assert list(combiner.extract_output(merged).values())[0].tolist() == [1, 1, 4]


@pytest.mark.parametrize('lost, gained, examples, change', [
    (5, 0, 70, -5 / 70),    # p = 1/32: a loss that counts
    (4, 0, 70, 0.0),        # p = 1/16: may be chance
    (1, 5, 70, 4 / 70),     # a gain counts as it is
    (5, 0, 29, 0.0),        # under min_examples (30)
    (0, 0, 70, 0.0)])
def test_a_loss_counts_only_when_significant(lost, gained, examples, change):
  assert evaluation.significant_change(lost, gained, examples, significance=0.05,
                                       min_examples=30) == pytest.approx(change)


def test_at_significance_one_every_loss_counts_and_p_at_the_level_does_not():
  assert evaluation.significant_change(1, 0, 70, significance=1.0, min_examples=30) == -1 / 70
  assert evaluation.significant_change(4, 0, 70, significance=1 / 16, min_examples=30) == 0.0


def test_the_gate_metric_round_trips_through_its_config():
  metric = evaluation.SignificantAccuracyChange(0.05, 30, code_version='abc')
  again = type(metric).from_config(json.loads(json.dumps(metric.get_config())))
  assert again.get_config() == metric.get_config() == {
      'significance': 0.05, 'min_examples': 30, 'name': evaluation.SIGNIFICANT_CHANGE,
      'code_version': 'abc'}


@pytest.mark.parametrize('lost, gained, p_value', [
    (0, 0, 1.0), (0, 3, 1.0), (1, 0, 0.5), (4, 0, 1 / 16), (5, 0, 1 / 32), (5, 1, 7 / 64),
    (2, 2, 11 / 16), (30, 10, 0.0011)])
def test_loss_p_value_is_mcnemars_exact_one_sided_test(lost, gained, p_value):
  assert evaluation.loss_p_value(lost, gained) == pytest.approx(p_value, abs=5e-5)


def test_config_slices_and_gates():
  config = evaluation.eval_config(**CONFIG)
  assert [list(s.feature_keys) for s in config.slicing_specs] == [
      [], [WEATHER], [LEVEL], [features.LABEL], [WEATHER, LEVEL]]
  def gates(class_name):
    metric = next(m for m in config.metrics_specs[0].metrics if m.class_name == class_name)
    return {(tuple(t.slicing_specs[0].feature_keys), t.threshold.WhichOneof('validate_absolute'),
             t.threshold.WhichOneof('validate_relative')) for t in metric.per_slice_thresholds}

  assert gates('GatedAccuracy') == {((LEVEL,), 'value_threshold', None),
                                    ((WEATHER,), 'value_threshold', None),
                                    ((features.LABEL,), 'value_threshold', None)}
  assert gates('SignificantAccuracyChange') == {((LEVEL,), None, 'change_threshold'),
                                                ((WEATHER,), None, 'change_threshold')}
  without_classes = evaluation.eval_config(**{**CONFIG, 'class_slices': False,
                                              'slice_floors': {LEVEL: 0.5}})
  assert [list(s.feature_keys) for s in without_classes.slicing_specs] == [
      [], [WEATHER], [LEVEL], [WEATHER, LEVEL]]


def test_without_gates_the_same_slices_and_metrics_carry_no_threshold():
  gated, reported = evaluation.eval_config(**CONFIG), evaluation.eval_config(**CONFIG,
                                                                            gates=False)
  assert list(reported.slicing_specs) == list(gated.slicing_specs)
  for with_gates, without in zip(gated.metrics_specs, reported.metrics_specs):
    assert [(m.class_name, m.config) for m in without.metrics] == [
        (m.class_name, m.config) for m in with_gates.metrics]
    assert not any(m.per_slice_thresholds or m.HasField('threshold') for m in without.metrics)
  assert any(m.per_slice_thresholds for m in gated.metrics_specs[0].metrics)


def test_a_split_evaluated_without_gates_is_reported_never_failed(test_split_evaluation):
  """Class 1 (1 of 2 right) is below its 0.6 floor of CONFIG: without gates nothing fails."""
  validation = tfma.load_validation_result(test_split_evaluation)
  assert list(validation.metric_validations_per_slice) == []
  assert validation.missing_thresholds  # TFMA's word for "nothing was gated"
  metrics = _metrics(test_split_evaluation)
  assert metrics[()][(evaluation.ACCURACY, '')] == pytest.approx(3 / 4)
  assert metrics[((WEATHER, 'sun'),)][(evaluation.ACCURACY, '')] == pytest.approx(1.0)
  assert metrics[((LEVEL, '5'),)][(evaluation.EXAMPLE_COUNT, '')] == 2


def test_top_k_accuracy_needs_more_classes_than_k():
  names = {m.class_name for m in evaluation.eval_config(
      **{**CONFIG, 'num_classes': 5}).metrics_specs[0].metrics}
  assert 'SparseCategoricalAccuracy' in names
  assert 'SparseTopKCategoricalAccuracy' not in names


def test_a_floor_on_an_unsliced_feature_is_named():
  with pytest.raises(ValueError, match='scenario/time'):
    evaluation.eval_config(**{**CONFIG, 'slice_floors': {'scenario/time': 0.5}})
  with pytest.raises(ValueError, match='image/class/label'):
    evaluation.eval_config(**{**CONFIG, 'class_slices': False,
                              'slice_floors': {features.LABEL: 0.5}})


@pytest.fixture(name='tfma_own_routes', scope='module')
def fixture_tfma_own_routes(evaluation_workspace):
  """The candidate alone with TFMA's own min_slice_size and its binarized per-class recall."""
  config = evaluation.eval_config(**{**CONFIG, 'min_slice_size': 1})
  config.options.min_slice_size.value = 2
  config.metrics_specs.add(
      metrics=[tfma.MetricConfig(class_name='Recall', config='{"top_k": 1}')],
      binarize=tfma.BinarizationOptions(class_ids={'values': list(range(CLASSES))}))
  return evaluation_data.evaluate(evaluation_workspace, 'tfma_own_routes', config, has_baseline=False)


def test_tfma_min_slice_size_fails_small_slices_instead_of_skipping_them(tfma_own_routes):
  """Why GatedAccuracy: TFMA drops a small slice's metrics, then fails each threshold there."""
  failures = _failures(tfma_own_routes)
  fog = ((WEATHER, 'fog'),)
  assert (fog, evaluation.GATED_ACCURACY, 'value') in failures
  assert (fog, evaluation.ACCURACY, 'value') in failures  # even the overall-only floor
  assert ((features.LABEL, 4),) in {slice_key for slice_key, _, _ in failures}
  assert _metrics(tfma_own_routes)[fog] == {}  # no values: an error note only


def test_tfma_binarized_recall_credits_a_never_predicted_class(tfma_own_routes, metrics):
  """Why ClassMetrics: TFMA's recall [classId:4 topK:1] is 1.0 for a class never predicted."""
  assert _metrics(tfma_own_routes)[()][('recall', 'classId:4 topK:1')] == 1.0
  assert metrics[()][(evaluation.RECALL, 'classId:4')] == 0.0
