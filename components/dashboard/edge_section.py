"""The dashboard's Edge section: the pushed model's TFLite conversions beside the float32
network (the int8 gate's reference) and the SavedModel as served (size, latency at batch 1,
top-1 agreement, whether written and why not), and their accuracy overall and per slice,
side by side, from the EdgeExport's report."""
from typing import List, Optional

from components.dashboard import tables
from components.dashboard.formatting import MISSING, count, decimal, escape, percent, points, size
from components.dashboard.section import Section
from components.edge import scoring
from components.edge.report import EdgeReport, INT8, Latency

TITLE = 'Edge'
MODELS_TABLE_ID = 'edge-models-table'
SLICES_TABLE_ID = 'edge-slice-table'


def _latency(latency: Optional[Latency]) -> str:
  if latency is None:
    return MISSING
  return f'{decimal(latency.median_ms, 2)} / {decimal(latency.p90_ms, 2)} ms'


def _models(report: EdgeReport) -> str:
  overall = next(iter(report.models.values())).overall
  rows = ['<tr data-model="float">' + tables.text_cell('float32 network (the reference)')
          + tables.text_cell(MISSING)
          + tables.number_cell(percent(overall.float_accuracy), overall.float_accuracy)
          + tables.text_cell(MISSING) * 3
          + tables.text_cell('the SavedModel\'s weights, in float32') + '</tr>',
          '<tr data-model="served">'
          + tables.text_cell(f'SavedModel (serve_images, {report.served_policy})')
          + tables.number_cell(size(report.saved_model_bytes), report.saved_model_bytes)
          + tables.number_cell(percent(overall.served_accuracy), overall.served_accuracy)
          + tables.number_cell(points(overall.served_delta), overall.served_delta)
          + tables.text_cell(MISSING)
          + tables.number_cell(_latency(report.float_latency), report.float_latency
                               and report.float_latency.median_ms)
          + tables.text_cell('in the registry version') + '</tr>']
  for model in report.models.values():
    status = (f'written: {model.path}' if model.written
              else 'NOT written: ' + '; '.join(model.reasons))
    rows.append(
        f'<tr data-model="{escape(model.kind)}"' + ('>' if model.written else
                                                     ' class="status-fail">')
        + tables.text_cell(f'TFLite {model.kind}')
        + tables.number_cell(size(model.size_bytes), model.size_bytes)
        + tables.number_cell(percent(model.overall.accuracy), model.overall.accuracy)
        + tables.number_cell(points(model.overall.delta), model.overall.delta)
        + tables.number_cell(percent(model.agreement), model.agreement)
        + tables.number_cell(_latency(model.latency), model.latency and model.latency.median_ms)
        + tables.text_cell(status) + '</tr>')
  headers = [('model', 'text'), ('size', 'number'), ('accuracy', 'number'),
             ('vs float32', 'number'), ('top-1 agrees with float32', 'number'),
             ('latency median / p90', 'number'), ('registry', 'text')]
  return tables.sortable_table(MODELS_TABLE_ID, headers, rows)


def _slices(report: EdgeReport) -> str:
  models = list(report.models.values())
  rows: List[str] = []
  for name, first in models[0].slices.items():
    gated = scoring.gated(name, first.examples, report.min_slice_size)
    failed = gated and INT8 in report.models and scoring.too_far_below(
        report.models[INT8].slices[name], report.max_drop)
    cells = (tables.text_cell(name) + tables.number_cell(count(first.examples), first.examples)
             + tables.number_cell(percent(first.float_accuracy), first.float_accuracy)
             + tables.number_cell(percent(first.served_accuracy), first.served_accuracy))
    for model in models:
      result = model.slices[name]
      cells += (tables.number_cell(percent(result.accuracy), result.accuracy)
                + tables.number_cell(points(result.delta), result.delta))
    cells += tables.text_cell('yes' if gated else 'no')
    rows.append(f'<tr data-slice="{escape(name)}"'
                + (' class="status-fail">' if failed else '>') + cells + '</tr>')
  headers = [('slice', 'text'), ('examples', 'number'), ('float32', 'number'),
             ('SavedModel', 'number')]
  for model in models:
    headers += [(model.kind, 'number'), (f'{model.kind} vs float32', 'number')]
  headers.append(('int8 gated', 'text'))
  return tables.sortable_table(SLICES_TABLE_ID, headers, rows)


def edge_section(report: Optional[EdgeReport]) -> Section:
  """The section of `report`, or a note when the model was not exported for the edge."""
  if report is None:
    return Section(TITLE, '<p class="note">No edge export: no model was pushed in this run, '
                   'or the export is off (--edge_export false).</p>')
  shape = ' x '.join(map(str, report.input_shape))
  caption = (f'<p class="caption">The pushed model converted to TFLite: input uint8 [{shape}] '
             f'(pixels after the {escape(report.recipe)} preprocessing, before mean/std), '
             f'float32 probabilities out; int8 calibrated on '
             f'{report.representative_examples} training images, with '
             f'{escape(", ".join(report.float_ops) or "no op")} in float. Accuracy on the '
             f'{count(report.eval_examples)} eval images, with the Evaluator\'s slices, '
             'against the float model: the trained network in float32 arithmetic on the same '
             'pixels. The SavedModel computes in '
             f'{escape(report.served_policy)} (its accuracy is the Evaluator\'s). The int8 '
             f'model is written only when it is at most {points(report.max_drop, sign=False)} '
             'below the float32 network overall and on every scenario slice of at least '
             f'{report.min_slice_size} examples. Latency: '
             'batch 1, ms per image, on the machine the pipeline ran on (the SavedModel\'s '
             'decodes the encoded image too).</p>')
  return Section(TITLE, caption + _models(report) + '<h3>Accuracy per slice</h3>'
                 + _slices(report))
