"""CURE-TSR layout: file names, folders, and the canonical examples read back (from the
embedded sample, whose own tests are in sample/test_render.py)."""
import io
import os
import re

import numpy as np
from PIL import Image
import pytest

from components import features
from components.example_gen import layout
from components.example_gen.formats import cure_tsr
from example_util import feature as _feature
from example_util import read_bmp


def test_vocabularies_follow_the_published_dataset():
  assert cure_tsr.CLASS_NAMES == (
      'speed_limit', 'goods_vehicles', 'no_overtaking', 'no_stopping', 'no_parking', 'stop',
      'bicycle', 'hump', 'no_left', 'no_right', 'priority_to', 'no_entry', 'yield', 'parking')
  assert cure_tsr.CHALLENGE_NAMES == (
      'none', 'decolorization', 'lens_blur', 'codec_error', 'darkening', 'dirty_lens',
      'exposure', 'gaussian_blur', 'noise', 'rain', 'shadow', 'snow', 'haze')
  assert [cure_tsr.challenge_folder(code, 0 if code == 0 else 4) for code in range(13)] == [
      'ChallengeFree', 'Decolorization-4', 'LensBlur-4', 'CodecError-4', 'Darkening-4',
      'DirtyLens-4', 'Exposure-4', 'GaussianBlur-4', 'Noise-4', 'Rain-4', 'Shadow-4', 'Snow-4',
      'Haze-4']
  assert cure_tsr.SPLIT_FOLDERS == ('Real_Train', 'Real_Test', 'Unreal_Train', 'Unreal_Test')
  assert cure_tsr.SPLIT_FOLDERS == tuple(
      cure_tsr.split_folder(sequence, split) for sequence in (1, 2) for split in ('train', 'eval'))


def test_name_round_trip():
  name = cure_tsr.CureTsrName(sequence=1, sign_type=6, challenge=9, level=3, index=2)
  assert name.file_name == '01_06_09_03_0002.bmp'
  assert name.relative_path('train') == 'Real_Train/Rain-3/01_06_09_03_0002.bmp'
  assert cure_tsr.parse_filename(name.relative_path('train')) == name
  assert cure_tsr.parse_filename('01_06_00_00_0001.bmp') == (1, 6, 0, 0, 1)
  assert cure_tsr.parse_filename('/data/cure/Unreal_Test/Haze-5/02_14_12_05_0123.bmp') == (
      2, 14, 12, 5, 123)


@pytest.mark.parametrize('name', [
    '01_06_00_00_001.bmp', '1_06_00_00_0001.bmp', '01_06_00_00_0001.png', '01_06_00_00_0001.BMP',
    '01_06_00_00_0001.bmp.bak', 'x01_06_00_00_0001.bmp', '01-06-00-00-0001.bmp',
    '03_06_00_00_0001.bmp', '00_06_00_00_0001.bmp',  # sequenceType
    '01_00_00_00_0001.bmp', '01_15_00_00_0001.bmp',  # signType
    '01_06_13_01_0001.bmp',                          # challengeType
    '01_06_09_06_0001.bmp', '01_06_09_00_0001.bmp',  # level with a challenge
    '01_06_00_01_0001.bmp',                          # level without one
    '01_06_00_00_0000.bmp',                          # Index is 1-based
])
def test_parse_filename_rejects_malformed_names(name):
  with pytest.raises(ValueError, match=f'^{re.escape(name)}: '):
    cure_tsr.parse_filename(name)


@pytest.mark.parametrize('path, complaint', [
    ('Real_Train/Rain-2/01_06_09_03_0002.bmp', "'Rain-3' but the file is in 'Rain-2'"),
    ('Real_Train/Snow-3/01_06_09_03_0002.bmp', "'Rain-3' but the file is in 'Snow-3'"),
    ('Real_Train/ChallengeFree/01_06_09_03_0002.bmp', "in 'ChallengeFree'"),
    ('Real_Test/Rain-3/01_06_00_00_0002.bmp', "'ChallengeFree' but the file is in 'Rain-3'"),
    ('Unreal_Train/Rain-3/01_06_09_03_0002.bmp', "sequence 'real'"),
    ('Real_Test/ChallengeFree/02_06_00_00_0002.bmp', "sequence 'unreal'"),
    ('Real_Val/Rain-3/01_06_09_03_0002.bmp', "in 'Real_Val'"),
    ('Rain-3/01_06_09_03_0002.bmp', 'not inside <split folder>/<challenge folder>/'),
])
def test_parse_filename_rejects_folder_mismatches(path, complaint):
  with pytest.raises(ValueError, match=f'^{re.escape(path)}: .*{re.escape(complaint)}'):
    cure_tsr.parse_filename(path)


