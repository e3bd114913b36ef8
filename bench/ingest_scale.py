"""Ingestion at scale: images/s and the launching process's peak memory at 100,000 items
against 10,000, in the same run.

Generates two ImageNet-layout trees of tiny JPEGs (`imagenet_fixture.write_fixture`: 1,000 class
folders under train/, `--small_items` and `--items` images in all, an empty validation folder
with its label file) and a manifest.csv listing each tree's images, then ingests each tree as
`imagenet` and as `manifest` with the standalone job (`python -m components.example_gen`,
DirectRunner multi_processing with `--workers` worker processes). The launcher creates only a
short list of sources (the class folders; the manifest's chunks of 10,000 lines, found by one
pass over the CSV); the workers list the files and read them (components/example_gen/ingest.py).

Each tree is ingested twice. For throughput, on the DirectRunner (multi_processing, `--workers`
worker processes): images/s = examples written / wall seconds of the job's process (start-up
included, as a user sees it); that process is also Beam's runner, which holds every shuffle in
its memory (`runner_peak_rss_mib`). For the launcher's memory, as on Dataflow, where the
launching process only submits the job and the shuffle and the workers are elsewhere: the
PortableRunner submitting to a Beam job service and an SDK worker pool, each in a process of its
own (`launcher_peak_rss_mib`: ru_maxrss of the job's process). Targets: at `--items`, images/s
>= 0.9x and launcher peak RSS <= 1.2x the `--small_items` run's. The projection for ImageNet on Dataflow divides 1,281,167 images by the
marginal rate per worker process (one core each): the images the large run adds over the
seconds it adds, so the fixed start-up is left out. Core-hours, a projection from tiny images
(real ImageNet JPEGs, about 110 KiB, decode several times slower).

Usage: python bench/ingest_scale.py [--items 100000] [--small_items 10000] [--workers 2]
Writes `--output_csv` (default bench/results/ingest_scale.csv). The trees are generated in a
temporary folder and deleted afterwards.
"""
import argparse
import csv
import json
import os
import contextlib
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT_ROOT)
from bench import report  # pylint: disable=g-import-not-at-top,wrong-import-position

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


def _env():
  """This environment with the project on PYTHONPATH and this interpreter first on PATH (Beam's
  worker pool starts its workers as `python`)."""
  return dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable),
                                                os.environ.get('PATH', '')]),
              PYTHONPATH=os.pathsep.join([PROJECT_ROOT] + [
                  p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]))


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(('localhost', 0))
    return s.getsockname()[1]


@contextlib.contextmanager
def job_service(work: str):
  """A Beam job service and an SDK worker pool, each in a process of its own; yields the Beam
  args that submit a job to them."""
  ports = _free_port(), _free_port()
  log = open(os.path.join(work, 'services.log'), 'w')  # pylint: disable=consider-using-with
  services = [subprocess.Popen(  # pylint: disable=consider-using-with
      [sys.executable, '-m', module, f'{flag}={port}'], env=_env(), stdout=log, stderr=log)
              for module, flag, port in (
                  ('apache_beam.runners.portability.local_job_service_main', '--port', ports[0]),
                  ('apache_beam.runners.worker.worker_pool_main', '--service_port', ports[1]))]
  try:
    for port in ports:
      deadline = time.monotonic() + 120
      while True:
        try:
          socket.create_connection(('localhost', port), timeout=1).close()
          break
        except OSError:
          if time.monotonic() > deadline:
            raise RuntimeError(f'Beam service on port {port} did not start') from None
          time.sleep(0.5)
    yield ['--runner=PortableRunner', f'--job_endpoint=localhost:{ports[0]}',
           '--job_server_timeout=86400',  # else Beam drops the job's state stream after 60 s
           '--environment_type=EXTERNAL', f'--environment_config=localhost:{ports[1]}']
  finally:
    for service in services:
      service.terminate()
      service.wait()
    log.close()


def ingest(dataset: str, root: str, work: str, beam_args):
  """(counts, wall seconds, peak RSS of the job's process in MiB) of one run of the job in a
  fresh process."""
  out_dir, rss_file = os.path.join(work, 'out'), os.path.join(work, 'rss.json')
  command = [sys.executable, os.path.abspath(__file__), _LAUNCH, rss_file,
             '--dataset', dataset, '--data_root', root, '--output_dir', out_dir,
             '--beam_pipeline_args', *beam_args]
  start = time.perf_counter()
  done = subprocess.run(command, env=_env(), capture_output=True, text=True, check=False)
  seconds = time.perf_counter() - start
  if done.returncode != 0:
    raise RuntimeError(f'{dataset} job failed ({done.returncode}):\n{done.stderr[-3000:]}')
  counts = json.loads(done.stdout)
  if counts['found'] != counts['written'] + sum(counts['quarantined'].values()):
    raise RuntimeError(f'{dataset}: counts do not reconcile: {counts}')
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
    direct = ['--direct_running_mode=multi_processing', f'--direct_num_workers={args.workers}']
    for dataset in DATASETS:
      for items, root in roots.items():
        counts, seconds, runner_rss = ingest(dataset, root, work, direct)
        with job_service(work) as portable:
          launched, _, launcher_rss = ingest(dataset, root, work, portable)
        if not counts['found'] == launched['found'] == items:
          raise RuntimeError(f'{dataset} at {items}: found {counts["found"]} (DirectRunner), '
                             f'{launched["found"]} (job service)')
        rows.append({'dataset': dataset, 'items': items, 'workers': args.workers,
                     'seconds': round(seconds, 1),
                     'images_per_s': round(counts['written'] / seconds, 1),
                     'runner_peak_rss_mib': round(runner_rss, 1),
                     'launcher_peak_rss_mib': round(launcher_rss, 1)})
        print(f'{dataset:9s} {items:7d} items: {counts["written"] / seconds:7.1f} images/s '
              f'({seconds:.0f} s), runner peak RSS {runner_rss:.0f} MiB; launcher peak RSS '
              f'{launcher_rss:.0f} MiB', flush=True)
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
          f'({IMAGENET_TRAIN_IMAGES:,} images) at the marginal rate per worker core (the '
          f'{args.items - args.small_items:,} images the large run adds over the extra seconds '
          'it takes: start-up excluded)')
    for small, large in zip(rows[::2], rows[1::2]):
      if large['seconds'] <= small['seconds']:
        print(f'  as {large["dataset"]}: n/a (the large run was not slower: start-up dominates)')
        continue
      marginal = (large['items'] - small['items']) / (large['seconds'] - small['seconds'])
      large['marginal_images_per_s'] = round(marginal, 1)
      per_core = marginal / args.workers
      print(f'  as {large["dataset"]}: {per_core:.0f} images/s per core = '
            f'{IMAGENET_TRAIN_IMAGES / per_core / 3600:.2f} core-hours')
    print(f'load average at the end {os.getloadavg()[0]:.2f}')
    report.write_csv(args.output_csv, rows)
  finally:
    shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
  if len(sys.argv) > 2 and sys.argv[1] == _LAUNCH:
    sys.exit(launch_job(sys.argv[2], sys.argv[3:]))
  main()
