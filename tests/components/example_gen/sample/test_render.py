"""The embedded sample: CURE-TSR's published layout, names and counts, challenge versions of
one base, determinism, and the default sample's size and render time."""
import os
import re
import time

import numpy as np
import pytest

from components.example_gen import sample
from components.example_gen.formats import cure_tsr
from example_util import file_tree
from example_util import read_bmp

SAMPLE_FOLDERS = ('ChallengeFree', 'Haze-1', 'Haze-3', 'Haze-5', 'Rain-1', 'Rain-3', 'Rain-5')
PUBLISHED_NAME = re.compile(r'0[12]_(0[1-9]|1[0-4])_(00_00|(0[1-9]|1[0-2])_0[1-5])_\d{4}\.bmp')


def test_sample_layout_names_and_counts(sample_root):
  files = file_tree(sample_root)
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
  clean = read_bmp(os.path.join(sample_root, 'Real_Train/ChallengeFree/01_06_00_00_0011.bmp'))
  errors = []
  for level in (1, 3, 5):
    hazy = read_bmp(
        os.path.join(sample_root, f'Real_Train/Haze-{level}/01_06_12_0{level}_0011.bmp'))
    assert hazy.shape == clean.shape
    errors.append(np.abs(hazy.astype(float) - clean).mean())
    # Haze lowers contrast toward grey-white but keeps the scene: still correlated.
    assert np.corrcoef(hazy.ravel(), clean.ravel())[0, 1] > .9
  assert errors[0] < errors[1] < errors[2]


def test_train_and_test_bases_differ(sample_root):
  files = file_tree(sample_root)
  train = {data for path, data in files.items() if '_Train' in path and 'ChallengeFree' in path}
  test = {data for path, data in files.items() if '_Test' in path and 'ChallengeFree' in path}
  assert len(train) == 56 and len(test) == 28  # no two bases identical, within or across
  assert not train & test


def test_real_and_unreal_sequences_look_different(sample_root):
  def flat_fraction(split):  # pixels equal to their right neighbour: high for flat colours
    folder = os.path.join(sample_root, split, 'ChallengeFree')
    pixels = [read_bmp(os.path.join(folder, name)) for name in os.listdir(folder)]
    return np.mean([np.all(p[:, 1:] == p[:, :-1], axis=-1).mean() for p in pixels])
  assert flat_fraction('Real_Train') < .05
  assert flat_fraction('Unreal_Train') > .3


def test_render_sample_is_deterministic(tmp_path):
  tiny = dict(train_per_class=1, test_per_class=1, challenges=('snow',), levels=(5,),
              sequences=('unreal',))
  sample.render_sample(str(tmp_path / 'a'), seed=3, **tiny)
  sample.render_sample(str(tmp_path / 'b'), seed=3, **tiny)
  sample.render_sample(str(tmp_path / 'c'), seed=4, **tiny)
  a, b, c = (file_tree(str(tmp_path / name)) for name in 'abc')
  assert len(a) == 2 * 14 * 2
  assert a == b
  assert a.keys() == c.keys()
  assert all(a[path] != c[path] for path in a)


def test_render_sample_rejects_bad_arguments(tmp_path):
  with pytest.raises(ValueError, match="unknown \\['fog'\\]"):
    sample.render_sample(str(tmp_path), challenges=('fog',))
  with pytest.raises(ValueError, match='levels=\\(0, 1\\)'):
    sample.render_sample(str(tmp_path), levels=(0, 1))
  with pytest.raises(ValueError, match="sequences=\\('synthetic',\\)"):
    sample.render_sample(str(tmp_path), sequences=('synthetic',))
  with pytest.raises(ValueError, match='image_size_range=\\(8, 64\\)'):
    sample.render_sample(str(tmp_path), image_size_range=(8, 64))


def test_default_sample_counts_and_render_time(tmp_path):
  start = time.perf_counter()
  counts = sample.render_sample(str(tmp_path))
  seconds = time.perf_counter() - start
  assert counts == {'Real_Train': 2940, 'Unreal_Train': 2940, 'Real_Test': 1176,
                    'Unreal_Test': 1176}
  assert seconds < 30, f'rendering the default sample took {seconds:.1f} s'
