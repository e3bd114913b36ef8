"""Inline SVG charts, drawn server-side so the page needs no script or network to show them:
per-slice accuracy bars with their thresholds, the confusion-matrix heat map, the
reliability diagram and accuracy lines across registry versions. Colours come from the page's
style sheet (CSS classes)."""
import dataclasses
from typing import List, Optional, Sequence

import numpy as np

from components.dashboard.formatting import count, escape, percent

HATCH_ID = 'hatch-too-small'
# Defined once per page; bars of slices too small to gate are filled with it.
HATCH_DEFS = (f'<svg width="0" height="0" aria-hidden="true" style="position:absolute">'
              f'<defs><pattern id="{HATCH_ID}" width="6" height="6" '
              f'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
              f'<rect width="6" height="6" class="hatch-ground"/>'
              f'<line x1="0" y1="0" x2="0" y2="6" class="hatch-line"/></pattern></defs></svg>')
MAX_LABEL_CHARS = 22


@dataclasses.dataclass(frozen=True)
class Bar:
  """One slice's bar: `value` and the bounds are fractions in [0, 1]."""
  label: str
  value: float
  status: str                      # slices.PASS, FAIL, TOO_SMALL or NOT_GATED
  tooltip: str
  floor: Optional[float] = None
  baseline: Optional[float] = None
  lowest_allowed: Optional[float] = None  # baseline minus the largest drop allowed


def _n(value: float) -> str:
  return f'{value:.1f}'


def _short(label: str) -> str:
  return label if len(label) <= MAX_LABEL_CHARS else label[:MAX_LABEL_CHARS - 1] + '…'


def _svg(width: float, height: float, label: str, body: List[str]) -> str:
  return (f'<svg viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" '
          f'height="{_n(height)}" role="img" aria-label="{escape(label)}">'
          + ''.join(body) + '</svg>')


def _line(x1, y1, x2, y2, css_class: str) -> str:
  return (f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
          f'class="{css_class}"/>')


def _text(x, y, text: str, css_class: str, anchor: str = 'middle', rotate: float = 0) -> str:
  turn = f' transform="rotate({_n(rotate)} {_n(x)} {_n(y)})"' if rotate else ''
  return (f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" class="{css_class}"{turn}>'
          f'{escape(text)}</text>')


def css_class(status: str) -> str:
  """'too small' -> 'too-small'."""
  return status.replace(' ', '-')


def bar_chart(bars: Sequence[Bar], *, label: str) -> str:
  """Accuracy per slice, 0-100%; each bar's floor as a solid line across its slot, its
  baseline as a black tick and the lowest value the regression gate allows as a dashed tick."""
  slot, bar_width, plot_height, top, left, right = 40, 26, 170, 14, 46, 12
  rotate = any(len(b.label) > 5 for b in bars)
  bottom = 16 + 5.6 * max(len(_short(b.label)) for b in bars) * 0.7 if rotate else 26
  width, height = left + slot * len(bars) + right, top + plot_height + bottom

  def y(fraction: float) -> float:
    return top + plot_height * (1 - min(max(fraction, 0.0), 1.0))

  body = []
  for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
    body.append(_line(left, y(tick), width - right, y(tick), 'grid'))
    body.append(_text(left - 5, y(tick) + 4, f'{100 * tick:.0f}%', 'tick', 'end'))
  for i, bar in enumerate(bars):
    x0 = left + slot * i
    x = x0 + (slot - bar_width) / 2
    inside = bar.value >= 0.15 and bar.status != 'too small'  # the value on the bar itself
    parts = [f'<title>{escape(bar.tooltip)}</title>',
             f'<rect x="{_n(x)}" y="{_n(y(bar.value))}" width="{bar_width}" '
             f'height="{_n(y(0) - y(bar.value))}"/>',
             _text(x0 + slot / 2, y(bar.value) + (11 if inside else -3),
                   f'{100 * bar.value:.0f}%', 'value inside' if inside else 'value')]
    if bar.floor is not None:
      parts.append(_line(x0, y(bar.floor), x0 + slot, y(bar.floor), 'floor'))
    if bar.lowest_allowed is not None:
      parts.append(_line(x - 3, y(bar.lowest_allowed), x + bar_width + 3,
                         y(bar.lowest_allowed), 'allowed'))
    if bar.baseline is not None:
      parts.append(_line(x - 3, y(bar.baseline), x + bar_width + 3, y(bar.baseline),
                         'baseline'))
    label_y = y(0) + 12
    parts.append(_text(x0 + slot / 2, label_y, _short(bar.label), 'label',
                       'end' if rotate else 'middle', -40 if rotate else 0))
    body.append(f'<g class="bar bar-{css_class(bar.status)}">{"".join(parts)}</g>')
  return _svg(width, height, label, body)


