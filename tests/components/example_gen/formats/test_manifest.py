"""Manifest datasets: the CSV's rows read back (labels, splits, scenarios, images), the class
list, bad rows quarantined with exact counts, layout errors, and the per-manifest schema."""
import io
import os
import re
import shutil

import numpy as np
from PIL import Image
import pytest
import tensorflow_data_validation as tfdv

from components import features
from components import schemas
from components import stable_hash
from components.example_gen import job
from components.example_gen import layout
from components.example_gen.formats import manifest
from example_util import by_filename as _by_filename
from example_util import feature as _feature
from example_util import read_quarantine
from example_util import shard_glob

CLASSES = ('cat', 'dog', 'bird')  # sorted: bird 0, cat 1, dog 2


@pytest.fixture(scope='module')
def clean(tmp_path_factory):
  """(data root, rows written, counts, output dir) of the default fixture, ingested."""
  root = str(tmp_path_factory.mktemp('manifest'))
  written = manifest.write_fixture(root, classes=CLASSES, per_class=4)
  out_dir = str(tmp_path_factory.mktemp('out'))
  counts = job.run(manifest.Manifest(root, lines_per_source=5), out_dir, num_shards=2)
  return root, written, counts, out_dir


def _items(reader):
  """Every outcome of the layout's listing, in manifest order."""
  return [entry for source in reader.sources() for entry in reader.items(source)]


def _append(root, lines):
  with open(os.path.join(root, 'manifest.csv'), 'a') as f:
    f.write(''.join(line + '\n' for line in lines))


def _write_image(root, relative, fmt='PNG', size=(9, 7)):
  path = os.path.join(root, relative)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  Image.new('RGB', size, (10, 20, 30)).save(path, format=fmt)


def test_fixture_layout(clean):
  root, written = clean[:2]
  with open(os.path.join(root, 'manifest.csv')) as f:
    lines = f.read().splitlines()
  assert lines[0] == 'path,label,split,scenario/weather'
  assert len(lines) == 13
  for relative, row in written.items():
    assert lines[row['line'] - 1].startswith(f'{relative},{row["label"]},{row["split"]},')
  assert written['images/cat/day/cat_000.jpg']['split'] == 'train'
  assert written['images/dog/night/dog_003.jpg']['split'] == 'eval'
  formats = {}
  for relative in written:
    with Image.open(os.path.join(root, relative)) as image:
      formats[relative.rsplit('.', 1)[1]] = image.format
      assert 8 <= image.width <= 24 and 8 <= image.height <= 24
  assert formats == {'jpg': 'JPEG', 'png': 'PNG', 'bmp': 'BMP'}
  assert not os.path.exists(os.path.join(root, 'classes.txt'))


def test_fixture_is_deterministic(tmp_path):
  def files(name, seed):
    root = tmp_path / name
    manifest.write_fixture(str(root), per_class=2, seed=seed)
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob('*') if p.is_file()}
  a, b, c = files('a', 5), files('b', 5), files('c', 6)
  assert a == b
  assert a.keys() == c.keys() and a['images/cat/day/cat_000.jpg'] != c['images/cat/day/cat_000.jpg']


def test_examples_follow_the_rows(clean):
  root, written, counts, out_dir = clean
  assert counts.found == counts.written == 12
  assert counts.splits == {'train': 9, 'eval': 3, 'test': 0} and counts.quarantined == {}
  examples = {split: _by_filename(out_dir, split) for split in ('train', 'eval')}
  for split, by_name in examples.items():
    assert set(by_name) == {path for path, row in written.items() if row['split'] == split}
  everything = {**examples['train'], **examples['eval']}
  for relative, label, text in [('images/bird/day/bird_000.jpg', 0, b'bird'),
                                ('images/cat/night/cat_003.jpg', 1, b'cat'),
                                ('images/dog/day/dog_002.bmp', 2, b'dog')]:
    assert _feature(everything[relative], features.LABEL) == label
    assert _feature(everything[relative], features.LABEL_TEXT) == text
  for relative, row in written.items():
    example = everything[relative]
    assert set(example.features.feature) == {
        features.IMAGE_ENCODED, features.IMAGE_FORMAT, features.IMAGE_HEIGHT,
        features.IMAGE_WIDTH, features.IMAGE_FILENAME, features.LABEL, features.LABEL_TEXT,
        'scenario/weather'}
    assert _feature(example, features.LABEL_TEXT).decode() == row['label']
    assert _feature(example, 'scenario/weather').decode() == (
        row['scenario']['weather'] or 'unknown')
    with open(os.path.join(root, relative), 'rb') as f:
      data = f.read()
    encoded = _feature(example, features.IMAGE_ENCODED)
    with Image.open(io.BytesIO(data)) as original, Image.open(io.BytesIO(encoded)) as decoded:
      assert _feature(example, features.IMAGE_HEIGHT) == original.height
      assert _feature(example, features.IMAGE_WIDTH) == original.width
      if relative.endswith('.bmp'):  # re-encoded losslessly
        assert _feature(example, features.IMAGE_FORMAT) == b'png'
        np.testing.assert_array_equal(np.asarray(decoded), np.asarray(original))
      else:  # RGB JPEG and PNG pass through untouched
        assert encoded == data
        assert _feature(example, features.IMAGE_FORMAT) == {'jpg': b'jpeg', 'png': b'png'}[
            relative.rsplit('.', 1)[1]]
  weathers = [_feature(e, 'scenario/weather') for e in everything.values()]
  assert sorted(set(weathers)) == [b'clear', b'rain', b'unknown']


