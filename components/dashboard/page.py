"""The dashboard page: one self-contained static HTML file (inline CSS, script and SVG; no
network fetch) of one pipeline run: its evaluation, the data gate's verdict on the newest span,
or both. The same inputs give the same bytes."""
import os
from typing import List, Optional, Sequence, Tuple

import tensorflow as tf

from components import atomic_file
from components import evaluation
from components import evaluation_results
from components.dashboard import charts
from components.dashboard import data_section
from components.dashboard import slices
from components.dashboard import tables
from components.dashboard.formatting import decimal, escape, percent, points
from components.dashboard.section import Section
from components.data_gate.result import GateResult

MAX_BARS = 40             # per chart; more values: the lowest-accuracy ones are drawn
MAX_MATRIX_CLASSES = 24   # more classes: the most confused ones are drawn
_HERE = os.path.dirname(os.path.abspath(__file__))


def _asset(name: str) -> str:
  with open(os.path.join(_HERE, name), encoding='utf-8') as f:
    return f.read()


def _verdict(evaluation_result: Optional[evaluation_results.Evaluation],
             data_gate: Optional[GateResult]) -> str:
  """The evaluation's verdict, or the data gate's when it blocked training."""
  if evaluation_result is None:
    reasons = ''.join(f'<li>{escape(reason)}</li>' for reason in data_gate.reasons)
    return ('<div class="verdict verdict-not-blessed" id="verdict"><strong>Not trained'
            '</strong>: the data gate blocked this delivery.'
            f'<ul class="reasons">{reasons}</ul></div>')
  if evaluation_result.blessed:
    verdict = ('<div class="verdict verdict-blessed" id="verdict"><strong>BLESSED</strong> '
               '&mdash; every threshold passed.</div>')
  else:
    reasons = ''.join(f'<li>{escape(reason)}</li>' for reason in evaluation_result.reasons)
    verdict = ('<div class="verdict verdict-not-blessed" id="verdict"><strong>NOT BLESSED'
               f'</strong> &mdash; failed thresholds:<ul class="reasons">{reasons}</ul></div>')
  baseline = ('Compared with the last blessed model (the baseline).'
              if evaluation_result.has_baseline else
              'No baseline: first model, only floors gate.')
  return verdict + f'<p class="baseline-note" id="baseline-note">{baseline}</p>'


def _header(evaluation_result: Optional[evaluation_results.Evaluation],
            data_gate: Optional[GateResult], title: str,
            details: Sequence[Tuple[str, str]]) -> str:
  facts = list(details)
  if evaluation_result is not None:
    locations = evaluation_result.eval_config.get('modelLocations', {})
    facts += [('evaluation', evaluation_result.uri)]
    facts += [(f'{name} model', path) for name, path in sorted(locations.items())]
  rows = ''.join(f'<dt>{escape(name)}</dt><dd>{escape(value)}</dd>' for name, value in facts)
  return (f'<h1>{escape(title)}</h1><dl class="details">{rows}</dl>'
          + _verdict(evaluation_result, data_gate))


def _gates(evaluation_result: evaluation_results.Evaluation, min_slice_size: int) -> str:
  """The thresholds as sentences."""
  lines = []
  thresholds = evaluation_results.describe_thresholds(evaluation_result)
  for (where, metric), bounds in sorted(  # overall first, then by feature
      thresholds.items(), key=lambda item: (item[0][0] != evaluation_results.OVERALL, item[0])):
    if where == evaluation_results.OVERALL:
      scope = 'overall'
    else:  # a feature ('scenario/level') or one value of it ('scenario/level=5')
      scope = f'on {where}' if '=' in where else f'every slice of {where}'
    if 'floor' in bounds:
      lines.append(f'{metric} at least {percent(bounds["floor"])} {scope}')
    if 'max_drop' in bounds and metric == evaluation.SIGNIFICANT_CHANGE:
      significance = evaluation_results.regression_significance(evaluation_result)
      lines.append(f'accuracy no more than {points(bounds["max_drop"], sign=False)} below the '
                   f'baseline {scope}, unless McNemar\'s test on the examples one model gets '
                   f'right and the other wrong gives p of {significance:g} or more (the drop may '
                   'be chance)')
    elif 'max_drop' in bounds:
      lines.append(f'{metric} no more than {points(bounds["max_drop"], sign=False)} below the '
                   f'baseline {scope}')
  lines.append(f'slices of fewer than {min_slice_size} examples are shown but too small to '
               'gate (their gated_accuracy is 1.0); the overall slice is always gated')
  return ('<ul class="gates">' + ''.join(f'<li>{escape(line)}</li>' for line in lines)
          + '</ul>')


