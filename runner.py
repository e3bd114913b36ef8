"""The one entry point: `python runner.py --runner=local|kubeflow|vertex [--profile dev]
[--<field> VALUE ...]`, and `python runner.py dashboard [...]` for the evaluation dashboard.

Picks a profile (pipeline/configs.py), applies flag overrides, and hands the one DAG
(pipeline/pipeline.py) to the chosen orchestrator: run here (local), compiled for Kubeflow
Pipelines (kubeflow), or compiled and submitted to Vertex AI Pipelines (vertex).
"""
import os
import warnings

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')  # one Keras (Keras 2) before TF loads
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')
# TensorFlow turns its oneDNN kernels on by itself only on CPUs with AVX512-VNNI, AVX512-BF16
# or AMX; on an AMD EPYC (AVX2) its default kernels trained the dev model 1.1-3x slower.
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')
# Google's client libraries warn at import that Python 3.10 and google-cloud-storage 2 will lose
# support; TFX 1.16 needs 3.10 and the pinned Beam needs storage < 3, so the warnings say
# nothing the user can act on (and would print before a flag's one-line error).
warnings.filterwarnings('ignore', message='.*non-supported Python version', category=FutureWarning)
warnings.filterwarnings('ignore', message='Support for google-cloud-storage < 3.0.0',
                        category=FutureWarning)

import argparse  # pylint: disable=g-import-not-at-top,wrong-import-position
import re
import sys
import time
from typing import Tuple

from pipeline import configs
from pipeline import flags
from pipeline import kubeflow
from pipeline import vertex

RUNNERS = ('local', 'kubeflow', 'vertex')
EXIT_NOT_TRAINED = 3  # the data gate blocked the newest delivery: a scheduler can alert on it
_LABEL_KEY = re.compile(r'[a-z][a-z0-9_-]{0,62}')
_LABEL_VALUE = re.compile(r'[a-z0-9_-]{0,63}')


def _labels(text: str) -> Tuple[Tuple[str, str], ...]:
  """`team=perception,cost-centre=adas` as ((key, value), ...), checked against GCP's rules."""
  pairs = []
  for item in text.split(','):
    key, _, value = item.partition('=')
    if not (_LABEL_KEY.fullmatch(key) and '=' in item and _LABEL_VALUE.fullmatch(value)):
      raise argparse.ArgumentTypeError(
          f'{item!r} is not a label KEY=VALUE (lowercase letters, digits, _ and -; the key '
          'starts with a letter; at most 63 characters each)')
    pairs.append((key, value))
  return tuple(pairs)


# The runners' own flags: name, the runners that take it, argparse keywords. Each defaults to
# None so that one given to another runner is caught; vertex.SubmitOptions holds the defaults.
_RUNNER_FLAGS = (
    ('output_file', ('kubeflow', 'vertex'), dict(
        help='Where the compiled pipeline goes (local or gs://): .json writes a PipelineJob '
        '(what Vertex AI submits), .yaml the pipeline spec alone (what a Kubeflow Pipelines '
        f'upload takes). Default: {kubeflow.DEFAULT_OUTPUT_FILE}.')),
    ('dry_run', ('vertex',), dict(
        action='store_const', const=True,
        help='Compile and print the Vertex AI request; submit nothing.')),
    ('schedule', ('vertex',), dict(
        metavar='CRON', help='Create a Vertex AI schedule running the pipeline at this cron '
        'expression (e.g. "0 3 * * 1", or "TZ=Europe/Berlin 0 3 * * 1") instead of one run.')),
    ('max_concurrent_runs', ('vertex',), dict(
        type=int, help='Most runs of the --schedule at once. Default: 1.')),
    ('service_account', ('vertex',), dict(
        help='Service account the steps run as. Default: the Compute Engine default one.')),
    ('network', ('vertex',), dict(
        help='VPC network to peer the job with, projects/NUMBER/global/networks/NAME.')),
    ('enable_caching', ('vertex',), dict(
        type=flags.parse_bool, help='Reuse cached step outputs (true) or rerun every step '
        '(false). Default: the pipeline\'s own setting (cache on).')),
    ('labels', ('vertex',), dict(
        type=_labels, help='More labels of the job, KEY=VALUE,... (pipeline, model and '
        'dataset are always set).')),
)


def parse_args(argv=None) -> argparse.Namespace:
  parser = flags.ArgumentParser(
      description='Residual Attention Network TFX pipeline.',
      formatter_class=argparse.ArgumentDefaultsHelpFormatter)
  parser.add_argument('--runner', default='local', choices=RUNNERS,
                      help='Orchestrator: local runs every component in this process '
                      '(LocalDagRunner, sqlite ML Metadata under --output_dir); kubeflow '
                      'compiles the pipeline for Kubeflow Pipelines; vertex compiles it and '
                      'submits (or schedules) it on Vertex AI Pipelines.')
  group = parser.add_argument_group('orchestrator flags (each for the runners it names)')
  for name, runners, keywords in _RUNNER_FLAGS:
    group.add_argument(f'--{name}', default=None, **{
        **keywords, 'help': f'[{", ".join(runners)}] {keywords["help"]}'})
  flags.add_config_flags(parser)
  args = parser.parse_args(argv)
  for name, runners, _ in _RUNNER_FLAGS:
    if getattr(args, name) is not None and args.runner not in runners:
      parser.error(f'--{name} applies to --runner={" or --runner=".join(runners)}, '
                   f'not --runner={args.runner}')
  if args.max_concurrent_runs is not None and args.schedule is None:
    parser.error('--max_concurrent_runs applies to a --schedule')
  return args


def _run_local(config: configs.PipelineConfig, args: argparse.Namespace) -> int:
  del args  # local takes no orchestrator flags
  from pipeline import local  # pylint: disable=g-import-not-at-top (TFX import is slow)
  started = time.monotonic()
  run = local.run_local(config)
  print(run.summary(wall_seconds=time.monotonic() - started))
  return 0 if run.trained else EXIT_NOT_TRAINED


def _run_kubeflow(config: configs.PipelineConfig, args: argparse.Namespace) -> int:
  path = kubeflow.compile_pipeline(
      config, output_file=args.output_file or kubeflow.DEFAULT_OUTPUT_FILE)
  print(f'Compiled {config.pipeline_name} for Kubeflow Pipelines: {path}')
  return 0


def _run_vertex(config: configs.PipelineConfig, args: argparse.Namespace) -> int:
  given = {name: getattr(args, name) for name, runners, _ in _RUNNER_FLAGS
           if 'vertex' in runners and getattr(args, name) is not None}
  return vertex.run_vertex(config, vertex.SubmitOptions(**given))


_RUN = {'local': _run_local, 'kubeflow': _run_kubeflow, 'vertex': _run_vertex}


def main(argv=None) -> int:
  argv = sys.argv[1:] if argv is None else list(argv)
  if argv[:1] == ['dashboard']:
    from pipeline import dashboard  # pylint: disable=g-import-not-at-top
    return dashboard.main(argv[1:])
  args = parse_args(argv)
  try:
    config = flags.config_from_flags(args)
    return _RUN[args.runner](config, args)
  except configs.ConfigError as error:
    print(f'error: {error}', file=sys.stderr)
    return 2


if __name__ == '__main__':
  sys.exit(main())
