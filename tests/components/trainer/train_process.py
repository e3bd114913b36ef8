"""Runs the real Trainer `run_fn` in its own process, from a JSON file of FnArgs fields:
`python tests/components/trainer/train_process.py ARGS.json` (the resume and distribution
tests kill and restart it)."""
import json
import os
import pathlib
import sys

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3]))  # the project root

from tfx import v1 as tfx  # pylint: disable=g-import-not-at-top,wrong-import-position

from components import trainer  # pylint: disable=g-import-not-at-top,wrong-import-position

if __name__ == '__main__':
  with open(sys.argv[1]) as f:
    trainer.run_fn(tfx.components.FnArgs(**json.load(f)))
