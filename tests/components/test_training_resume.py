"""A Trainer process killed mid-run resumes from its last checkpoint, not from step 0."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.util import event_pb2

from components import schemas
from components import serving
from components import trainer
import training_data

SIZE, CLASSES, STEPS, EVERY = 32, 14, 400, 20
_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'train_process.py')


@pytest.fixture(name='fn_args_file')
def fixture_fn_args_file(tmp_path):
  rng = np.random.default_rng(0)
  images = [rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8) for _ in range(16)]
  labels = [i % CLASSES for i in range(16)]
  training_data.write_examples(str(tmp_path / 'train.tfrecord.gz'), images, labels)
  training_data.analyze(images, labels, str(tmp_path / 'transform'), image_size=SIZE,
                        num_classes=CLASSES)
  fn_args = dict(
      train_files=[str(tmp_path / 'train.tfrecord.gz')], eval_files=[], train_steps=STEPS,
      eval_steps=0, schema_path=schemas.schema_path('cure_tsr'),
      transform_output=str(tmp_path / 'transform'),
      serving_model_dir=str(tmp_path / 'serving'), model_run_dir=str(tmp_path / 'run'),
      custom_config=dict(
          model_name='attention_56_cifar', width_multiplier=0.125, image_size=SIZE,
          strategy='one_device', batch_size=4, learning_rate=0.01, lr_reference_batch=4,
          lr_schedule='step', warmup_steps=0, lr_decay_fractions=[0.5], weight_decay=1e-4,
          label_smoothing=0.1, class_weighting='none', recipe='signs',
          deterministic_input=True, mixed_precision='float32', xla=False,
          checkpoint_every=EVERY, seed=0))
  path = tmp_path / 'fn_args.json'
  path.write_text(json.dumps(fn_args))
  return path


def _start(fn_args_file):
  return subprocess.Popen([sys.executable, _SCRIPT, str(fn_args_file)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2'})


def test_a_killed_training_process_resumes_from_its_last_checkpoint(fn_args_file):
  run_dir = fn_args_file.parent / 'run'
  first = _start(fn_args_file)
  deadline = time.monotonic() + 240
  # BackupAndRestore writes a checkpoint every EVERY steps; kill at the first one.
  while not list(run_dir.glob(f'{trainer.BACKUP_DIR}/**/checkpoint')):
    assert first.poll() is None, first.stdout.read()
    assert time.monotonic() < deadline, 'no checkpoint within 240 s'
    time.sleep(0.05)
  first.send_signal(signal.SIGKILL)
  first_output = first.communicate()[0]
  assert 'Training steps 0..400\n' in first_output
  assert 'Trained' not in first_output  # killed mid-run

  second = _start(fn_args_file)
  output = second.communicate(timeout=300)[0]
  assert second.returncode == 0, output
  start = int(re.search(r'Training steps (\d+)\.\.400, resumed from a checkpoint', output)[1])
  assert start >= EVERY and start % EVERY == 0 and start < STEPS
  assert f'Trained {STEPS - start} steps in this process, {STEPS} in all' in output
  served = tf.saved_model.load(str(fn_args_file.parent / 'serving'))
  outputs = served.signatures['serve_images'](images=tf.constant([training_data.png(
      np.zeros((SIZE, SIZE, 3), np.uint8))]))
  assert outputs[serving.PROBABILITIES].shape == (1, CLASSES)
  assert not list(run_dir.glob(f'{trainer.BACKUP_DIR}/**/checkpoint'))  # removed when done
  tags = {value.tag for path in (run_dir / trainer.THROUGHPUT_DIR).glob('events.*')
          for record in tf.data.TFRecordDataset(str(path))
          for value in event_pb2.Event.FromString(record.numpy()).summary.value}
  assert {'images_per_second', 'learning_rate'} <= tags
  assert list((run_dir / 'train').glob('events.*'))  # Keras' loss and accuracy
