"""The BDD100K fixture writer: the published layout and label files, determinism."""
import json
import os
import re

from PIL import Image
import pytest

from components.example_gen.formats import bdd100k
from components.example_gen.formats import bdd100k_fixture
from example_util import file_tree as _read_tree

TRAIN_JSON, VAL_JSON = bdd100k.DEFAULT_LABELS['train'], bdd100k.DEFAULT_LABELS['eval']
BOX_CATEGORIES = ('car', bdd100k.LIGHT, bdd100k.SIGN)


def _frames(data_root, relative):
  """The frames of the label file at `relative`."""
  with open(os.path.join(data_root, relative)) as f:
    return json.load(f)


def test_fixture_is_in_the_published_layout(bdd100k_root):
  files = sorted(os.path.relpath(os.path.join(folder, name), bdd100k_root)
                 for folder, _, names in os.walk(bdd100k_root) for name in names)
  assert [f for f in files if f.startswith('labels/')] == [TRAIN_JSON, VAL_JSON]
  for split_folder, labels in (('train', TRAIN_JSON), ('val', VAL_JSON)):
    frames = _frames(bdd100k_root, labels)
    assert isinstance(frames, list) and len(frames) == 8
    names = [frame['name'] for frame in frames]
    assert sorted(f'images/100k/{split_folder}/{name}' for name in names) == [
        f for f in files if f.startswith(f'images/100k/{split_folder}/')]
    for frame in frames:
      assert re.fullmatch(r'[0-9a-f]{8}-[0-9a-f]{8}\.jpg', frame['name'])
      assert set(frame) == {'name', 'attributes', 'timestamp', 'labels'}
      assert set(frame['attributes']) == {'weather', 'scene', 'timeofday'}
      for label in frame['labels']:
        assert {'category', 'attributes', 'manualShape', 'manualAttributes', 'id'} <= set(label)
        if label['category'] in BOX_CATEGORIES:
          assert set(label['box2d']) == {'x1', 'y1', 'x2', 'y2'}
          assert set(label['attributes']) == {'occluded', 'truncated', 'trafficLightColor'}
        else:
          assert label['category'] in ('lane', 'drivable area')
          assert set(label['poly2d'][0]) == {'vertices', 'types', 'closed'}
      path = os.path.join(bdd100k_root, 'images/100k', split_folder, frame['name'])
      with Image.open(path) as image:
        assert (image.format, image.mode, image.size) == ('JPEG', 'RGB', (160, 90))
    ids = [label['id'] for frame in frames for label in frame['labels']]
    assert ids == list(range(len(ids)))  # ids run through the file
  train = _frames(bdd100k_root, TRAIN_JSON)
  for name, values in bdd100k.SCENARIO_VALUES.items():  # every published value, 'undefined' too
    assert {frame['attributes'][name] for frame in train} == set(values)


def test_fixture_is_deterministic(tmp_path):
  for name, seed in (('a', 3), ('b', 3), ('c', 4)):
    bdd100k_fixture.write_fixture(str(tmp_path / name), frames_per_split=2, image_size=(64, 40),
                                  seed=seed)
  a, b, c = (_read_tree(str(tmp_path / name)) for name in 'abc')
  assert a == b and len(a) == 6
  assert set(a) & set(c) == {TRAIN_JSON, VAL_JSON}  # other frame names
  assert a[TRAIN_JSON] != c[TRAIN_JSON]
  with pytest.raises(ValueError, match='image_size=\\(32, 40\\)'):
    bdd100k_fixture.write_fixture(str(tmp_path / 'd'), image_size=(32, 40))
