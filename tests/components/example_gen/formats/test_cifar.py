"""CIFAR-10 / CIFAR-100 python layouts: the fixture's format, the restricted unpickler, the
examples read back (labels, superclasses, pixels in the right channel layout) and quarantine."""
import io
import json
import os
import pickle
import pickletools
import re
import shutil

import numpy as np
from PIL import Image
import pytest
import tensorflow_data_validation as tfdv

from components import features
from components import schemas
from components.example_gen import ingest
from components.example_gen import job
from components.example_gen import layout
from components.example_gen.formats import cifar
from example_util import by_filename as _by_filename
from example_util import feature as _feature
from example_util import read_quarantine
from example_util import shard_glob

ROWS = 3  # rows per batch file in the fixtures
CANONICAL_KEYS = {features.IMAGE_ENCODED, features.IMAGE_FORMAT, features.IMAGE_HEIGHT,
                  features.IMAGE_WIDTH, features.IMAGE_FILENAME, features.LABEL,
                  features.LABEL_TEXT}
# The published fine -> coarse label map of CIFAR-100 (its train file's coarse_labels).
FINE_TO_COARSE = [
    4, 1, 14, 8, 0, 6, 7, 7, 18, 3, 3, 14, 9, 18, 7, 11, 3, 9, 7, 11,
    6, 11, 5, 10, 7, 6, 13, 15, 3, 15, 0, 11, 1, 10, 12, 14, 16, 9, 11, 5,
    5, 19, 8, 8, 15, 13, 14, 17, 18, 10, 16, 4, 17, 4, 2, 0, 17, 4, 18, 17,
    10, 3, 2, 12, 12, 16, 12, 1, 9, 19, 2, 10, 0, 1, 16, 12, 9, 13, 15, 13,
    16, 19, 2, 4, 6, 19, 5, 5, 8, 19, 18, 1, 2, 15, 6, 0, 17, 8, 14, 13]
ARRAY_GLOBALS = ({'numpy.core.multiarray _reconstruct', 'numpy ndarray', 'numpy dtype'},
                 {'numpy._core.multiarray _reconstruct', 'numpy ndarray', 'numpy dtype'})


def _ingest(data_root, cls, out_dir, **options):
  counts = job.run(cls(data_root, **options), str(out_dir), num_shards=1)
  return counts, str(out_dir)


@pytest.fixture(scope='module')
def cifar10(tmp_path_factory):
  """(data root, write_fixture's record, counts, output dir) of a CIFAR-10 fixture, ingested."""
  root = str(tmp_path_factory.mktemp('cifar10'))
  written = cifar.write_fixture(root, variant='cifar10', rows_per_batch=ROWS)
  return (root, written) + _ingest(root, cifar.Cifar10, tmp_path_factory.mktemp('out'))


@pytest.fixture(scope='module')
def cifar100(tmp_path_factory):
  """The same for CIFAR-100, 5 rows per batch file."""
  root = str(tmp_path_factory.mktemp('cifar100'))
  written = cifar.write_fixture(root, variant='cifar100', rows_per_batch=5)
  return (root, written) + _ingest(root, cifar.Cifar100, tmp_path_factory.mktemp('out'))


def _pixels(example):
  with Image.open(io.BytesIO(_feature(example, features.IMAGE_ENCODED))) as image:
    assert image.format == 'PNG' and image.mode == 'RGB'
    return np.asarray(image)


def _globals(data):
  return {arg for opcode, arg, _ in pickletools.genops(data) if opcode.name == 'GLOBAL'}


def _opcodes(data):
  return {opcode.name for opcode, _, _ in pickletools.genops(data)}


class _Payload:
  """Unpickling this calls os.mkdir(path): a stand-in for os.system in a hostile file."""

  def __init__(self, path):
    self.path = path

  def __reduce__(self):
    return os.mkdir, (self.path,)