def test_sources_are_chunks_of_lines(clean):
  root = clean[0]
  reader = manifest.Manifest(root, lines_per_source=5)
  with open(os.path.join(root, 'manifest.csv'), 'rb') as f:
    data = f.read()
  lines = data.splitlines(keepends=True)
  starts = [sum(len(line) for line in lines[:number - 1]) for number in (2, 7, 12)]
  assert reader.sources() == [(starts[0], 2, 5), (starts[1], 7, 5), (starts[2], 12, 2)]
  assert [i.source for i in _items(reader)] == [f'manifest.csv:{n}' for n in range(2, 14)]
  assert len(manifest.Manifest(root).sources()) == 1


def test_classes_file_sets_the_label_order(tmp_path):
  root = str(tmp_path)
  manifest.write_fixture(root, classes=('zebra', 'ant', 'cat'), per_class=2,
                         with_classes_file=True)
  with open(os.path.join(root, 'classes.txt')) as f:
    assert f.read() == 'zebra\nant\ncat\n'
  reader = manifest.Manifest(root)
  assert reader.class_names == ('zebra', 'ant', 'cat')
  labels = {item.payload[0]: item.payload[1] for item in _items(reader)}
  assert labels['images/zebra/day/zebra_000.jpg'] == 0
  assert labels['images/ant/night/ant_001.png'] == 1
  assert labels['images/cat/day/cat_000.jpg'] == 2
  os.rename(os.path.join(root, 'classes.txt'), os.path.join(root, 'names.txt'))
  assert manifest.Manifest(root).class_names == ('ant', 'cat', 'zebra')  # sorted labels
  assert manifest.Manifest(root, classes='names.txt').class_names == ('zebra', 'ant', 'cat')


def test_hash_split_without_a_split_column(tmp_path):
  root = str(tmp_path)
  written = manifest.write_fixture(root, per_class=10, with_split=False, scenario_columns={})
  with open(os.path.join(root, 'manifest.csv')) as f:
    assert f.readline() == 'path,label\n'

  def splits(**options):
    return {i.payload[0]: i.split for i in _items(manifest.Manifest(root, **options))}
  default = splits()
  assert set(default) == set(written)
  assert default == {path: stable_hash.hash_split(path, 0, 0.2) for path in written}
  assert set(default.values()) == {'train', 'eval'}
  assert splits() == default  # stable from run to run
  assert splits(seed=1) != default
  assert set(splits(eval_fraction=0.0).values()) == {'train'}
  assert set(splits(eval_fraction=1.0).values()) == {'eval'}
  # A path's split depends on the path alone: new rows and a new order move no old row.
  _write_image(root, 'images/new/extra.png')
  with open(os.path.join(root, 'manifest.csv')) as f:
    header, *rows = f.read().splitlines()
  with open(os.path.join(root, 'manifest.csv'), 'w') as f:
    f.write('\n'.join([header, 'images/new/extra.png,cat'] + rows[::-1]) + '\n')
  grown = splits()
  assert {path: grown[path] for path in default} == default


