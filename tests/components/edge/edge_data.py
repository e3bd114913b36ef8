"""A small trained Residual Attention Network exported as the Trainer exports it, with train and
eval splits of labelled, sliced examples, for the edge-export tests.

Three classes of 40x24 images (not square, so that the 'signs' and 'imagenet' recipes give
different pixels), each a noisy colour gradient of its own hue, sliced by `scenario/weather`;
attention_56_cifar at width 1/16 trained a few dozen steps on them gets most right and is
confident, so a faithful conversion keeps its top-1 classes.
"""
import dataclasses
import json
import os
from typing import List

import numpy as np
import tensorflow as tf
import tf_keras as keras

from components import features
from components import model_files
from components import preprocessing
from components.edge import pixels
from components.trainer import serving
import example_data
import ran_model

IMAGE_SIZE = 32
CLASS_NAMES = ('red', 'green', 'blue')
WEATHER = features.scenario_key('weather')
MODEL_NAME = 'attention_56_cifar'
WIDTH = 1 / 16
RECIPE = 'signs'


@dataclasses.dataclass(frozen=True)
class EdgeWorkspace:
  """Paths and data of the exported model and its examples."""
  model_uri: str          # the Model artifact: network.json, Format-Serving/
  saved_model_dir: str    # its Format-Serving folder
  train_files: List[str]
  eval_files: List[str]
  eval_encoded: List[bytes]
  eval_labels: np.ndarray
  eval_weather: List[str]
  mean: np.ndarray        # the exported normalisation, float [3]
  std: np.ndarray


def _image(label: int, rng: np.random.Generator) -> np.ndarray:
  """uint8 [24, 40, 3]: a gradient in class `label`'s hue, with noise and a random level."""
  y, x = np.mgrid[0:24, 0:40]
  base = np.full((24, 40, 3), 40.0) + rng.uniform(0, 60)
  base[..., label] += 120 + 60 * x / 40 + rng.normal(0, 10, (24, 40))
  base += rng.normal(0, 25, (24, 40, 3)) + 20 * (y / 24)[..., None]
  return np.clip(base, 0, 255).astype(np.uint8)


def _write_split(path: str, count: int, seed: int):
  """`count` examples, labels cycling through the classes, weather 'sun' or 'rain' (every
  third one); returns (encoded, labels, weather)."""
  rng = np.random.default_rng(seed)
  encoded, labels, weather = [], [], []
  tf.io.gfile.makedirs(os.path.dirname(path))
  with tf.io.TFRecordWriter(path, options='GZIP') as writer:
    for index in range(count):
      label = index % len(CLASS_NAMES)
      image = _image(label, rng)
      data = example_data.encode(image)
      where = 'rain' if index % 3 == 0 else 'sun'
      writer.write(features.make_example(
          encoded=data, image_format='png', height=24, width=40, filename=f'{index}.png',
          label=label, label_text=CLASS_NAMES[label],
          scenario={'weather': where}).SerializeToString())
      encoded.append(data)
      labels.append(label)
      weather.append(where)
  return encoded, np.array(labels), weather


def make_workspace(root: str) -> EdgeWorkspace:
  """Trains and exports the model, writes the splits (an Examples artifact's layout)."""
  examples_uri = os.path.join(root, 'examples')
  train_path = os.path.join(examples_uri, 'Split-train', 'data.gz')
  eval_path = os.path.join(examples_uri, 'Split-eval', 'data.gz')
  train_encoded, train_labels, _ = _write_split(train_path, 180, seed=1)
  eval_encoded, eval_labels, eval_weather = _write_split(eval_path, 96, seed=2)
  unit = pixels.model_inputs(train_encoded, IMAGE_SIZE, RECIPE).astype(np.float32) / 255.0
  mean, std = unit.reshape(-1, 3).mean(axis=0), unit.reshape(-1, 3).std(axis=0)
  keras.utils.set_random_seed(0)
  model = ran_model.build_model(MODEL_NAME, input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3),
                                classes=len(CLASS_NAMES), width_multiplier=WIDTH)
  for layer in model.layers:  # moving statistics that settle within the few steps trained
    if isinstance(layer, keras.layers.BatchNormalization):
      layer.momentum = 0.5
  model.compile(optimizer=keras.optimizers.Adam(3e-3), loss='sparse_categorical_crossentropy')
  model.fit(preprocessing.normalize(unit, mean, std), train_labels, batch_size=32, epochs=8,
            verbose=0)
  model_uri = os.path.join(root, 'model')
  saved_model_dir = os.path.join(model_uri, 'Format-Serving')
  serving.export_serving_model(model, saved_model_dir, image_size=IMAGE_SIZE, mean=mean,
                               std=std, class_names=CLASS_NAMES, recipe=RECIPE)
  with open(os.path.join(model_uri, model_files.NETWORK_FILE), 'w') as f:
    json.dump({'model_name': MODEL_NAME, 'width_multiplier': WIDTH, 'image_size': IMAGE_SIZE,
               'class_names': list(CLASS_NAMES)}, f)
  return EdgeWorkspace(model_uri, saved_model_dir, [train_path], [eval_path], eval_encoded,
                       eval_labels, eval_weather, mean, std)
