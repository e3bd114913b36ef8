"""ImageNet layouts: the fixture's published files, labels of named files, the dirty training
files, quarantine of bad input, layout errors and the curated schema."""
import io
import os
import pickle
import re
import shutil
from typing import Dict, NamedTuple

import numpy as np
from PIL import Image
import pytest
import scipy.io
import tensorflow as tf
import tensorflow_data_validation as tfdv

from components import features
from components import schemas
from components.example_gen import imagenet
from components.example_gen import job
from components.example_gen import layout

WNIDS = imagenet.SAMPLE_WNIDS  # sorted, so label = index
SMALL = dict(train_per_class=2, val_per_class=2, image_size=(24, 16))
TRAIN, VAL = 8 * 2 + 3, 8 * 2  # + the three dirty training files
SOURCES = [('ilsvrc', 'devkit'), ('ilsvrc', 'synsets'), ('kaggle', 'devkit')]
PREFIX = {'ilsvrc': '', 'kaggle': 'ILSVRC/Data/CLS-LOC/'}
LABEL_FILES = {
    ('ilsvrc', 'devkit'): {'ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt',
                           'ILSVRC2012_devkit_t12/data/meta.mat'},
    ('ilsvrc', 'synsets'): {'imagenet_2012_validation_synset_labels.txt'},
    ('kaggle', 'devkit'): {'LOC_synset_mapping.txt', 'LOC_val_solution.csv'},
}
KIT_FOX, TENCH, HAMMERHEAD = 'n02119789', 'n01440764', 'n01494475'


def _value(example, key):
  value = example.features.feature[key]
  return (value.bytes_list.value or value.int64_list.value)[0]


def _files(root):
  return {os.path.relpath(os.path.join(folder, name), root)
          for folder, _, names in os.walk(root) for name in names}


def _write_fixture(root, layout_name, val_labels, **options):
  return imagenet.write_fixture(str(root), layout=layout_name, val_labels=val_labels,
                                **{**SMALL, **options})


class Ingested(NamedTuple):
  root: str
  out: str
  written: Dict
  report: Dict
  examples: Dict  # filename -> tf.train.Example


@pytest.fixture(scope='module')
def ingested(tmp_path_factory):
  """(layout, val_labels) -> the clean fixture run through the ingestion job, once each."""
  runs = {}

  def run(layout_name, val_labels):
    if (layout_name, val_labels) not in runs:
      root = tmp_path_factory.mktemp(f'{layout_name}_{val_labels}')
      written = _write_fixture(root / 'data', layout_name, val_labels)
      out = str(root / 'out')
      report = job.run(imagenet.ImageNet(str(root / 'data')), out, num_shards=1)
      examples = {_value(e, features.IMAGE_FILENAME).decode(): e
                  for split in ('train', 'eval') for e in job.read_examples(out, split)}
      runs[layout_name, val_labels] = Ingested(str(root / 'data'), out, written, report,
                                               examples)
    return runs[layout_name, val_labels]
  return run


def test_schema_lists_the_1000_wnids_and_matches_the_full_layout(tmp_path):
  names = schemas.class_names(schemas.load_schema(schemas.schema_path('imagenet')))
  assert len(names) == len(set(names)) == 1000
  assert names == tuple(sorted(names))
  assert names[0] == 'n01440764' and names[-1] == 'n15075141'
  assert all(imagenet.WNID.fullmatch(name) for name in names)
  assert set(WNIDS) <= set(names)
  imagenet.write_fixture(str(tmp_path), wnids=names, train_per_class=0, val_per_class=0,
                         quirks=False)
  full = imagenet.ImageNet(str(tmp_path))
  assert full.class_names == names
  assert len(pickle.dumps(full)) < 64 * 1024  # shipped to every worker


