"""Running the pipeline on this machine: LocalDagRunner, sqlite ML Metadata, embedded data."""
import contextlib
import fcntl
import logging
import os
import shutil
import socket
import time
from typing import Iterator

from tfx.orchestration.local.local_dag_runner import LocalDagRunner
from tfx.orchestration.metadata import sqlite_metadata_connection_config

from components import example_gen
from pipeline import interrupted_runs
from pipeline import results
from pipeline import spans
from pipeline.configs import ConfigError
from pipeline.configs import PipelineConfig
from pipeline.pipeline import create_pipeline

LOCK_FILE = 'run.lock'  # under the output dir: who runs there now
# TFX 1.16's input resolution warns this for every artifact query it resolves, about 40 lines a
# run: it tests `if artifact_query.property_predicate:`, and an unset protobuf message field is
# truthy. This pipeline sets no property predicate, so the warning is never true here.
FALSE_TFX_WARNING = 'ArtifactQuery.property_predicate is not supported.'


def _not_the_false_tfx_warning(record: logging.LogRecord) -> bool:
  return record.getMessage() != FALSE_TFX_WARNING


@contextlib.contextmanager
def without_false_tfx_warning() -> Iterator[None]:
  """absl's logger, which TFX logs through, drops FALSE_TFX_WARNING meanwhile; every other
  record passes."""
  logger = logging.getLogger('absl')
  logger.addFilter(_not_the_false_tfx_warning)
  try:
    yield
  finally:
    logger.removeFilter(_not_the_false_tfx_warning)


def check_inputs(config: PipelineConfig) -> None:
  """ConfigError when `config.data_root` or `config.examples_dir` was given but is missing, or
  its span (`config.span`, or the newest) is missing or is not the dataset's layout."""
  if config.examples_dir is not None:
    if not os.path.isdir(config.examples_dir):
      raise ConfigError(f'--examples_dir {config.examples_dir} does not exist or is not a '
                        'directory')
    return
  data_root = config.resolved_data_root
  if config.data_root is not None:
    if not os.path.isdir(data_root):
      raise ConfigError(f'--data_root {data_root} does not exist or is not a directory')
    try:  # the span's and the layout's own checks (label files present...), before any step
      example_gen.make_layout(config.dataset, example_gen.span_root(data_root, config.span),
                              config.layout_options)
    except ValueError as error:
      raise ConfigError(str(error)) from None


def prepare_data(config: PipelineConfig) -> None:
  """Renders the dataset's embedded sample into the default data root on first use: each of
  its deliveries span-1 .. span-<sample_span> that is absent, each into `span-<k>.partial`
  renamed into place when complete. ConfigError when that is asked of a dataset without an
  embedded sample, or `sample_span` beside a data root or examples of one's own."""
  if config.examples_dir is not None or config.data_root is not None:
    if config.sample_span != 1:
      raise ConfigError('--sample_span renders the embedded sample into the default data root: '
                        'give no --data_root or --examples_dir with it')
    return
  data_root = config.resolved_data_root
  existing = ([name for name in os.listdir(data_root) if not name.startswith('.')]
              if os.path.isdir(data_root) else [])
  if existing and _spans(data_root) == [0]:
    if config.sample_span == 1:  # a sample rendered before spans: one span, as it is
      return
    raise ConfigError(f'{data_root} holds a sample rendered before spans: delete it to render '
                      f'--sample_span {config.sample_span}')
  missing = [span for span in range(1, config.sample_span + 1)
             if example_gen.span_folder(span) not in existing]
  if not missing:
    return
  try:
    layout_class = example_gen.layout_class(config.dataset)
  except ValueError as error:  # an unknown dataset
    raise ConfigError(str(error)) from None
  if not layout_class.has_sample:
    raise ConfigError(f'Dataset {config.dataset!r} has no embedded sample: give --data_root')
  for span in missing:
    folder = os.path.join(data_root, example_gen.span_folder(span))
    print(f'Rendering span {span} of the embedded {config.dataset} sample into {folder} ...',
          flush=True)
    # Renamed into place when complete: no half-written span; hidden, so not a span meanwhile.
    partial = os.path.join(data_root, f'.{example_gen.span_folder(span)}.partial')
    if os.path.isdir(partial):
      shutil.rmtree(partial)
    counts = layout_class.render_sample(
        partial, seed=config.seed, train_per_class=config.sample_train_per_class,
        test_per_class=config.sample_test_per_class, span=span)
    os.rename(os.path.join(partial, example_gen.span_folder(span)), folder)
    os.rmdir(partial)
    print(f'  {sum(counts.values())} images written.', flush=True)


def _spans(data_root: str):
  try:
    return example_gen.spans_of(data_root)
  except example_gen.LayoutError as error:
    raise ConfigError(str(error)) from None


def check_writable(output_dir: str) -> None:
  """ConfigError unless `output_dir` is, or can be made, a folder this process may write to
  (nothing is created here)."""
  existing = os.path.abspath(output_dir)
  while not os.path.exists(existing):
    existing = os.path.dirname(existing)
  if not os.path.isdir(existing):
    problem = f'{existing} is not a directory'
  elif not os.access(existing, os.W_OK | os.X_OK):
    problem = f'{existing} is not writable'
  else:
    return
  raise ConfigError(f'--output_dir {output_dir} cannot be written ({problem})')


@contextlib.contextmanager
def output_dir_lock(output_dir: str) -> Iterator[None]:
  """Holds `<output_dir>/run.lock` for one run at a time; ConfigError naming the holder when
  another process holds it. The lock dies with its process: a killed run leaves none behind."""
  os.makedirs(output_dir, exist_ok=True)
  with open(os.path.join(output_dir, LOCK_FILE), 'a+', encoding='utf-8') as lock:
    try:
      fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      lock.seek(0)
      holder = lock.read().strip() or 'another process'
      raise ConfigError(f'--output_dir {output_dir} is in use by {holder}: wait for that run '
                        'to end, or give another --output_dir') from None
    lock.truncate(0)
    lock.write(f'pid {os.getpid()} on {socket.gethostname()} since '
               f'{time.strftime("%Y-%m-%d %H:%M:%S")}\n')
    lock.flush()
    try:
      yield
    finally:
      lock.truncate(0)


def run_local(config: PipelineConfig) -> results.RunResults:
  """Runs the whole pipeline in this process and returns what it produced; first marks
  what a killed earlier run left unfinished (pipeline/interrupted_runs.py)."""
  check_writable(config.output_dir)
  check_inputs(config)
  metadata = sqlite_metadata_connection_config(config.metadata_path)
  pipeline = create_pipeline(config, metadata_connection_config=metadata)  # checks the flags
  with output_dir_lock(config.output_dir), without_false_tfx_warning():
    interrupted = interrupted_runs.clean_up(config.metadata_path, pipeline)
    if interrupted:
      print(interrupted_runs.summary(interrupted), flush=True)
    prepare_data(config)
    spans.backfill(config, metadata)
    LocalDagRunner().run(pipeline)
    return results.latest_run_results(config.metadata_path, config.pipeline_name)
