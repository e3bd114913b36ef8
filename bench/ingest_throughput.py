"""Images/s of Beam ingestion against a plain single-process Python loop, on ImageNet layout.

A generated ILSVRC2012-layout fixture (`imagenet_fixture.write_fixture`: JPEGs of ImageNet's typical
size, train folders per wnid plus the flat validation folder) is ingested by:
  plain loop: one process walks the layout (sources -> items -> read, the same per-image work)
    and writes one gzipped TFRecord per split;
  Beam: `job.run` (the standalone ingestion job, deterministic shards) on the DirectRunner,
    in_memory and multi_processing with 1 and 2 workers, and multi_threading with 2 (in_memory
    runs one thread whatever the worker count; Beam warns so).
Every mode must write the same number of examples; images/s = images found / wall seconds
(Beam's include pipeline start-up, as a user would see). Ratios are against the plain loop
measured in the same run. The issue's target: Beam with 2 workers >= 1.5x the plain loop.
Multi-processing pays a fixed start-up (each worker process imports TensorFlow and the readers,
about 6 s here), so its ratio grows with the number of images; in-process modes do not pay it.

Usage: python bench/ingest_throughput.py [--images 2000] [--size 500x375] [--repeats 1]
Writes `--output_csv` (default bench/results/ingest_throughput.csv).
"""
import argparse
import os
import shutil
import tempfile
import time

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

from bench import report  # pylint: disable=g-import-not-at-top
from components import example_gen  # pylint: disable=g-import-not-at-top
from components.example_gen import job  # pylint: disable=g-import-not-at-top
from components.example_gen.formats import imagenet_fixture  # pylint: disable=g-import-not-at-top
from components.example_gen.layout import Rejected  # pylint: disable=g-import-not-at-top

BEAM_MODES = (('in_memory', 1), ('in_memory', 2), ('multi_threading', 2),
              ('multi_processing', 1), ('multi_processing', 2))
TARGET_WORKERS, TARGET_RATIO = 2, 1.5
_FIRST_WNIDS = 'n01440764 n01443537 n01484850 n01491361 n01494475'.split()


def plain_loop(layout, output_dir: str) -> int:
  """The baseline: the same reading, one process, one gzipped TFRecord per split."""
  writers = {split: tf.io.TFRecordWriter(os.path.join(output_dir, f'{split}.tfrecord.gz'),
                                         options='GZIP') for split in layout.splits}
  written = 0
  for source in layout.sources():
    for item in layout.items(source):
      if isinstance(item, Rejected):
        continue
      for example in layout.read(item):
        if not isinstance(example, Rejected):
          writers[item.split].write(example.SerializeToString())
          written += 1
  for writer in writers.values():
    writer.close()
  return written


def beam_job(layout, output_dir: str, running_mode: str, workers: int) -> int:
  counts = job.run(layout, output_dir, num_shards=8, beam_pipeline_args=[
      '--runner=DirectRunner', f'--direct_running_mode={running_mode}',
      f'--direct_num_workers={workers}'])
  return counts.written


def _timed(function, *args):
  start = time.perf_counter()
  count = function(*args)
  return count, time.perf_counter() - start


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--images', type=int, default=6000, help='Training JPEGs (+5%% val).')
  parser.add_argument('--size', default='500x375', help='Image width x height.')
  parser.add_argument('--repeats', type=int, default=1, help='Runs per mode (best kept).')
  parser.add_argument('--output_csv', default=os.path.join(
      os.path.dirname(os.path.abspath(__file__)), 'results', 'ingest_throughput.csv'))
  args = parser.parse_args()
  width, height = (int(v) for v in args.size.split('x'))
  per_class = args.images // len(_FIRST_WNIDS)
  work = tempfile.mkdtemp(prefix='ingest_bench_')
  try:
    root = os.path.join(work, 'imagenet')
    start = time.perf_counter()
    imagenet_fixture.write_fixture(root, wnids=_FIRST_WNIDS, train_per_class=per_class,
                                   val_per_class=max(1, per_class // 20),
                                   image_size=(width, height), quirks=False)
    layout = example_gen.make_layout('imagenet', root)
    found = sum(1 for s in layout.sources() for _ in layout.items(s))
    print(f'fixture: {found} JPEGs of {width}x{height} in {time.perf_counter() - start:.0f} s '
          f'({os.cpu_count()} CPUs)')
    rows = []
    modes = [('plain loop', None)] + [(f'beam {m} x{w}', (m, w)) for m, w in BEAM_MODES]
    for name, mode in modes:
      best = None
      for _ in range(args.repeats):
        out = tempfile.mkdtemp(dir=work)
        count, seconds = (_timed(plain_loop, layout, out) if mode is None
                          else _timed(beam_job, layout, out, *mode))
        if count != found:
          raise RuntimeError(f'{name} wrote {count} examples of {found}')
        best = seconds if best is None else min(best, seconds)
        shutil.rmtree(out)
      rows.append({'mode': name, 'images': found, 'seconds': round(best, 2),
                   'images_per_s': round(found / best, 1)})
      print(f'{name:28s} {found / best:8.1f} images/s  ({best:.1f} s)', flush=True)
    baseline = rows[0]['images_per_s']
    for row in rows:
      row['ratio_vs_plain_loop'] = round(row['images_per_s'] / baseline, 2)
    print('\nratios vs plain loop: ' + ', '.join(
        f'{r["mode"]} {r["ratio_vs_plain_loop"]:.2f}x' for r in rows[1:]))
    for row in rows:
      if row['mode'].endswith(f' x{TARGET_WORKERS}'):
        met = 'met' if row['ratio_vs_plain_loop'] >= TARGET_RATIO else 'NOT met'
        print(f'target {row["mode"]} >= {TARGET_RATIO}x: '
              f'{row["ratio_vs_plain_loop"]:.2f}x ({met})')
    report.write_csv(args.output_csv, rows)
  finally:
    shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
  main()
