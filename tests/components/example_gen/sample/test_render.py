"""The embedded sample: CURE-TSR's published layout, names and counts, challenge versions of
one base, determinism, its spans (the winter shift, what the CURE-TSR reader makes of them),
and the default span's size and render time."""
import collections
import os
import re
import time

import numpy as np
import pytest

from components import features
from components.example_gen import sample
from components.example_gen.formats import cure_tsr
from example_util import feature
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
  errors, correlations = [], []
  for level in (1, 3, 5):
    hazy = read_bmp(
        os.path.join(sample_root, f'Real_Train/Haze-{level}/01_06_12_0{level}_0011.bmp'))
    assert hazy.shape == clean.shape
    errors.append(np.abs(hazy.astype(float) - clean).mean())
    correlations.append(np.corrcoef(hazy.ravel(), clean.ravel())[0, 1])
  # Haze lowers contrast toward grey-white, more with each level, but keeps the scene.
  assert errors[0] < errors[1] < errors[2]
  assert correlations[0] > correlations[1] > correlations[2] > .3


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


SPAN_SIZES = dict(train_per_class=6, test_per_class=2)  # 14 x 8 x 2 x 13 = 2912 images a span


@pytest.fixture(name='spans_root', scope='module')
def fixture_spans_root(tmp_path_factory):
  """Spans 1 (standard) and 2 (winter) rendered once, seed 0."""
  root = str(tmp_path_factory.mktemp('spans'))
  for span in (1, 2):
    counts = sample.render_span(root, seed=0, span=span, **SPAN_SIZES)
    assert counts == {'Real_Train': 1092, 'Unreal_Train': 1092, 'Real_Test': 364,
                      'Unreal_Test': 364}
  return root


def _scenario_shares(span_root):
  """{feature: {value: share}} of scenario/challenge and scenario/level over every example
  the CURE-TSR reader finds under `span_root`."""
  reader = cure_tsr.CureTsr(span_root)
  counts = {'challenge': collections.Counter(), 'level': collections.Counter()}
  for source in reader.sources():
    for item in reader.items(source):
      scenario = cure_tsr.parse_filename(reader.relative(item.source)).scenario
      for key, counter in counts.items():
        counter[scenario[key]] += 1
  return {key: {value: n / sum(counter.values()) for value, n in counter.items()}
          for key, counter in counts.items()}


def _linf(p, q):
  return max(abs(p.get(value, 0) - q.get(value, 0)) for value in set(p) | set(q))


def test_spans_are_cure_tsr_layouts_the_reader_reads(spans_root):
  assert sorted(os.listdir(spans_root)) == ['span-1', 'span-2']
  for span in ('span-1', 'span-2'):
    reader = cure_tsr.CureTsr(os.path.join(spans_root, span))
    items = [item for source in reader.sources() for item in reader.items(source)]
    assert len(items) == 2912
    assert collections.Counter(item.split for item in items) == {'train': 2184, 'eval': 728}
    for item in items[::97]:  # every name parses; a sample of images decodes too
      example, = reader.read(item)
      assert feature(example, features.LABEL) == cure_tsr.parse_filename(
          reader.relative(item.source)).label


def test_the_winter_span_shifts_challenge_and_level(spans_root):
  standard = _scenario_shares(os.path.join(spans_root, 'span-1'))
  winter = _scenario_shares(os.path.join(spans_root, 'span-2'))
  assert set(standard['challenge']) == set(cure_tsr.CHALLENGE_NAMES)  # all 12 and none
  # The L-infinity distances the pipeline's drift check computes: at the default sizes
  # (20 / 4 base images per class) 0.149 (snow) and 0.184 (level 5).
  assert _linf(standard['challenge'], winter['challenge']) == pytest.approx(.15, abs=.02)
  assert _linf(standard['level'], winter['level']) == pytest.approx(.18, abs=.02)
  assert max(winter['challenge'], key=winter['challenge'].get) == 'snow'
  assert max(winter['level'], key=winter['level'].get) == '5'


def test_spans_are_deterministic_per_seed_and_span(tmp_path):
  tiny = dict(train_per_class=1, test_per_class=0, sequences=('unreal',))
  trees = {}
  for name, seed, span in (('a', 3, 2), ('b', 3, 2), ('c', 4, 2), ('d', 3, 3)):
    sample.render_span(str(tmp_path / name), seed=seed, span=span, **tiny)
    trees[name] = file_tree(str(tmp_path / name))
  assert len(trees['a']) == 14 * 13 and all(p.startswith('span-2/') for p in trees['a'])
  assert trees['a'] == trees['b']
  clean = lambda tree: {p.split('/')[-1]: data for p, data in tree.items() if 'ChallengeFree' in p}
  # Another seed or another span: other base images.
  assert not set(clean(trees['a']).values()) & set(clean(trees['c']).values())
  assert not set(clean(trees['a']).values()) & set(clean(trees['d']).values())


def test_default_span_counts_and_render_time(tmp_path):
  start = time.perf_counter()
  counts = sample.render_span(str(tmp_path))
  seconds = time.perf_counter() - start
  assert counts == {'Real_Train': 3640, 'Unreal_Train': 3640, 'Real_Test': 728,
                    'Unreal_Test': 728}
  assert sorted(os.listdir(tmp_path)) == ['span-1']
  assert seconds < 45, f'rendering the default span took {seconds:.1f} s'
