"""Benchmark results: one aligned table from rows of fields, and the rows as CSV."""
import csv
import os
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


def write_csv(path: str, rows: Sequence[Mapping[str, Any]]) -> None:
  """`rows` (the same fields each, in the last row's order) as CSV at `path`."""
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  with open(path, 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[-1]))
    writer.writeheader()
    writer.writerows(rows)
  print(f'wrote {path}')
