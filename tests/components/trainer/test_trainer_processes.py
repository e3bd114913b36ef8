"""The real Trainer in its own processes: killed mid-run, its rerun resumes from the last
checkpoint; as two MultiWorkerMirroredStrategy workers it trains and only the chief exports."""
import json
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


@pytest.fixture(name='fn_args_file')
def fixture_fn_args_file(tmp_path):
  return training_data.trainer_fn_args_file(
      tmp_path, image_size=SIZE, train_steps=STEPS, checkpoint_every=EVERY, shards=1)


def test_a_killed_training_resumes_in_the_next_execution_of_the_same_training(fn_args_file):
  """A rerun of a killed local run is a new TFX execution (new model and model run folders)
  of the same training: it resumes from the checkpoint the killed one left."""
  resume_dir = training_data.trainer_dir(fn_args_file.parent) / resume.RESUME_DIR
  first = training_data.start_trainer(fn_args_file)
  deadline = time.monotonic() + 240
  # BackupAndRestore writes a checkpoint every EVERY steps; kill at the first one.
  while not list(resume_dir.glob('*/**/checkpoint')):
    assert first.poll() is None, first.stdout.read()
    assert time.monotonic() < deadline, 'no checkpoint within 240 s'
    time.sleep(0.05)
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


def test_two_workers_train_together_and_only_the_chief_exports(tmp_path):
  fn_args_file = training_data.trainer_fn_args_file(
      tmp_path, image_size=SIZE, train_steps=8, checkpoint_every=4, shards=2, strategy='auto')
  cluster = {'worker': [f'localhost:{port}' for port in training_data.free_ports(2)]}
  workers = [training_data.start_trainer(fn_args_file, TF_CONFIG=json.dumps(
      {'cluster': cluster, 'task': {'type': 'worker', 'index': index}})) for index in (0, 1)]
  outputs = [worker.communicate(timeout=300)[0] for worker in workers]
  for worker, output in zip(workers, outputs):
    assert worker.returncode == 0, output
    assert 'Trained 8 steps in this process, 8 in all' in output
  serving_dir = training_data.model_dir(tmp_path, 1) / 'Format-Serving'
  assert (serving_dir / 'saved_model.pb').exists()  # the chief's; worker 1 wrote to a temp dir
  served = tf.saved_model.load(str(serving_dir))
  outputs = served.signatures[signatures.SERVE_IMAGES](images=tf.constant([example_data.encode(
      np.zeros((SIZE, SIZE, 3), np.uint8))]))
  assert outputs[signatures.PROBABILITIES].shape == (1, CLASSES)
  run_dir = training_data.trainer_dir(tmp_path) / 'model_run' / '1'
  assert sorted(p.name for p in run_dir.iterdir()) == [
      training.THROUGHPUT_DIR, 'train']  # worker 1 logged to a temp dir
  resume_dir = training_data.trainer_dir(tmp_path) / resume.RESUME_DIR
  assert list(resume_dir.iterdir()) == []  # the checkpoints, deleted when done
