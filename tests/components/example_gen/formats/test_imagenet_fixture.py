"""The ImageNet fixture writer: each edition's published files and label files, the devkit's
meta.mat, the dirty training files, photo-sized JPEGs, determinism and bad arguments."""
import io
import re

import numpy as np
from PIL import Image
import pytest
import scipy.io

from components.example_gen.formats import imagenet
from components.example_gen.formats import imagenet_fixture
from example_util import file_tree
from imagenet_cases import KIT_FOX
from imagenet_cases import PREFIX
from imagenet_cases import SOURCES
from imagenet_cases import STANDARD
from imagenet_cases import WNIDS
from imagenet_cases import write_small_fixture as _write_fixture

VAL = 8 * 2  # validation images of the small fixture
LABEL_FILES = {
    ('ilsvrc', 'devkit'): {'ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt',
                           'ILSVRC2012_devkit_t12/data/meta.mat'},
    ('ilsvrc', 'synsets'): {'imagenet_2012_validation_synset_labels.txt'},
    ('kaggle', 'devkit'): {'LOC_synset_mapping.txt', 'LOC_val_solution.csv'},
}


@pytest.mark.parametrize('edition, val_labels', SOURCES)
def test_fixture_files_follow_the_published_layout(tmp_path, edition, val_labels):
  written = _write_fixture(tmp_path, edition, val_labels)
  prefix = PREFIX[edition]
  files = set(file_tree(str(tmp_path)))
  assert files == set(written['train']) | set(written['eval']) | LABEL_FILES[
      edition, val_labels]
  train_name = re.compile(re.escape(prefix) + r'train/(n\d{8})/(n\d{8})_\d+\.JPEG')
  for path, wnid in written['train'].items():
    match = train_name.fullmatch(path)
    assert match and match.group(1) == match.group(2) == wnid, path
  assert sorted(written['eval']) == [
      f'{prefix}val/ILSVRC2012_val_{n:08d}.JPEG' for n in range(1, VAL + 1)]
  assert sorted(written['eval'].values()) == sorted(WNIDS * 2)
  assert written['quirks'] == {
      'png': f'{prefix}train/n02105855/n02105855_2933.JPEG',
      'cmyk': f'{prefix}train/n01739381/n01739381_1309.JPEG',
      'grayscale': f'{prefix}train/n01440764/n01440764_10000.JPEG'}
  val_wnids = [wnid for _, wnid in sorted(written['eval'].items())]
  if edition == 'kaggle':
    with open(tmp_path / 'LOC_synset_mapping.txt') as f:
      mapping = f.read().splitlines()
    assert [line.split(' ', 1)[0] for line in mapping] == list(STANDARD)  # all 1000, sorted
    assert mapping[0] == 'n01440764 tench, Tinca tinca'
    assert mapping[278] == 'n02119789 kit fox, Vulpes macrotis'
    with open(tmp_path / 'LOC_val_solution.csv') as f:
      header, *rows = f.read().splitlines()
    assert header == 'ImageId,PredictionString'
    box = r'(n\d{8}) \d+ \d+ \d+ \d+'
    row = re.compile(rf'(ILSVRC2012_val_\d{{8}}),{box}( {box})*')
    labels = {row.fullmatch(r).group(1): row.fullmatch(r).group(2) for r in rows}
    assert [labels[f'ILSVRC2012_val_{n:08d}'] for n in range(1, VAL + 1)] == val_wnids
    assert [r.split(',')[0] for r in rows] != sorted(labels)  # rows are not in image order
  elif val_labels == 'synsets':
    with open(tmp_path / 'imagenet_2012_validation_synset_labels.txt') as f:
      assert f.read() == ''.join(f'{wnid}\n' for wnid in val_wnids)
  else:
    with open(tmp_path / imagenet.DEVKIT_GROUND_TRUTH) as f:
      ids = [int(line) for line in f.read().splitlines()]
    meta = imagenet.read_devkit_meta(str(tmp_path / 'ILSVRC2012_devkit_t12/data/meta.mat'))
    assert [meta[synset_id] for synset_id in ids] == val_wnids


def test_devkit_meta_is_the_devkits_struct_array(tmp_path):
  _write_fixture(tmp_path, 'ilsvrc', 'devkit')
  path = str(tmp_path / 'ILSVRC2012_devkit_t12/data/meta.mat')
  synsets = scipy.io.loadmat(path)['synsets']
  assert synsets.shape == (1002, 1)  # the 1000 classes, then two inner synsets
  assert synsets.dtype.names == imagenet.META_FIELDS == (
      'ILSVRC2012_ID', 'WNID', 'words', 'gloss', 'num_children', 'children', 'wordnet_height',
      'num_train_images')
  rows = [{name: synsets[i, 0][name] for name in synsets.dtype.names} for i in range(1002)]
  assert [int(r['ILSVRC2012_ID'][0, 0]) for r in rows] == list(range(1, 1003))
  assert rows[0]['WNID'][0] == KIT_FOX and rows[0]['words'][0] == 'kit fox, Vulpes macrotis'
  leaves, inner = rows[:1000], rows[1000:]
  assert all(r['num_children'][0, 0] == 0 and r['children'].shape == (1, 0) for r in leaves)
  assert {r['WNID'][0]: int(r['num_train_images'][0, 0]) for r in leaves
          if r['num_train_images'][0, 0]} == dict.fromkeys(WNIDS, 2) | {
              'n01440764': 3, 'n01739381': 3, 'n02105855': 3}  # with the dirty files
  assert [r['WNID'][0] for r in inner] == ['n00015388', 'n00001740']
  assert inner[0]['children'].tolist() == [list(range(1, 1001))]
  assert inner[1]['children'].tolist() == [[1001]] and inner[1]['num_children'][0, 0] == 1
  id_to_wnid = imagenet.read_devkit_meta(path)
  assert sorted(id_to_wnid.values()) == list(STANDARD)  # the non-leaf synsets are not classes
  assert id_to_wnid[1] == KIT_FOX and STANDARD.index(KIT_FOX) == 278
  assert [id_to_wnid[i] for i in range(1, 1001)] != list(STANDARD)  # not wnid order


