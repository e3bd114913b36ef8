"""Executions a killed local run left RUNNING in ML Metadata: marked CANCELED, with the
custom property `interrupted`, and their partial outputs removed, before the next run starts.

Called under the output directory's lock (pipeline/local.py): no live run uses this store
then, so every execution still RUNNING (or NEW) belongs to a run that ended without
finishing. CANCELED, not FAILED: the execution did not fail, it was stopped from outside.

What a killed execution leaves on disk: TFX 1.16's launcher gives each output the URI
`<pipeline_root>/<node id>/<output key>/<execution id>` (tfx.orchestration.portable
.outputs_utils) and records output artifacts in ML Metadata only when the execution
succeeds, so these folders are found by that rule, not in the store; besides them, the
execution's `.system/executor_execution/<execution id>` folder and its stateful working
directory. The Trainer's resumable state lies elsewhere (components/trainer/resume.py) and
stays, so that the rerun resumes.
"""
import dataclasses
import os
import time
from typing import List, Mapping, Tuple

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
import tensorflow as tf
from tfx.orchestration import pipeline as tfx_pipeline

INTERRUPTED = 'interrupted'  # custom property of an execution marked here: when and why
_UNFINISHED = (metadata_store_pb2.Execution.NEW, metadata_store_pb2.Execution.RUNNING)
_STATEFUL_INDEX = '__stateful_working_dir_index__'  # TFX's execution property


@dataclasses.dataclass(frozen=True)
class Interrupted:
  """One execution found unfinished and what was removed of it."""
  node_id: str                 # e.g. 'Trainer'
  execution_id: int
  removed: Tuple[str, ...]     # folders deleted


def _store(metadata_path: str) -> metadata_store.MetadataStore:
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = metadata_path
  config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE
  return metadata_store.MetadataStore(config)


def _partial_outputs(node_dir: str, output_keys: Tuple[str, ...],
                     execution: metadata_store_pb2.Execution) -> List[str]:
  """The folders of `execution` (of the node at `node_dir`) that exist."""
  folders = [os.path.join(node_dir, key, str(execution.id)) for key in output_keys]
  folders.append(os.path.join(node_dir, '.system', 'executor_execution', str(execution.id)))
  if _STATEFUL_INDEX in execution.custom_properties:
    folders.append(os.path.join(node_dir, '.system', 'stateful_working_dir',
                                execution.custom_properties[_STATEFUL_INDEX].string_value))
  return [folder for folder in folders if tf.io.gfile.exists(folder)]


def clean_up(metadata_path: str, pipeline: tfx_pipeline.Pipeline) -> List[Interrupted]:
  """Marks every NEW or RUNNING execution of `pipeline` in the sqlite store at
  `metadata_path` CANCELED with an `interrupted` note, after deleting its partial outputs
  under the pipeline root; returns what it found, oldest first. Call it only while holding
  the output directory's lock."""
  if not os.path.exists(metadata_path):
    return []
  store = _store(metadata_path)
  name = pipeline.pipeline_info.pipeline_name
  context = store.get_context_by_type_and_name('pipeline', name)
  if context is None:
    return []
  of_pipeline = {e.id for e in store.get_executions_by_context(context.id)}
  output_keys: Mapping[str, Tuple[str, ...]] = {
      node.id: tuple(node.outputs) for node in pipeline.components}
  unfinished = []  # (node id, execution)
  for node in store.get_contexts_by_type('node'):  # named '<pipeline name>.<node id>'
    if node.name.startswith(f'{name}.'):
      unfinished += [(node.name[len(name) + 1:], execution)
                     for execution in store.get_executions_by_context(node.id)
                     if execution.id in of_pipeline and
                     execution.last_known_state in _UNFINISHED]
  found = []
  for node_id, execution in sorted(unfinished, key=lambda pair: pair[1].id):
    removed = _partial_outputs(os.path.join(pipeline.pipeline_info.pipeline_root, node_id),
                               output_keys.get(node_id, ()), execution)
    for folder in removed:
      tf.io.gfile.rmtree(folder)
    state = metadata_store_pb2.Execution.State.Name(execution.last_known_state)
    execution.last_known_state = metadata_store_pb2.Execution.CANCELED
    execution.custom_properties[INTERRUPTED].string_value = (
        f'left {state} by a run that ended without finishing; found at '
        f'{time.strftime("%Y-%m-%d %H:%M:%S")}')
    store.put_executions([execution])
    found.append(Interrupted(node_id, execution.id, tuple(removed)))
  return found


def summary(found: List[Interrupted]) -> str:
  """What `clean_up` did, in a few lines for the run's output."""
  lines = [f'An earlier run was interrupted: {len(found)} unfinished '
           f'execution{"s" if len(found) != 1 else ""} marked CANCELED ({INTERRUPTED}).']
  for item in found:
    removed = ', '.join(item.removed) if item.removed else 'nothing on disk'
    lines.append(f'  {item.node_id} execution {item.execution_id}: removed {removed}')
  return '\n'.join(lines)
