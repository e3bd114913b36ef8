"""CURE-TSR layout: file names, folders, the sample writer and the canonical examples read back."""
import io
import os
import re
import time

import numpy as np
from PIL import Image
import pytest

from components import features
from components.example_gen import cure_tsr
from components.example_gen import layout
from example_util import feature as _feature

# A tiny sample: 2 train / 1 test base per class and sequence, ChallengeFree + 2 x 3 levels.
SAMPLE = dict(train_per_class=2, test_per_class=1, challenges=('rain', 'haze'), levels=(1, 3, 5))
SAMPLE_FOLDERS = ('ChallengeFree', 'Haze-1', 'Haze-3', 'Haze-5', 'Rain-1', 'Rain-3', 'Rain-5')
PUBLISHED_NAME = re.compile(r'0[12]_(0[1-9]|1[0-4])_(00_00|(0[1-9]|1[0-2])_0[1-5])_\d{4}\.bmp')


@pytest.fixture(scope='module')
def sample_root(tmp_path_factory):
  root = str(tmp_path_factory.mktemp('cure_tsr'))
  counts = cure_tsr.write_sample(root, **SAMPLE)
  assert counts == {'Real_Train': 196, 'Unreal_Train': 196, 'Real_Test': 98, 'Unreal_Test': 98}
  return root


def _files(root):
  """Relative path -> file bytes, for every file under `root`."""
  files = {}
  for folder, _, names in os.walk(root):
    for name in names:
      path = os.path.join(folder, name)
      with open(path, 'rb') as f:
        files[os.path.relpath(path, root)] = f.read()
  return files


def _read_bmp(path):
  with Image.open(path) as image:
    assert image.format == 'BMP'
    return np.asarray(image.convert('RGB'))


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


def test_sample_layout_names_and_counts(sample_root):
  files = _files(sample_root)
  per_folder = {}
  for relative in files:
    split, challenge, name = relative.split(os.sep)
    assert PUBLISHED_NAME.fullmatch(name), name
    cure_tsr.parse_filename(relative)  # names agree with their folders
    per_folder[split, challenge] = per_folder.get((split, challenge), 0) + 1
  bases = {'Real_Train': 28, 'Unreal_Train': 28, 'Real_Test': 14, 'Unreal_Test': 14}
  assert per_folder == {(split, challenge): count for split, count in bases.items()
                        for challenge in SAMPLE_FOLDERS}
  # Index runs 1..N per split folder, the same Index in every challenge folder.
  for split, count in bases.items():
    for challenge in SAMPLE_FOLDERS:
      names = os.listdir(os.path.join(sample_root, split, challenge))
      assert sorted(cure_tsr.parse_filename(n).index for n in names) == list(range(1, count + 1))


def test_challenge_versions_share_the_base_image(sample_root):
  clean = _read_bmp(os.path.join(sample_root, 'Real_Train/ChallengeFree/01_06_00_00_0011.bmp'))
  errors = []
  for level in (1, 3, 5):
    hazy = _read_bmp(
        os.path.join(sample_root, f'Real_Train/Haze-{level}/01_06_12_0{level}_0011.bmp'))
    assert hazy.shape == clean.shape
    errors.append(np.abs(hazy.astype(float) - clean).mean())
    # Haze lowers contrast toward grey-white but keeps the scene: still correlated.
    assert np.corrcoef(hazy.ravel(), clean.ravel())[0, 1] > .9
  assert errors[0] < errors[1] < errors[2]


def test_train_and_test_bases_differ(sample_root):
  files = _files(sample_root)
  train = {data for path, data in files.items() if '_Train' in path and 'ChallengeFree' in path}
  test = {data for path, data in files.items() if '_Test' in path and 'ChallengeFree' in path}
  assert len(train) == 56 and len(test) == 28  # no two bases identical, within or across
  assert not train & test


def test_real_and_unreal_sequences_look_different(sample_root):
  def flat_fraction(split):  # pixels equal to their right neighbour: high for flat colours
    folder = os.path.join(sample_root, split, 'ChallengeFree')
    pixels = [_read_bmp(os.path.join(folder, name)) for name in os.listdir(folder)]
    return np.mean([np.all(p[:, 1:] == p[:, :-1], axis=-1).mean() for p in pixels])
  assert flat_fraction('Real_Train') < .05
  assert flat_fraction('Unreal_Train') > .3


def test_write_sample_is_deterministic(tmp_path):
  tiny = dict(train_per_class=1, test_per_class=1, challenges=('snow',), levels=(5,),
              sequences=('unreal',))
  cure_tsr.write_sample(str(tmp_path / 'a'), seed=3, **tiny)
  cure_tsr.write_sample(str(tmp_path / 'b'), seed=3, **tiny)
  cure_tsr.write_sample(str(tmp_path / 'c'), seed=4, **tiny)
  a, b, c = (_files(str(tmp_path / name)) for name in 'abc')
  assert len(a) == 2 * 14 * 2
  assert a == b
  assert a.keys() == c.keys()
  assert all(a[path] != c[path] for path in a)


def test_write_sample_rejects_bad_arguments(tmp_path):
  with pytest.raises(ValueError, match="unknown \\['fog'\\]"):
    cure_tsr.write_sample(str(tmp_path), challenges=('fog',))
  with pytest.raises(ValueError, match='levels=\\(0, 1\\)'):
    cure_tsr.write_sample(str(tmp_path), levels=(0, 1))
  with pytest.raises(ValueError, match="sequences=\\('synthetic',\\)"):
    cure_tsr.write_sample(str(tmp_path), sequences=('synthetic',))
  with pytest.raises(ValueError, match='image_size_range=\\(8, 64\\)'):
    cure_tsr.write_sample(str(tmp_path), image_size_range=(8, 64))


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
  bmp = _read_bmp(os.path.join(sample_root, relative))
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
    ('01_06_00_00_0001.bmp', b'BM not really a bitmap', layout.UNDECODABLE_IMAGE, 'not a decodable image'),
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


def test_default_sample_counts_and_render_time(tmp_path):
  start = time.perf_counter()
  counts = cure_tsr.write_sample(str(tmp_path))
  seconds = time.perf_counter() - start
  assert counts == {'Real_Train': 2940, 'Unreal_Train': 2940, 'Real_Test': 1176,
                    'Unreal_Test': 1176}
  assert seconds < 30, f'rendering the default sample took {seconds:.1f} s'
