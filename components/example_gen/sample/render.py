"""Writes the embedded sample: synthetic CURE-TSR in its published layout (formats/cure_tsr.py).

The `dev` profile runs on its spans (`render_span`, through CureTsr.render_sample) when no
data root is given; tests use full grids (`render_sample`) as CURE-TSR's fixture. Signs come
from sign_rendering, challenges from challenge_effects, each span's mix of challenges and
levels from deliveries; every image is a BMP, as in CURE-TSR.
"""
import os
from typing import Dict, Sequence, Tuple

import numpy as np
from PIL import Image
import tensorflow as tf

from components.example_gen import layout
from components.example_gen.formats import cure_tsr
from components.example_gen.sample import challenge_effects
from components.example_gen.sample import deliveries
from components.example_gen.sample import sign_rendering


def _check_sample_args(seed, per_class, sequences, image_size_range):
  if seed < 0:
    raise ValueError(f'seed={seed}: must be >= 0')
  most = 9999 // len(cure_tsr.CLASS_NAMES)  # Index has four digits
  if not all(0 <= count <= most for count in per_class):
    raise ValueError(f'train_per_class, test_per_class = {per_class}: each must be in 0..{most}')
  sequence_names = [name for name, _ in cure_tsr.SEQUENCES.values()]
  if not sequences or not set(sequences) <= set(sequence_names):
    raise ValueError(f'sequences={sequences}: choose from {sequence_names}')
  low, high = image_size_range
  if not sign_rendering.MIN_IMAGE_SIZE <= low <= high:
    raise ValueError(f'image_size_range={image_size_range}: need '
                     f'{sign_rendering.MIN_IMAGE_SIZE} <= low <= high')


def _write_bmp(pixels: np.ndarray, path: str):
  with tf.io.gfile.GFile(path, 'wb') as f:
    Image.fromarray(pixels).save(f, format='BMP')


def _write_delivery(data_root: str, delivery: deliveries.Delivery, stream: Tuple[int, ...], *,
                    train_per_class: int, test_per_class: int, sequences: Sequence[str],
                    image_size_range: Tuple[int, int]) -> Dict[str, int]:
  """Writes `delivery` in the CURE-TSR layout under `data_root`; counts per split folder.

  For each split, sequence and class, `*_per_class` base images are rendered and written
  ChallengeFree and in the delivery's challenged versions, all with the base's Index; Index
  runs 1..N per split folder, class by class. Each base has its own random stream from
  (*stream, split, sequence, class, k) for its scene, its versions and their effects, so the
  same arguments give byte-identical files and train and test never share a base.
  """
  _check_sample_args(stream[0], (train_per_class, test_per_class), sequences, image_size_range)
  counts, folders = {}, set()
  for split_code, (split, per_class) in enumerate(
      (('train', train_per_class), ('eval', test_per_class))):
    for sequence, (sequence_name, _) in cure_tsr.SEQUENCES.items():
      if sequence_name not in sequences:
        continue
      folder = cure_tsr.split_folder(sequence, split)
      tf.io.gfile.makedirs(os.path.join(data_root, folder, cure_tsr.challenge_folder(0, 0)))
      counts[folder] = 0
      bases = [(sign_type, k) for sign_type in range(1, len(cure_tsr.CLASS_NAMES) + 1)
               for k in range(per_class)]
      for index, (sign_type, k) in enumerate(bases, start=1):
        rng = np.random.default_rng(stream + (split_code, sequence, sign_type, k))
        scene = sign_rendering.render_scene(
            cure_tsr.CLASS_NAMES[sign_type - 1], realistic=sequence_name == 'real', rng=rng,
            image_size_range=image_size_range)
        versions = delivery.draw(rng)
        for challenge, level in [(0, 0)] + versions:
          pixels = challenge_effects.apply_challenge(
              scene, cure_tsr.CHALLENGE_NAMES[challenge], level, rng)
          name = cure_tsr.CureTsrName(sequence, sign_type, challenge, level, index)
          path = os.path.join(data_root, name.relative_path(split))
          if os.path.dirname(path) not in folders:
            tf.io.gfile.makedirs(os.path.dirname(path))
            folders.add(os.path.dirname(path))
          _write_bmp(pixels, path)
        counts[folder] += 1 + len(versions)
  return counts


def render_sample(data_root: str, *, seed: int = 0, train_per_class: int = 10,
                  test_per_class: int = 4,
                  challenges: Sequence[str] = deliveries.CHALLENGE_TYPES,
                  levels: Sequence[int] = cure_tsr.LEVELS,
                  sequences: Sequence[str] = ('real', 'unreal'),
                  image_size_range: Tuple[int, int] = (40, 64)) -> Dict[str, int]:
  """Renders a synthetic CURE-TSR sample under `data_root` (any tf.io.gfile path): every base
  image ChallengeFree and at every one of `challenges` x `levels`, as the published CURE-TSR.

  Base images are square RGB crops, side in `image_size_range` px, `*_per_class` per split,
  sequence ('real' | 'unreal') and class. The defaults give 14 x 10 x 2 x 61 = 17080 train
  and 14 x 4 x 2 x 61 = 6832 test images. Returns the number of images written per split
  folder, e.g. {'Real_Train': 8540, ...}.
  """
  return _write_delivery(data_root, deliveries.grid(challenges, levels), (seed,),
                         train_per_class=train_per_class, test_per_class=test_per_class,
                         sequences=sequences, image_size_range=image_size_range)


def render_span(data_root: str, *, seed: int = 0, span: int = 1, train_per_class: int = 20,
                test_per_class: int = 4, sequences: Sequence[str] = ('real', 'unreal'),
                image_size_range: Tuple[int, int] = (40, 64)) -> Dict[str, int]:
  """Renders delivery `span` of the embedded sample into `<data_root>/span-<span>/`, in the
  CURE-TSR layout: each base image ChallengeFree and in 12 challenged versions drawn from the
  span's mix (deliveries.for_span: span 2 is the winter delivery). The same (seed, span) gives
  byte-identical files; other spans, other base images. The defaults give
  14 x 20 x 2 x 13 = 7280 train and 14 x 4 x 2 x 13 = 1456 test images. Returns the number of
  images written per split folder.
  """
  return _write_delivery(
      os.path.join(data_root, layout.span_folder(span)), deliveries.for_span(span), (seed, span),
      train_per_class=train_per_class, test_per_class=test_per_class, sequences=sequences,
      image_size_range=image_size_range)
