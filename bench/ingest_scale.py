"""Ingestion at scale: images/s and the launching process's peak memory at 100,000 items
against 10,000, in the same run.

Generates two ImageNet-layout trees of tiny JPEGs (`imagenet_fixture.write_fixture`: 1,000 class
folders under train/, `--small_items` and `--items` images in all, an empty validation folder
with its label file) and a manifest.csv listing each tree's images, then ingests each tree as
`imagenet` and as `manifest` with the standalone job (`python -m components.example_gen`,
DirectRunner multi_processing with `--workers` worker processes). The launcher creates only a
short list of sources (the class folders; the manifest's chunks of 10,000 lines, found by one
pass over the CSV); the workers list the files and read them (components/example_gen/ingest.py).

Per run: images/s = examples written / wall seconds of the job's process (start-up included, as
a user sees it), and the launcher's peak RSS (ru_maxrss of the job's own process; its worker
processes are apart). Targets: at `--items`, images/s >= 0.9x and peak RSS <= 1.2x the
`--small_items` run's. The projection for ImageNet on Dataflow divides 1,281,167 images by the
measured rate per worker process (one core each) of the large run: core-hours, a projection
from tiny images (real ImageNet JPEGs, about 110 KiB, decode several times slower).

Usage: python bench/ingest_scale.py [--items 100000] [--small_items 10000] [--workers 2]
Writes `--output_csv` (default bench/results/ingest_scale.csv). The trees are generated in a
temporary folder and deleted afterwards.
"""
import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT_ROOT)

DATASETS = ('imagenet', 'manifest')
CLASSES = 1000
IMAGENET_TRAIN_IMAGES = 1_281_167
TARGET_THROUGHPUT_RATIO, TARGET_RSS_RATIO = 0.9, 1.2
_LAUNCH = '--launch'  # run the job in this process and write its peak RSS (see launch_job)


def write_tree(root: str, items: int) -> int:
  """An ImageNet-layout tree of `items` 32 x 32 JPEGs over the 1,000 classes, and a
  manifest.csv (path,label) listing them; returns the number of images."""
  # pylint: disable=g-import-not-at-top
  from components.example_gen.formats import imagenet
  from components.example_gen.formats import imagenet_fixture
  from components.example_gen.formats import manifest
  written = imagenet_fixture.write_fixture(
      root, wnids=imagenet.standard_wnids(), train_per_class=items // CLASSES, val_per_class=0,
      val_labels='synsets', image_size=(32, 32), quirks=False)['train']
  with open(os.path.join(root, manifest.DEFAULT_MANIFEST), 'w', newline='') as f:
    writer = csv.writer(f, lineterminator='\n')
    writer.writerow([manifest.PATH, manifest.LABEL])
    writer.writerows(sorted(written.items()))
  return len(written)


