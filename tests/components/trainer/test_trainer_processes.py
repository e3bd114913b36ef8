"""The real Trainer in its own processes: killed mid-run, its rerun resumes from the last
checkpoint; as two MultiWorkerMirroredStrategy workers it trains and only the chief exports;
a lost worker and its peer, restarted together, resume from the chief's checkpoint."""
import re
import signal
import time

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.util import event_pb2

from components import signatures
from components.trainer import resume
from components.trainer import training
import example_data
import training_data

SIZE, CLASSES, STEPS, EVERY = 32, training_data.CLASSES, 400, 20


def _wait_for_checkpoint(resume_dir, processes, timeout_s: float) -> None:
  """Polls until the chief's first checkpoint lies in `resume_dir` (BackupAndRestore writes
  <key>/chief/checkpoint last), while all `processes` run."""
  deadline = time.monotonic() + timeout_s
  while not list(resume_dir.glob('*/chief/checkpoint')):
    for process in processes:
      assert process.poll() is None, process.stdout.read()
    assert time.monotonic() < deadline, f'no checkpoint within {timeout_s} s'
    time.sleep(0.05)


@pytest.fixture(name='fn_args_file')
def fixture_fn_args_file(tmp_path):
  return training_data.trainer_fn_args_file(
      tmp_path, image_size=SIZE, train_steps=STEPS, checkpoint_every=EVERY, shards=1)


def test_a_killed_training_resumes_in_the_next_execution_of_the_same_training(fn_args_file):
  """A rerun of a killed local run is a new TFX execution (new model and model run folders)
  of the same training: it resumes from the checkpoint the killed one left."""
  resume_dir = training_data.trainer_dir(fn_args_file.parent) / resume.RESUME_DIR
  first = training_data.start_trainer(fn_args_file)
  # BackupAndRestore writes a checkpoint every EVERY steps; kill at the first one.
  _wait_for_checkpoint(resume_dir, [first], timeout_s=240)
  first.send_signal(signal.SIGKILL)
  first_output = first.communicate()[0]
  assert 'Training steps 0..400\n' in first_output
  assert 'Trained' not in first_output  # killed mid-run

  rerun = training_data.another_execution(fn_args_file, 2)
  second = training_data.start_trainer(rerun)
  output = second.communicate(timeout=300)[0]
  assert second.returncode == 0, output
  start = int(re.search(r'Training steps (\d+)\.\.400, resumed from a checkpoint', output)[1])
  assert start >= EVERY and start % EVERY == 0 and start < STEPS
  assert f'Trained {STEPS - start} steps in this process, {STEPS} in all' in output
  served = tf.saved_model.load(str(training_data.model_dir(fn_args_file.parent, 2) /
                                   'Format-Serving'))
  outputs = served.signatures[signatures.SERVE_IMAGES](images=tf.constant([example_data.encode(
      np.zeros((SIZE, SIZE, 3), np.uint8))]))
  assert outputs[signatures.PROBABILITIES].shape == (1, CLASSES)
  assert list(resume_dir.iterdir()) == []  # removed when done
  run_dir = training_data.trainer_dir(fn_args_file.parent) / 'model_run' / '2'
  tags = {value.tag for path in (run_dir / training.THROUGHPUT_DIR).glob('events.*')
          for record in tf.data.TFRecordDataset(str(path))
          for value in event_pb2.Event.FromString(record.numpy()).summary.value}
  assert {'images_per_second', 'learning_rate'} <= tags
  assert list((run_dir / 'train').glob('events.*'))  # Keras' loss and accuracy


def test_two_workers_resume_together_after_losing_one_and_only_the_chief_exports(tmp_path):
  """Vertex's restart_job_on_worker_restart on CPU: worker 1 of two MultiWorkerMirroredStrategy
  workers is SIGKILLed after the first checkpoint; worker 0 (the chief), which cannot pass the
  next all-reduce without it, is killed too; both start again with the same TF_CONFIG and
  resume from the chief's checkpoint (BackupAndRestore: the chief writes <resume>/<key>/chief,
  which every worker reads), train to exactly `steps`, and only the chief exports."""
  steps, every = 12, 3
  fn_args_file = training_data.trainer_fn_args_file(
      tmp_path, image_size=SIZE, train_steps=steps, checkpoint_every=every, shards=2,
      strategy='auto')
  resume_dir = training_data.trainer_dir(tmp_path) / resume.RESUME_DIR
  tf_configs = training_data.worker_tf_configs(2)
  temp_dirs = [tmp_path / f'tmp-worker{index}' for index in (0, 1)]
  for temp_dir in temp_dirs:
    temp_dir.mkdir()

  def start_both():
    return [training_data.start_trainer(fn_args_file, TF_CONFIG=tf_config, TMPDIR=str(temp))
            for tf_config, temp in zip(tf_configs, temp_dirs)]

  workers = start_both()
  try:
    _wait_for_checkpoint(resume_dir, workers, timeout_s=900)
    workers[1].send_signal(signal.SIGKILL)
    workers[1].wait()
  finally:
    for worker in workers:
      worker.kill()  # the survivor waits for its lost peer; no-op once exited
  for output in (worker.communicate()[0] for worker in workers):
    assert f'Training steps 0..{steps}\n' in output
    assert 'Trained' not in output  # killed mid-run
  # Worker 1 logs and exports under its TMPDIR (distribution.write_dir); killed, it left its
  # log folder there (a Vertex container's disk goes with it).
  killed_runs_folders = list(temp_dirs[1].glob('worker1_*'))
  assert len(killed_runs_folders) == 1

  workers = start_both()
  try:
    outputs = [worker.communicate(timeout=900)[0] for worker in workers]
  finally:
    for worker in workers:
      worker.kill()
  starts = []
  for worker, output in zip(workers, outputs):
    assert worker.returncode == 0, output[-3000:]
    starts.append(int(re.search(
        rf'Training steps (\d+)\.\.{steps}, resumed from a checkpoint', output)[1]))
  start = starts[0]
  assert starts == [start, start] and every <= start < steps and start % every == 0
  for output in outputs:
    assert f'Trained {steps - start} steps in this process, {steps} in all' in output
  serving_dir = training_data.model_dir(tmp_path, 1) / 'Format-Serving'
  served = tf.saved_model.load(str(serving_dir))  # the chief's
  outputs = served.signatures[signatures.SERVE_IMAGES](images=tf.constant([example_data.encode(
      np.zeros((SIZE, SIZE, 3), np.uint8))]))
  assert outputs[signatures.PROBABILITIES].shape == (1, CLASSES)
  assert list(temp_dirs[1].glob('worker1_*')) == killed_runs_folders  # the rerun's, deleted
  run_dir = training_data.trainer_dir(tmp_path) / 'model_run' / '1'
  assert sorted(p.name for p in run_dir.iterdir()) == [training.THROUGHPUT_DIR, 'train']
  assert list(resume_dir.iterdir()) == []  # the checkpoints, deleted when done
