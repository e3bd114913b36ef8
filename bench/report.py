"""Printing benchmark results: one aligned table from rows of fields."""
from typing import Any, Mapping, Sequence, Tuple


def print_table(columns: Sequence[Tuple[str, str, str]], runs: Sequence[Mapping[str, Any]], *,
                left_aligned: int = 0) -> None:
  """`columns`: (field, header, format) triples; a None value prints empty. The first
  `left_aligned` columns align left (names), the rest right (figures)."""
  table = [[header for _, header, _ in columns]] + [
      ['' if run[field] is None else fmt.format(run[field]) for field, _, fmt in columns]
      for run in runs]
  widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
  for row in table:
    print('  '.join(cell.ljust(w) if i < left_aligned else cell.rjust(w)
                    for i, (cell, w) in enumerate(zip(row, widths))))