def test_class_lists_are_the_published_ones():
  assert cifar.CIFAR10_CLASSES == ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog',
                                   'frog', 'horse', 'ship', 'truck')
  assert len(cifar.CIFAR100_CLASSES) == 100 == len(set(cifar.CIFAR100_CLASSES))
  assert cifar.CIFAR100_CLASSES[:5] == ('apple', 'aquarium_fish', 'baby', 'bear', 'beaver')
  assert cifar.CIFAR100_CLASSES[39] == 'keyboard' and cifar.CIFAR100_CLASSES[99] == 'worm'
  assert len(cifar.CIFAR100_COARSE_CLASSES) == 20
  assert cifar.CIFAR100_COARSE_CLASSES[12:14] == ('medium_mammals', 'non-insect_invertebrates')
  coarse_of = {name: cifar.CIFAR100_COARSE_CLASSES.index(superclass)
               for superclass, names in cifar.CIFAR100_SUPERCLASSES.items() for name in names}
  assert [coarse_of[name] for name in cifar.CIFAR100_CLASSES] == FINE_TO_COARSE


@pytest.mark.parametrize('dataset, cls', [('cifar10', cifar.Cifar10),
                                          ('cifar100', cifar.Cifar100)])
def test_schema_class_names_match_the_layout(dataset, cls):
  schema = schemas.load_schema(schemas.schema_path(dataset))
  assert schemas.class_names(schema) == cls.variant.class_names
  assert cls.dataset == dataset
  if dataset == 'cifar100':
    superclass = next(d for d in schema.string_domain if d.name == 'superclass')
    assert tuple(superclass.value) == cifar.CIFAR100_COARSE_CLASSES


def test_fixture_files_are_python2_protocol2_pickles(cifar10, cifar100):
  root10, written10 = cifar10[:2]
  root100, written100 = cifar100[:2]
  assert sorted(os.listdir(os.path.join(root10, 'cifar-10-batches-py'))) == [
      'batches.meta', 'data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4',
      'data_batch_5', 'test_batch']
  assert sorted(os.listdir(os.path.join(root100, 'cifar-100-python'))) == ['meta', 'test', 'train']
  expected_keys = {'cifar-10-batches-py/data_batch_2': (
                       {b'batch_label', b'labels', b'data', b'filenames'},
                       b'training batch 2 of 5'),
                   'cifar-10-batches-py/test_batch': (
                       {b'batch_label', b'labels', b'data', b'filenames'},
                       b'testing batch 1 of 1'),
                   'cifar-100-python/train': (
                       {b'batch_label', b'fine_labels', b'coarse_labels', b'data', b'filenames'},
                       b'training batch 1 of 1')}
  for relative, (keys, batch_label) in expected_keys.items():
    root = root10 if relative.startswith('cifar-10-') else root100
    with open(os.path.join(root, relative), 'rb') as f:
      data = f.read()
    assert data[:2] == b'\x80\x02'  # protocol 2
    assert _globals(data) in ARRAY_GLOBALS
    assert not _opcodes(data) & {'BINUNICODE', 'SHORT_BINUNICODE'}  # Python 2 str only
    batch = cifar.load_pickle(data)
    assert set(batch) == keys
    assert batch[b'batch_label'] == batch_label
    assert batch[b'data'].dtype == np.uint8
    assert batch[b'data'].shape == (ROWS if root == root10 else 5, 3072)
  meta10 = cifar.load_pickle(open(os.path.join(root10, 'cifar-10-batches-py/batches.meta'),
                                  'rb').read())
  assert meta10 == {b'num_cases_per_batch': 10000, b'num_vis': 3072,
                    b'label_names': [name.encode() for name in cifar.CIFAR10_CLASSES]}
  meta100 = cifar.load_pickle(open(os.path.join(root100, 'cifar-100-python/meta'), 'rb').read())
  assert set(meta100) == {b'fine_label_names', b'coarse_label_names'}
  assert meta100[b'coarse_label_names'][16] == b'small_mammals'
  assert written100['cifar-100-python/train']['coarse_labels'] == [
      FINE_TO_COARSE[label] for label in written100['cifar-100-python/train']['labels']]


