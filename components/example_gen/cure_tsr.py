"""CURE-TSR on disk: read its published layout into canonical tf.Examples, or write a sample.

Layout (Temel et al., "CURE-TSR: Challenging Unreal and Real Environments for Traffic Sign
Recognition", 2017):

  <data_root>/{Real,Unreal}_{Train,Test}/<challenge folder>/<name>.bmp
  challenge folder: `ChallengeFree`, or `<Type>-<level>` such as `Rain-3`, `Haze-5`
  name: `sequenceType_signType_challengeType_challengeLevel_Index.bmp`, e.g.
        `01_06_09_03_0002.bmp` = real sequence, stop sign, rain level 3, index 2.

Fields are two digits (Index four, 1-based). sequenceType 01 real, 02 unreal; signType 1..14
(label = signType - 1); challengeType 0..12; challengeLevel 0 for challenge-free, else 1..5
(5 most severe). One base sign keeps its Index in ChallengeFree and every challenge folder.
"""
import io
import os
import re
from typing import Dict, Iterator, List, NamedTuple, Sequence, Tuple

import numpy as np
from PIL import Image
import tensorflow as tf

from components import features
from components.example_gen import challenge_effects
from components.example_gen import images
from components.example_gen import layout
from components.example_gen import sign_rendering

# signType - 1 indexes these (the label).
CLASS_NAMES = ('speed_limit', 'goods_vehicles', 'no_overtaking', 'no_stopping', 'no_parking',
               'stop', 'bicycle', 'hump', 'no_left', 'no_right', 'priority_to', 'no_entry',
               'yield', 'parking')
# challengeType indexes these: (challenge name, folder stem).
CHALLENGES = (
    ('none', 'ChallengeFree'),
    ('decolorization', 'Decolorization'),
    ('lens_blur', 'LensBlur'),
    ('codec_error', 'CodecError'),
    ('darkening', 'Darkening'),
    ('dirty_lens', 'DirtyLens'),
    ('exposure', 'Exposure'),
    ('gaussian_blur', 'GaussianBlur'),
    ('noise', 'Noise'),
    ('rain', 'Rain'),
    ('shadow', 'Shadow'),
    ('snow', 'Snow'),
    ('haze', 'Haze'),
)
CHALLENGE_NAMES = tuple(name for name, _ in CHALLENGES)
LEVELS = (1, 2, 3, 4, 5)  # challenge levels of every challenge but 'none' (level 0)
# sequenceType indexes these, 1-based: (sequence name, split folder prefix).
SEQUENCES = {1: ('real', 'Real'), 2: ('unreal', 'Unreal')}
# Pipeline split name -> split folder suffix.
SPLIT_SUFFIXES = {'train': 'Train', 'eval': 'Test'}
SPLIT_FOLDERS = ('Real_Train', 'Real_Test', 'Unreal_Train', 'Unreal_Test')

_NAME_RE = re.compile(r'(\d{2})_(\d{2})_(\d{2})_(\d{2})_(\d{4})\.bmp')


def challenge_folder(challenge: int, level: int) -> str:
  """E.g. (0, 0) -> 'ChallengeFree', (9, 3) -> 'Rain-3'."""
  stem = CHALLENGES[challenge][1]
  return stem if challenge == 0 else f'{stem}-{level}'


def split_folder(sequence: int, split: str) -> str:
  """E.g. (1, 'train') -> 'Real_Train', (2, 'eval') -> 'Unreal_Test'."""
  return f'{SEQUENCES[sequence][1]}_{SPLIT_SUFFIXES[split]}'