def most_confused_classes(matrix: np.ndarray, limit: int) -> List[int]:
  """The `limit` classes with the most confusions, counting both ways (examples of the class
  predicted as another, and examples of others predicted as it), in id order; ties by id."""
  off_diagonal = matrix - np.diag(np.diag(matrix))
  confusions = off_diagonal.sum(axis=0) + off_diagonal.sum(axis=1)
  ranked = sorted(range(len(matrix)), key=lambda c: (-confusions[c], c))
  return sorted(ranked[:limit])


def confusion_heatmap(matrix: np.ndarray, labels: Sequence[str], *, label: str) -> str:
  """Counts [actual, predicted] with each cell shaded by its share of the actual class
  (row), hits on the diagonal in one colour, confusions in another."""
  classes = len(labels)
  cell = 28 if classes <= 16 else 20
  margin = 12 + 6.2 * max(len(_short(name)) for name in labels)
  left, top = margin + 18, margin + 18
  size = cell * classes
  rows = np.maximum(matrix.sum(axis=1), 1)
  body = [f'<rect x="{_n(left)}" y="{_n(top)}" width="{size}" height="{size}" class="ground"/>']
  for i, name in enumerate(labels):
    body.append(_text(left - 5, top + cell * i + cell / 2 + 4, _short(name), 'label', 'end'))
    cx, cy = left + cell * i + cell / 2 + 4, top - 5
    body.append(_text(cx, cy, _short(name), 'label', 'start', -60))
  for actual in range(classes):
    for predicted in range(classes):
      value = matrix[actual, predicted]
      if not value:
        continue
      share = value / rows[actual]
      kind = 'hit' if actual == predicted else 'miss'
      x, y = left + cell * predicted, top + cell * actual
      tooltip = (f'actual {labels[actual]}, predicted {labels[predicted]}: {count(value)} '
                 f'({percent(share)} of {labels[actual]})')
      body.append(f'<g class="cell {kind}{" strong" if share > 0.6 else ""}">'
                  f'<title>{escape(tooltip)}</title>'
                  f'<rect x="{_n(x)}" y="{_n(y)}" width="{cell}" height="{cell}" '
                  f'fill-opacity="{0.15 + 0.85 * share:.3f}"/>'
                  + _text(x + cell / 2, y + cell / 2 + 4, count(value), 'count') + '</g>')
  body.append(_text(left + size / 2, top + size + 16, 'predicted class', 'axis'))
  body.append(_text(left - margin - 4, top + size / 2, 'actual class', 'axis', 'middle', -90))
  return _svg(left + size + 8, top + size + 24, label, body)


def reliability_diagram(bins, *, label: str) -> str:
  """Accuracy against top-1 confidence per bin (bars over the bin's range, a dot at its mean
  confidence), the diagonal of perfect calibration, and each bin's example count."""
  side, left, top, bottom = 260, 46, 16, 40

  def x(fraction: float) -> float:
    return left + side * fraction

  def y(fraction: float) -> float:
    return top + side * (1 - fraction)

  body = []
  for tick in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
    body.append(_line(left, y(tick), x(1), y(tick), 'grid'))
    body.append(_text(left - 5, y(tick) + 4, f'{tick:.1f}', 'tick', 'end'))
    body.append(_text(x(tick), y(0) + 14, f'{tick:.1f}', 'tick'))
  body.append(_line(x(0), y(0), x(1), y(1), 'ideal'))
  for b in bins:
    if not b.examples:
      continue
    accuracy, confidence = b.correct / b.examples, b.confidence_sum / b.examples
    tooltip = (f'confidence [{b.lower:.2f}, {b.upper:.2f}): {count(b.examples)} examples, '
               f'accuracy {percent(accuracy)}, mean confidence {percent(confidence)}')
    body.append(
        f'<g class="bin"><title>{escape(tooltip)}</title>'
        f'<rect x="{_n(x(b.lower) + 1)}" y="{_n(y(accuracy))}" '
        f'width="{_n(x(b.upper) - x(b.lower) - 2)}" height="{_n(y(0) - y(accuracy))}"/>'
        f'<circle cx="{_n(x(confidence))}" cy="{_n(y(accuracy))}" r="3"/>'
        + _text((x(b.lower) + x(b.upper)) / 2, y(accuracy) - 4, count(b.examples), 'value')
        + '</g>')
  body.append(_text(x(0.5), y(0) + 32, 'top-1 confidence', 'axis'))
  body.append(_text(14, y(0.5), 'accuracy', 'axis', 'middle', -90))
  return _svg(left + side + 12, top + side + bottom, label, body)


