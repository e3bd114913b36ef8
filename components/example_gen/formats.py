"""The registry of dataset formats ExampleGen reads, by name.

A format module knows one published on-disk layout: `SPLIT_PATTERNS` (split name -> glob
relative to the data root) and `example_from_file(path, data_root) -> tf.train.Example`.
"""
import types

from components.example_gen import cure_tsr

FORMATS = {
    'cure_tsr': cure_tsr,
}


def get_format(dataset: str) -> types.ModuleType:
  try:
    return FORMATS[dataset]
  except KeyError:
    raise ValueError(f'Unknown dataset format {dataset!r}; known: {sorted(FORMATS)}') from None