def test_bad_rows_are_quarantined(clean, tmp_path):
  root = str(tmp_path / 'root')
  shutil.copytree(clean[0], root)
  with open(os.path.join(root, 'classes.txt'), 'w') as f:
    f.write('cat\ndog\nbird\n')
  _write_image(root, 'images/odd,name.png')
  with open(os.path.join(root, 'images/broken.jpg'), 'wb') as f:
    f.write(b'\xff\xd8\xff not really a JPEG')
  _append(root, [
      'images/cat/day/cat_000.jpg,cat,train,rain,extra',  # 14: 5 cells
      ',cat,train,',                                      # 15: empty path
      'images/cat/./day/cat_000.jpg,cat,eval,',           # 16: repeats line of cat_000
      'images/cat/day/missing.jpg,cat,train,',            # 17: no such file
      'images/odd,name.png,dog,train,',                   # 18: unquoted comma: 5 cells
      'images/any.png,dog,validation,',                   # 19: unknown split
      '',                                                 # 20: blank, skipped
      '../outside.jpg,cat,train,',                        # 21
      '/etc/hostname,cat,train,',                         # 22
      'images/wolf.png,wolf,train,',                      # 23: not in classes.txt
      'images/broken.jpg,bird,eval,',                     # 24: undecodable
      '"images/odd,name.png",dog,train,fog',              # 25: fine
  ])
  first_cat = clean[1]['images/cat/day/cat_000.jpg']['line']
  out_dir = str(tmp_path / 'out')
  counts = job.run(manifest.Manifest(root, lines_per_source=4), out_dir, num_shards=1)
  assert counts.quarantined == {layout.MALFORMED_ROW: 5, layout.MISSING_FILE: 1,
                                   layout.PATH_ESCAPES_ROOT: 2, layout.LABEL_OUT_OF_RANGE: 1,
                                   layout.UNDECODABLE_IMAGE: 1}
  assert counts.splits == {'train': 10, 'eval': 3, 'test': 0}
  assert counts.found == 23 == counts.written + 10
  rejected = {r.source: (r.reason, r.detail) for r in read_quarantine(out_dir)}
  assert {source: reason for source, (reason, _) in rejected.items()} == {
      'manifest.csv:14': layout.MALFORMED_ROW, 'manifest.csv:15': layout.MALFORMED_ROW,
      'manifest.csv:16': layout.MALFORMED_ROW, 'manifest.csv:17': layout.MISSING_FILE,
      'manifest.csv:18': layout.MALFORMED_ROW, 'manifest.csv:19': layout.MALFORMED_ROW,
      'manifest.csv:21': layout.PATH_ESCAPES_ROOT, 'manifest.csv:22': layout.PATH_ESCAPES_ROOT,
      'manifest.csv:23': layout.LABEL_OUT_OF_RANGE, 'manifest.csv:24': layout.UNDECODABLE_IMAGE}
  assert rejected['manifest.csv:14'][1].startswith('5 cells, but the header has 4 columns')
  assert rejected['manifest.csv:15'][1] == 'empty path'
  assert rejected['manifest.csv:16'][1] == (
      f'images/cat/day/cat_000.jpg is already listed on line {first_cat}')
  assert rejected['manifest.csv:19'][1] == (
      "split 'validation' is not one of ['train', 'eval', 'test']")
  assert "'wolf'" in rejected['manifest.csv:23'][1]
  odd = _by_filename(out_dir, 'train')['images/odd,name.png']
  assert _feature(odd, features.LABEL) == 1 and _feature(odd, 'scenario/weather') == b'fog'


def test_test_rows_are_the_published_test_split(clean, tmp_path):
  root = str(tmp_path / 'root')
  shutil.copytree(clean[0], root)
  for name in ('a', 'b'):
    _write_image(root, f'images/test/{name}.png')
  _append(root, ['images/test/a.png,dog,test,rain', 'images/test/b.png,bird,test,'])
  out_dir = str(tmp_path / 'out')
  counts = job.run(manifest.Manifest(root), out_dir, num_shards=1)
  assert counts.splits == {'train': 9, 'eval': 3, 'test': 2} and counts.quarantined == {}
  test = _by_filename(out_dir, 'test')
  assert {name: _feature(example, features.LABEL) for name, example in test.items()} == {
      'images/test/a.png': 2, 'images/test/b.png': 0}
  assert _feature(test['images/test/a.png'], 'scenario/weather') == b'rain'


def test_windows_csv_reads_the_same(clean, tmp_path):
  root = str(tmp_path / 'root')
  shutil.copytree(clean[0], root)
  path = os.path.join(root, 'manifest.csv')
  with open(path, 'rb') as f:
    data = f.read()
  expected = _items(manifest.Manifest(root))
  with open(path, 'wb') as f:
    f.write(b'\xef\xbb\xbf' + data.replace(b'\n', b'\r\n'))  # Excel: BOM and CRLF
  assert _items(manifest.Manifest(root, lines_per_source=3)) == expected


