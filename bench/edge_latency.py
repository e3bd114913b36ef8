"""Batch-1 latency of the edge models against the float SavedModel, on this CPU.

For each network: the SavedModel as the Trainer exports it (components/trainer/serving.py),
its `serve_images` signature on one PNG of the model's input size (decoding and preprocessing
included; TensorFlow's own thread pools), against the TFLite float16 and int8 conversions of
the edge export (components/edge/converter.py; uint8 pixels in) in TFLite's interpreter with
its default XNNPACK delegate at 1 and 2 threads. Median and 90th percentile ms per image over
`--runs` timed calls after one untimed call; sizes in bytes; speed-up = SavedModel median /
TFLite median.

The dev model is the pipeline's Model artifact given by `--dev_model` (its network.json and
Format-Serving/, e.g. outputs/pipeline/ran-dev/Trainer/model/<id>), else the dev profile's
network (attention_56_cifar at its width, 32 px) with random weights; attention_56 and
attention_92 at 224 px (1000 classes) always have random weights (latency does not depend on
the values; int8 calibration uses `--calibration` random images). Usage: python bench/edge_latency.py [--dev_model DIR] [--models ...]
Writes `--output_csv` (default bench/results/edge_latency.csv).
"""
import argparse
import json
import os
import tempfile

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')  # one Keras (Keras 2) before TF loads
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

from bench import report  # pylint: disable=g-import-not-at-top,wrong-import-position
from components import model_files  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge import converter  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge import interpreter  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.trainer import serving  # pylint: disable=g-import-not-at-top,wrong-import-position
from pipeline import configs  # pylint: disable=g-import-not-at-top,wrong-import-position
import ran_model  # pylint: disable=g-import-not-at-top,wrong-import-position

# label, network, size, classes (CURE-TSR's 14), width multiplier
DEV = ('dev', configs.DEV.model_name, configs.DEV.image_size, 14, configs.DEV.width_multiplier)
BIG = {'attention_56': ('attention_56', 'attention_56', 224, 1000, 1.0),
       'attention_92': ('attention_92', 'attention_92', 224, 1000, 1.0)}
THREADS = (1, 2)


def random_model_dir(root: str, name: str, size: int, classes: int, width: float) -> str:
  """A Model artifact's layout (network.json, Format-Serving/) of `name` at `width` with
  random weights, exported as the Trainer exports; returns its folder."""
  model_uri = os.path.join(root, name)
  model = ran_model.build_model(name, input_shape=(size, size, 3), classes=classes,
                                width_multiplier=width)
  serving.export_serving_model(
      model, os.path.join(model_uri, 'Format-Serving'), image_size=size, mean=[0.5] * 3,
      std=[0.25] * 3, class_names=[f'class_{c}' for c in range(classes)],
      recipe='signs' if size < 64 else 'imagenet')
  with open(os.path.join(model_uri, model_files.NETWORK_FILE), 'w') as f:
    json.dump({'model_name': name, 'width_multiplier': width, 'image_size': size,
               'class_names': [f'class_{c}' for c in range(classes)]}, f)
  return model_uri


def _bytes(folder: str) -> int:
  return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(folder)
             for f in files)


def measure(label: str, model_uri: str, *, runs: int, calibration: int,
            trained: bool) -> list:
  """Rows (one per model and thread count) of the network in the Model artifact
  `model_uri`."""
  saved_model_dir = os.path.join(model_uri, 'Format-Serving')
  classifier = converter.PixelClassifier(saved_model_dir, converter.read_network(model_uri))
  size = classifier.network.image_size
  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, (calibration, size, size, 3), dtype=np.uint8)
  encoded = tf.io.encode_png(images[0]).numpy()
  converted = {'float16': converter.to_float16(classifier),
               'int8': converter.to_int8(classifier, images)}
  common = dict(model=label, network=classifier.network.model_name, image_size=size,
                weights='trained' if trained else 'random')
  float_latency = interpreter.saved_model_latency(classifier.serve_images, encoded, runs=runs)
  rows = [dict(common, format='SavedModel serve_images', threads='TF default',
               bytes=_bytes(saved_model_dir), median_ms=float_latency.median_ms,
               p90_ms=float_latency.p90_ms, speedup=1.0)]
  for kind, model in converted.items():
    for threads in THREADS:
      latency = interpreter.tflite_latency(model, images[:1], threads=threads, runs=runs)
      rows.append(dict(common, format=f'TFLite {kind}', threads=threads, bytes=len(model),
                       median_ms=latency.median_ms, p90_ms=latency.p90_ms,
                       speedup=float_latency.median_ms / latency.median_ms))
  return rows


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--dev_model', help='The dev run\'s Trainer Model artifact folder.')
  parser.add_argument('--models', nargs='*', default=['dev', *BIG],
                      choices=['dev', *BIG], help='Which networks to measure.')
  parser.add_argument('--runs', type=int, default=30, help='Timed calls per model.')
  parser.add_argument('--calibration', type=int, default=16,
                      help='Random images calibrating the int8 models.')
  parser.add_argument('--output_csv', default=os.path.join(
      os.path.dirname(os.path.abspath(__file__)), 'results', 'edge_latency.csv'))
  args = parser.parse_args()
  rows = []
  with tempfile.TemporaryDirectory() as root:
    for key in args.models:
      label, name, size, classes, width = DEV if key == 'dev' else BIG[key]
      trained = key == 'dev' and args.dev_model is not None
      model_uri = (args.dev_model if trained else
                   random_model_dir(root, name, size, classes, width))
      rows += measure(label, model_uri, runs=args.runs, calibration=args.calibration,
                      trained=trained)
      print(f'measured {label}', flush=True)
  columns = [('model', 'model', '{}'), ('weights', 'weights', '{}'), ('format', 'format', '{}'),
             ('threads', 'threads', '{}'), ('bytes', 'bytes', '{:,d}'),
             ('median_ms', 'median ms', '{:.2f}'), ('p90_ms', 'p90 ms', '{:.2f}'),
             ('speedup', 'x SavedModel', '{:.1f}x')]
  report.print_table(columns, rows, left_aligned=4)
  report.write_csv(args.output_csv, rows)


if __name__ == '__main__':
  main()