@pytest.mark.parametrize('layout_name, val_labels', SOURCES)
def test_fixture_files_follow_the_published_layout(tmp_path, layout_name, val_labels):
  written = _write_fixture(tmp_path, layout_name, val_labels)
  prefix = PREFIX[layout_name]
  files = _files(tmp_path)
  assert files == set(written['train']) | set(written['eval']) | LABEL_FILES[
      layout_name, val_labels]
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
  if layout_name == 'kaggle':
    with open(tmp_path / 'LOC_synset_mapping.txt') as f:
      mapping = f.read().splitlines()
    assert [line.split()[0] for line in mapping] == list(WNIDS)
    assert mapping[0] == 'n01440764 tench, Tinca tinca'
    assert mapping[-1] == 'n02119789 kit fox, Vulpes macrotis'
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
    with open(tmp_path / 'ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt') as f:
      ids = [int(line) for line in f.read().splitlines()]
    meta = imagenet.read_devkit_meta(str(tmp_path / 'ILSVRC2012_devkit_t12/data/meta.mat'))
    assert [meta[synset_id] for synset_id in ids] == val_wnids


def test_devkit_meta_is_the_devkits_struct_array(tmp_path):
  _write_fixture(tmp_path, 'ilsvrc', 'devkit')
  path = str(tmp_path / 'ILSVRC2012_devkit_t12/data/meta.mat')
  synsets = scipy.io.loadmat(path)['synsets']
  assert synsets.shape == (10, 1)
  assert synsets.dtype.names == imagenet.META_FIELDS == (
      'ILSVRC2012_ID', 'WNID', 'words', 'gloss', 'num_children', 'children', 'wordnet_height',
      'num_train_images')
  rows = [{name: synsets[i, 0][name] for name in synsets.dtype.names} for i in range(10)]
  assert [int(r['ILSVRC2012_ID'][0, 0]) for r in rows] == list(range(1, 11))
  assert rows[0]['WNID'][0] == KIT_FOX and rows[0]['words'][0] == 'kit fox, Vulpes macrotis'
  leaves, inner = rows[:8], rows[8:]
  assert all(r['num_children'][0, 0] == 0 and r['children'].shape == (1, 0) for r in leaves)
  assert [r['WNID'][0] for r in inner] == ['n00015388', 'n00001740']
  assert inner[0]['children'].tolist() == [list(range(1, 9))]
  assert inner[1]['children'].tolist() == [[9]] and inner[1]['num_children'][0, 0] == 1
  id_to_wnid = imagenet.read_devkit_meta(path)
  assert sorted(id_to_wnid.values()) == list(WNIDS)  # the non-leaf synsets are not classes
  assert id_to_wnid[1] == KIT_FOX and WNIDS.index(KIT_FOX) == 7
  assert [id_to_wnid[i] for i in range(1, 9)] != list(WNIDS)  # ID order is not wnid order


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
  other = _write_fixture(tmp_path / 'other', 'ilsvrc', 'synsets', wnids=['n01443537', 'n01484850'])
  assert other['quirks'] == {  # in the first wnid's folder when the real one is not sampled
      'png': 'train/n01443537/n01443537_2933.JPEG', 'cmyk': 'train/n01443537/n01443537_1309.JPEG',
      'grayscale': 'train/n01443537/n01443537_10000.JPEG'}


def test_fixture_jpegs_are_photo_sized():
  rng = np.random.default_rng(0)
  sizes = []
  for _ in range(5):
    out = io.BytesIO()
    imagenet.smooth_image(rng, (500, 375), np.zeros(3)).save(out, format='JPEG', quality=90)
    sizes.append(len(out.getvalue()))
  assert 30_000 < np.mean(sizes) < 150_000  # ImageNet's average JPEG is about 110 kB


def test_write_fixture_is_deterministic(tmp_path):
  def contents(name, seed):
    _write_fixture(tmp_path / name, 'kaggle', 'devkit', seed=seed)
    root = tmp_path / name
    return {path: (root / path).read_bytes() for path in _files(root)}
  a, b, c = contents('a', 3), contents('b', 3), contents('c', 4)
  assert a == b
  assert a.keys() != c.keys()  # training file numbers are drawn from the seed
  assert a['LOC_synset_mapping.txt'] == c['LOC_synset_mapping.txt']
  assert a['ILSVRC/Data/CLS-LOC/val/ILSVRC2012_val_00000001.JPEG'] != c[
      'ILSVRC/Data/CLS-LOC/val/ILSVRC2012_val_00000001.JPEG']


