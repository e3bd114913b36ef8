"""The dashboard's Data section: the newest span's delivery as the DataGate judged it (its
examples per split, the ingestion's counts and quarantine, the schema anomalies, and the drift
of each checked feature against the previous span), from the gate's GateResult."""
from typing import Any

from components.dashboard import tables
from components.dashboard.formatting import count, decimal, escape, percent
from components.dashboard.section import Section
from components.data_gate.result import GateResult

TITLE = 'Data'
ANOMALY_TABLE_ID = 'anomaly-table'
DRIFT_TABLE_ID = 'drift-table'


def _fact(name: str, value: Any) -> str:
  """An ingestion count as text: numbers with separators, fractions as percentages, per-reason
  counts as 'reason: n', lists by their length."""
  if isinstance(value, dict):
    return '; '.join(f'{key}: {_fact(key, n)}' for key, n in sorted(value.items())) or 'none'
  if isinstance(value, list):
    return count(len(value)) if value else 'none'
  if isinstance(value, bool) or not isinstance(value, (int, float)):
    return str(value)
  if name.endswith('fraction'):
    return percent(value)
  return count(value) if isinstance(value, int) else decimal(value)


def _facts(result: GateResult) -> str:
  against = (f'span {result.baseline_span}' if result.baseline_span is not None
             else 'nothing: the first delivery')
  facts = [('span', str(result.span)), ('compared with', against)]
  facts += [(f'{split} examples', count(n)) for split, n in sorted(result.examples.items())]
  facts += [(f'ingestion: {name.replace("_", " ")}', _fact(name, value))
            for name, value in sorted(result.ingest.items()) if name != 'splits']
  return '<dl class="details" id="data-facts">' + ''.join(
      f'<dt>{escape(name)}</dt><dd>{escape(value)}</dd>' for name, value in facts) + '</dl>'


def _verdict(result: GateResult) -> str:
  if not result.passed:
    return ('<p class="gate gate-blocked" id="gate-verdict"><strong>Blocked</strong>: '
            'a schema anomaly or a drift over its threshold.</p>')
  accepted = (f' Drift accepted on {", ".join(result.accepted_drift)}.'
              if result.accepted_drift else '')
  return (f'<p class="gate gate-passed" id="gate-verdict"><strong>Passed</strong>: no schema '
          f'anomaly, no drift over its threshold.{escape(accepted)}</p>')


def _anomalies(result: GateResult) -> str:
  if not result.anomalies:
    return '<p class="note" id="no-anomalies">No schema anomalies.</p>'
  rows = ['<tr class="status-fail">' + tables.text_cell(a.split)
          + tables.text_cell(a.feature or '(dataset)') + tables.text_cell(a.description)
          + '</tr>' for a in result.anomalies]
  return tables.sortable_table(ANOMALY_TABLE_ID, [('split', 'text'), ('feature', 'text'),
                                                  ('anomaly', 'text')], rows)


def _drift(result: GateResult) -> str:
  if not result.drift:
    return ('<p class="note" id="no-drift">No drift checked: '
            + ('no feature to check.' if result.baseline_span is not None
               else 'no previous span.') + '</p>')
  rows = []
  for row in result.drift:
    over = row.distance > row.threshold
    rows.append(
        f'<tr data-feature="{escape(row.feature)}"'
        + (' class="status-fail">' if row.blocks else '>') + tables.text_cell(row.feature)
        + tables.number_cell(decimal(row.distance), row.distance)
        + tables.number_cell(decimal(row.threshold), row.threshold)
        + tables.text_cell('yes' if row.accepted else 'no')
        + tables.text_cell('yes' if row.blocks else ('no (accepted)' if over else 'no'))
        + '</tr>')
  caption = (f'<p class="caption">L-infinity distance between the value distributions of the '
             f'train splits of span {result.span} and span {result.baseline_span}; a distance '
             'over its threshold blocks unless a person accepted drift on that feature.</p>')
  return caption + tables.sortable_table(
      DRIFT_TABLE_ID, [('feature', 'text'), ('L-infinity distance', 'number'),
                       ('threshold', 'number'), ('accepted', 'text'), ('blocks', 'text')], rows)


def data_section(result: GateResult) -> Section:
  """The Data section of `result`."""
  return Section(TITLE, _verdict(result) + _facts(result)
                 + '<h3>Schema anomalies</h3>' + _anomalies(result)
                 + '<h3>Drift against the previous span</h3>' + _drift(result))