_LEGEND = ('<p class="legend"><span><i class="swatch pass"></i>passes</span>'
           '<span><i class="swatch fail"></i>fails a threshold</span>'
           '<span><i class="swatch too-small"></i>too small to gate</span>'
           '<span><i class="swatch not-gated"></i>no threshold</span>'
           '<span><i class="swatch line floor"></i>floor</span>'
           '<span><i class="swatch line baseline"></i>baseline</span>'
           '<span><i class="swatch line allowed"></i>baseline minus the tolerance (on a '
           'slice, a drop below it fails only when significant)</span></p>')


def _bar(row: slices.SliceRow, has_baseline: bool,
         class_names: Optional[Sequence[str]]) -> charts.Bar:
  accuracy = row.value(evaluation.ACCURACY)
  baseline = row.baseline(evaluation.ACCURACY) if has_baseline else None
  lowest = None
  gate_baseline = row.baseline(row.gate_metric) if has_baseline else None
  if gate_baseline is not None and row.max_drop is not None and row.status != slices.TOO_SMALL:
    lowest = gate_baseline - row.max_drop
  tooltip = [f'{row.name}: accuracy {percent(accuracy)} of {row.result.examples} examples']
  tooltip += [f'baseline {percent(baseline)}'] if baseline is not None else []
  tooltip += [f'floor {percent(row.floor)}'] if row.floor is not None else []
  tooltip += [f'baseline minus the tolerance {percent(lowest)}'] if lowest is not None else []
  return charts.Bar(label=slices.value_label(row.result.key, class_names), value=accuracy,
                    status=row.status, tooltip='; '.join(tooltip + [row.status]),
                    floor=row.floor, baseline=baseline, lowest_allowed=lowest)


def _slice_charts(evaluation_result, groups, class_names) -> str:
  figures = []
  for sliced_by, group in groups:
    name = ' × '.join(sliced_by)
    caption = f'{name}: accuracy per value'
    if len(group) > MAX_BARS:
      lowest = sorted(range(len(group)), key=lambda i: (group[i].value(evaluation.ACCURACY), i))
      group = [group[i] for i in sorted(lowest[:MAX_BARS])]
      caption += f' (the {MAX_BARS} lowest of {len(lowest)} values)'
    bars = [_bar(row, evaluation_result.has_baseline, class_names) for row in group]
    figures.append(f'<figure data-feature="{escape(name)}"><figcaption>{escape(caption)}'
                   f'</figcaption>{charts.bar_chart(bars, label=caption)}</figure>')
  return _LEGEND + '<div class="charts">' + ''.join(figures) + '</div>'


def _confusion(evaluation_result, labels: Sequence[str]) -> str:
  matrix = evaluation_result.confusion
  shown = list(range(len(labels)))
  caption = ('Counts by actual (rows) and predicted (columns) class, overall; shade: share of '
             'the actual class.')
  if len(labels) > MAX_MATRIX_CLASSES:
    shown = charts.most_confused_classes(matrix, MAX_MATRIX_CLASSES)
    caption += (f' The {MAX_MATRIX_CLASSES} of {len(labels)} classes with the most confusions '
                '(examples misclassified from or as them) are drawn; the table lists the most '
                'frequent confusions among all classes.')
  heatmap = charts.confusion_heatmap(matrix[shown][:, shown], [labels[c] for c in shown],
                                     label='confusion matrix')
  return (f'<p class="caption">{escape(caption)}</p><div class="side-by-side"><figure>'
          f'{heatmap}</figure><div><h3>Most frequent confusions</h3>'
          f'{tables.confused_pairs_table(matrix, labels)}</div></div>')