def test_write_fixture_rejects_bad_arguments(tmp_path):
  with pytest.raises(ValueError, match="layout='tfds'"):
    imagenet.write_fixture(str(tmp_path), layout='tfds')
  with pytest.raises(ValueError, match="val_labels='csv'"):
    imagenet.write_fixture(str(tmp_path), val_labels='csv')
  with pytest.raises(ValueError, match='wnids='):
    imagenet.write_fixture(str(tmp_path), wnids=('n01440764', 'tench'))
  with pytest.raises(ValueError, match='wnids='):
    imagenet.write_fixture(str(tmp_path), wnids=('n01440764', 'n01440764'))
  with pytest.raises(ValueError, match=r'train_per_class, val_per_class = \(-1, 2\)'):
    imagenet.write_fixture(str(tmp_path), train_per_class=-1)
  with pytest.raises(ValueError, match=r'image_size=\(0, 5\)'):
    imagenet.write_fixture(str(tmp_path), image_size=(0, 5))


@pytest.mark.parametrize('layout_name, val_labels', SOURCES)
def test_every_image_becomes_an_example_with_its_label(ingested, layout_name, val_labels):
  run = ingested(layout_name, val_labels)
  assert run.report['found'] == run.report['written'] == TRAIN + VAL
  assert run.report['splits'] == {'train': TRAIN, 'eval': VAL}
  assert run.report['quarantined'] == {}
  expected = {**run.written['train'], **run.written['eval']}
  assert run.examples.keys() == expected.keys()
  for filename, example in run.examples.items():
    wnid = expected[filename]
    assert _value(example, features.LABEL) == WNIDS.index(wnid), filename
    assert _value(example, features.LABEL_TEXT) == wnid.encode()
    assert _value(example, features.IMAGE_HEIGHT) == 16
    assert _value(example, features.IMAGE_WIDTH) == 24
    assert not [key for key in example.features.feature if key.startswith('scenario/')]
  prefix = PREFIX[layout_name]
  named = {f'{prefix}train/n02105855/n02105855_2933.JPEG': (6, b'n02105855'),
           f'{prefix}train/n01739381/n01739381_1309.JPEG': (5, b'n01739381'),
           f'{prefix}train/n01440764/n01440764_10000.JPEG': (0, b'n01440764')}
  for filename, label in named.items():
    example = run.examples[filename]
    assert (_value(example, features.LABEL), _value(example, features.LABEL_TEXT)) == label


def _relabel_first_three(root, layout_name, val_labels, written):
  """Rewrites the validation labels so images 1, 2, 3 are kit fox, tench, hammerhead."""
  wnids = [wnid for _, wnid in sorted(written['eval'].items())]
  wnids[:3] = [KIT_FOX, TENCH, HAMMERHEAD]
  if layout_name == 'kaggle':
    rows = [f'ILSVRC2012_val_{n:08d},{w} 1 2 3 4' for n, w in enumerate(wnids, start=1)]
    (root / 'LOC_val_solution.csv').write_text(
        'ImageId,PredictionString\n' + '\n'.join(reversed(rows)) + '\n')
  elif val_labels == 'synsets':
    (root / 'imagenet_2012_validation_synset_labels.txt').write_text('\n'.join(wnids) + '\n')
  else:  # hammerhead is ID 2, tench ID 3
    ids = {KIT_FOX: 1, HAMMERHEAD: 2, TENCH: 3}
    ids.update({w: i for i, w in enumerate(sorted(set(WNIDS) - set(ids)), start=4)})
    imagenet.write_devkit_meta(str(root / 'ILSVRC2012_devkit_t12/data/meta.mat'), ids,
                               dict.fromkeys(WNIDS, 2))
    (root / 'ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt').write_text(
        ''.join(f'{ids[w]}\n' for w in wnids))


def _eval_examples(imagenet_layout):
  """filename -> (label, text) of the validation images, via items() and read()."""
  labels = {}
  for item in imagenet_layout.items(('eval', imagenet_layout.sources()[-1][1])):
    example, = imagenet_layout.read(item)
    labels[_value(example, features.IMAGE_FILENAME).decode()] = (
        _value(example, features.LABEL), _value(example, features.LABEL_TEXT).decode())
  return labels


