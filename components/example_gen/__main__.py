"""Standalone ingestion: `python -m components.example_gen --dataset NAME --data_root DIR
--output_dir DIR [--span N] [--num_shards N] [--option KEY=VALUE ...] [--beam_runner NAME]
[--beam_pipeline_args ...]`.

Reads one span of the data root (its span-<N>/ folders; the newest unless --span names one; a
root without span folders is span 0). Writes DIR/<split>/*.tfrecord.gz,
DIR/quarantine/rejected.jsonl and DIR/ingest_counts.json (with the span), and exits 1 when more
than --max_quarantined_fraction of the items were quarantined, or when a whole file could not be
read (unless --allow_lost_files).
"""
import argparse
import json
import os
import sys
from typing import Any, Dict, List, Optional, Sequence

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

from components import beam_runners  # pylint: disable=g-import-not-at-top
from components import example_gen  # pylint: disable=g-import-not-at-top
from components.example_gen import ingest  # pylint: disable=g-import-not-at-top
from components.example_gen import job  # pylint: disable=g-import-not-at-top


def _option(text: str) -> Any:
  key, sep, value = text.partition('=')
  if not sep or not key:
    raise argparse.ArgumentTypeError(f'{text!r}: expected KEY=VALUE, e.g. crop_to_roi=true')
  try:
    return key, json.loads(value)
  except json.JSONDecodeError:
    return key, value  # a bare string, e.g. val_labels=devkit


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
      prog='python -m components.example_gen', description=__doc__.split('\n\n')[0],
      formatter_class=argparse.ArgumentDefaultsHelpFormatter)
  parser.add_argument('--dataset', required=True, choices=sorted(example_gen.LAYOUT_CLASSES))
  parser.add_argument('--data_root', required=True, help='The dataset in its published layout.')
  parser.add_argument('--output_dir', required=True, help='Where shards, quarantine and counts go.')
  parser.add_argument('--span', type=int, default=None,
                      help='The span to read (a span-<N>/ folder of the data root; 0 for a root '
                      'without span folders). Default: the newest.')
  parser.add_argument('--num_shards', type=int, default=16, help='TFRecord shards per split.')
  parser.add_argument('--seed', type=int, default=0, help='Seed of hash splits.')
  parser.add_argument('--max_pixels', type=int, default=None,
                      help='Quarantine larger images (default: the layout default).')
  parser.add_argument('--max_quarantined_fraction', type=float, default=0.01,
                      help='Fail when more of the items than this were quarantined.')
  parser.add_argument('--allow_lost_files', action='store_true',
                      help='Go on when a whole file cannot be read (a CIFAR batch, a TFRecord '
                      'shard, a label file); the counts list it and the records unaccounted for.')
  parser.add_argument('--option', type=_option, action='append', default=[],
                      metavar='KEY=VALUE', help='A reader option of the dataset (JSON value).')
  parser.add_argument('--beam_runner', default='DirectRunner',
                      choices=sorted(beam_runners.LOCAL_RUNNER_ARGS),
                      help='Run here in memory, or through Beam\'s portability framework as on '
                      'Dataflow (components/beam_runners.py); --beam_pipeline_args come after '
                      'its options and win.')
  parser.add_argument('--beam_pipeline_args', nargs=argparse.REMAINDER, default=[],
                      help='Everything after this goes to Apache Beam, e.g. --runner=Dataflow.')
  return parser.parse_args(argv)


def _layout_options(args: argparse.Namespace) -> Dict[str, Any]:
  options = dict(args.option)
  options['seed'] = args.seed
  if args.allow_lost_files:
    options['allow_lost_files'] = True
  if args.max_pixels is not None:
    options['max_pixels'] = args.max_pixels
  return options


def main(argv: Optional[List[str]] = None) -> int:
  args = parse_args(argv)
  try:
    span = example_gen.spans_of(args.data_root)[-1] if args.span is None else args.span
    layout = example_gen.make_layout(args.dataset, example_gen.span_root(args.data_root, span),
                                     _layout_options(args))
    counts = job.run(layout, args.output_dir, span=span, num_shards=args.num_shards,
                     beam_pipeline_args=(beam_runners.LOCAL_RUNNER_ARGS[args.beam_runner]
                                         + tuple(args.beam_pipeline_args)),
                     max_quarantined_fraction=args.max_quarantined_fraction)
  except (example_gen.LayoutError, ValueError, ingest.QuarantineLimitError) as error:
    print(f'error: {error}', file=sys.stderr)
    return 1 if isinstance(error, ingest.QuarantineLimitError) else 2
  print(counts.to_json(), end='')
  return 0


if __name__ == '__main__':
  sys.exit(main())
