"""Publishers in their own processes: two racing get distinct versions; one killed mid-copy
leaves no version, only a staging dir that gc removes."""
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

from components.registry import FilesystemRegistry
import fake_models

_PUBLISH_PROCESS = str(pathlib.Path(__file__).with_name('publish_process.py'))
COUNT = 8


def _start(*args) -> subprocess.Popen:
  return subprocess.Popen([sys.executable, _PUBLISH_PROCESS, *map(str, args)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '3',
                               'PYTHONWARNINGS': 'ignore'})


def _wait_for(paths, processes, seconds=120):
  deadline = time.monotonic() + seconds
  while not all(os.path.exists(p) for p in paths):
    for process in processes:
      assert process.poll() is None, process.communicate()
    assert time.monotonic() < deadline, f'{paths} not written within {seconds} s'
    time.sleep(0.01)


def test_two_racing_processes_publish_distinct_complete_versions(tmp_path):
  files = fake_models.write_saved_model(tmp_path / 'export')
  root, start = tmp_path / 'registry', tmp_path / 'start'
  processes = [_start(root, tmp_path / 'export', run, COUNT, start) for run in ('p', 'q')]
  _wait_for([f'{start}.ready-p', f'{start}.ready-q'], processes)
  start.touch()
  results = []
  for process in processes:
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    results.append(json.loads(stdout.splitlines()[-1]))

  published = [tuple(p) for result in results for p in result['published']]
  assert sorted(number for number, _ in published) == list(range(1, 2 * COUNT + 1))
  assert sum(result['clashes'] for result in results) > 0  # they did race for numbers
  registry = FilesystemRegistry(str(root))
  for number, run_id in published:
    assert registry.show('ran', number).pipeline_run_id == run_id
    stored = fake_models.read_tree(root / 'ran' / str(number))
    del stored['model_card.json']
    assert stored == files
  assert sorted(os.listdir(root / 'ran')) == sorted(str(n) for n in range(1, 2 * COUNT + 1))


def test_a_publisher_killed_mid_copy_leaves_no_version_and_gc_removes_its_staging(tmp_path):
  files = fake_models.write_saved_model(tmp_path / 'export')
  root, start, stalled = tmp_path / 'registry', tmp_path / 'start', tmp_path / 'stalled'
  start.touch()
  process = _start(root, tmp_path / 'export', 'p', 1, start, stalled)
  _wait_for([stalled], [process])
  process.send_signal(signal.SIGKILL)
  process.communicate(timeout=60)

  staging = pathlib.Path(stalled.read_text())
  assert staging.parent == root / 'ran' and len(fake_models.read_tree(staging)) == 2
  assert os.listdir(root / 'ran') == [staging.name]  # a hidden dir: no version for TF Serving
  registry = FilesystemRegistry(str(root))
  assert registry.list_versions('ran') == []
  assert registry.gc(older_than_s=3600) == []  # too recent: it might still be copying
  assert registry.gc(older_than_s=3600, now=time.time() + 7200) == [str(staging)]
  version = registry.publish('ran', str(tmp_path / 'export'), fake_models.card())
  assert version.number == 1 and os.listdir(root / 'ran') == ['1']
  assert len(fake_models.read_tree(version.uri)) == len(files) + 1  # and its card