def test_a_subset_fixture_has_folders_of_some_classes_and_labels_of_all(tmp_path):
  subset = ('n01440764', KIT_FOX)
  written = _write_fixture(tmp_path, 'kaggle', 'devkit', wnids=subset, val_wnids=WNIDS,
                           quirks=False)
  assert sorted((tmp_path / 'ILSVRC/Data/CLS-LOC/train').iterdir()) == [
      tmp_path / 'ILSVRC/Data/CLS-LOC/train' / wnid for wnid in subset]
  assert sorted(set(written['train'].values())) == list(subset)
  assert sorted(written['eval'].values()) == sorted(WNIDS * 2)
  assert len((tmp_path / 'LOC_synset_mapping.txt').read_text().splitlines()) == 1000


def test_fixture_images_and_dirty_files(tmp_path):
  written = _write_fixture(tmp_path, 'ilsvrc', 'devkit', quirks=True)
  kinds = {}
  for path in written['train']:
    with Image.open(tmp_path / path) as image:
      assert image.size == (24, 16)
      kinds[path] = (image.format, image.mode)
  quirks = written['quirks']
  assert kinds.pop(quirks['png']) == ('PNG', 'RGB')
  assert kinds.pop(quirks['cmyk']) == ('JPEG', 'CMYK')
  assert kinds.pop(quirks['grayscale']) == ('JPEG', 'L')
  assert set(kinds.values()) == {('JPEG', 'RGB')}
  clean = _write_fixture(tmp_path / 'clean', 'ilsvrc', 'devkit', quirks=False)
  assert clean['quirks'] == {} and len(clean['train']) == 8 * 2
  other = _write_fixture(tmp_path / 'other', 'ilsvrc', 'synsets',
                         wnids=['n01443537', 'n01484850'])
  assert other['quirks'] == {  # in the first wnid's folder when the real one is not sampled
      'png': 'train/n01443537/n01443537_2933.JPEG', 'cmyk': 'train/n01443537/n01443537_1309.JPEG',
      'grayscale': 'train/n01443537/n01443537_10000.JPEG'}


def test_fixture_jpegs_are_photo_sized():
  rng = np.random.default_rng(0)
  sizes = []
  for _ in range(5):
    out = io.BytesIO()
    imagenet_fixture.smooth_image(rng, (500, 375), np.zeros(3)).save(out, format='JPEG',
                                                                     quality=90)
    sizes.append(len(out.getvalue()))
  assert 30_000 < np.mean(sizes) < 150_000  # ImageNet's average JPEG is about 110 kB


def test_write_fixture_is_deterministic(tmp_path):
  def contents(name, seed):
    _write_fixture(tmp_path / name, 'kaggle', 'devkit', seed=seed)
    return file_tree(str(tmp_path / name))
  a, b, c = contents('a', 3), contents('b', 3), contents('c', 4)
  assert a == b
  assert a.keys() != c.keys()  # training file numbers are drawn from the seed
  assert a['LOC_synset_mapping.txt'] == c['LOC_synset_mapping.txt']
  assert a['ILSVRC/Data/CLS-LOC/val/ILSVRC2012_val_00000001.JPEG'] != c[
      'ILSVRC/Data/CLS-LOC/val/ILSVRC2012_val_00000001.JPEG']


def test_write_fixture_rejects_bad_arguments(tmp_path):
  with pytest.raises(ValueError, match="edition='tfds'"):
    imagenet_fixture.write_fixture(str(tmp_path), edition='tfds')
  with pytest.raises(ValueError, match="val_labels='csv'"):
    imagenet_fixture.write_fixture(str(tmp_path), val_labels='csv')
  with pytest.raises(ValueError, match='wnids='):
    imagenet_fixture.write_fixture(str(tmp_path), wnids=('n01440764', 'tench'))
  with pytest.raises(ValueError, match='wnids='):
    imagenet_fixture.write_fixture(str(tmp_path), wnids=('n01440764', 'n01440764'))
  with pytest.raises(ValueError, match=r"val_wnids=\('n09999999',\): need distinct wnids of the "
                     r'1000 ILSVRC2012 classes'):
    imagenet_fixture.write_fixture(str(tmp_path), val_wnids=('n09999999',))
  with pytest.raises(ValueError, match=r'train_per_class, val_per_class = \(-1, 2\)'):
    imagenet_fixture.write_fixture(str(tmp_path), train_per_class=-1)
  with pytest.raises(ValueError, match=r'image_size=\(0, 5\)'):
    imagenet_fixture.write_fixture(str(tmp_path), image_size=(0, 5))
