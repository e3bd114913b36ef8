"""The dashboard's History section: overall and per-scenario-slice accuracy of every registry
version of the model, in version order, as inline SVG line charts (one per scenario feature,
each with the overall line) and a table of the versions' lineage."""
from typing import Dict, List, Optional, Sequence, Tuple

from components import evaluation
from components import features
from components.dashboard import charts
from components.dashboard import slices
from components.dashboard import tables
from components.dashboard.formatting import MISSING, escape, percent
from components.dashboard.section import Section
from components.registry import FilesystemRegistry, ModelCard, NotFoundError

TITLE = 'History'
TABLE_ID = 'history-table'
Registered = Tuple[int, ModelCard]  # a registry version's number and its model card


def registry_history(registry_root: str, model_name: str) -> List[Registered]:
  """Every version of `model_name` in the filesystem registry at `registry_root`, oldest
  first; [] when the model has no version yet."""
  registry = FilesystemRegistry(registry_root)
  try:
    versions = registry.list_versions(model_name)
  except NotFoundError:
    return []
  return [(v.number, registry.show(model_name, v.number)) for v in versions]


def scenario_accuracy(cards: Sequence[ModelCard]) -> Dict[str, Dict[str, List[Optional[float]]]]:
  """Scenario feature -> value -> accuracy per card (None where a card lacks the slice), from
  the cards' one-feature scenario slices ('scenario/level=5'); features and values sorted as
  the evaluation's slices (levels 1, 2, ..., 10)."""
  found: Dict[str, set] = {}
  for card in cards:
    for name in card.slice_metrics:
      feature, _, value = name.partition('=')
      if feature.startswith(features.SCENARIO_PREFIX) and '=' not in value:
        found.setdefault(feature, set()).add(value)
  return {feature: {value: [card.slice_metrics.get(f'{feature}={value}', {}).get(
      evaluation.ACCURACY) for card in cards] for value in sorted(found[feature],
                                                                   key=slices.value_order)}
          for feature in sorted(found)}


def _charts(history: Sequence[Registered]) -> str:
  cards = [card for _, card in history]
  labels = [f'v{number}' for number, _ in history]
  overall = charts.Series('overall', [c.metrics.get(evaluation.ACCURACY) for c in cards],
                          emphasis=True)
  per_feature = scenario_accuracy(cards) or {'overall': {}}  # no scenario slices: overall alone
  figures = []
  for feature, values in per_feature.items():
    lines = [overall] + [charts.Series(value, accuracy) for value, accuracy in values.items()]
    caption = (f'Accuracy per registry version: overall and per {feature} value'
               if values else 'Overall accuracy per registry version')
    figures.append(f'<figure data-feature="{escape(feature)}"><figcaption>{escape(caption)}'
                   f'</figcaption>{charts.line_chart(labels, lines, label=caption)}</figure>')
  return '<div class="charts">' + ''.join(figures) + '</div>'


def _spans(spans: Sequence[int]) -> str:
  return ', '.join(str(s) for s in spans) or MISSING


def _table(history: Sequence[Registered]) -> str:
  rows = []
  for number, card in history:
    parent = card.warm_started_from
    accuracy = card.metrics.get(evaluation.ACCURACY)
    rows.append(
        f'<tr data-version="{number}">' + tables.number_cell(str(number), number)
        + tables.text_cell(card.created_at or MISSING)
        + tables.text_cell(_spans(card.trained_on_spans))
        + tables.number_cell(MISSING if card.evaluated_on_span is None
                             else str(card.evaluated_on_span), card.evaluated_on_span)
        + tables.text_cell(f'{parent["model"]} v{parent["version"]}' if parent else MISSING)
        + tables.text_cell(', '.join(card.accepted_drift) or MISSING)
        + tables.number_cell(percent(accuracy), accuracy) + '</tr>')
  headers = [('version', 'number'), ('created', 'text'), ('spans trained on', 'text'),
             ('evaluated on span', 'number'), ('warm-started from', 'text'),
             ('accepted drift', 'text'), ('overall accuracy', 'number')]
  return tables.sortable_table(TABLE_ID, headers, rows)


def history_section(history: Sequence[Registered], model_name: str) -> Section:
  """The section: the charts and the table, or a note when nothing is registered yet."""
  if not history:
    return Section(TITLE, f'<p class="note">No version of {escape(model_name)} is registered '
                   'yet.</p>')
  return Section(TITLE, f'<p class="caption">Every version of {escape(model_name)} in the '
                 'registry, oldest first, as evaluated when it was registered.</p>'
                 + _charts(history) + _table(history))