@pytest.mark.parametrize('layout_name, val_labels', SOURCES)
def test_validation_labels_of_named_files(tmp_path, layout_name, val_labels):
  written = _write_fixture(tmp_path, layout_name, val_labels)
  _relabel_first_three(tmp_path, layout_name, val_labels, written)
  labels = _eval_examples(imagenet.ImageNet(str(tmp_path)))
  val = PREFIX[layout_name] + 'val/ILSVRC2012_val_0000000'
  assert labels[val + '1.JPEG'] == (7, KIT_FOX)  # devkit ID 1 is the last of the 8 wnids
  assert labels[val + '2.JPEG'] == (0, TENCH)
  assert labels[val + '3.JPEG'] == (4, HAMMERHEAD)
  assert len(labels) == VAL


def _decode(example):
  return tf.io.decode_image(_value(example, features.IMAGE_ENCODED)).numpy()


def _pixels(path, mode='RGB'):
  with Image.open(path) as image:
    return np.asarray(image.convert(mode), np.float32)


def test_dirty_training_files_become_canonical(ingested):
  run = ingested('ilsvrc', 'devkit')
  quirks = run.written['quirks']
  png = run.examples[quirks['png']]
  assert _value(png, features.IMAGE_FORMAT) == b'png'
  assert _value(png, features.IMAGE_ENCODED) == (
      open(os.path.join(run.root, quirks['png']), 'rb').read())
  cmyk = run.examples[quirks['cmyk']]
  assert _value(cmyk, features.IMAGE_FORMAT) == b'jpeg'
  rgb = _decode(cmyk)
  assert rgb.shape == (16, 24, 3)
  source = _pixels(os.path.join(run.root, quirks['cmyk']))  # PIL's reading of the CMYK
  assert np.abs(rgb.mean((0, 1)) - source.mean((0, 1))).max() < 3  # not inverted
  assert np.corrcoef(rgb.ravel(), source.ravel())[0, 1] > .85  # chroma of 24 x 16 px blurs
  gray = run.examples[quirks['grayscale']]
  assert _value(gray, features.IMAGE_FORMAT) == b'jpeg'
  pixels = _decode(gray).astype(np.float32)
  assert pixels.shape == (16, 24, 3)
  assert np.abs(pixels[..., 0] - pixels[..., 1]).max() <= 2
  assert np.abs(pixels[..., 0] - pixels[..., 2]).max() <= 2
  source = _pixels(os.path.join(run.root, quirks['grayscale']), 'L')
  assert np.abs(pixels[..., 1] - source).mean() < 4
  for filename, wnid in run.written['train'].items():  # RGB JPEGs keep their bytes
    if filename not in quirks.values():
      assert _value(run.examples[filename], features.IMAGE_ENCODED) == (
          open(os.path.join(run.root, filename), 'rb').read())


def _replace_line(path, number, text):
  lines = path.read_text().splitlines()
  lines[number - 1] = text
  path.write_text('\n'.join(lines) + '\n')


def _inject_bad_labels(root, layout_name, val_labels):
  """Spoils some validation label lines; returns the reasons expected for them."""
  if layout_name == 'kaggle':
    csv_path = root / 'LOC_val_solution.csv'
    header, *rows = csv_path.read_text().splitlines()
    by_id = {row.split(',')[0]: row for row in rows}
    by_id['ILSVRC2012_val_00000005'] = 'ILSVRC2012_val_00000005,n09999999 1 2 3 4'
    by_id['ILSVRC2012_val_00000006'] = 'ILSVRC2012_val_00000006,'
    del by_id['ILSVRC2012_val_00000008']
    rows = list(by_id.values()) + ['val_00000009,n01440764 1 2 3 4',
                                   by_id['ILSVRC2012_val_00000007']]
    csv_path.write_text('\n'.join([header] + rows) + '\n')
    return {('val/ILSVRC2012_val_00000005.JPEG', layout.LABEL_OUT_OF_RANGE),
            ('val/ILSVRC2012_val_00000006.JPEG', layout.MALFORMED_ROW),
            ('val/ILSVRC2012_val_00000008.JPEG', layout.MISSING_LABEL),
            (f'{csv_path}:{len(rows)}', layout.MALFORMED_ROW),  # not a validation image id
            (f'{csv_path}:{len(rows) + 1}', layout.MALFORMED_ROW)}  # a second row for image 7
  if val_labels == 'synsets':
    labels = root / 'imagenet_2012_validation_synset_labels.txt'
    _replace_line(labels, 5, 'n09999999')  # a wnid, but not a class
    _replace_line(labels, 6, 'kit fox')
    return {('val/ILSVRC2012_val_00000005.JPEG', layout.LABEL_OUT_OF_RANGE),
            ('val/ILSVRC2012_val_00000006.JPEG', layout.MALFORMED_ROW)}
  ground_truth = root / 'ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt'
  _replace_line(ground_truth, 5, '9')  # n00015388 animal: not a leaf
  _replace_line(ground_truth, 6, 'x')
  _replace_line(ground_truth, 7, '1001')  # no such synset
  return {('val/ILSVRC2012_val_00000005.JPEG', layout.LABEL_OUT_OF_RANGE),
          ('val/ILSVRC2012_val_00000006.JPEG', layout.MALFORMED_ROW),
          ('val/ILSVRC2012_val_00000007.JPEG', layout.LABEL_OUT_OF_RANGE)}


