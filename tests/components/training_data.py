"""Tiny training inputs for Trainer tests: gzipped canonical examples, a real tf.Transform
output (the analyzers run through Beam, as the Transform component runs them), and the real
Trainer started in its own process."""
import io
import json
import os
import pathlib
import socket
import subprocess
import sys
from typing import Sequence

import numpy as np
from PIL import Image
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata
from tensorflow_transform.tf_metadata import schema_utils

from components import features
from components import schemas
from components import transform


def png(pixels: np.ndarray) -> bytes:
  out = io.BytesIO()
  Image.fromarray(pixels).save(out, format='PNG')
  return out.getvalue()


def write_examples(path: str, images: Sequence[np.ndarray], labels: Sequence[int]):
  """One gzipped TFRecord file of canonical examples."""
  with tf.io.TFRecordWriter(path, options='GZIP') as writer:
    for index, (pixels, label) in enumerate(zip(images, labels)):
      writer.write(features.make_example(
          encoded=png(pixels), image_format='png', height=pixels.shape[0],
          width=pixels.shape[1], filename=f'{index}.png', label=label, label_text='x',
          scenario={}).SerializeToString())


def analyze(images: Sequence[np.ndarray], labels: Sequence[int], output_dir: str, *,
            image_size: int, num_classes: int) -> tft.TFTransformOutput:
  """Runs the real preprocessing_fn's analyzers over the images; returns the transform output."""
  metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(
      {features.IMAGE_ENCODED: tf.io.FixedLenFeature([1], tf.string),
       features.LABEL: tf.io.FixedLenFeature([1], tf.int64)}))
  data = [{features.IMAGE_ENCODED: [png(pixels)], features.LABEL: [label]}
          for pixels, label in zip(images, labels)]
  with tft_beam.Context(temp_dir=os.path.join(output_dir, 'tmp')):
    transform_fn = ((data, metadata) | tft_beam.AnalyzeDataset(
        lambda inputs: transform.preprocessing_fn(
            inputs, {'image_size': image_size, 'recipe': 'signs',
                     'num_classes': num_classes})))
    _ = transform_fn | tft_beam.WriteTransformFn(output_dir)
  return tft.TFTransformOutput(output_dir)


CLASSES = 14  # the classes of data_schemas/cure_tsr.pbtxt, the schema the Trainer tests use
_TRAIN_PROCESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'train_process.py')


def trainer_fn_args_file(tmp_path, *, image_size: int, train_steps: int, checkpoint_every: int,
                         shards: int, strategy: str = 'one_device') -> pathlib.Path:
  """Writes tiny random training shards, their Transform output and the Trainer's FnArgs (a
  narrow attention_56_cifar) as JSON for `start_trainer`; returns the JSON's path."""
  rng = np.random.default_rng(0)
  images = [rng.integers(0, 256, (image_size, image_size, 3), dtype=np.uint8)
            for _ in range(16)]
  labels = [i % CLASSES for i in range(16)]
  files = [str(tmp_path / f'train-{i}.tfrecord.gz') for i in range(shards)]
  for i, path in enumerate(files):
    write_examples(path, images[i::shards], labels[i::shards])
  analyze(images, labels, str(tmp_path / 'transform'), image_size=image_size,
          num_classes=CLASSES)
  fn_args = dict(
      train_files=files, eval_files=[], train_steps=train_steps, eval_steps=0,
      schema_path=schemas.schema_path('cure_tsr'), transform_output=str(tmp_path / 'transform'),
      serving_model_dir=str(tmp_path / 'serving'), model_run_dir=str(tmp_path / 'run'),
      custom_config=dict(
          model_name='attention_56_cifar', width_multiplier=0.125, image_size=image_size,
          strategy=strategy, batch_size=4, learning_rate=0.01, lr_reference_batch=4,
          lr_schedule='step', warmup_steps=0, lr_decay_fractions=[0.5], weight_decay=1e-4,
          label_smoothing=0.1, class_weighting='none', recipe='signs',
          deterministic_input=True, mixed_precision='float32', xla=False,
          checkpoint_every=checkpoint_every, seed=0))
  path = tmp_path / 'fn_args.json'
  path.write_text(json.dumps(fn_args))
  return path


def start_trainer(fn_args_file: pathlib.Path, **env) -> subprocess.Popen:
  """The real Trainer run_fn in its own process (tests/components/train_process.py)."""
  return subprocess.Popen([sys.executable, _TRAIN_PROCESS, str(fn_args_file)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2',
                               'PYTHONWARNINGS': 'ignore', **env})


def free_ports(count: int):
  """`count` localhost ports free right now (for a TF_CONFIG cluster of local processes)."""
  sockets = [socket.socket() for _ in range(count)]
  for s in sockets:
    s.bind(('localhost', 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports
