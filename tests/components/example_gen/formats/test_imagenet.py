"""ImageNet, either edition: labels of named files, the dirty training files, quarantine of bad
input, layout errors and the curated schema."""
import os
import pickle
import re
import shutil
from typing import Dict, NamedTuple

import numpy as np
from PIL import Image
import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv

from components import features
from components import schemas
from components.example_gen import ingest
from components.example_gen import job
from components.example_gen import layout
from components.example_gen.formats import imagenet
from components.example_gen.formats import imagenet_fixture
from example_util import feature as _value
from example_util import read_examples
from example_util import read_quarantine
from imagenet_cases import KIT_FOX
from imagenet_cases import PREFIX
from imagenet_cases import SOURCES
from imagenet_cases import STANDARD
from imagenet_cases import WNIDS
from imagenet_cases import write_small_fixture as _write_fixture

TRAIN, VAL = 8 * 2 + 3, 8 * 2  # + the three dirty training files
TENCH, HAMMERHEAD = 'n01440764', 'n01494475'


class Ingested(NamedTuple):
  root: str
  out: str
  written: Dict
  counts: Dict
  examples: Dict  # filename -> tf.train.Example


@pytest.fixture(scope='module')
def ingested(tmp_path_factory):
  """(edition, val_labels) -> the clean fixture run through the ingestion job, once each."""
  runs = {}

  def run(edition, val_labels):
    if (edition, val_labels) not in runs:
      root = tmp_path_factory.mktemp(f'{edition}_{val_labels}')
      written = _write_fixture(root / 'data', edition, val_labels)
      out = str(root / 'out')
      counts = job.run(imagenet.ImageNet(str(root / 'data')), out, num_shards=1)
      examples = {_value(e, features.IMAGE_FILENAME).decode(): e
                  for split in ('train', 'eval') for e in read_examples(out, split)}
      runs[edition, val_labels] = Ingested(str(root / 'data'), out, written, counts,
                                               examples)
    return runs[edition, val_labels]
  return run


def test_schema_lists_the_1000_wnids_and_matches_the_full_layout(tmp_path):
  names = schemas.class_names(schemas.load_schema(schemas.schema_path('imagenet')))
  assert len(names) == len(set(names)) == 1000
  assert names == tuple(sorted(names))
  assert names[0] == 'n01440764' and names[-1] == 'n15075141'
  assert all(imagenet.WNID.fullmatch(name) for name in names)
  assert set(WNIDS) <= set(names)
  imagenet_fixture.write_fixture(str(tmp_path), wnids=names, train_per_class=0,
                                 val_per_class=0, quirks=False)
  full = imagenet.ImageNet(str(tmp_path))
  assert full.class_names == names == STANDARD
  assert full.absent_classes() == {'train': ()}
  assert len(pickle.dumps(full)) < 64 * 1024  # shipped to every worker


@pytest.mark.parametrize('edition, val_labels', SOURCES)
def test_every_image_becomes_an_example_with_its_label(ingested, edition, val_labels):
  run = ingested(edition, val_labels)
  assert run.counts.found == run.counts.written == TRAIN + VAL
  assert run.counts.splits == {'train': TRAIN, 'eval': VAL}
  assert run.counts.quarantined == {} and run.counts.lost_files == []
  assert run.counts.absent_classes == {'train': 1000 - len(WNIDS)}
  expected = {**run.written['train'], **run.written['eval']}
  assert run.examples.keys() == expected.keys()
  for filename, example in run.examples.items():
    wnid = expected[filename]
    assert _value(example, features.LABEL) == STANDARD.index(wnid), filename
    assert _value(example, features.LABEL_TEXT) == wnid.encode()
    assert _value(example, features.IMAGE_HEIGHT) == 16
    assert _value(example, features.IMAGE_WIDTH) == 24
    assert not [key for key in example.features.feature if key.startswith('scenario/')]
  prefix = PREFIX[edition]
  named = {f'{prefix}train/n02105855/n02105855_2933.JPEG': (230, b'n02105855'),
           f'{prefix}train/n01739381/n01739381_1309.JPEG': (59, b'n01739381'),
           f'{prefix}train/n01440764/n01440764_10000.JPEG': (0, b'n01440764')}
  for filename, label in named.items():
    example = run.examples[filename]
    assert (_value(example, features.LABEL), _value(example, features.LABEL_TEXT)) == label


@pytest.mark.parametrize('edition, val_labels', SOURCES)
def test_a_subset_keeps_the_standard_labels_and_reads_every_validation_image(
    tmp_path, edition, val_labels):
  """A partial download (Imagenette-style): class folders of 3 classes, validation images of
  all 8. Every image is read and labelled by its wnid's place among the 1000 classes; the 997
  classes without a folder are counted, not an error."""
  subset = (TENCH, 'n01739381', KIT_FOX)
  written = _write_fixture(tmp_path / 'data', edition, val_labels, wnids=subset,
                           val_wnids=WNIDS, quirks=False)
  assert len(set(written['eval'].values())) == 8
  counts = job.run(imagenet.ImageNet(str(tmp_path / 'data')), str(tmp_path / 'out'),
                   num_shards=1)
  assert counts.quarantined == {} and counts.lost_files == []
  assert counts.splits == {'train': 3 * 2, 'eval': 8 * 2}
  assert counts.found == counts.written == 22
  assert counts.absent_classes == {'train': 997}
  examples = {_value(e, features.IMAGE_FILENAME).decode(): e
              for split in ('train', 'eval') for e in read_examples(str(tmp_path / 'out'), split)}
  expected = {**written['train'], **written['eval']}
  assert examples.keys() == expected.keys()
  assert {(_value(example, features.LABEL), _value(example, features.LABEL_TEXT).decode())
          for example in examples.values()} == {(STANDARD.index(w), w) for w in WNIDS}
  for filename, example in examples.items():
    assert _value(example, features.LABEL) == STANDARD.index(expected[filename]), filename


def test_validation_labels_that_are_not_utf8_are_a_lost_file(tmp_path):
  _write_fixture(tmp_path / 'data', 'ilsvrc', 'devkit', quirks=False)
  ground_truth = tmp_path / 'data' / imagenet.DEVKIT_GROUND_TRUTH
  lines = ground_truth.read_bytes().split(b'\n')
  lines[4] += b' \x96'  # a Windows-1252 dash on line 5
  ground_truth.write_bytes(b'\n'.join(lines))
  with pytest.raises(ingest.LostFilesError, match=re.escape(
      f'{ground_truth}: unreadable_file ({ground_truth}:5: not UTF-8 text (byte 0x96')):
    job.run(imagenet.ImageNet(str(tmp_path / 'data')), str(tmp_path / 'strict'), num_shards=1)
  assert not [folder for folder, _, _ in os.walk(tmp_path) if 'beam-temp' in folder]
  counts = job.run(imagenet.ImageNet(str(tmp_path / 'data'), allow_lost_files=True),
                   str(tmp_path / 'out'), num_shards=1)
  assert counts.splits == {'train': 16, 'eval': 0} and counts.quarantined == {}
  assert [entry['source'] for entry in counts.lost_files] == [str(ground_truth)]
  assert counts.unaccounted_records == 'unknown'


