"""Tiny stand-ins for exported models and their cards, for the registry tests."""
import os
import pathlib
import time
from typing import Dict

import tensorflow as tf

from components.registry import ModelCard

# A SavedModel's files as TF writes them (contents are stand-ins; nothing here loads them).
_FILES = ('saved_model.pb', 'fingerprint.pb', 'variables/variables.index',
          'variables/variables.data-00000-of-00001', 'assets/labels.txt')
TOP_LEVEL_FILES = 2  # saved_model.pb and fingerprint.pb, copied before any subdirectory


def write_saved_model(path: pathlib.Path, tag: str = 'a') -> Dict[str, bytes]:
  """Writes a fake SavedModel whose bytes depend on `tag`; returns relative path -> bytes."""
  files = {name: f'{tag}:{name}:'.encode() * (1 + i * 500) for i, name in enumerate(_FILES)}
  for name, data in files.items():
    (path / name).parent.mkdir(parents=True, exist_ok=True)
    (path / name).write_bytes(data)
  return files


def read_tree(path) -> Dict[str, bytes]:
  """Relative path -> bytes of every file under `path`."""
  path = pathlib.Path(path)
  return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob('*') if p.is_file()}


def card(run_id: str = 'run-1', **fields) -> ModelCard:
  """A filled-in model card from pipeline run `run_id`."""
  return ModelCard(**{
      'metrics': {'accuracy': 0.9312, 'loss': 0.25},
      'slice_metrics': {'scenario/weather=rain': {'accuracy': 0.88}},
      'eval_config': {'model_specs': [{'label_key': 'image/class/label'}]},
      'blessed': True, 'blessing_reasons': ['accuracy 0.9312 >= 0.5'],
      'examples_fingerprint': 'split:train,num_files:2,total_bytes:1024',
      'pipeline_run_id': run_id, 'baseline_version': None, 'code_version': 'abc123',
      **fields})


def version_dirs(model_dir) -> list:
  """The versions TF Serving would see in `model_dir` (its numeric directories), ascending."""
  if not os.path.isdir(model_dir):
    return []
  return sorted(int(n) for n in os.listdir(model_dir) if n.isdigit())


def racing_rename(real_rename, clashes: list):
  """`tf.io.gfile.rename` slowed down, so that concurrent publishers collide, recording in
  `clashes` every rename refused because its target was taken."""

  def rename(source, target, overwrite=False):
    time.sleep(0.005)  # widens the list-then-claim window
    try:
      real_rename(source, target, overwrite)
    except tf.errors.OpError:
      clashes.append(target)
      raise

  return rename