def test_fixture_rows_are_channel_planar(cifar10):
  root, written = cifar10[:2]
  with open(os.path.join(root, 'cifar-10-batches-py/data_batch_3'), 'rb') as f:
    row = cifar.load_pickle(f.read())[b'data'][0]
  y, x = np.mgrid[:32, :32]
  # 1024 R, then 1024 G, then 1024 B, each 32 x 32 row-major; the pattern of file index 2.
  np.testing.assert_array_equal(row[:1024].reshape(32, 32), 8 * x)
  np.testing.assert_array_equal(row[1024:2048].reshape(32, 32), 8 * y)
  np.testing.assert_array_equal(row[2048:].reshape(32, 32), 4 * (x + y) + 2)
  np.testing.assert_array_equal(written['cifar-10-batches-py/data_batch_3']['images'][0],
                                np.stack([8 * x, 8 * y, 4 * (x + y) + 2], axis=-1))


def test_fixture_is_deterministic(tmp_path):
  def files(name, seed):
    folder = tmp_path / name
    cifar.write_fixture(str(folder), variant='cifar100', rows_per_batch=2, seed=seed)
    return {n: (folder / 'cifar-100-python' / n).read_bytes() for n in ('meta', 'train', 'test')}
  a, b, c = files('a', 1), files('b', 1), files('c', 2)
  assert a == b
  assert a['meta'] == c['meta'] and a['train'] != c['train'] and a['test'] != c['test']


def test_cifar10_examples(cifar10):
  _, written, counts, out_dir = cifar10
  assert counts.found == counts.written == 18
  assert counts.splits == {'train': 15, 'eval': 3} and counts.quarantined == {}
  train, test = _by_filename(out_dir, 'train'), _by_filename(out_dir, 'eval')
  assert set(test) == {f'cifar-10-batches-py/test_batch:{row}' for row in range(ROWS)}
  for name, label, text in [('cifar-10-batches-py/data_batch_1:0', 0, b'airplane'),
                            ('cifar-10-batches-py/data_batch_2:1', 8, b'ship'),
                            ('cifar-10-batches-py/data_batch_5:2', 8, b'ship'),
                            ('cifar-10-batches-py/test_batch:2', 9, b'truck')]:
    example = {**train, **test}[name]
    assert set(example.features.feature) == CANONICAL_KEYS  # no scenario keys
    assert _feature(example, features.LABEL) == label
    assert _feature(example, features.LABEL_TEXT) == text
    assert _feature(example, features.IMAGE_FORMAT) == b'png'
    assert _feature(example, features.IMAGE_HEIGHT) == _feature(example,
                                                                features.IMAGE_WIDTH) == 32
  for relative, record in written.items():
    for row, label in enumerate(record['labels']):
      assert _feature({**train, **test}[f'{relative}:{row}'], features.LABEL) == label


def test_pixels_decode_in_rgb_hwc_order(cifar10):
  _, written, _, out_dir = cifar10
  examples = {**_by_filename(out_dir, 'train'), **_by_filename(out_dir, 'eval')}
  y, x = np.mgrid[:32, :32]
  for file_index, (relative, record) in enumerate(written.items()):
    # Row 0: R = 8 x, G = 8 y, B = 4 (x + y) + file index. Reading the rows as HWC without
    # the transpose, or as BGR, gives other pixels.
    pattern = _pixels(examples[f'{relative}:0'])
    np.testing.assert_array_equal(pattern[..., 0], 8 * x)
    np.testing.assert_array_equal(pattern[..., 1], 8 * y)
    np.testing.assert_array_equal(pattern[..., 2], 4 * (x + y) + file_index)
    for row in range(ROWS):  # every pixel of every row, noise rows included
      np.testing.assert_array_equal(_pixels(examples[f'{relative}:{row}']),
                                    record['images'][row])


def test_cifar100_fine_labels_and_superclasses(cifar100):
  _, written, counts, out_dir = cifar100
  assert counts.splits == {'train': 5, 'eval': 5} and counts.quarantined == {}
  examples = {**_by_filename(out_dir, 'train'), **_by_filename(out_dir, 'eval')}
  for name, label, text, superclass in [
      ('cifar-100-python/train:2', 74, b'shrew', b'small_mammals'),
      ('cifar-100-python/train:4', 48, b'motorcycle', b'vehicles_1'),
      ('cifar-100-python/test:3', 22, b'clock', b'household_electrical_devices')]:
    example = examples[name]
    assert set(example.features.feature) == CANONICAL_KEYS | {'scenario/superclass'}
    assert _feature(example, features.LABEL) == label
    assert _feature(example, features.LABEL_TEXT) == text
    assert _feature(example, 'scenario/superclass') == superclass
  for relative, record in written.items():
    for row, coarse in enumerate(record['coarse_labels']):
      example = examples[f'{relative}:{row}']
      assert _feature(example, 'scenario/superclass').decode() == (
          cifar.CIFAR100_COARSE_CLASSES[coarse])
      np.testing.assert_array_equal(_pixels(example), record['images'][row])


@pytest.mark.parametrize('fixture_name, dataset', [('cifar10', 'cifar10'),
                                                   ('cifar100', 'cifar100')])
def test_tfdv_finds_no_anomalies(request, fixture_name, dataset):
  out_dir = request.getfixturevalue(fixture_name)[3]
  schema = schemas.load_schema(schemas.schema_path(dataset))
  for split in ('train', 'eval'):
    stats = tfdv.generate_statistics_from_tfrecord(
        data_location=shard_glob(out_dir, split))
    anomalies = tfdv.validate_statistics(stats, schema)
    assert not anomalies.anomaly_info, (split, anomalies.anomaly_info)


@pytest.mark.parametrize('module, name', [('os', 'system'), ('builtins', 'eval'),
                                          ('subprocess', 'Popen'), ('numpy', 'load')])
def test_load_pickle_refuses_other_globals(module, name):
  hostile = f'\x80\x02c{module}\n{name}\nX\x04\x00\x00\x00echo\x85R.'.encode('latin-1')
  with pytest.raises(layout.BadInput, match=f'refers to {module}.{name}') as caught:
    cifar.load_pickle(hostile)
  assert caught.value.reason == layout.UNSAFE_PICKLE


def test_load_pickle_accepts_python3_protocol2_bytes():
  # Python 3 writes bytes at protocol 2 as _codecs.encode(text, 'latin1').
  data = pickle.dumps({b'data': np.arange(6, dtype=np.uint8).reshape(2, 3)}, protocol=2)
  assert 'numpy ndarray' in _globals(data) and '_codecs encode' in _globals(data)
  np.testing.assert_array_equal(cifar.load_pickle(data)[b'data'], [[0, 1, 2], [3, 4, 5]])


def test_unsafe_batch_is_a_lost_file_and_never_runs(cifar10, tmp_path):
  root = str(tmp_path / 'root')
  shutil.copytree(cifar10[0], root)
  def hostile(name):
    return pickle.dumps({b'data': _Payload(str(tmp_path / name)), b'labels': [0]}, protocol=2)
  pickle.loads(hostile('control'))  # the payload is live when trusted...
  assert (tmp_path / 'control').is_dir()
  path = os.path.join(root, 'cifar-10-batches-py/data_batch_3')
  with open(path, 'wb') as f:
    f.write(hostile('ran'))
  with pytest.raises(ingest.LostFilesError, match=re.escape(path) + ': unsafe_pickle'):
    _ingest(root, cifar.Cifar10, tmp_path / 'strict')
  counts, out_dir = _ingest(root, cifar.Cifar10, tmp_path / 'out', allow_lost_files=True)
  assert not (tmp_path / 'ran').exists()  # ...and did not run here
  [lost] = counts.lost_files
  assert (lost['source'], lost['reason'], lost['records']) == (path, layout.UNSAFE_PICKLE, 10000)
  assert 'posix.mkdir' in lost['detail']
  assert counts.quarantined == {} and read_quarantine(out_dir) == []
  assert counts.splits == {'train': 12, 'eval': 3}
  assert counts.found == 15 == counts.written
  assert not any(name.startswith('cifar-10-batches-py/data_batch_3:')
                 for name in _by_filename(out_dir, 'train'))


def test_a_lost_batch_fails_the_run_naming_it_unless_allowed(cifar10, tmp_path, caplog):
  """A whole batch is 10,000 rows, not one quarantined item among 50,000: 20% of the training
  set gone would pass a 1% quarantine limit."""
  root = str(tmp_path / 'root')
  shutil.copytree(cifar10[0], root)
  missing = os.path.join(root, 'cifar-10-batches-py/data_batch_2')
  os.remove(missing)
  with pytest.raises(ingest.LostFilesError,
                     match=rf'1 whole file\(s\) could not be read, so 10000 records are '
                           rf'unaccounted for: {re.escape(missing)}: missing_file') as error:
    _ingest(root, cifar.Cifar10, tmp_path / 'strict')
  assert 'allow lost files (--allow_lost_files)' in str(error.value)
  assert json.loads((tmp_path / 'strict' / 'ingest_counts.json').read_text())[
      'unaccounted_records'] == 10000
  counts, _ = _ingest(root, cifar.Cifar10, tmp_path / 'out', allow_lost_files=True)
  assert counts.lost_files == [{'source': missing, 'reason': layout.MISSING_FILE,
                                'detail': f'{missing} does not exist', 'records': 10000}]
  assert (counts.unaccounted_records, counts.allow_lost_files) == (10000, True)
  assert counts.splits == {'train': 4 * ROWS, 'eval': ROWS} and counts.quarantined == {}
  assert '10000 records are unaccounted for' in caplog.text  # the run's output says so
  assert 'Going on without them (allow_lost_files)' in caplog.text


def test_bad_batches_are_lost_files_and_bad_rows_are_quarantined(cifar10, tmp_path):
  root = str(tmp_path / 'root')
  shutil.copytree(cifar10[0], root)
  folder = os.path.join(root, 'cifar-10-batches-py')
  rows = np.zeros((ROWS, 3072), np.uint8)

  def replace(name, value):
    with open(os.path.join(folder, name), 'wb') as f:
      f.write(value if isinstance(value, bytes) else pickle.dumps(value, protocol=2))

  replace('data_batch_1', {b'labels': [0] * ROWS})                                # no data
  replace('data_batch_2', {b'data': np.zeros((ROWS, 3000), np.uint8), b'labels': [0] * ROWS})
  replace('data_batch_3', {b'data': rows, b'labels': [0, 10, -1]})                # 2 bad labels
  replace('data_batch_4', {b'data': rows, b'labels': [0, b'cat', 1]})             # 1 bad label
  with open(os.path.join(folder, 'data_batch_5'), 'rb') as f:
    replace('data_batch_5', f.read()[:200])                                       # truncated
  os.remove(os.path.join(folder, 'test_batch'))
  counts, out_dir = _ingest(root, cifar.Cifar10, tmp_path / 'out', allow_lost_files=True)
  assert counts.splits == {'train': 3, 'eval': 0}
  assert counts.quarantined == {layout.MALFORMED_ROW: 1, layout.LABEL_OUT_OF_RANGE: 2}
  assert counts.found == 6 == counts.written + 3
  assert {r.source[len(folder) + 1:]: r.reason for r in read_quarantine(out_dir)} == {
      'data_batch_3:1': layout.LABEL_OUT_OF_RANGE, 'data_batch_3:2': layout.LABEL_OUT_OF_RANGE,
      'data_batch_4:1': layout.MALFORMED_ROW}
  lost = {entry['source'][len(folder) + 1:]: entry for entry in counts.lost_files}
  assert {name: (entry['reason'], entry['records']) for name, entry in lost.items()} == {
      'data_batch_1': (layout.UNREADABLE_FILE, 10000),
      'data_batch_2': (layout.UNREADABLE_FILE, 10000),
      'data_batch_5': (layout.UNREADABLE_FILE, 10000),
      'test_batch': (layout.MISSING_FILE, 10000)}
  assert counts.unaccounted_records == 40000
  assert 'not NoneType' in lost['data_batch_1']['detail']
  assert 'not uint8 [3, 3000]' in lost['data_batch_2']['detail']
  assert 'not a readable pickle' in lost['data_batch_5']['detail']
  assert set(_by_filename(out_dir, 'train')) == {
      'cifar-10-batches-py/data_batch_3:0', 'cifar-10-batches-py/data_batch_4:0',
      'cifar-10-batches-py/data_batch_4:2'}


