"""components/edge/scoring.py: the Evaluator's slices found again, accuracy per slice, the
int8 gate."""
import numpy as np
import pytest

from components import features
from components.edge import scoring
from components.edge.report import SliceAccuracy
import evaluation_data


def _example_features():
  """evaluation_data's examples' slice features, as the edge step reads them from records."""
  return [{features.LABEL: label, evaluation_data.WEATHER: weather.encode(),
           evaluation_data.LEVEL: level.encode()}
          for label, weather, level, *_ in evaluation_data.EXAMPLES]


def test_slices_and_accuracy_are_the_evaluators_own(alone):
  """The candidate's top-1 classes, sliced here, give TFMA's example count and accuracy on
  every slice of its evaluation, crosses and classes included."""
  keys = scoring.slice_keys(_example_features(), scoring.slicing_specs(alone))
  predicted = np.argmax(evaluation_data.CANDIDATE, axis=-1)
  wrong = (evaluation_data.LABELS + 1) % 3  # a float model wrong everywhere
  accuracy = scoring.slice_accuracy(predicted, wrong, evaluation_data.LABELS, keys, alone)
  assert list(accuracy) == [s.name for s in alone.slices]
  assert 'scenario/level=5, scenario/weather=rain' in accuracy
  for result in alone.slices:
    assert accuracy[result.name].examples == result.examples
    assert accuracy[result.name].accuracy == pytest.approx(result.accuracy)
    assert accuracy[result.name].float_accuracy == 0.0
    assert accuracy[result.name].served_accuracy == result.accuracy
    assert accuracy[result.name].delta == pytest.approx(result.accuracy)


def test_other_examples_than_the_evaluators_are_refused(alone):
  specs = scoring.slicing_specs(alone)
  keys = scoring.slice_keys(_example_features()[:-1], specs)
  with pytest.raises(ValueError, match='slice overall: 7 examples here, 8 in the evaluation'):
    scoring.slice_accuracy(np.zeros(7, int), np.zeros(7, int), evaluation_data.LABELS[:-1],
                           keys, alone)
  moved = _example_features()
  moved[-1][evaluation_data.WEATHER] = b'snow'  # the fog example
  with pytest.raises(ValueError, match='weather=fog: 0 examples here, 1 in'):
    scoring.slice_accuracy(np.zeros(8, int), np.zeros(8, int), evaluation_data.LABELS,
                           scoring.slice_keys(moved, specs), alone)


def test_the_gate_judges_overall_and_big_enough_scenario_slices():
  slices = {
      'overall': SliceAccuracy(100, 0.90, 0.905, 0.9),                 # -0.5 pp: passes
      'scenario/weather=rain': SliceAccuracy(40, 0.80, 0.825, 0.9),    # -2.5 pp: fails
      'scenario/weather=fog': SliceAccuracy(10, 0.50, 0.70, 0.9),      # too small to gate
      'image/class/label=3': SliceAccuracy(50, 0.50, 0.70, 0.9),       # a class: not gated
      'scenario/level=5, scenario/weather=rain': SliceAccuracy(30, 0.70, 0.80, 0.9),  # a cross
      'scenario/level=1': SliceAccuracy(30, 0.80, 0.81, 0.9),          # exactly the limit
  }
  failures = scoring.gate_failures(slices, max_drop=0.01, min_slice_size=30)
  assert failures == (
      "scenario/weather=rain: accuracy 0.8000 is 0.0250 below the float model's 0.8250 "
      '(40 examples; at most 0.0100 allowed)',
      "scenario/level=5, scenario/weather=rain: accuracy 0.7000 is 0.1000 below the float "
      "model's 0.8000 (30 examples; at most 0.0100 allowed)")
  assert scoring.gate_failures(slices, max_drop=0.2, min_slice_size=30) == ()
  overall_only = {'overall': SliceAccuracy(5, 0.2, 0.4, 0.9)}  # overall is gated at any size
  assert len(scoring.gate_failures(overall_only, max_drop=0.1, min_slice_size=30)) == 1