@pytest.mark.parametrize('layout_name, val_labels', SOURCES)
def test_bad_input_is_quarantined_with_its_reason(tmp_path, layout_name, val_labels):
  root = tmp_path / 'data'
  _write_fixture(root, layout_name, val_labels)
  data = root / PREFIX[layout_name]
  (data / 'train/n01443537/n01443537_99999.JPEG').write_bytes(b'<html>Not Found</html>')
  (data / 'train/n01443537/n01443537_99998.JPEG').write_bytes(b'')
  (data / 'train/n01440764.tar').write_bytes(b'a leftover class tar')
  (data / 'val/ILSVRC2012_val_00000004.JPEG').unlink()
  shutil.copy(data / 'val/ILSVRC2012_val_00000001.JPEG', data / 'val/ILSVRC2012_val_00000017.JPEG')
  (data / 'val/Thumbs.db').write_bytes(b'\0')
  expected = {('train/n01443537/n01443537_99999.JPEG', layout.UNDECODABLE_IMAGE),
              ('train/n01443537/n01443537_99998.JPEG', layout.EMPTY_FILE),
              ('train/n01440764.tar', layout.BAD_FILE_NAME),
              ('val/ILSVRC2012_val_00000004.JPEG', layout.MISSING_FILE),
              ('val/ILSVRC2012_val_00000017.JPEG', layout.MISSING_LABEL),
              ('val/Thumbs.db', layout.BAD_FILE_NAME)}
  expected |= _inject_bad_labels(root, layout_name, val_labels)
  report = job.run(imagenet.ImageNet(str(root)), str(tmp_path / 'out'), num_shards=1)
  got = {(os.path.relpath(r.source, data) if r.source.startswith(str(data) + '/') else r.source,
          r.reason) for r in job.read_quarantine(str(tmp_path / 'out'))}
  assert got == expected
  reasons = {}
  for _, reason in expected:
    reasons[reason] = reasons.get(reason, 0) + 1
  assert report['quarantined'] == reasons
  bad_val = sum(1 for source, _ in expected if source.startswith('val/ILSVRC2012_val_0000000'))
  assert report['splits'] == {'train': TRAIN, 'eval': VAL - bad_val}
  assert report['found'] == report['written'] + sum(reasons.values())


