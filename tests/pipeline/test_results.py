"""The run summary's slice table: the eval split's accuracy and, beside it, the published test
split's, on evaluation_data's evaluations; the Edge lines."""
import dataclasses

import pytest

from components import evaluation_results
from evaluation_data import WEATHER
import edge_reports
from run_results import evaluated_run


def _rows(summary):
  """{slice: the row's other cells} of the summary's slice table, and its header."""
  lines = summary.splitlines()
  start = next(i for i, line in enumerate(lines) if line.startswith('slice'))
  header, *rows = lines[start:lines.index('', start)]
  cells = {}
  for row in rows:
    name, _, rest = row.partition('  ')
    cells[name.strip()] = rest.split()
  return header.split(), cells


def test_the_summary_gives_the_test_split_beside_the_eval_split(evaluations,
                                                                test_split_evaluation):
  tested = evaluation_results.load_evaluation(test_split_evaluation)
  run = evaluated_run(evaluations[0], test_examples=4, test_evaluation_uri=test_split_evaluation,
             test_slices=tested.slices)
  assert run.test_accuracy('overall') == pytest.approx(3 / 4)
  summary = run.summary(wall_seconds=1)
  header, rows = _rows(summary)
  assert header == ['slice', 'examples', 'accuracy', 'test', 'examples', 'test', 'accuracy']
  assert rows['overall'] == ['8', '0.6250', '4', '0.7500']
  assert rows[f'{WEATHER}=rain'] == ['4', '0.5000', '1', '0.0000']
  assert rows[f'{WEATHER}=fog'] == ['1', '0.0000', '-', '-']  # no fog in the test split
  assert "test: the dataset's published test split, reported, never gated" in summary
  assert f'Test split evaluation: {test_split_evaluation}' in summary


@pytest.mark.parametrize('test_examples, note', [
    (0, 'The published test split is empty (no labelled test examples were ingested): not '
        'evaluated.'),
    (None, None),  # the layout has no test split
])
def test_without_a_test_evaluation_the_table_is_the_eval_splits(evaluations, test_examples,
                                                                note):
  summary = evaluated_run(evaluations[0], test_examples=test_examples).summary(wall_seconds=1)
  header, rows = _rows(summary)
  assert header == ['slice', 'examples', 'accuracy'] and rows['overall'] == ['8', '0.6250']
  assert (note in summary) if note else ('test split' not in summary)


def test_the_summary_gives_the_edge_models_beside_the_float_one(evaluations):
  run = dataclasses.replace(evaluated_run(evaluations[0]), edge=edge_reports.sample_report())
  lines = run.summary(wall_seconds=1).splitlines()
  start = lines.index('Edge: TFLite, uint8 [1x32x32x3] in; accuracy on 200 eval images '
                      'against the float32 network; latency at batch 1, median / p90')
  assert lines[start + 1].split() == ['model', 'bytes', 'accuracy', 'vs', 'float', 'latency']
  assert lines[start + 2].split() == ['float32', 'network', '0.9000']
  assert lines[start + 3].split() == ['SavedModel', '7,000,000', '0.9050', '+0.0050', '12.50',
                                      '/', '15.00', 'ms', '(mixed_bfloat16,', 'as', 'served)']
  assert lines[start + 4].split() == ['TFLite', 'float16', '2,214,592', '0.9000', '+0.0000',
                                      '4.25', '/', '4.75', 'ms', 'tflite/model_float16.tflite']
  assert lines[start + 5].split()[:5] == ['TFLite', 'int8', '1,321,672', '0.8950', '-0.0050']
  assert lines[start + 5].endswith('NOT written')
  assert lines[start + 6].startswith('    - scenario/weather=rain: accuracy 0.8167 is 0.0333')
