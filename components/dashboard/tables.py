"""The dashboard's HTML tables and metric cards. Every cell of a sortable table carries its
raw number in `data-value`, so the page's script sorts by value, not by formatted text."""
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from components import evaluation
from components import evaluation_results
from components import features
from components.dashboard import slices
from components.dashboard.charts import css_class
from components.dashboard.formatting import (
    MISSING, count, decimal, escape, percent, points, signed, sort_value)

SLICE_TABLE_ID = 'slice-table'
TEST_SPLIT_TABLE_ID = 'test-split-table'
CONFUSED_PAIRS = 10
SCROLL_ROWS = 30


def text_cell(text: str) -> str:
  """A text cell: sorted by its text."""
  return f'<td>{escape(text)}</td>'


def number_cell(text: str, value: Optional[float], title: str = '') -> str:
  """A number cell showing `text`: sorted by `value`, last when missing."""
  hint = f' title="{escape(title)}"' if title else ''
  return f'<td data-value="{sort_value(value)}"{hint}>{escape(text)}</td>'


def sortable_table(table_id: str, headers: Sequence[Tuple[str, str]], rows: List[str]) -> str:
  """A sortable table; `headers` are (label, 'number' or 'text'). Over SCROLL_ROWS rows it
  scrolls in a box of its own, under its header."""
  head = ''.join(f'<th scope="col" data-type="{kind}">{escape(label)}</th>'
                 for label, kind in headers)
  wrap = 'table-wrap scroll' if len(rows) > SCROLL_ROWS else 'table-wrap'
  return (f'<div class="{wrap}"><table class="sortable" id="{table_id}"><thead><tr>{head}'
          f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def _change_class(delta: Optional[float], higher_is_better: bool) -> str:
  if delta is None or np.isnan(delta) or abs(delta) < 5e-4:
    return 'same'
  return 'better' if (delta > 0) == higher_is_better else 'worse'


def overall_cards(evaluation_result: evaluation_results.Evaluation, overall: slices.SliceRow,
                  top_k: Optional[int]) -> str:
  """A card per headline metric: its value, its floor, and the baseline's value and the change
  when there is a baseline."""
  cards: List[Tuple[str, str, Callable, Callable, bool]] = [
      ('accuracy', evaluation.ACCURACY, percent, points, True)]
  if top_k:
    cards.append((f'top-{top_k} accuracy', evaluation.TOP_K_ACCURACY, percent, points, True))
  cards += [('macro recall', evaluation.MACRO_RECALL, percent, points, True),
            ('calibration error (ECE)', evaluation.CALIBRATION_ERROR, decimal, signed, False),
            ('examples', evaluation.EXAMPLE_COUNT, count, None, True)]
  html = []
  for title, metric, show, show_change, higher_is_better in cards:
    lines = [f'<div class="card-title">{escape(title)}</div>',
             f'<div class="card-value">{escape(show(overall.value(metric)))}</div>']
    if metric == overall.gate_metric and overall.floor is not None:
      lines.append(f'<div class="card-note">floor {escape(percent(overall.floor))}</div>')
    if evaluation_result.has_baseline and show_change:
      delta = overall.delta(metric)
      lines.append(
          f'<div class="card-note">baseline {escape(show(overall.baseline(metric)))} '
          f'<span class="change {_change_class(delta, higher_is_better)}">'
          f'{escape(show_change(delta))}</span></div>')
    html.append(f'<div class="card" data-metric="{escape(metric)}">{"".join(lines)}</div>')
  return f'<div class="cards">{"".join(html)}</div>'


def _slice_cell(result: evaluation_results.SliceResult,
                class_names: Optional[Sequence[str]]) -> str:
  """A slice's name cell; a class slice also shows the class name."""
  name, key = escape(result.name), result.key
  if class_names and len(key) == 1 and key[0][0] == features.LABEL:
    name += f' <span class="note">{escape(slices.class_label(int(key[0][1]), class_names))}</span>'
  return f'<td class="slice-name" data-value="{escape(result.name)}">{name}</td>'


def _paired_cells(row: slices.SliceRow) -> str:
  """Examples the candidate lost and gained against the baseline (sorted by their difference),
  and McNemar's p-value of the loss."""
  lost, gained = row.delta(evaluation.EXAMPLES_LOST), row.delta(evaluation.EXAMPLES_GAINED)
  p_value = row.delta(evaluation.LOSS_P_VALUE)
  if lost is None:
    return number_cell(MISSING, None) + number_cell(MISSING, None)
  return (number_cell(f'{lost:.0f} / {gained:.0f}', lost - gained,
                      'examples right before and wrong now / wrong before and right now')
          + number_cell(decimal(p_value), p_value,
                        'McNemar\'s exact test: the chance of losing this many of the examples '
                        'one model gets right and the other wrong if the candidate were no '
                        'worse'))


def slice_table(evaluation_result: evaluation_results.Evaluation,
                rows: Sequence[slices.SliceRow], *, top_k: Optional[int],
                min_slice_size: int, class_names: Optional[Sequence[str]]) -> str:
  """Every slice: its metrics, the baseline's accuracy and the change, its bounds, status."""
  baseline = evaluation_result.has_baseline
  headers = [('slice', 'text'), ('examples', 'number'), ('accuracy', 'number'),
             ('gated', 'number')]
  headers += [(f'top-{top_k}', 'number')] if top_k else []
  headers += [('macro recall', 'number'), ('ECE', 'number')]
  headers += [('baseline accuracy', 'number'), ('Δ accuracy', 'number'),
              ('lost / gained', 'number'), ('p (loss)', 'number')] if baseline else []
  headers += [('floor', 'number'), ('max drop', 'number'), ('status', 'text')]
  html_rows = []
  for row in rows:
    cells = [_slice_cell(row.result, class_names),
             number_cell(count(row.result.examples), row.result.examples),
             number_cell(percent(row.value(evaluation.ACCURACY)), row.value(evaluation.ACCURACY))]
    if row.status == slices.TOO_SMALL:
      cells.append(number_cell(MISSING, None,
                               f'too small to gate: fewer than {min_slice_size} examples'))
    else:
      cells.append(number_cell(percent(row.value(row.gate_metric)), row.value(row.gate_metric)))
    metrics = ([evaluation.TOP_K_ACCURACY] if top_k else []) + [evaluation.MACRO_RECALL]
    cells += [number_cell(percent(row.value(m)), row.value(m)) for m in metrics]
    ece = row.value(evaluation.CALIBRATION_ERROR)
    cells.append(number_cell(decimal(ece), ece))
    if baseline:
      before, delta = row.baseline(evaluation.ACCURACY), row.delta(evaluation.ACCURACY)
      cells += [number_cell(percent(before), before), number_cell(points(delta), delta),
                _paired_cells(row)]
    cells += [number_cell(percent(row.floor), row.floor),
              number_cell(points(row.max_drop, sign=False), row.max_drop)]
    reasons = '; '.join(row.reasons)
    cells.append(f'<td data-value="{escape(row.status)}"><span class="badge '
                 f'badge-{css_class(row.status)}" title="{escape(reasons)}">'
                 f'{escape(row.status)}</span></td>')
    html_rows.append(f'<tr data-slice="{escape(row.name)}" class="status-'
                     f'{css_class(row.status)}">{"".join(cells)}</tr>')
  return sortable_table(SLICE_TABLE_ID, headers, html_rows)


def class_table(evaluation_result: evaluation_results.Evaluation,
                labels: Sequence[str]) -> str:
  """Per class, overall: examples (actual), predictions, precision and recall of the top-1
  class; the baseline's recall and the change when there is a baseline."""
  overall = evaluation_result.overall
  matrix = evaluation_result.confusion
  baseline = evaluation_result.has_baseline
  headers = [('class id', 'number'), ('class', 'text'), ('examples', 'number'),
             ('predicted', 'number'), ('precision', 'number'), ('recall', 'number')]
  headers += [('baseline recall', 'number'), ('Δ recall', 'number')] if baseline else []
  rows = []
  for class_id, name in enumerate(labels):
    precision = overall.metrics.get(evaluation_results.metric_name(
        evaluation.PRECISION, f'classId:{class_id}'))
    recall_key = evaluation_results.metric_name(evaluation.RECALL, f'classId:{class_id}')
    recall = overall.metrics.get(recall_key)
    support, predicted = matrix[class_id].sum(), matrix[:, class_id].sum()
    cells = [number_cell(str(class_id), class_id), text_cell(name),
             number_cell(count(support), support),
             number_cell(count(predicted), predicted), number_cell(percent(precision), precision),
             number_cell(percent(recall), recall)]
    if baseline:
      before, delta = overall.baseline.get(recall_key), overall.delta.get(recall_key)
      cells += [number_cell(percent(before), before), number_cell(points(delta), delta)]
    rows.append(f'<tr>{"".join(cells)}</tr>')
  return sortable_table('class-table', headers, rows)


def confused_pairs_table(matrix: np.ndarray, labels: Sequence[str]) -> str:
  """The CONFUSED_PAIRS largest off-diagonal counts: actual, predicted, count, share of the
  actual class; ties by class ids."""
  off_diagonal = matrix - np.diag(np.diag(matrix))
  actual, predicted = np.nonzero(off_diagonal)
  pairs = sorted(zip(actual.tolist(), predicted.tolist()),
                 key=lambda p: (-off_diagonal[p], p))[:CONFUSED_PAIRS]
  if not pairs:
    return '<p>No example was misclassified.</p>'
  rows = []
  for a, p in pairs:
    share = matrix[a, p] / matrix[a].sum()
    rows.append(f'<tr>{text_cell(labels[a])}{text_cell(labels[p])}'
                f'{number_cell(count(matrix[a, p]), matrix[a, p])}'
                f'{number_cell(percent(share), share)}</tr>')
  return sortable_table('confused-pairs', [('actual', 'text'), ('predicted as', 'text'),
                                           ('examples', 'number'), ('share of actual', 'number')],
                        rows)


def split_table(evaluation_result: evaluation_results.Evaluation,
                test_result: evaluation_results.Evaluation,
                class_names: Optional[Sequence[str]]) -> str:
  """Per slice, overall first, then the eval split's slices in its order and those only the test
  split has: examples and accuracy on the eval split and on the test split, and the change from
  the one to the other."""
  evaluated = {s.name: s for s in evaluation_result.slices}
  tested = {s.name: s for s in test_result.slices}
  headers = [('slice', 'text'), ('eval examples', 'number'), ('eval accuracy', 'number'),
             ('test examples', 'number'), ('test accuracy', 'number'),
             ('test − eval', 'number')]
  rows = []
  for name in [*evaluated, *(name for name in tested if name not in evaluated)]:
    on_eval, on_test = evaluated.get(name), tested.get(name)
    cells = [_slice_cell(on_eval or on_test, class_names)]
    for result in (on_eval, on_test):
      examples, accuracy = (result.examples, result.accuracy) if result else (None, None)
      cells += [number_cell(count(examples), examples), number_cell(percent(accuracy), accuracy)]
    change = on_test.accuracy - on_eval.accuracy if on_eval and on_test else None
    cells.append(number_cell(points(change), change))
    rows.append(f'<tr data-slice="{escape(name)}">{"".join(cells)}</tr>')
  return sortable_table(TEST_SPLIT_TABLE_ID, headers, rows)