@pytest.mark.parametrize('header, message', [
    ('path,class', r"no 'label' column"),
    ('file,label', r"no 'path' column"),
    ('path,label,weather', r"unknown column\(s\) \['weather'\]"),
    ('path,label,scenario/', r"unknown column\(s\) \['scenario/'\]"),
    ('path,label,label', 'a repeated column'),
    ('', "no 'path' column"),
])
def test_bad_header_is_a_layout_error(tmp_path, header, message):
  (tmp_path / 'manifest.csv').write_text(header + '\n' + 'a.png,cat\n')
  with pytest.raises(layout.LayoutError, match=f'manifest.csv: header .*{message}'):
    manifest.Manifest(str(tmp_path))


def test_layout_errors_name_the_file(tmp_path):
  root = str(tmp_path)
  with pytest.raises(layout.LayoutError, match=f'{root}/manifest.csv: manifest does not exist'):
    manifest.Manifest(root)
  with pytest.raises(layout.LayoutError, match=f'{root}/other.csv: manifest does not exist'):
    manifest.Manifest(root, manifest='other.csv')
  (tmp_path / 'manifest.csv').write_text('path,label\n')
  with pytest.raises(layout.LayoutError, match='no row has a label'):
    manifest.Manifest(root)
  (tmp_path / 'manifest.csv').write_text('path,label\na.png,cat\n')
  with pytest.raises(layout.LayoutError, match=f'{root}/names.txt: classes file does not exist'):
    manifest.Manifest(root, classes='names.txt')
  (tmp_path / 'classes.txt').write_text('cat\n\ndog\ncat\n\n')
  with pytest.raises(layout.LayoutError,
                     match=r"classes.txt: line 2 is empty; \['cat'\] repeated"):
    manifest.Manifest(root)
  with pytest.raises(ValueError, match='eval_fraction=1.5'):
    manifest.Manifest(root, eval_fraction=1.5)


def test_label_files_that_are_not_utf8_fail_at_launch_naming_the_line(clean, tmp_path):
  """A manifest saved as Latin-1 is one mistake, not many bad rows: it fails before any
  ingestion starts (so no beam-temp folder is left), naming the file and the first bad line."""
  root = tmp_path / 'root'
  shutil.copytree(clean[0], root)
  path = root / 'manifest.csv'
  lines = path.read_bytes().split(b'\n')
  lines[3] = lines[3].replace(b',', b'\xa0,', 1)  # a Latin-1 no-break space on line 4
  path.write_bytes(b'\n'.join(lines))
  column = lines[3].index(b'\xa0') + 1
  with pytest.raises(layout.LayoutError, match=re.escape(
      f'{path}:4: not UTF-8 text (byte 0xa0 at column {column}); save the manifest as UTF-8')):
    manifest.Manifest(str(root))
  path.write_bytes(b'path,label\na.png,caf\xe9\n')
  with pytest.raises(layout.LayoutError, match=re.escape(f'{path}:2: not UTF-8 text')):
    manifest.Manifest(str(root))
  path.write_bytes(b'path,label\na.png,cat\n')
  (root / 'classes.txt').write_bytes(b'cat\ncaf\xe9\n')
  with pytest.raises(layout.LayoutError, match=re.escape(
      f'{root / "classes.txt"}:2: not UTF-8 text (byte 0xe9 at column 4)')):
    manifest.Manifest(str(root))


def test_base_schema_is_unfilled():
  base = schemas.load_schema(schemas.schema_path('manifest'))
  label = next(f for f in base.feature if f.name == features.LABEL)
  assert not label.int_domain.HasField('max')
  assert not next(d for d in base.string_domain if d.name == 'class_names').value
  assert not [f.name for f in base.feature if f.name.startswith(features.SCENARIO_PREFIX)]


def test_schema_of_a_manifest_passes_tfdv(clean):
  root, _, _, out_dir = clean
  reader = manifest.Manifest(root)
  assert reader.scenario_names == ('weather',)
  schema = reader.schema()
  assert schemas.class_names(schema) == reader.class_names == ('bird', 'cat', 'dog')
  weather = next(f for f in schema.feature if f.name == 'scenario/weather')
  assert weather.presence.min_fraction == 1.0 and not weather.domain
  stats = tfdv.generate_statistics_from_tfrecord(
      data_location=shard_glob(out_dir, 'train'))
  anomalies = tfdv.validate_statistics(stats, schema)
  assert not anomalies.anomaly_info, anomalies.anomaly_info
  # The check has teeth: a schema that lacks a class flags the class text.
  narrow = reader.schema()
  domain = next(d for d in narrow.string_domain if d.name == 'class_names')
  del domain.value[0]
  anomalies = tfdv.validate_statistics(stats, narrow)
  assert features.LABEL_TEXT in anomalies.anomaly_info