def test_sources_and_items_cover_every_file_of_each_split(sample_root):
  cure = cure_tsr.CureTsr(sample_root)
  found = {'train': set(), 'eval': set()}
  for source in cure.sources():
    for item in cure.items(source):
      found[item.split].add(cure.relative(item.source))
  assert len(found['train']) == 392 and len(found['eval']) == 196
  assert all(path.split('/')[0] in ('Real_Train', 'Unreal_Train') for path in found['train'])
  assert all(path.split('/')[0] in ('Real_Test', 'Unreal_Test') for path in found['eval'])


def _read(data_root, relative):
  cure = cure_tsr.CureTsr(data_root)
  [example] = cure.read(layout.Item('train', os.path.join(data_root, relative)))
  return example


@pytest.mark.parametrize('relative, label, text, challenge, level, sequence', [
    ('Real_Train/Rain-3/01_06_09_03_0011.bmp', 5, b'stop', b'rain', b'3', b'real'),
    ('Unreal_Test/ChallengeFree/02_14_00_00_0014.bmp', 13, b'parking', b'none', b'0', b'unreal'),
    ('Unreal_Train/Haze-5/02_01_12_05_0001.bmp', 0, b'speed_limit', b'haze', b'5', b'unreal'),
    ('Real_Test/Rain-1/01_10_09_01_0010.bmp', 9, b'no_right', b'rain', b'1', b'real'),
])
def test_read_named_files(sample_root, relative, label, text, challenge, level, sequence):
  example = _read(sample_root, relative)
  bmp = read_bmp(os.path.join(sample_root, relative))
  assert _feature(example, features.IMAGE_FORMAT) == b'png'
  assert _feature(example, features.IMAGE_HEIGHT) == bmp.shape[0]
  assert _feature(example, features.IMAGE_WIDTH) == bmp.shape[1]
  assert _feature(example, features.IMAGE_FILENAME) == relative.encode()
  assert _feature(example, features.LABEL) == label
  assert _feature(example, features.LABEL_TEXT) == text
  assert _feature(example, 'scenario/challenge') == challenge
  assert _feature(example, 'scenario/level') == level
  assert _feature(example, 'scenario/sequence') == sequence
  png = np.asarray(Image.open(io.BytesIO(_feature(example, features.IMAGE_ENCODED))))
  np.testing.assert_array_equal(png, bmp)  # lossless re-encoding


def test_read_accepts_a_trailing_slash_root(sample_root):
  example = _read(sample_root + '/', 'Real_Test/ChallengeFree/01_02_00_00_0002.bmp')
  assert (_feature(example, features.IMAGE_FILENAME) ==
          b'Real_Test/ChallengeFree/01_02_00_00_0002.bmp')


@pytest.mark.parametrize('name, content, reason, detail', [
    ('01_06_00_00_0001.bmp', b'BM not really a bitmap', layout.UNDECODABLE_IMAGE,
     'not a decodable image'),
    ('01_06_00_00_0002.bmp', b'', layout.EMPTY_FILE, 'zero bytes'),
    ('01_06_09_03_0001.bmp', b'', layout.BAD_FILE_NAME, "name says 'Rain-3'"),
    ('Thumbs.db', b'', layout.BAD_FILE_NAME, 'not a CURE-TSR file name'),
])
def test_bad_files_are_quarantined_with_their_reason(tmp_path, name, content, reason, detail):
  folder = tmp_path / 'Real_Train' / 'ChallengeFree'
  folder.mkdir(parents=True)
  (folder / name).write_bytes(content)
  with pytest.raises(layout.BadInput, match=detail) as error:
    _read(str(tmp_path), f'Real_Train/ChallengeFree/{name}')
  assert error.value.reason == reason


def test_a_root_without_split_folders_is_a_layout_error(tmp_path):
  (tmp_path / 'Real_Training').mkdir()
  with pytest.raises(layout.LayoutError, match=f'{tmp_path}: no CURE-TSR split folder'):
    cure_tsr.CureTsr(str(tmp_path))
