"""Fixtures that a format's reader tests and fixture-writer tests share."""
import pytest

from components.example_gen.formats import bdd100k_fixture
from components.example_gen.formats import gtsrb_fixture


@pytest.fixture(scope='module')
def gtsrb_original(tmp_path_factory):
  """(data root, {path: Annotation}) of the default GTSRB fixture, original edition."""
  data_root = str(tmp_path_factory.mktemp('gtsrb_original'))
  return data_root, gtsrb_fixture.write_fixture(data_root)


@pytest.fixture(scope='module')
def gtsrb_kaggle(tmp_path_factory):
  """The same fixture in the Kaggle edition."""
  data_root = str(tmp_path_factory.mktemp('gtsrb_kaggle'))
  return data_root, gtsrb_fixture.write_fixture(data_root, edition='kaggle')


@pytest.fixture(scope='module')
def bdd100k_root(tmp_path_factory):
  """The data root of a BDD100K fixture: 8 frames of 160 x 90 px per split."""
  data_root = str(tmp_path_factory.mktemp('bdd100k'))
  counts = bdd100k_fixture.write_fixture(data_root, frames_per_split=8, image_size=(160, 90))
  per_class = {'traffic_light_red': 4, 'traffic_light_yellow': 4, 'traffic_light_green': 4,
               'traffic_light_none': 4, 'traffic_sign': 8}
  assert counts == {split: {'frames': 8, 'crops': per_class, 'small': 4}
                    for split in ('train', 'eval')}
  return data_root