@pytest.mark.parametrize('labels_as', ['numpy_ints', 'array'])
def test_numpy_integer_labels_are_labels(tmp_path, labels_as):
  """Files re-saved from NumPy hold np.int64 labels (pickled through numpy's `scalar`) or an
  int64 array: read as labels, not refused as an unsafe pickle."""
  root = str(tmp_path / 'root')
  written = cifar.write_fixture(root, variant='cifar100', rows_per_batch=5, labels_as=labels_as)
  with open(os.path.join(root, 'cifar-100-python/train'), 'rb') as f:
    assert ('numpy.core.multiarray scalar' in _globals(f.read())) == (labels_as == 'numpy_ints')
  counts, out_dir = _ingest(root, cifar.Cifar100, tmp_path / 'out')
  assert counts.quarantined == {} and counts.lost_files == []
  assert counts.splits == {'train': 5, 'eval': 5}
  examples = {**_by_filename(out_dir, 'train'), **_by_filename(out_dir, 'eval')}
  for relative, record in written.items():
    for row, (label, coarse) in enumerate(zip(record['labels'], record['coarse_labels'])):
      example = examples[f'{relative}:{row}']
      assert _feature(example, features.LABEL) == label
      assert _feature(example, 'scenario/superclass').decode() == (
          cifar.CIFAR100_COARSE_CLASSES[coarse])


def test_data_root_may_be_the_batches_folder(cifar10):
  root = os.path.join(cifar10[0], 'cifar-10-batches-py')
  reader = cifar.Cifar10(root)
  [item] = [i for i in reader.items(('eval', os.path.join(root, 'test_batch')))
            if i.source.endswith(':1')]
  [example] = reader.read(item)
  assert _feature(example, features.IMAGE_FILENAME) == b'test_batch:1'


def test_layout_errors_name_the_meta_file(cifar10, tmp_path):
  with pytest.raises(layout.LayoutError, match='cifar-100-python/meta: does not exist'):
    cifar.Cifar100(cifar10[0])
  root = str(tmp_path / 'root')
  shutil.copytree(cifar10[0], root)
  meta = os.path.join(root, 'cifar-10-batches-py', 'batches.meta')
  with open(meta, 'wb') as f:
    pickle.dump({b'label_names': [b'cat', b'dog']}, f, protocol=2)
  with pytest.raises(layout.LayoutError, match=r"batches.meta: 'label_names' is \[b'cat'"):
    cifar.Cifar10(root)
  with open(meta, 'wb') as f:
    f.write(pickle.dumps(_Payload(str(tmp_path / 'ran')), protocol=2))
  with pytest.raises(layout.LayoutError, match='batches.meta: unsafe_pickle .*posix.mkdir'):
    cifar.Cifar10(root)
  assert not (tmp_path / 'ran').exists()
