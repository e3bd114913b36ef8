"""The GTSRB fixture writer: each edition's published files, determinism, bad arguments."""
import os

import numpy as np
import pytest

from components.example_gen.formats import gtsrb_fixture
from example_util import file_pixels
from example_util import file_tree as _tree

# The writer's defaults: classes 0, 1, 14; 2 tracks x 3 frames each; 2 test images per class.
TRAIN_IMAGES, TEST_IMAGES = 18, 6


def test_original_fixture_is_the_published_layout(gtsrb_original):
  root, truth = gtsrb_original
  folder = os.path.join(root, 'Final_Training/Images/00014')
  assert sorted(os.listdir(folder)) == [
      '00000_00000.ppm', '00000_00001.ppm', '00000_00002.ppm', '00001_00000.ppm',
      '00001_00001.ppm', '00001_00002.ppm', 'GT-00014.csv']
  with open(os.path.join(folder, 'GT-00014.csv'), 'rb') as f:
    text = f.read().decode()
  lines = text.split('\n')
  assert lines[0] == 'Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId'
  assert lines[1] == '00000_00000.ppm;22;19;5;5;16;13;14'
  assert text.endswith('14\n') and '\r' not in text and len(lines) == 8
  test_folder = os.path.join(root, 'Final_Test/Images')
  assert sorted(os.listdir(test_folder)) == [f'{i:05d}.ppm' for i in range(TEST_IMAGES)] + [
      'GT-final_test.csv', 'GT-final_test.test.csv']
  with open(os.path.join(test_folder, 'GT-final_test.test.csv')) as f:
    unlabelled = f.read().split('\n')
  assert unlabelled[0] == 'Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2'
  assert unlabelled[1] == '00000.ppm;22;18;4;5;17;12'
  assert len(truth) == TRAIN_IMAGES + TEST_IMAGES
  for relative, annotation in truth.items():
    with open(os.path.join(root, relative), 'rb') as f:
      assert f.read(3) == b'P6\n'  # binary PPM
    height, width, _ = file_pixels(os.path.join(root, relative)).shape
    assert (width, height) == (annotation.width, annotation.height)
    assert 0 <= annotation.x1 <= annotation.x2 < width
    assert 0 <= annotation.y1 <= annotation.y2 < height
    assert 15 <= min(width, height) and max(width, height) <= 250


def test_kaggle_fixture_is_the_published_layout(gtsrb_kaggle):
  root, truth = gtsrb_kaggle
  with open(os.path.join(root, 'Train.csv')) as f:
    train = f.read().split('\n')
  assert train[0] == 'Width,Height,Roi.X1,Roi.Y1,Roi.X2,Roi.Y2,ClassId,Path'
  assert train[1] == '22,22,4,4,15,15,0,Train/0/00000_00000_00000.png'
  assert train[-1] == '' and len(train) == TRAIN_IMAGES + 2
  with open(os.path.join(root, 'Test.csv')) as f:
    test = f.read().split('\n')
  assert test[0] == train[0]
  assert test[1] == '22,18,4,5,17,12,0,Test/00000.png'
  with open(os.path.join(root, 'Meta.csv')) as f:
    assert f.read() == ('Path,ClassId,ShapeId,ColorId,SignId\nMeta/0.png,0,1,0,3.29\n'
                        'Meta/1.png,1,1,0,3.29\nMeta/14.png,14,3,0,2.2\n')
  assert sorted(os.listdir(os.path.join(root, 'Train'))) == ['0', '1', '14']
  assert sorted(os.listdir(os.path.join(root, 'Meta'))) == ['0.png', '1.png', '14.png']
  assert 'Train/14/00014_00001_00002.png' in truth
  for relative in truth:
    with open(os.path.join(root, relative), 'rb') as f:
      assert f.read(8) == b'\x89PNG\r\n\x1a\n'


def test_fixture_is_deterministic_and_the_same_in_both_editions(tmp_path, gtsrb_original,
                                                                gtsrb_kaggle):
  small = dict(classes=(3,), tracks_per_class=1, frames_per_track=2, test_per_class=1)
  trees = []
  for name, seed in (('a', 5), ('b', 5), ('c', 6)):
    written = gtsrb_fixture.write_fixture(str(tmp_path / name), seed=seed, **small)
    assert len(written) == 3
    trees.append(_tree(str(tmp_path / name)))
  assert trees[0] == trees[1]
  assert trees[0].keys() == trees[2].keys()
  assert all(trees[0][path] != trees[2][path] for path in trees[0] if path.endswith('.ppm'))
  # Same seed, same pixels and rows: original PPM and Kaggle PNG of one image.
  assert list(gtsrb_original[1].values()) == list(gtsrb_kaggle[1].values())
  np.testing.assert_array_equal(
      file_pixels(os.path.join(gtsrb_original[0], 'Final_Training/Images/00014/00001_00002.ppm')),
      file_pixels(os.path.join(gtsrb_kaggle[0], 'Train/14/00014_00001_00002.png')))


@pytest.mark.parametrize('kwargs, complaint', [
    (dict(edition='gtsrb'), "edition='gtsrb'"),
    (dict(classes=(0, 43)), 'classes=\\(0, 43\\)'),
    (dict(classes=(1, 1)), 'classes=\\(1, 1\\)'),
    (dict(tracks_per_class=-1), '\\(-1, 3, 6\\)'),
    (dict(seed=-1), 'seed=-1'),
    (dict(edition='kaggle', unzipped=True), "only the original edition comes in zips, not "
                                            "'kaggle'"),
])
def test_write_fixture_rejects_bad_arguments(tmp_path, kwargs, complaint):
  with pytest.raises(ValueError, match=complaint):
    gtsrb_fixture.write_fixture(str(tmp_path), **kwargs)
