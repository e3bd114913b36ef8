"""Classify images with an edge model: `python -m components.edge classify --model FILE
IMAGE [IMAGE ...]`.

FILE is a TFLite model of the edge export (a registry version's
`tflite/model_int8.tflite` or `tflite/model_float16.tflite`); the class names come from
`labels.txt` beside it (or --labels). Each image file (JPEG, PNG, BMP, PPM, ...: whatever
Pillow reads) is preprocessed as serving preprocesses it (--recipe, the profile's; the model's
input size), rounded to uint8 pixels and classified; one line per image goes to stdout
(`PATH: CLASS (p=P)`, or `--top_k` classes), or to stderr for an image that is missing or
undecodable, and the others go on. Exit status: 0 all classified, 1 some failed, 2 the model
or its labels cannot be read (nothing is classified).

The same in a few lines of Python, for a device with pixels already at the model's size:

    interpreter = tf.lite.Interpreter(model_path='tflite/model_int8.tflite')
    interpreter.allocate_tensors()
    [given], [output] = interpreter.get_input_details(), interpreter.get_output_details()
    interpreter.set_tensor(given['index'], pixels)  # uint8 [1, size, size, 3], RGB
    interpreter.invoke()
    probabilities = interpreter.get_tensor(output['index'])[0]  # float32 [classes]
"""
import argparse
import os
import sys
from typing import List, Optional, Sequence

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position

from components import image_codec  # pylint: disable=g-import-not-at-top,wrong-import-position
from components import preprocessing  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge import interpreter  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge import pixels  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge.report import LABELS_FILE  # pylint: disable=g-import-not-at-top,wrong-import-position


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(prog='python -m components.edge',
                                   description=__doc__.split('\n\n')[0])
  commands = parser.add_subparsers(dest='command', required=True)
  classify = commands.add_parser('classify', help='classify image files with a TFLite model')
  classify.add_argument('--model', required=True, help='A .tflite file of the edge export.')
  classify.add_argument('--labels', help=f'Class names, one a line. Default: {LABELS_FILE} '
                        'beside the model.')
  classify.add_argument('--recipe', default='signs', choices=sorted(preprocessing.RECIPES),
                        help='The serving preprocessing the model was trained with (the '
                        'profile\'s --recipe).')
  classify.add_argument('--top_k', type=int, default=1, help='Classes shown per image.')
  classify.add_argument('images', nargs='+', metavar='IMAGE', help='Image files.')
  return parser.parse_args(argv)


def _read_lines(path: str) -> List[str]:
  with open(path, encoding='utf-8') as f:
    return [line.rstrip('\n') for line in f if line.strip()]


def classify_files(model: interpreter.TfliteClassifier, class_names: Sequence[str],
                   paths: Sequence[str], *, recipe: str, top_k: int = 1) -> int:
  """Prints one line per image (see the module doc); returns how many failed."""
  size = model.input_shape[1]
  failed = 0
  for path in paths:
    try:
      with open(path, 'rb') as f:
        encoded = image_codec.canonical_image(f.read()).encoded
    except OSError as error:
      print(f'{path}: error: {error.strerror or error}', file=sys.stderr)
      failed += 1
      continue
    except image_codec.BadInput as error:
      print(f'{path}: error: {error}', file=sys.stderr)
      failed += 1
      continue
    probabilities = model.probabilities(pixels.model_inputs([encoded], size, recipe))[0]
    best = np.argsort(-probabilities, kind='stable')[:top_k]
    print(f'{path}: ' + ', '.join(f'{class_names[c]} (p={probabilities[c]:.3f})' for c in best))
  return failed


def main(argv: Optional[Sequence[str]] = None) -> int:
  args = parse_args(argv)
  labels = args.labels or os.path.join(os.path.dirname(os.path.abspath(args.model)), LABELS_FILE)
  try:
    with open(args.model, 'rb') as f:
      model = interpreter.TfliteClassifier(f.read())
    class_names = _read_lines(labels)
  except (OSError, ValueError, RuntimeError) as error:
    print(f'error: {error}', file=sys.stderr)
    return 2
  if len(class_names) != model.classes:
    print(f'error: {labels} names {len(class_names)} classes, the model has {model.classes}',
          file=sys.stderr)
    return 2
  if args.top_k < 1:
    print(f'error: --top_k {args.top_k}: must be at least 1', file=sys.stderr)
    return 2
  failed = classify_files(model, class_names, args.images, recipe=args.recipe,
                          top_k=args.top_k)
  return 1 if failed else 0


if __name__ == '__main__':
  sys.exit(main())
