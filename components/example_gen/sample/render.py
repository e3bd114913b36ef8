"""Writes the embedded sample: synthetic CURE-TSR in its published layout (formats/cure_tsr.py).

The `dev` profile runs on it when no data root is given (CureTsr.render_sample), and tests
use it as CURE-TSR's fixture. Signs come from sign_rendering, challenges from
challenge_effects; every image is a BMP, as in CURE-TSR.
"""
import io
import os
from typing import Dict, Sequence, Tuple

import numpy as np
from PIL import Image
import tensorflow as tf

from components.example_gen.formats import cure_tsr
from components.example_gen.sample import challenge_effects
from components.example_gen.sample import sign_rendering


def _check_sample_args(seed, per_class, challenges, levels, sequences, image_size_range):
  if seed < 0:
    raise ValueError(f'seed={seed}: must be >= 0')
  most = 9999 // len(cure_tsr.CLASS_NAMES)  # Index has four digits
  if not all(0 <= count <= most for count in per_class):
    raise ValueError(f'train_per_class, test_per_class = {per_class}: each must be in 0..{most}')
  unknown = set(challenges) - set(cure_tsr.CHALLENGE_NAMES[1:])
  if unknown:
    raise ValueError(f'challenges={challenges}: unknown {sorted(unknown)}; choose from '
                     f'{cure_tsr.CHALLENGE_NAMES[1:]}')
  if not set(levels) <= set(cure_tsr.LEVELS):
    raise ValueError(f'levels={levels}: each must be in {cure_tsr.LEVELS}')
  sequence_names = [name for name, _ in cure_tsr.SEQUENCES.values()]
  if not sequences or not set(sequences) <= set(sequence_names):
    raise ValueError(f'sequences={sequences}: choose from {sequence_names}')
  low, high = image_size_range
  if not sign_rendering.MIN_IMAGE_SIZE <= low <= high:
    raise ValueError(f'image_size_range={image_size_range}: need '
                     f'{sign_rendering.MIN_IMAGE_SIZE} <= low <= high')


def _write_bmp(pixels: np.ndarray, path: str):
  out = io.BytesIO()
  Image.fromarray(pixels).save(out, format='BMP')
  with tf.io.gfile.GFile(path, 'wb') as f:
    f.write(out.getvalue())


def render_sample(data_root: str, *, seed: int = 0, train_per_class: int = 10,
                  test_per_class: int = 4,
                  challenges: Sequence[str] = ('rain', 'snow', 'haze', 'darkening'),
                  levels: Sequence[int] = cure_tsr.LEVELS,
                  sequences: Sequence[str] = ('real', 'unreal'),
                  image_size_range: Tuple[int, int] = (40, 64)) -> Dict[str, int]:
  """Renders a synthetic CURE-TSR sample under `data_root` (any tf.io.gfile path).

  For each split, sequence ('real' | 'unreal') and class, `*_per_class` base images (square
  RGB crops, side in `image_size_range` px) are rendered and written ChallengeFree and once
  per (challenge, level), all with the base's Index; Index runs 1..N per split folder, class by
  class. Each base has its own random stream from (seed, split, sequence, class, k), so the
  same arguments give byte-identical files and train and test never share a base. The
  defaults give 14 x 10 x 2 x 21 = 5880 train and 14 x 4 x 2 x 21 = 2352 test images.
  Returns the number of images written per split folder, e.g. {'Real_Train': 2940, ...}.
  """
  _check_sample_args(seed, (train_per_class, test_per_class), challenges, levels, sequences,
                     image_size_range)
  variants = [(0, 0)] + [(cure_tsr.CHALLENGE_NAMES.index(name), level)
                         for name in dict.fromkeys(challenges) for level in sorted(set(levels))]
  counts = {}
  for split_code, (split, per_class) in enumerate(
      (('train', train_per_class), ('eval', test_per_class))):
    for sequence, (sequence_name, _) in cure_tsr.SEQUENCES.items():
      if sequence_name not in sequences:
        continue
      folder = cure_tsr.split_folder(sequence, split)
      for challenge, level in variants:
        tf.io.gfile.makedirs(
            os.path.join(data_root, folder, cure_tsr.challenge_folder(challenge, level)))
      bases = [(sign_type, k) for sign_type in range(1, len(cure_tsr.CLASS_NAMES) + 1)
               for k in range(per_class)]
      for index, (sign_type, k) in enumerate(bases, start=1):
        stream = (seed, split_code, sequence, sign_type, k)  # one random stream per base
        scene = sign_rendering.render_scene(
            cure_tsr.CLASS_NAMES[sign_type - 1], realistic=sequence_name == 'real',
            rng=np.random.default_rng(stream), image_size_range=image_size_range)
        for challenge, level in variants:
          pixels = challenge_effects.apply_challenge(
              scene, cure_tsr.CHALLENGE_NAMES[challenge], level,
              np.random.default_rng(stream + (challenge, level)))
          name = cure_tsr.CureTsrName(sequence, sign_type, challenge, level, index)
          _write_bmp(pixels, os.path.join(data_root, name.relative_path(split)))
      counts[folder] = len(bases) * len(variants)
  return counts