class CureTsrName(NamedTuple):
  """The fields of a CURE-TSR file name, as integers."""
  sequence: int   # 1 real, 2 unreal
  sign_type: int  # 1..14
  challenge: int  # 0..12
  level: int      # 0 (challenge-free) or 1..5
  index: int      # 1-based

  @property
  def file_name(self) -> str:
    return (f'{self.sequence:02d}_{self.sign_type:02d}_{self.challenge:02d}_'
            f'{self.level:02d}_{self.index:04d}.bmp')

  def relative_path(self, split: str) -> str:
    """`split`: 'train' | 'eval'; e.g. 'Real_Train/Rain-3/01_06_09_03_0002.bmp'."""
    return (f'{split_folder(self.sequence, split)}/'
            f'{challenge_folder(self.challenge, self.level)}/{self.file_name}')

  @property
  def label(self) -> int:
    return self.sign_type - 1

  @property
  def scenario(self) -> Dict[str, str]:
    """Scenario slices: challenge name, level '0'..'5', sequence 'real' | 'unreal'."""
    return {'challenge': CHALLENGE_NAMES[self.challenge], 'level': str(self.level),
            'sequence': SEQUENCES[self.sequence][0]}


def _parse_name(name: str, source: str) -> CureTsrName:
  match = _NAME_RE.fullmatch(name)
  if not match:
    raise ValueError(f'{source}: not a CURE-TSR file name '
                     '(sequenceType_signType_challengeType_challengeLevel_Index.bmp, '
                     'e.g. 01_06_00_00_0001.bmp)')
  fields = CureTsrName(*(int(group) for group in match.groups()))
  problems = []
  if fields.sequence not in SEQUENCES:
    problems.append(f'sequenceType {fields.sequence} not in 1..{len(SEQUENCES)}')
  if not 1 <= fields.sign_type <= len(CLASS_NAMES):
    problems.append(f'signType {fields.sign_type} not in 1..{len(CLASS_NAMES)}')
  if not 0 <= fields.challenge < len(CHALLENGES):
    problems.append(f'challengeType {fields.challenge} not in 0..{len(CHALLENGES) - 1}')
  elif fields.challenge == 0 and fields.level != 0:
    problems.append(f'challengeLevel {fields.level} with challengeType 0 (must be 0)')
  elif fields.challenge != 0 and fields.level not in LEVELS:
    problems.append(f'challengeLevel {fields.level} not in 1..{LEVELS[-1]}')
  if fields.index == 0:
    problems.append('Index 0 (1-based)')
  if problems:
    raise ValueError(f'{source}: ' + '; '.join(problems))
  return fields


def parse_filename(path: str, *, source: str = '') -> CureTsrName:
  """Parses a CURE-TSR file name; checks its folders too when `path` has any.

  `path` is a bare name ('01_06_00_00_0001.bmp') or a path ending in
  '<Real|Unreal>_<Train|Test>/<challenge folder>/<name>', whose folders must agree with the
  name's sequenceType, challengeType and challengeLevel. Raises ValueError starting with
  `source` (default `path`).
  """
  source = source or path
  parts = path.replace('\\', '/').split('/')
  fields = _parse_name(parts[-1], source)
  if len(parts) == 1:
    return fields
  folders = parts[-3:-1]
  if len(folders) < 2:
    raise ValueError(f'{source}: not inside <split folder>/<challenge folder>/')
  expected = challenge_folder(fields.challenge, fields.level)
  if folders[1] != expected:
    raise ValueError(f'{source}: name says {expected!r} but the file is in {folders[1]!r}')
  expected = [split_folder(fields.sequence, split) for split in SPLIT_SUFFIXES]
  if folders[0] not in expected:
    raise ValueError(f'{source}: name says sequence {SEQUENCES[fields.sequence][0]!r} but the '
                     f'file is in {folders[0]!r} (expected one of {expected})')
  return fields