@pytest.mark.parametrize('layout_name, val_labels, spoil, message', [
    ('ilsvrc', 'devkit', lambda root: shutil.rmtree(root / 'train'),
     r'neither the ILSVRC2012 layout \(train/<wnid>/\) nor the Kaggle layout '
     r'\(ILSVRC/Data/CLS-LOC/train/<wnid>/\)'),
    ('ilsvrc', 'devkit', lambda root: os.remove(root / 'ILSVRC2012_devkit_t12/data/meta.mat'),
     r'ILSVRC2012_devkit_t12/data/meta\.mat: devkit meta\.mat not found'),
    ('ilsvrc', 'devkit',
     lambda root: (root / 'ILSVRC2012_devkit_t12/data/meta.mat').write_bytes(b'MATLAB? no'),
     r'meta\.mat: not the devkit meta\.mat'),
    ('ilsvrc', 'devkit', lambda root: shutil.rmtree(root / 'ILSVRC2012_devkit_t12'),
     r'no validation labels: neither the devkit .*ILSVRC2012_validation_ground_truth\.txt nor '
     r'.*imagenet_2012_validation_synset_labels\.txt'),
    ('ilsvrc', 'synsets', lambda root: shutil.rmtree(root / 'val'),
     r'/val: validation image folder not found'),
    ('ilsvrc', 'synsets', lambda root: [shutil.rmtree(p) for p in (root / 'train').iterdir()],
     r'/train: no class folders'),
    ('kaggle', 'devkit', lambda root: os.remove(root / 'LOC_val_solution.csv'),
     r'LOC_val_solution\.csv: Kaggle validation labels not found'),
    ('kaggle', 'devkit', lambda root: _replace_line(root / 'LOC_val_solution.csv', 1, 'id,label'),
     r"LOC_val_solution\.csv: header \['id', 'label'\]"),
    ('kaggle', 'devkit', lambda root: _replace_line(root / 'LOC_synset_mapping.txt', 2, 'tench'),
     r"LOC_synset_mapping\.txt:2: 'tench' is not `<wnid> <description>`"),
    ('kaggle', 'devkit', lambda root: _replace_line(
        root / 'LOC_synset_mapping.txt', 3, 'n09999999 not sampled'),
     r"LOC_synset_mapping\.txt: its 8 wnids are not the 8 class folders .* "
     r"\(only in the mapping: \['n09999999'\], only folders: \['n01484850'\]\)"),
])
def test_layout_errors_name_the_file(tmp_path, layout_name, val_labels, spoil, message):
  _write_fixture(tmp_path, layout_name, val_labels, train_per_class=1, val_per_class=1)
  spoil(tmp_path)
  with pytest.raises(layout.LayoutError, match=message):
    imagenet.ImageNet(str(tmp_path))


def test_options_name_the_validation_folder_and_label_files(tmp_path):
  written = _write_fixture(tmp_path, 'ilsvrc', 'devkit')
  os.rename(tmp_path / 'val', tmp_path / 'ILSVRC2012_img_val')
  os.rename(tmp_path / 'ILSVRC2012_devkit_t12', tmp_path / 'devkit')
  with pytest.raises(layout.LayoutError, match='no validation labels'):
    imagenet.ImageNet(str(tmp_path), val_folder='ILSVRC2012_img_val')
  moved = imagenet.ImageNet(
      str(tmp_path), val_folder='ILSVRC2012_img_val',
      val_ground_truth='devkit/data/ILSVRC2012_validation_ground_truth.txt',
      devkit_meta=str(tmp_path / 'devkit/data/meta.mat'))  # absolute works too
  labels = _eval_examples(moved)
  assert labels == {path.replace('val/', 'ILSVRC2012_img_val/'): (WNIDS.index(w), w)
                    for path, w in written['eval'].items()}


def test_sources_are_class_folders_and_the_validation_folder(tmp_path):
  _write_fixture(tmp_path, 'kaggle', 'devkit')
  (tmp_path / 'ILSVRC/Data/CLS-LOC/train/n01440764.tar').write_bytes(b'tar')
  reader = imagenet.ImageNet(str(tmp_path))
  assert reader.class_names == WNIDS
  assert reader.sources() == [('train', wnid) for wnid in WNIDS] + [
      ('train', 'n01440764.tar'), ('eval', str(tmp_path / 'ILSVRC/Data/CLS-LOC/val'))]
  items = list(reader.items(('train', 'n01739381')))
  assert len(items) == 3 and 'n01739381_1309.JPEG' in {os.path.basename(i.source) for i in items}
  assert {(item.split, item.payload) for item in items} == {('train', 'n01739381')}


def test_tfdv_finds_no_anomalies_against_the_schema(ingested):
  run = ingested('ilsvrc', 'devkit')
  stats = tfdv.generate_statistics_from_tfrecord(
      data_location=os.path.join(run.out, '*', '*.tfrecord.gz'))
  assert stats.datasets[0].num_examples == TRAIN + VAL
  schema = schemas.load_schema(schemas.schema_path('imagenet'))
  assert not tfdv.validate_statistics(stats, schema).anomaly_info
  class_domain = next(d for d in schema.string_domain if d.name == 'class_names')
  class_domain.value.remove(KIT_FOX)  # the check does look at the values
  assert features.LABEL_TEXT in tfdv.validate_statistics(stats, schema).anomaly_info
