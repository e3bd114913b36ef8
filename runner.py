"""The one entry point: `python runner.py --runner=local [--profile dev] [--<field> VALUE ...]`.

Picks a profile (pipeline/configs.py), applies flag overrides, and hands the one DAG
(pipeline/pipeline.py) to the chosen orchestrator.
"""
import os
import warnings

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')  # one Keras (Keras 2) before TF loads
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')
# Google's client libraries warn at import that Python 3.10 will lose support; TFX 1.16
# needs 3.10, so the warning says nothing the user can act on.
warnings.filterwarnings('ignore', message='.*non-supported Python version', category=FutureWarning)

import argparse  # pylint: disable=g-import-not-at-top,wrong-import-position
import sys
import time

from pipeline import configs
from pipeline import flags

RUNNERS = ('local',)


def parse_args(argv=None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
      description='Residual Attention Network TFX pipeline.',
      formatter_class=argparse.ArgumentDefaultsHelpFormatter)
  parser.add_argument('--runner', default='local', choices=RUNNERS,
                      help='Orchestrator: local runs every component in this process '
                      '(LocalDagRunner, sqlite ML Metadata under --output_dir).')
  flags.add_config_flags(parser)
  return parser.parse_args(argv)


def main(argv=None) -> int:
  args = parse_args(argv)
  config = flags.config_from_flags(args)
  from pipeline import local  # pylint: disable=g-import-not-at-top (TFX import is slow)
  started = time.monotonic()
  try:
    run = local.run_local(config)
  except configs.ConfigError as error:
    print(f'error: {error}', file=sys.stderr)
    return 2
  print(run.report(wall_seconds=time.monotonic() - started))
  return 0


if __name__ == '__main__':
  sys.exit(main())