@dataclasses.dataclass(frozen=True)
class Series:
  """One line of a line chart: a value (a fraction in [0, 1], None where missing) per x."""
  name: str
  values: Sequence[Optional[float]]
  emphasis: bool = False  # drawn thick and dark (e.g. overall among its slices)


PALETTE_SIZE = 8  # series colours s0..s7 in the style sheet; then dash patterns d1, d2


def _accuracy_axis(series: Sequence[Series]) -> List[float]:
  """The y ticks: 0-100% by 25 when a value is under 50%, else by 10 from below the lowest."""
  lowest = min((v for s in series for v in s.values if v is not None), default=1.0)
  if lowest < 0.5:
    return [0.0, 0.25, 0.5, 0.75, 1.0]
  start = min(int(lowest * 10 + 1e-9), 9)
  return [tick / 10 for tick in range(start, 11)]


def line_chart(x_labels: Sequence[str], series: Sequence[Series], *, label: str) -> str:
  """Accuracy (y) against evenly spaced x positions, one polyline with a dot per value for
  each series (a missing value is skipped, the line joins its neighbours) and a legend of the
  series' names on the right. Each dot's title gives its x label, series and value."""
  slot, plot_height, top, left, bottom = 80, 180, 14, 46, 30
  plot_width = max(slot * (len(x_labels) - 1), 240)
  legend_x = left + plot_width + 24
  width = legend_x + 30 + 6.2 * max((len(_short(s.name)) for s in series), default=0)
  height = max(top + plot_height + bottom, top + 16 * len(series) + 8)
  ticks = _accuracy_axis(series)

  def x(i: int) -> float:
    return left + (plot_width / 2 if len(x_labels) == 1 else plot_width * i / (len(x_labels) - 1))

  def y(fraction: float) -> float:
    share = (fraction - ticks[0]) / (1.0 - ticks[0])
    return top + plot_height * (1 - min(max(share, 0.0), 1.0))

  body = []
  for tick in ticks:
    body.append(_line(left, y(tick), left + plot_width, y(tick), 'grid'))
    body.append(_text(left - 5, y(tick) + 4, f'{100 * tick:.0f}%', 'tick', 'end'))
  for i, name in enumerate(x_labels):
    body.append(_text(x(i), y(ticks[0]) + 14, name, 'tick'))
  for n, line in enumerate(series):
    points = [(i, v) for i, v in enumerate(line.values) if v is not None]
    style = (f'series s{n % PALETTE_SIZE} d{n // PALETTE_SIZE % 3}'
             + (' emphasis' if line.emphasis else ''))
    parts = [f'<title>{escape(line.name)}</title>',
             '<polyline points="' + ' '.join(f'{_n(x(i))},{_n(y(v))}' for i, v in points)
             + '"/>']
    parts += [f'<circle cx="{_n(x(i))}" cy="{_n(y(v))}" r="3"><title>'
              f'{escape(f"{x_labels[i]} {line.name}: {percent(v)}")}</title></circle>'
              for i, v in points]
    legend_y = top + 16 * n + 8
    parts += [_line(legend_x, legend_y - 4, legend_x + 22, legend_y - 4, 'key'),
              _text(legend_x + 28, legend_y, _short(line.name), 'label', 'start')]
    body.append(f'<g class="{style}" data-series="{escape(line.name)}">{"".join(parts)}</g>')
  return _svg(width, height, label, body)
