"""Tiny training inputs for Trainer tests (tests/example_data.py's shards and Transform
output), the tests' Trainer settings, and the real Trainer (or a worker script) started in its
own process, alone or as one worker of a local cluster."""
import json
import os
import pathlib
import socket
import subprocess
import sys
from typing import List

import numpy as np

from components import schemas
from components.trainer import TrainerConfig
import example_data

CLASSES = 14  # the classes of data_schemas/cure_tsr.pbtxt, the schema the Trainer tests use
_HERE = os.path.dirname(os.path.abspath(__file__))
_TESTS = os.path.dirname(os.path.dirname(_HERE))
_ROOT = os.path.dirname(_TESTS)
_TRAIN_PROCESS = os.path.join(_HERE, 'train_process.py')


def trainer_dir(tmp_path: pathlib.Path) -> pathlib.Path:
  """The Trainer's node directory of the tests, as TFX lays it out: <pipeline_root>/Trainer."""
  return tmp_path / 'Trainer'


def model_dir(tmp_path: pathlib.Path, execution_id: int) -> pathlib.Path:
  """The Model artifact of the Trainer execution `execution_id` (holds Format-Serving)."""
  return trainer_dir(tmp_path) / 'model' / str(execution_id)


def trainer_fn_args_file(tmp_path, *, image_size: int, train_steps: int, checkpoint_every: int,
                         shards: int, strategy: str = 'one_device') -> pathlib.Path:
  """Writes tiny random training shards, their Transform output and the FnArgs of Trainer
  execution 1 (a narrow attention_56_cifar) as JSON for `start_trainer`; returns the JSON's
  path."""
  rng = np.random.default_rng(0)
  images = [rng.integers(0, 256, (image_size, image_size, 3), dtype=np.uint8)
            for _ in range(16)]
  labels = [i % CLASSES for i in range(16)]
  files = [example_data.write_examples(tmp_path / f'train-{i}.tfrecord.gz', images[i::shards],
                                        labels[i::shards]) for i in range(shards)]
  example_data.analyze(images, labels, str(tmp_path / 'transform'), image_size=image_size,
                       num_classes=CLASSES)
  fn_args = dict(
      train_files=files, eval_files=[], train_steps=train_steps, eval_steps=0,
      schema_path=schemas.schema_path('cure_tsr'), transform_output=str(tmp_path / 'transform'),
      custom_config=trainer_config(image_size=image_size, checkpoint_every=checkpoint_every,
                                   strategy=strategy).to_custom_config())
  return another_execution(tmp_path / 'fn_args.json', 1, **fn_args)


def trainer_config(*, image_size: int, checkpoint_every: int, strategy: str) -> TrainerConfig:
  """The tests' Trainer settings: a narrow attention_56_cifar, batch 4 per replica, float32,
  deterministic input, batch norms recalibrated on 2 batches, seed 0."""
  return TrainerConfig(
      model_name='attention_56_cifar', width_multiplier=0.125, image_size=image_size,
      strategy=strategy, batch_size=4, learning_rate=0.01, lr_reference_batch=4,
      lr_schedule='step', warmup_steps=0, lr_decay_fractions=(0.5,), weight_decay=1e-4,
      label_smoothing=0.1, class_weighting='none', recipe='signs',
      deterministic_input=True, mixed_precision='float32', xla=False,
      checkpoint_every=checkpoint_every, bn_recalibration_batches=2, warm_start=True,
      warm_start_steps=None, warm_start_lr_scale=0.03, seed=0,
      code_version='test')


def another_execution(fn_args_file: pathlib.Path, execution_id: int,
                      **changes) -> pathlib.Path:
  """The FnArgs JSON of Trainer execution `execution_id`: `fn_args_file`'s (if it exists)
  with `changes`, and that execution's model and model run folders, as TFX names them;
  written beside `fn_args_file` as fn_args-<execution_id>.json."""
  fn_args = json.loads(fn_args_file.read_text()) if fn_args_file.exists() else {}
  tmp_path = fn_args_file.parent
  fn_args.update(changes,
                 serving_model_dir=str(model_dir(tmp_path, execution_id) / 'Format-Serving'),
                 model_run_dir=str(trainer_dir(tmp_path) / 'model_run' / str(execution_id)))
  path = tmp_path / f'fn_args-{execution_id}.json'
  path.write_text(json.dumps(fn_args))
  return path


def start_process(script: str, *args, **env) -> subprocess.Popen:
  """`python script args...` in its own process, stdout and stderr merged, with the project,
  tests/ and this folder on its path."""
  path = os.pathsep.join(filter(None, [_ROOT, _TESTS, _HERE, os.environ.get('PYTHONPATH')]))
  return subprocess.Popen([sys.executable, script, *map(str, args)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2',
                               'PYTHONWARNINGS': 'ignore', 'PYTHONPATH': path, **env})


def start_trainer(fn_args_file: pathlib.Path, **env) -> subprocess.Popen:
  """The real Trainer run_fn in its own process (tests/components/trainer/train_process.py)."""
  return start_process(_TRAIN_PROCESS, fn_args_file, **env)


def _free_ports(count: int):
  """`count` localhost ports free right now (for a TF_CONFIG cluster of local processes)."""
  sockets = [socket.socket() for _ in range(count)]
  for s in sockets:
    s.bind(('localhost', 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def worker_tf_configs(count: int) -> List[str]:
  """The TF_CONFIG of each worker of a `count`-worker cluster on free localhost ports; worker 0
  is the chief."""
  cluster = {'worker': [f'localhost:{port}' for port in _free_ports(count)]}
  return [json.dumps({'cluster': cluster, 'task': {'type': 'worker', 'index': index}})
          for index in range(count)]