def _relabel_first_three(root, edition, val_labels, written):
  """Rewrites the validation labels so images 1, 2, 3 are kit fox, tench, hammerhead."""
  wnids = [wnid for _, wnid in sorted(written['eval'].items())]
  wnids[:3] = [KIT_FOX, TENCH, HAMMERHEAD]
  if edition == 'kaggle':
    rows = [f'ILSVRC2012_val_{n:08d},{w} 1 2 3 4' for n, w in enumerate(wnids, start=1)]
    (root / 'LOC_val_solution.csv').write_text(
        'ImageId,PredictionString\n' + '\n'.join(reversed(rows)) + '\n')
  elif val_labels == 'synsets':
    (root / 'imagenet_2012_validation_synset_labels.txt').write_text('\n'.join(wnids) + '\n')
  else:  # hammerhead is ID 2, tench ID 3
    ids = {KIT_FOX: 1, HAMMERHEAD: 2, TENCH: 3}
    ids.update({w: i for i, w in enumerate(sorted(set(STANDARD) - set(ids)), start=4)})
    imagenet_fixture.write_devkit_meta(str(root / 'ILSVRC2012_devkit_t12/data/meta.mat'), ids,
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


@pytest.mark.parametrize('edition, val_labels', SOURCES)
def test_validation_labels_of_named_files(tmp_path, edition, val_labels):
  written = _write_fixture(tmp_path, edition, val_labels)
  _relabel_first_three(tmp_path, edition, val_labels, written)
  labels = _eval_examples(imagenet.ImageNet(str(tmp_path)))
  val = PREFIX[edition] + 'val/ILSVRC2012_val_0000000'
  assert labels[val + '1.JPEG'] == (278, KIT_FOX)  # devkit ID 1, sorted wnid 278
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


def _inject_bad_labels(root, edition, val_labels):
  """Spoils some validation label lines; returns the reasons expected for them."""
  if edition == 'kaggle':
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
  _replace_line(ground_truth, 5, '1001')  # n00015388 animal: not a leaf
  _replace_line(ground_truth, 6, 'x')
  _replace_line(ground_truth, 7, '1003')  # no such synset
  return {('val/ILSVRC2012_val_00000005.JPEG', layout.LABEL_OUT_OF_RANGE),
          ('val/ILSVRC2012_val_00000006.JPEG', layout.MALFORMED_ROW),
          ('val/ILSVRC2012_val_00000007.JPEG', layout.LABEL_OUT_OF_RANGE)}


@pytest.mark.parametrize('edition, val_labels', SOURCES)
def test_bad_input_is_quarantined_with_its_reason(tmp_path, edition, val_labels):
  root = tmp_path / 'data'
  _write_fixture(root, edition, val_labels)
  data = root / PREFIX[edition]
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
  expected |= _inject_bad_labels(root, edition, val_labels)
  counts = job.run(imagenet.ImageNet(str(root)), str(tmp_path / 'out'), num_shards=1)
  got = {(os.path.relpath(r.source, data) if r.source.startswith(str(data) + '/') else r.source,
          r.reason) for r in read_quarantine(str(tmp_path / 'out'))}
  assert got == expected
  reasons = {}
  for _, reason in expected:
    reasons[reason] = reasons.get(reason, 0) + 1
  assert counts.quarantined == reasons
  bad_val = sum(1 for source, _ in expected if source.startswith('val/ILSVRC2012_val_0000000'))
  assert counts.splits == {'train': TRAIN, 'eval': VAL - bad_val}
  assert counts.found == counts.written + sum(reasons.values())


@pytest.mark.parametrize('edition, val_labels, spoil, message', [
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
     r'/train: no class folders \(<wnid>/, e\.g\. n01440764/\) of the 1000 ILSVRC2012 classes'),
    ('kaggle', 'devkit', lambda root: os.remove(root / 'LOC_val_solution.csv'),
     r'LOC_val_solution\.csv: Kaggle validation labels not found'),
    ('kaggle', 'devkit', lambda root: _replace_line(root / 'LOC_val_solution.csv', 1, 'id,label'),
     r"LOC_val_solution\.csv: header \['id', 'label'\]"),
    ('kaggle', 'devkit', lambda root: _replace_line(root / 'LOC_synset_mapping.txt', 2, 'tench'),
     r"LOC_synset_mapping\.txt:2: 'tench' is not `<wnid> <description>`"),
    ('kaggle', 'devkit', lambda root: _replace_line(
        root / 'LOC_synset_mapping.txt', 3, 'n09999999 not a class'),
     r"LOC_synset_mapping\.txt: its 1000 classes are not the 1000 ILSVRC2012 classes in sorted "
     r"wnid order \(only in the file: \['n09999999'\], missing from it: \['n01484850'\]\)"),
    ('kaggle', 'devkit', lambda root: (root / 'LOC_synset_mapping.txt').write_text(
        ''.join(f'{wnid} x\n' for wnid in WNIDS)),  # a mapping of the folders present
     r"LOC_synset_mapping\.txt: its 8 classes are not the 1000 ILSVRC2012 classes .* missing "
     r"from it: \['n01496331', 'n01498041'"),
    ('kaggle', 'devkit', lambda root: (root / 'LOC_synset_mapping.txt').write_bytes(
        b'n01440764 tench\nn01443537 goldfish\nn01484850 requin blanc \xe0 grande dent\n'),
     r"LOC_synset_mapping\.txt:3: not UTF-8 text \(byte 0xe0 at column 24\)"),
    ('ilsvrc', 'devkit', lambda root: imagenet_fixture.write_devkit_meta(
        str(root / 'ILSVRC2012_devkit_t12/data/meta.mat'),
        {wnid: i for i, wnid in enumerate(WNIDS, start=1)}, {}),  # a meta.mat of a subset
     r"meta\.mat: its 8 classes are not the 1000 ILSVRC2012 classes"),
])
def test_layout_errors_name_the_file(tmp_path, edition, val_labels, spoil, message):
  _write_fixture(tmp_path, edition, val_labels, train_per_class=1, val_per_class=1)
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
  assert labels == {path.replace('val/', 'ILSVRC2012_img_val/'): (STANDARD.index(w), w)
                    for path, w in written['eval'].items()}


def test_sources_are_class_folders_and_the_validation_folder(tmp_path):
  _write_fixture(tmp_path, 'kaggle', 'devkit')
  (tmp_path / 'ILSVRC/Data/CLS-LOC/train/n01440764.tar').write_bytes(b'tar')
  reader = imagenet.ImageNet(str(tmp_path))
  assert reader.class_names == STANDARD
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
