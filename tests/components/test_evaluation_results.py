"""Reading an Evaluator output back, on evaluation_data's evaluation with known outputs."""
import numpy as np
import pytest

from components import evaluation
from components import evaluation_results
from components import features
from evaluation_data import LEVEL, WEATHER

ACCURACY = evaluation.ACCURACY
GATED = evaluation.GATED_ACCURACY


def test_slices_are_named_overall_first(alone):
  names = [s.name for s in alone.slices]
  assert names[0] == 'overall' and names[1:] == sorted(names[1:])
  assert f'{LEVEL}=5, {WEATHER}=rain' in names and f'{features.LABEL}=4' in names
  assert len(names) == 16


def test_metrics_carry_their_values_and_per_class_keys(alone):
  overall = alone.overall
  assert overall.examples == 8 and overall.accuracy == pytest.approx(5 / 8)
  assert overall.metrics['precision[classId:0]'] == pytest.approx(2 / 3)
  assert np.isnan(overall.metrics['recall[classId:5]'])
  assert alone.slice(f'{LEVEL}=5').metrics[GATED] == pytest.approx(1 / 3)
  assert overall.baseline == {} and overall.delta == {} and not alone.has_baseline
  with pytest.raises(KeyError, match='scenario/level=7'):
    alone.slice(f'{LEVEL}=7')


def test_baseline_values_and_deltas(against_baseline):
  overall = against_baseline.overall
  assert against_baseline.has_baseline
  assert overall.baseline[ACCURACY] == 1.0
  assert overall.delta[ACCURACY] == pytest.approx(-3 / 8)
  rain = against_baseline.slice(f'{WEATHER}=rain')
  assert rain.delta[GATED] == pytest.approx(-0.5)


def test_failures_read_as_reasons(alone, against_baseline):
  assert not alone.blessed
  assert set(alone.reasons) == {
      'overall: sparse_categorical_accuracy = 0.6250, below its floor 0.7000',
      'scenario/level=5: gated_accuracy = 0.3333, below its floor 0.5000',
      'image/class/label=1: gated_accuracy = 0.5000, below its floor 0.6000',
      'image/class/label=3: gated_accuracy = 0.5000, below its floor 0.6000'}
  regressions = {str(f) for f in against_baseline.failures if f.is_diff}
  assert regressions == {
      'overall: sparse_categorical_accuracy changed by -0.3750 against the baseline, '
      'less than the -0.3000 allowed',
      'scenario/level=5: accuracy changed by -0.6667 against the baseline, less than the '
      '-0.3000 allowed (2 examples lost, 0 gained; McNemar p = 0.2500 < 0.3: not chance)',
      'scenario/weather=rain: accuracy changed by -0.5000 against the baseline, less than the '
      '-0.3000 allowed (2 examples lost, 0 gained; McNemar p = 0.2500 < 0.3: not chance)'}


def test_calibration_bins_and_confusion_matrix(alone):
  bins = alone.calibration
  assert [(round(b.lower, 1), round(b.upper, 1)) for b in bins] == [
      (i / 10, (i + 1) / 10) for i in range(10)]
  assert sum(b.examples for b in bins) == 8 and sum(b.correct for b in bins) == 5
  assert bins[6].examples == 2 and bins[6].confidence_sum == pytest.approx(0.62 + 0.65)
  expected = np.zeros((6, 6))
  for (actual, predicted), count in {(0, 0): 2, (1, 1): 1, (1, 2): 1, (2, 2): 1, (3, 0): 1,
                                     (3, 3): 1, (4, 5): 1}.items():
    expected[actual, predicted] = count
  np.testing.assert_array_equal(alone.confusion, expected)


def test_thresholds_by_slice(against_baseline):
  thresholds = evaluation_results.describe_thresholds(against_baseline)
  assert thresholds == {
      ('overall', ACCURACY): {'floor': 0.7, 'max_drop': 0.3},
      (LEVEL, GATED): {'floor': 0.5}, (LEVEL, evaluation.SIGNIFICANT_CHANGE): {'max_drop': 0.3},
      (WEATHER, GATED): {'floor': 0.4},
      (WEATHER, evaluation.SIGNIFICANT_CHANGE): {'max_drop': 0.3},
      (features.LABEL, GATED): {'floor': 0.6}}
  floors = {s.name: evaluation_results.bounds_for(thresholds, s, GATED).get('floor')
            for s in against_baseline.slices}
  assert floors[f'{LEVEL}=5'] == 0.5 and floors[f'{features.LABEL}=2'] == 0.6
  assert floors[f'{LEVEL}=5, {WEATHER}=rain'] is None and floors['overall'] is None
