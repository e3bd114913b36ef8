"""How the dashboard writes numbers and text: one place, so cards, tables and charts agree."""
import html
import math
from typing import Optional

MISSING = '–'  # a metric with no value: NaN (e.g. precision of a class never predicted) or None


def escape(text) -> str:
  """`text` as HTML text or a quoted attribute value (& < > " ' escaped)."""
  return html.escape(str(text), quote=True)


def _missing(value: Optional[float]) -> bool:
  return value is None or math.isnan(value)


def percent(fraction: Optional[float]) -> str:
  """0.625 -> '62.5%'."""
  return MISSING if _missing(fraction) else f'{100 * fraction:.1f}%'


def points(delta: Optional[float], *, sign: bool = True) -> str:
  """A change of a fraction in percentage points: -0.375 -> '-37.5 pp', 0.05 -> '+5.0 pp'
  ('5.0 pp' without `sign`, for a size such as the largest drop allowed)."""
  if _missing(delta):
    return MISSING
  rounded = round(100 * delta, 1)
  return '0.0 pp' if rounded == 0 else f'{rounded:{"+" if sign else ""}.1f} pp'


def decimal(value: Optional[float], digits: int = 3) -> str:
  """0.26000000536 -> '0.260'."""
  return MISSING if _missing(value) else f'{value:.{digits}f}'


def signed(value: Optional[float], digits: int = 3) -> str:
  """A change as a signed decimal: -0.1187 -> '-0.119'."""
  if _missing(value):
    return MISSING
  return f'{0.0:.{digits}f}' if round(value, digits) == 0 else f'{value:+.{digits}f}'


def count(value: Optional[float]) -> str:
  """Examples: 14112.0 -> '14,112'."""
  return MISSING if _missing(value) else f'{round(value):,d}'


def size(num_bytes: int) -> str:
  """A size in bytes, binary units: 3145728 -> '3.0 MiB', 163840 -> '160 KiB', 900 -> '900 B'."""
  if num_bytes >= 2**20:
    return f'{num_bytes / 2**20:.1f} MiB'
  return f'{num_bytes / 2**10:.0f} KiB' if num_bytes >= 2**10 else f'{num_bytes} B'


def sort_value(value: Optional[float]) -> str:
  """A table cell's `data-value` for sorting: the number, '' (sorted last) when missing."""
  return '' if _missing(value) else repr(float(value))