def launch_job(rss_file: str, job_args):
  """Runs the standalone job in this process; writes its exit status and this process's peak
  RSS (KiB, Linux's ru_maxrss) to `rss_file` as JSON."""
  from components.example_gen import __main__ as job_cli  # pylint: disable=g-import-not-at-top
  status = job_cli.main(job_args)
  with open(rss_file, 'w') as f:
    json.dump({'status': status,
               'peak_rss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}, f)
  return status


def ingest(dataset: str, root: str, work: str, workers: int):
  """(counts, wall seconds, launcher peak RSS in MiB) of one run of the job in a fresh process."""
  out_dir, rss_file = os.path.join(work, 'out'), os.path.join(work, 'rss.json')
  command = [sys.executable, os.path.abspath(__file__), _LAUNCH, rss_file,
             '--dataset', dataset, '--data_root', root, '--output_dir', out_dir,
             '--beam_runner', 'DirectRunner', '--beam_pipeline_args',
             '--direct_running_mode=multi_processing', f'--direct_num_workers={workers}']
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(
      [PROJECT_ROOT] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]))
  start = time.perf_counter()
  done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
  seconds = time.perf_counter() - start
  if done.returncode != 0:
    raise RuntimeError(f'{dataset} job failed ({done.returncode}):\n{done.stderr[-3000:]}')
  counts = json.loads(done.stdout)
  with open(rss_file) as f:
    peak_rss_mib = json.load(f)['peak_rss_kib'] / 1024
  shutil.rmtree(out_dir)
  return counts, seconds, peak_rss_mib


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--items', type=int, default=100_000, help='Images of the large tree.')
  parser.add_argument('--small_items', type=int, default=10_000,
                      help='Images of the small tree, the reference.')
  parser.add_argument('--workers', type=int, default=2, help='Beam worker processes.')
  parser.add_argument('--output_csv', default=os.path.join(
      PROJECT_ROOT, 'bench', 'results', 'ingest_scale.csv'))
  args = parser.parse_args()
  for items in (args.small_items, args.items):
    if items < CLASSES or items % CLASSES:
      parser.error(f'{items} items: need a multiple of {CLASSES} (images per class folder)')
  print(f'{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}', flush=True)
  work = tempfile.mkdtemp(prefix='ingest_scale_')
  rows = []
  try:
    roots = {}
    for items in (args.small_items, args.items):
      roots[items] = os.path.join(work, f'tree_{items}')
      start = time.perf_counter()
      written = write_tree(roots[items], items)
      print(f'tree of {written} JPEGs (32 x 32) in {CLASSES} class folders: '
            f'{time.perf_counter() - start:.0f} s', flush=True)
    for dataset in DATASETS:
      for items, root in roots.items():
        counts, seconds, rss = ingest(dataset, root, work, args.workers)
        if counts['found'] != items or counts['written'] + sum(
            counts['quarantined'].values()) != counts['found']:
          raise RuntimeError(f'{dataset} at {items}: counts do not reconcile: {counts}')
        rows.append({'dataset': dataset, 'items': items, 'workers': args.workers,
                     'seconds': round(seconds, 1),
                     'images_per_s': round(counts['written'] / seconds, 1),
                     'launcher_peak_rss_mib': round(rss, 1)})
        print(f'{dataset:9s} {items:7d} items: {counts["written"] / seconds:7.1f} images/s '
              f'({seconds:.0f} s), launcher peak RSS {rss:.0f} MiB', flush=True)
      small, large = rows[-2], rows[-1]
      for row in (small, large):
        row['throughput_ratio'] = round(row['images_per_s'] / small['images_per_s'], 3)
        row['rss_ratio'] = round(row['launcher_peak_rss_mib'] / small['launcher_peak_rss_mib'], 3)
      for name, value, target, holds in (
          ('images/s', large['throughput_ratio'], TARGET_THROUGHPUT_RATIO,
           large['throughput_ratio'] >= TARGET_THROUGHPUT_RATIO),
          ('launcher peak RSS', large['rss_ratio'], TARGET_RSS_RATIO,
           large['rss_ratio'] <= TARGET_RSS_RATIO)):
        print(f'  {dataset} {name} at {args.items} vs {args.small_items}: {value:.2f}x '
              f'(target {"<=" if name.endswith("RSS") else ">="} {target}x: '
              f'{"met" if holds else "NOT met"})')
    print('\nprojection, not a measurement, from tiny images: ImageNet train '
          f'({IMAGENET_TRAIN_IMAGES:,} images) at the measured rate per worker core')
    for row in rows[1::2]:  # the large runs
      per_core = row['images_per_s'] / args.workers
      print(f'  as {row["dataset"]}: {per_core:.0f} images/s per core = '
            f'{IMAGENET_TRAIN_IMAGES / per_core / 3600:.2f} core-hours')
    print(f'load average at the end {os.getloadavg()[0]:.2f}')
    os.makedirs(os.path.dirname(args.output_csv), exist_ok=True)
    with open(args.output_csv, 'w', newline='') as f:
      writer = csv.DictWriter(f, fieldnames=list(rows[0]))
      writer.writeheader()
      writer.writerows(rows)
  finally:
    shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
  if len(sys.argv) > 2 and sys.argv[1] == _LAUNCH:
    sys.exit(launch_job(sys.argv[2], sys.argv[3:]))
  main()