def _calibration(evaluation_result) -> str:
  ece = evaluation_result.overall.metrics.get(evaluation.CALIBRATION_ERROR)
  diagram = charts.reliability_diagram(evaluation_result.calibration,
                                       label='reliability diagram')
  return (f'<p class="caption">Accuracy per top-1 confidence bin (bar: the bin\'s range; dot: '
          f'its mean confidence; number: its examples). The dashed diagonal is perfect '
          f'calibration. Expected calibration error {escape(decimal(ece))}.</p>'
          f'<figure>{diagram}</figure>')


def _evaluation_sections(evaluation_result: evaluation_results.Evaluation,
                         class_names: Optional[Sequence[str]]) -> List[Section]:
  classes = evaluation_result.confusion.shape[0]
  if class_names is not None and len(class_names) != classes:
    raise ValueError(f'{len(class_names)} class names given for the evaluation at '
                     f'{evaluation_result.uri}, which has {classes} classes')
  labels = list(class_names) if class_names else [str(c) for c in range(classes)]
  rows = slices.slice_rows(evaluation_result)
  groups = slices.slice_groups(evaluation_result, rows)
  in_groups = [rows[0]] + [row for _, group in groups for row in group]  # overall first
  top_k = evaluation_results.top_k(evaluation_result)
  min_slice_size = evaluation_results.min_slice_size(evaluation_result)
  filter_box = (f'<input type="search" placeholder="Filter slices" aria-label="Filter slices" '
                f'data-filter="{tables.SLICE_TABLE_ID}" hidden>')
  return [
      Section('Overall', tables.overall_cards(evaluation_result, rows[0], top_k)),
      Section('Thresholds', _gates(evaluation_result, min_slice_size)),
      Section('Accuracy by scenario', _slice_charts(evaluation_result, groups, class_names)),
      Section('Every slice', filter_box + tables.slice_table(
          evaluation_result, in_groups, top_k=top_k, min_slice_size=min_slice_size,
          class_names=class_names)),
      Section('Per class', tables.class_table(evaluation_result, labels)),
      Section('Confusion matrix', _confusion(evaluation_result, labels)),
      Section('Calibration', _calibration(evaluation_result))]


def render_dashboard(evaluation_result: Optional[evaluation_results.Evaluation] = None, *,
                     class_names: Optional[Sequence[str]] = None,
                     title: str = 'Model evaluation',
                     details: Sequence[Tuple[str, str]] = (),
                     sections: Sequence[Section] = (),
                     data_gate: Optional[GateResult] = None) -> str:
  """The page as text. `class_names`: one per class id, else ids are shown; `details`:
  (name, value) facts for the header (model, run, dates); `data_gate`: the DataGate's verdict
  on the newest span, shown as the Data section after the evaluation's; `sections`: appended
  at the end. Without an evaluation (training was not run) the page shows the data gate's
  verdict, which must then have blocked, its reasons and `sections`."""
  if evaluation_result is None and (data_gate is None or data_gate.passed):
    raise ValueError('no evaluation to show, and no data gate that blocked training')
  parts: List[Section] = (_evaluation_sections(evaluation_result, class_names)
                          if evaluation_result is not None else [])
  parts += [data_section.data_section(data_gate)] if data_gate is not None else []
  parts += sections
  nav = ''.join(f'<a href="#{s.anchor}">{escape(s.title)}</a>' for s in parts)
  body = ''.join(f'<section id="{s.anchor}"><h2>{escape(s.title)}</h2>{s.html}</section>'
                 for s in parts)
  header = _header(evaluation_result, data_gate, title, details)
  return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
          '<meta name="viewport" content="width=device-width, initial-scale=1">'
          f'<title>{escape(title)}</title><style>{_asset("style.css")}</style></head>'
          f'<body>{charts.HATCH_DEFS}<main><header>{header}'
          f'<nav>{nav}</nav></header>{body}</main>'
          f'<script>{_asset("sort_table.js")}</script></body></html>\n')


def write_dashboard(path: str, evaluation_result: Optional[evaluation_results.Evaluation],
                    **options) -> str:
  """Writes render_dashboard(evaluation_result, **options) to `path` (any tf.io.gfile path),
  whole or not at all; returns `path`."""
  page = render_dashboard(evaluation_result, **options)
  folder = os.path.dirname(path)
  if folder:
    tf.io.gfile.makedirs(folder)
  atomic_file.write(path, page)
  return path
