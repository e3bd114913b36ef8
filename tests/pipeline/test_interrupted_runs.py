"""A local run killed mid-step leaves its execution RUNNING in ML Metadata and a partial output
on disk; the next run's clean-up marks it CANCELED (interrupted) and removes the output."""
import os
import signal
import subprocess
import sys

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

from pipeline import interrupted_runs
import killed_run

_SCRIPT = killed_run.__file__


def _run(output_dir, *, kill: bool) -> subprocess.CompletedProcess:
  return subprocess.run([sys.executable, _SCRIPT, str(output_dir)], capture_output=True,
                        text=True, timeout=300,
                        env={**os.environ, killed_run.KILL_ENV: '1' if kill else '0',
                             'TF_CPP_MIN_LOG_LEVEL': '2', 'PYTHONWARNINGS': 'ignore'})


def _executions(output_dir):
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = killed_run.metadata_path(str(output_dir))
  store = metadata_store.MetadataStore(config)
  return store, sorted(store.get_executions(), key=lambda e: e.id)


def test_a_killed_runs_execution_is_marked_cancelled_and_its_partial_output_removed(tmp_path):
  killed = _run(tmp_path, kill=True)
  assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
  store, [execution] = _executions(tmp_path)
  assert execution.last_known_state == metadata_store_pb2.Execution.RUNNING
  # TFX records output artifacts only on success: the partial one is found by its URI rule.
  assert not store.get_events_by_execution_ids([execution.id])
  node_dir = tmp_path / 'root' / 'PartialWriter'
  partial = node_dir / 'model' / str(execution.id)
  assert (partial / killed_run.PARTIAL_FILE).read_text() == 'half a model'

  found = interrupted_runs.clean_up(killed_run.metadata_path(str(tmp_path)),
                                    killed_run.build_pipeline(str(tmp_path)))
  [item] = found
  assert (item.node_id, item.execution_id) == ('PartialWriter', execution.id)
  assert item.removed[:2] == (str(partial),
                              str(node_dir / '.system' / 'executor_execution' /
                                  str(execution.id)))
  assert not any(os.path.exists(folder) for folder in item.removed)
  assert not partial.exists()
  _, [marked] = _executions(tmp_path)
  assert marked.last_known_state == metadata_store_pb2.Execution.CANCELED
  assert marked.custom_properties[interrupted_runs.INTERRUPTED].string_value.startswith(
      'left RUNNING by a run that ended without finishing; found at ')
  summary = interrupted_runs.summary(found)
  assert summary.splitlines()[0] == ('An earlier run was interrupted: 1 unfinished execution '
                                     'marked CANCELED (interrupted).')
  assert f'  PartialWriter execution {execution.id}: removed {partial}, ' in summary

  assert interrupted_runs.clean_up(killed_run.metadata_path(str(tmp_path)),
                                   killed_run.build_pipeline(str(tmp_path))) == []
  finished = _run(tmp_path, kill=False)
  assert finished.returncode == 0, finished.stderr[-2000:]
  _, executions = _executions(tmp_path)
  assert [e.last_known_state for e in executions] == [
      metadata_store_pb2.Execution.CANCELED, metadata_store_pb2.Execution.COMPLETE]


def test_nothing_to_clean_before_a_first_run(tmp_path):
  assert interrupted_runs.clean_up(killed_run.metadata_path(str(tmp_path)),
                                   killed_run.build_pipeline(str(tmp_path))) == []
