"""Spans: the deliveries of a data root, each in the dataset's published layout.

  <data_root>/span-1/<layout>   span 1 (N = 1, 2, ...: only folders named exactly span-<N>)
  <data_root>/span-2/<layout>   span 2
  <data_root>/<layout>          no span folders: one span, span 0 (TFX's default), the root itself

A root holding both span folders and other entries is an error: which entries belong to which
delivery would be a guess. Entries whose names start with '.' (.DS_Store, .gitkeep) are not
layout content. Any tf.io.gfile path works (gs://...).
"""
import os
import re
from typing import List, Optional

import tensorflow as tf

from components.example_gen.layout import LayoutError
from components.example_gen.layout import span_folder

UNSPANNED = 0  # the span of a root without span folders
_SPAN_FOLDER = re.compile(r'span-([1-9][0-9]*)')


def _entries(data_root: str) -> List[str]:
  if not tf.io.gfile.isdir(data_root):
    raise LayoutError(f'{data_root}: data root does not exist or is not a directory')
  return sorted(name.rstrip('/') for name in tf.io.gfile.listdir(data_root)
                if not name.startswith('.'))


def spans_of(data_root: str) -> List[int]:
  """The spans delivered under `data_root`, ascending: the N of each span-<N>/ folder, or
  [0] for a root without span folders. LayoutError when the root does not exist, or holds
  span folders beside other entries."""
  spans, others = [], []
  for name in _entries(data_root):
    match = _SPAN_FOLDER.fullmatch(name)
    if match and tf.io.gfile.isdir(os.path.join(data_root, name)):
      spans.append(int(match.group(1)))
    else:
      others.append(name)
  if spans and others:
    shown = ', '.join(others[:5]) + (f' and {len(others) - 5} more' if len(others) > 5 else '')
    raise LayoutError(
        f'{data_root}: holds span folders ({", ".join(f"span-{n}" for n in sorted(spans))}) '
        f'beside other entries ({shown}): put each delivery in its own span-<N>/ folder, or '
        'use no span folders at all')
  return sorted(spans) or [UNSPANNED]


def span_root(data_root: str, span: Optional[int] = None) -> str:
  """The folder holding span `span` of `data_root` in the dataset's layout (the newest span
  when None): <data_root>/span-<span>, or the root itself for span 0 of a root without span
  folders. LayoutError naming the root's spans when it has no such span."""
  spans = spans_of(data_root)
  if span is None:
    span = spans[-1]
  if span not in spans:
    if spans == [UNSPANNED]:
      raise LayoutError(f'{data_root}: has no span folders (span-<N>/), so its one span is '
                        f'{UNSPANNED}; there is no span {span}')
    raise LayoutError(f'{data_root}: has no span {span} (no span-{span}/ folder); its spans: '
                      f'{spans}')
  if span == UNSPANNED:
    return data_root
  return os.path.join(data_root, span_folder(span))
