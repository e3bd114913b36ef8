"""CURE-TSR on disk: read its published layout into canonical tf.Examples.

Layout (Temel et al., "CURE-TSR: Challenging Unreal and Real Environments for Traffic Sign
Recognition", 2017):

  <data_root>/{Real,Unreal}_{Train,Test}/<challenge folder>/<name>.bmp
  challenge folder: `ChallengeFree`, or `<Type>-<level>` such as `Rain-3`, `Haze-5`
  name: `sequenceType_signType_challengeType_challengeLevel_Index.bmp`, e.g.
        `01_06_09_03_0002.bmp` = real sequence, stop sign, rain level 3, index 2.

Fields are two digits (Index four, 1-based). sequenceType 01 real, 02 unreal; signType 1..14
(label = signType - 1); challengeType 0..12; challengeLevel 0 for challenge-free, else 1..5
(5 most severe). One base sign keeps its Index in ChallengeFree and every challenge folder.

CURE-TSR is the dataset with an embedded sample: `CureTsr.render_sample` writes a synthetic one
in this layout (components/example_gen/sample/); its tests use that sample as their fixture.
"""
import os
import re
from typing import Dict, Iterator, List, NamedTuple, Tuple

import tensorflow as tf

from components import features
from components import image_codec
from components.example_gen import layout

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
  has_sample = True

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
    image = image_codec.canonical_image(self.read_bytes(item.source),
                                        max_pixels=self.max_pixels)
    yield features.make_example(
        encoded=image.encoded, image_format=image.image_format, height=image.height,
        width=image.width, filename=relative, label=fields.label,
        label_text=CLASS_NAMES[fields.label], scenario=fields.scenario)

  def fingerprint_paths(self) -> List[str]:
    return [folder for _, folder in self.sources()]

  @classmethod
  def render_sample(cls, data_root: str, *, seed: int, train_per_class: int,
                    test_per_class: int, span: int = 1) -> Dict[str, int]:
    """The synthetic sample's delivery `span` (sample.render_span; span 2 is the winter one)."""
    # Imported here: the sample writes this module's naming scheme, so it imports this module.
    from components.example_gen import sample  # pylint: disable=g-import-not-at-top
    return sample.render_span(data_root, seed=seed, span=span, train_per_class=train_per_class,
                              test_per_class=test_per_class)