class CureTsr(layout.Layout):
  """The published CURE-TSR layout: every challenge type and level, Real and Unreal.

  Every file in a challenge folder is an item, whatever its name: a name outside the scheme,
  or one whose folders disagree with it, is quarantined as BAD_FILE_NAME.
  """
  dataset = 'cure_tsr'
  class_names = CLASS_NAMES

  def __init__(self, data_root: str, **options):
    super().__init__(data_root, **options)
    self._folders = [(split, folder) for folder in SPLIT_FOLDERS
                     for split, suffix in SPLIT_SUFFIXES.items()
                     if folder.endswith('_' + suffix)
                     and tf.io.gfile.isdir(os.path.join(self.data_root, folder))]
    if not self._folders:
      raise layout.LayoutError(f'{self.data_root}: no CURE-TSR split folder (one of '
                               f'{", ".join(SPLIT_FOLDERS)}); is this the CURE-TSR layout?')

  def sources(self) -> List[Tuple[str, str]]:
    """(split, challenge folder): one listing per folder, spread over the workers."""
    return [(split, os.path.join(self.data_root, folder, challenge.rstrip('/')))
            for split, folder in self._folders
            for challenge in sorted(tf.io.gfile.listdir(os.path.join(self.data_root, folder)))]

  def items(self, source: Tuple[str, str]) -> Iterator[layout.Item]:
    split, folder = source
    if not tf.io.gfile.isdir(folder):  # a stray file beside the challenge folders
      yield layout.Item(split, folder)
      return
    for name in sorted(tf.io.gfile.listdir(folder)):
      yield layout.Item(split, os.path.join(folder, name))

  def read(self, item: layout.Item) -> Iterator[tf.train.Example]:
    relative = self.relative(item.source)
    try:
      fields = parse_filename(relative)
    except ValueError as error:
      raise layout.BadInput(layout.BAD_FILE_NAME, str(error)) from None
    image = images.canonical_image(layout.read_bytes(item.source), max_pixels=self.max_pixels)
    yield features.make_example(
        encoded=image.encoded, image_format=image.image_format, height=image.height,
        width=image.width, filename=relative, label=fields.label,
        label_text=CLASS_NAMES[fields.label], scenario=fields.scenario)

  def fingerprint_paths(self) -> List[str]:
    return [folder for _, folder in self.sources()]


def _check_sample_args(seed, per_class, challenges, levels, sequences, image_size_range):
  if seed < 0:
    raise ValueError(f'seed={seed}: must be >= 0')
  most = 9999 // len(CLASS_NAMES)  # Index has four digits
  if not all(0 <= count <= most for count in per_class):
    raise ValueError(f'train_per_class, test_per_class = {per_class}: each must be in 0..{most}')
  unknown = set(challenges) - set(CHALLENGE_NAMES[1:])
  if unknown:
    raise ValueError(f'challenges={challenges}: unknown {sorted(unknown)}; choose from '
                     f'{CHALLENGE_NAMES[1:]}')
  if not set(levels) <= set(LEVELS):
    raise ValueError(f'levels={levels}: each must be in {LEVELS}')
  sequence_names = [name for name, _ in SEQUENCES.values()]
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


def write_sample(data_root: str, *, seed: int = 0, train_per_class: int = 10,
                 test_per_class: int = 4,
                 challenges: Sequence[str] = ('rain', 'snow', 'haze', 'darkening'),
                 levels: Sequence[int] = LEVELS,
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
  variants = [(0, 0)] + [(CHALLENGE_NAMES.index(name), level)
                         for name in dict.fromkeys(challenges) for level in sorted(set(levels))]
  counts = {}
  for split_code, (split, per_class) in enumerate(
      (('train', train_per_class), ('eval', test_per_class))):
    for sequence, (sequence_name, _) in SEQUENCES.items():
      if sequence_name not in sequences:
        continue
      folder = split_folder(sequence, split)
      for challenge, level in variants:
        tf.io.gfile.makedirs(os.path.join(data_root, folder, challenge_folder(challenge, level)))
      bases = [(sign_type, k) for sign_type in range(1, len(CLASS_NAMES) + 1)
               for k in range(per_class)]
      for index, (sign_type, k) in enumerate(bases, start=1):
        stream = (seed, split_code, sequence, sign_type, k)  # one random stream per base
        scene = sign_rendering.render_scene(
            CLASS_NAMES[sign_type - 1], realistic=sequence_name == 'real',
            rng=np.random.default_rng(stream), image_size_range=image_size_range)
        for challenge, level in variants:
          pixels = challenge_effects.apply_challenge(
              scene, CHALLENGE_NAMES[challenge], level,
              np.random.default_rng(stream + (challenge, level)))
          name = CureTsrName(sequence, sign_type, challenge, level, index)
          _write_bmp(pixels, os.path.join(data_root, name.relative_path(split)))
      counts[folder] = len(bases) * len(variants)
  return counts
