"""The float SavedModel's serving speed under TensorFlow's kernel choices, on this CPU.

The dev model's `serve_images` (decoding and preprocessing included) at batch 1 (median and
90th percentile ms per image over `--runs` timed calls after one untimed call) and at batch
`--batch` (images/s), each setting in a fresh process, since TensorFlow reads
TF_ENABLE_ONEDNN_OPTS once, when it loads:
  default          TF_ENABLE_ONEDNN_OPTS=0: TensorFlow's own (Eigen) kernels, the baseline
  oneDNN           TF_ENABLE_ONEDNN_OPTS=1, what runner.py sets for training's sake
  oneDNN, no remap the same with grappler's remapper off: nothing fused into a convolution
Ratios are against the baseline measured in the same run. On an AVX2 CPU oneDNN runs a
convolution with an inference BatchNorm fused into it through its gemm kernel with binary
post-ops, slowly at batch 1 (README, Edge export).

The model is the pipeline's Model artifact given by `--dev_model` (its Format-Serving/), else
the dev profile's network with random weights. Usage: python bench/serving_kernels.py
[--dev_model DIR]. Writes `--output_csv` (default bench/results/serving_kernels.csv).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')  # one Keras (Keras 2) before TF loads
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

from bench import edge_latency  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import report  # pylint: disable=g-import-not-at-top,wrong-import-position
from components import signatures  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge import converter  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge import interpreter  # pylint: disable=g-import-not-at-top,wrong-import-position

SETTINGS = {  # label: (TF_ENABLE_ONEDNN_OPTS, grappler's remapper)
    'default': ('0', True),
    'oneDNN': ('1', True),
    'oneDNN, no remap': ('1', False),
}


def measure(model_uri: str, *, remapper: bool, runs: int, batch: int) -> dict:
  """In this process (kernels as TF_ENABLE_ONEDNN_OPTS says), for the Model artifact at
  `model_uri`: batch-1 latency and the throughput at `batch` (from the median of `runs` // 10
  timed calls) of `serve_images` on random PNGs of the model's size."""
  tf.config.optimizer.set_experimental_options({'remapping': remapper})
  served = tf.saved_model.load(os.path.join(model_uri, 'Format-Serving'))
  serve_images = served.signatures[signatures.SERVE_IMAGES]
  size = converter.read_network(model_uri).image_size
  rng = np.random.default_rng(0)
  encoded = [tf.io.encode_png(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).numpy()
             for _ in range(batch)]
  latency = interpreter.saved_model_latency(serve_images, encoded[0], runs=runs)
  images = tf.constant(encoded)
  batched = interpreter.time_call(lambda: serve_images(images=images),
                                  runs=max(1, runs // 10), threads=latency.threads)
  return dict(median_ms=latency.median_ms, p90_ms=latency.p90_ms,
              images_per_s=batch / (batched.median_ms / 1e3))


def _measure_in_process(label: str, model_uri: str, args) -> dict:
  onednn, remapper = SETTINGS[label]
  env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS=onednn)  # read when TensorFlow loads
  command = [sys.executable, os.path.abspath(__file__), '--measure', model_uri,
             '--runs', str(args.runs), '--batch', str(args.batch)]
  if not remapper:
    command.append('--no_remapper')
  output = subprocess.run(command, env=env, check=True, capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  return dict(kernels=label, **json.loads(output.stdout.strip().splitlines()[-1]))


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--dev_model', help='The dev run\'s Trainer Model artifact folder.')
  parser.add_argument('--runs', type=int, default=30, help='Timed batch-1 calls per setting.')
  parser.add_argument('--batch', type=int, default=64, help='The batch of the throughput.')
  parser.add_argument('--output_csv', default=os.path.join(
      os.path.dirname(os.path.abspath(__file__)), 'results', 'serving_kernels.csv'))
  parser.add_argument('--measure', help=argparse.SUPPRESS)  # a child: one setting
  parser.add_argument('--no_remapper', action='store_true', help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.measure:
    print(json.dumps(measure(args.measure, remapper=not args.no_remapper, runs=args.runs,
                             batch=args.batch)))
    return
  with tempfile.TemporaryDirectory() as root:
    model_uri = args.dev_model or edge_latency.random_model_dir(
        root, *edge_latency.DEV[1:])
    rows = [_measure_in_process(label, model_uri, args) for label in SETTINGS]
  baseline = rows[0]
  for row in rows:
    row.update(weights='trained' if args.dev_model else 'random',
               latency_x=row['median_ms'] / baseline['median_ms'],
               throughput_x=row['images_per_s'] / baseline['images_per_s'])
  report.print_table([('kernels', 'kernels', '{}'), ('weights', 'weights', '{}'),
                      ('median_ms', 'batch 1 median ms', '{:.2f}'),
                      ('p90_ms', 'p90 ms', '{:.2f}'),
                      ('latency_x', 'x default latency', '{:.2f}x'),
                      ('images_per_s', f'batch {args.batch} images/s', '{:.0f}'),
                      ('throughput_x', 'x default throughput', '{:.2f}x')], rows,
                     left_aligned=2)
  report.write_csv(args.output_csv, rows)


if __name__ == '__main__':
  main()
