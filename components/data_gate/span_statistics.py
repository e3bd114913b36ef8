"""The drift statistics of every span the DataGate has checked, kept in a folder under the
pipeline root: the drift baseline where the orchestrator cannot resolve the previous span's
Examples (Kubeflow Pipelines 2 and Vertex AI Pipelines, whose TFX compiler knows no span
resolvers). One file per span, `span-<N>.pb`: a DatasetFeatureStatisticsList (binary
proto). Works on any filesystem TFX's fileio reads (local, gs://).
"""
import os
import re
from typing import Optional, Tuple

from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx.dsl.io import fileio

from components import atomic_file

_FILE = re.compile(r'^span-(\d+)\.pb$')


def _path(store: str, span: int) -> str:
  return os.path.join(store, f'span-{span}.pb')


def save(store: str, span: int,
         statistics: statistics_pb2.DatasetFeatureStatisticsList) -> None:
  """Writes `span`'s statistics (replacing a previous check's), via a temporary file so that
  a reader never sees half a file."""
  fileio.makedirs(store)
  atomic_file.write(_path(store, span), statistics.SerializeToString())


def previous(store: str, span: int
             ) -> Optional[Tuple[int, statistics_pb2.DatasetFeatureStatisticsList]]:
  """The newest stored span below `span` and its statistics; None when there is none (the
  first delivery, or no store yet)."""
  if not fileio.exists(store):
    return None
  spans = [int(match[1]) for match in map(_FILE.match, fileio.listdir(store))
           if match and int(match[1]) < span]
  if not spans:
    return None
  with fileio.open(_path(store, max(spans)), 'rb') as f:
    return max(spans), statistics_pb2.DatasetFeatureStatisticsList.FromString(f.read())
