"""Ingestion tests: the small embedded sample that CURE-TSR's reader and sample tests share.

As a conftest.py outside any package, this file also puts its folder on sys.path (pytest's
default import mode), so the tests in formats/ and sample/ import example_util.
"""
import pytest

from components.example_gen import sample

# 2 train / 1 test base per class and sequence, ChallengeFree + 2 challenges x 3 levels.
SAMPLE = dict(train_per_class=2, test_per_class=1, challenges=('rain', 'haze'), levels=(1, 3, 5))


@pytest.fixture(scope='module')
def sample_root(tmp_path_factory):
  """The sample rendered once per test module: 392 train and 196 eval BMPs."""
  data_root = str(tmp_path_factory.mktemp('cure_tsr'))
  counts = sample.render_sample(data_root, **SAMPLE)
  assert counts == {'Real_Train': 196, 'Unreal_Train': 196, 'Real_Test': 98, 'Unreal_Test': 98}
  return data_root
