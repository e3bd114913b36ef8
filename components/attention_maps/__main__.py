"""Attention-map figures for any images: `python -m components.attention_maps --model DIR
--images PATH [PATH ...] --output_dir DIR`.

DIR is an exported serving model (components/trainer/serving.py) with the `attention_maps`
signature. Each image file (JPEG, PNG, BMP, PPM, ... : whatever Pillow reads) becomes
`<output_dir>/<stem>.png` (`<stem>_2.png`, ... when stems repeat): the image as the model saw
it and one overlay per attention module, captioned with the top prediction. One line per
image goes to stdout (`PATH -> OUT: CLASS (p=P)`), or to stderr for an image that is missing
or undecodable, and the others go on. The last line reconciles the counts
(`read N = written W + failed F`). Exit status: 0 all written, 1 some failed, 2 the model
has no `attention_maps` signature or the output directory cannot be made
(nothing is read).
"""
import argparse
import os
import sys
from typing import Dict, List, Optional, Sequence

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

from components.attention_maps import overlay  # pylint: disable=g-import-not-at-top
from components.attention_maps import served  # pylint: disable=g-import-not-at-top


MAX_SIZE = 2048    # px: a panel as large as a screen; larger ones take memory for nothing
MAX_COLUMNS = 32


def _int_up_to(most: int):
  """An argparse type: an integer in 1..`most`."""

  def parse(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= most:
      raise argparse.ArgumentTypeError(f'expected an integer from 1 to {most}, got {text!r}')
    return int(text)

  return parse


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
      prog='python -m components.attention_maps', description=__doc__.split('\n\n')[0],
      formatter_class=argparse.ArgumentDefaultsHelpFormatter)
  parser.add_argument('--model', required=True,
                      help='SavedModel directory with the attention_maps signature.')
  parser.add_argument('--images', required=True, nargs='+', metavar='PATH',
                      help='Image files (any format Pillow reads).')
  parser.add_argument('--output_dir', required=True, help='Where the PNG figures go.')
  parser.add_argument('--size', type=_int_up_to(MAX_SIZE), default=overlay.DISPLAY_SIZE,
                      help=f'Panel size in px (the longer side), at most {MAX_SIZE}.')
  parser.add_argument('--columns', type=_int_up_to(MAX_COLUMNS), default=4,
                      help=f'Panels per row, at most {MAX_COLUMNS}.')
  return parser.parse_args(argv)


def output_names(paths: Sequence[str]) -> Dict[str, str]:
  """Maps each path to a distinct `<stem>.png` file name (`<stem>_2.png`, ... on repeats)."""
  names, taken = {}, set()
  for path in paths:
    stem = os.path.splitext(os.path.basename(path))[0] or 'image'
    name, n = f'{stem}.png', 1
    while name in taken:
      n += 1
      name = f'{stem}_{n}.png'
    taken.add(name)
    names[path] = name
  return names


def _write_figure(signature, path: str, output: str, args: argparse.Namespace) -> str:
  """Writes the figure of the image file `path` to `output`; returns the line to print.

  Raises OSError (unreadable file) or ValueError (undecodable image).
  """
  with open(path, 'rb') as f:
    data = f.read()
  explanation = served.explain(signature, served.model_ready_bytes(data))
  figure = served.render(explanation, size=args.size, columns=args.columns)
  with open(output, 'wb') as f:
    f.write(figure)
  return f'{path} -> {output}: {explanation.class_name} (p={explanation.probability:.3f})'


def _reason(error: Exception) -> str:
  return error.strerror if isinstance(error, OSError) and error.strerror else str(error)


def main(argv: Optional[List[str]] = None) -> int:
  args = parse_args(argv)
  try:
    signature = served.load_attention_signature(args.model)
  except served.NoAttentionMapsError as error:
    print(f'error: {error}', file=sys.stderr)
    return 2
  try:
    os.makedirs(args.output_dir, exist_ok=True)
  except OSError as error:
    print(f'error: --output_dir {args.output_dir}: {_reason(error)}', file=sys.stderr)
    return 2
  paths = list(dict.fromkeys(args.images))  # a path named twice is read once
  names = output_names(paths)
  failed = 0
  for path in paths:
    try:
      print(_write_figure(signature, path, os.path.join(args.output_dir, names[path]), args))
    except (OSError, ValueError) as error:
      failed += 1
      print(f'{path}: error: {_reason(error)}', file=sys.stderr)
  print(f'read {len(paths)} = written {len(paths) - failed} + failed {failed}')
  return 1 if failed else 0


if __name__ == '__main__':
  sys.exit(main())
