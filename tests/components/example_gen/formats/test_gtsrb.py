"""GTSRB: both published editions read back, track splits, crop_to_roi, quarantine."""
import os
import re
import shutil

import numpy as np
from PIL import Image
import pytest

from components import features
from components import schemas
from components.example_gen import ingest
from components.example_gen import job
from components.example_gen import layout
from components.example_gen.formats import gtsrb
from components.example_gen.formats import gtsrb_fixture
from example_util import decoded_pixels
from example_util import feature as _feature
from example_util import file_pixels
from example_util import read_examples
from example_util import read_quarantine
from example_util import shard_glob

SCHEMA = os.path.join(schemas.SCHEMA_DIR, 'gtsrb.pbtxt')
# The writer's defaults: classes 0, 1, 14; 2 tracks x 3 frames each; 2 test images per class.
TRAIN_IMAGES, TEST_IMAGES = 18, 6


def _run(root, out_dir, **options):
  """(counts, {filename: (split, example)}, out_dir) of a real ingestion run."""
  counts = job.run(gtsrb.Gtsrb(root, **options), str(out_dir), num_shards=2)
  examples = {}
  for split in gtsrb.Gtsrb.splits:
    for example in read_examples(str(out_dir), split):
      examples[_feature(example, features.IMAGE_FILENAME).decode()] = split, example
  return counts, examples, str(out_dir)


@pytest.fixture(scope='module')
def original_run(gtsrb_original, tmp_path_factory):
  return _run(gtsrb_original[0], tmp_path_factory.mktemp('original_out'))


@pytest.fixture(scope='module')
def kaggle_run(gtsrb_kaggle, tmp_path_factory):
  return _run(gtsrb_kaggle[0], tmp_path_factory.mktemp('kaggle_out'))


def _items(gtsrb_layout):
  return [entry for source in gtsrb_layout.sources() for entry in gtsrb_layout.items(source)]


def _append(path, *lines):
  with open(path, 'a') as f:
    f.write(''.join(line + '\n' for line in lines))


def test_class_names_follow_the_published_list():
  names = gtsrb.CLASS_NAMES
  assert len(names) == 43 == len(set(names))
  assert names[:9] == ('speed_limit_20', 'speed_limit_30', 'speed_limit_50', 'speed_limit_60',
                       'speed_limit_70', 'speed_limit_80', 'end_speed_limit_80',
                       'speed_limit_100', 'speed_limit_120')
  assert (names[12], names[13], names[14], names[17]) == (
      'priority_road', 'yield', 'stop', 'no_entry')
  assert names[32] == 'end_speed_and_passing_limits'
  assert names[40:] == ('roundabout_mandatory', 'end_no_passing',
                        'end_no_passing_vehicles_over_3_5_tons')


def test_schema_matches_the_layout():
  schema = schemas.load_schema(SCHEMA)
  assert schemas.class_names(schema) == gtsrb.CLASS_NAMES
  size = next(d for d in schema.string_domain if d.name == 'size')
  assert tuple(size.value) == tuple(name for name, _ in gtsrb.SIZE_BUCKETS)
  scenario = [f.name for f in schema.feature if f.name.startswith(features.SCENARIO_PREFIX)]
  assert scenario == ['scenario/size']


def test_size_buckets_and_inclusive_roi():
  assert [gtsrb.size_bucket(side) for side in (1, 29, 30, 59, 60, 250)] == [
      'small', 'small', 'medium', 'medium', 'large', 'large']
  roi = gtsrb.Annotation(width=40, height=45, x1=5, y1=6, x2=34, y2=30, class_id=14)
  assert roi.box == (5, 6, 35, 31)  # X2, Y2 inclusive: columns 5..34 are 30 px
  assert roi.size_bucket == 'medium'
  assert roi._replace(x2=33).size_bucket == 'small'


@pytest.mark.parametrize('run, relative, label, text, size', [
    ('original', 'Final_Training/Images/00014/00001_00002.ppm', 14, b'stop', b'large'),
    ('original', 'Final_Training/Images/00000/00000_00000.ppm', 0, b'speed_limit_20', b'small'),
    ('original', 'Final_Training/Images/00001/00001_00001.ppm', 1, b'speed_limit_30', b'medium'),
    ('original', 'Final_Test/Images/00001.ppm', 14, b'stop', b'medium'),
    ('original', 'Final_Test/Images/00002.ppm', 1, b'speed_limit_30', b'large'),
    ('kaggle', 'Train/14/00014_00001_00002.png', 14, b'stop', b'large'),
    ('kaggle', 'Train/0/00000_00000_00000.png', 0, b'speed_limit_20', b'small'),
    ('kaggle', 'Test/00000.png', 0, b'speed_limit_20', b'small'),
])
def test_named_files(request, run, relative, label, text, size):
  root = request.getfixturevalue(f'gtsrb_{run}')[0]
  split, example = request.getfixturevalue(f'{run}_run')[1][relative]
  assert split == 'test' if 'Test' in relative else split in ('train', 'eval')
  assert _feature(example, features.LABEL) == label
  assert _feature(example, features.LABEL_TEXT) == text
  assert _feature(example, 'scenario/size') == size
  assert _feature(example, features.IMAGE_FORMAT) == b'png'
  pixels = file_pixels(os.path.join(root, relative))
  assert (_feature(example, features.IMAGE_HEIGHT),
          _feature(example, features.IMAGE_WIDTH)) == pixels.shape[:2]
  # PPM re-encoded to PNG, or PNG passed through: the same pixels either way.
  np.testing.assert_array_equal(decoded_pixels(_feature(example, features.IMAGE_ENCODED)), pixels)
  assert sorted(k for k in example.features.feature) == sorted(
      [features.IMAGE_ENCODED, features.IMAGE_FORMAT, features.IMAGE_HEIGHT,
       features.IMAGE_WIDTH, features.IMAGE_FILENAME, features.LABEL, features.LABEL_TEXT,
       'scenario/size'])


@pytest.mark.parametrize('name', ['original', 'kaggle'])
def test_every_image_becomes_its_example(request, name):
  root, truth = request.getfixturevalue(f'gtsrb_{name}')
  counts, examples, _ = request.getfixturevalue(f'{name}_run')
  assert counts.found == counts.written == TRAIN_IMAGES + TEST_IMAGES
  assert counts.quarantined == {}
  assert counts.splits['test'] == TEST_IMAGES
  assert counts.splits['train'] + counts.splits['eval'] == TRAIN_IMAGES
  assert counts.splits['eval'] > 0
  assert examples.keys() == truth.keys()
  for relative, (split, example) in examples.items():
    annotation = truth[relative]
    assert (split == 'test') == ('Test' in relative)
    assert _feature(example, features.LABEL) == annotation.class_id
    assert _feature(example, 'scenario/size') == annotation.size_bucket.encode()
    assert _feature(example, features.IMAGE_FORMAT) == b'png'
    if name == 'kaggle':  # RGB PNGs pass through byte for byte
      with open(os.path.join(root, relative), 'rb') as f:
        assert _feature(example, features.IMAGE_ENCODED) == f.read()
    else:  # PPMs are re-encoded losslessly
      np.testing.assert_array_equal(decoded_pixels(_feature(example, features.IMAGE_ENCODED)),
                                    file_pixels(os.path.join(root, relative)))


def _track(relative):
  """(class, track) of a training image in either layout."""
  name = os.path.basename(relative)
  if name.count('_') == 2:  # Kaggle: class_track_frame.png
    return tuple(int(field) for field in name.split('_')[:2])
  return int(relative.split('/')[-2]), int(name.split('_')[0])


def test_no_track_is_in_both_train_and_eval_and_editions_agree(original_run, kaggle_run):
  splits = {}
  for run in (original_run, kaggle_run):
    for relative, (split, _) in run[1].items():
      if split != 'test':
        splits.setdefault(_track(relative), set()).add(split)
  assert len(splits) == 6
  assert all(len(found) == 1 for found in splits.values())  # whole tracks, in both editions
  assert {split for found in splits.values() for split in found} == {'train', 'eval'}


def test_split_by_track_is_stable_and_follows_the_seed(tmp_path):
  root = str(tmp_path)
  gtsrb_fixture.write_fixture(root, classes=(0, 1, 2, 3, 4), tracks_per_class=12,
                              frames_per_track=2, test_per_class=0)

  def track_splits(**options):
    found = {}
    for item in _items(gtsrb.Gtsrb(root, **options)):
      found.setdefault(_track(os.path.relpath(item.source, root)), set()).add(item.split)
    assert len(found) == 60 and all(len(splits) == 1 for splits in found.values())
    return {track: splits.pop() for track, splits in found.items()}

  seed0 = track_splits(seed=0)
  assert track_splits(seed=0) == seed0
  assert track_splits(seed=1) != seed0
  assert 4 <= list(seed0.values()).count('eval') <= 24  # about 20% of 60 tracks
  assert set(track_splits(eval_fraction=0).values()) == {'train'}
  assert set(track_splits(eval_fraction=1).values()) == {'eval'}
  assert list(track_splits(eval_fraction=0.5).values()).count('eval') > list(
      seed0.values()).count('eval')


@pytest.mark.parametrize('name', ['original', 'kaggle'])
def test_crop_to_roi_keeps_exactly_the_roi(request, tmp_path, name):
  root, truth = request.getfixturevalue(f'gtsrb_{name}')
  counts, examples, _ = _run(root, tmp_path, crop_to_roi=True)
  assert counts.written == len(truth) and counts.quarantined == {}
  for relative, (_, example) in examples.items():
    a = truth[relative]
    expected = file_pixels(os.path.join(root, relative))[a.y1:a.y2 + 1, a.x1:a.x2 + 1]
    assert (_feature(example, features.IMAGE_HEIGHT), _feature(example, features.IMAGE_WIDTH)
            ) == (a.y2 - a.y1 + 1, a.x2 - a.x1 + 1)
    np.testing.assert_array_equal(
        decoded_pixels(_feature(example, features.IMAGE_ENCODED)), expected)
    assert _feature(example, features.IMAGE_FORMAT) == b'png'


@pytest.mark.parametrize('crop_to_roi', [False, True])
def test_each_image_is_decoded_and_encoded_once(gtsrb_original, monkeypatch, crop_to_roi):
  """A PPM becomes a PNG of the whole image or of its ROI: one decode, one encode."""
  reader = gtsrb.Gtsrb(gtsrb_original[0], crop_to_roi=crop_to_roi)
  item = next(entry for entry in _items(reader) if entry.split == 'test')
  calls = []
  real_open, real_save = Image.open, Image.Image.save
  monkeypatch.setattr(Image, 'open', lambda *args, **kwargs: (
      calls.append('decode'), real_open(*args, **kwargs))[1])
  monkeypatch.setattr(Image.Image, 'save', lambda image, *args, **kwargs: (
      calls.append('encode'), real_save(image, *args, **kwargs))[1])
  [example] = reader.read(item)
  assert calls == ['decode', 'encode']
  annotation = item.payload[1]
  width = annotation.x2 - annotation.x1 + 1 if crop_to_roi else annotation.width
  assert _feature(example, features.IMAGE_WIDTH) == width


def _write_ppm(path, width, height):
  Image.fromarray(np.zeros((height, width, 3), np.uint8)).save(path, format='PPM')


def test_bad_original_inputs_are_quarantined_with_their_reason(gtsrb_original, tmp_path):
  root = str(tmp_path / 'data')
  shutil.copytree(gtsrb_original[0], root)
  train = os.path.join(root, 'Final_Training/Images')
  _append(os.path.join(train, '00000/GT-00000.csv'),
          '00009_00000.ppm;29;30;5;6;24;25;0',     # line 8: listed, not on disk
          '00000_00000.ppm;22;22;4;4;15;15;0',     # line 9: listed again
          '00009_00001.ppm;29;30;5',               # line 10: 4 fields
          '00009_00002.ppm;29;thirty;5;6;24;25;0',  # line 11: not an integer
          '00009_00003.ppm;29;30;5;6;29;25;0',     # line 12: X2 = Width, outside the image
          '00009_00004.ppm;29;30;5;6;24;25;43',    # line 13: no class 43
          '00009_00005.ppm;29;30;5;6;24;25;1',     # line 14: class 1 in folder 00000
          'stop.ppm;29;30;5;6;24;25;0')            # line 15: not track_frame
  _write_ppm(os.path.join(train, '00000/00005_00000.ppm'), 20, 20)  # in no row
  with open(os.path.join(train, '00001/00000_00001.ppm'), 'wb') as f:
    f.write(b'P6\n48 47\n255\nnot enough pixels')
  open(os.path.join(train, '00001/00000_00002.ppm'), 'wb').close()
  _write_ppm(os.path.join(train, '00001/00001_00000.ppm'), 30, 30)  # its row says otherwise
  os.remove(os.path.join(train, '00014/GT-00014.csv'))
  with open(os.path.join(train, 'Readme.txt'), 'w') as f:
    f.write('not a class folder')
  test = os.path.join(root, 'Final_Test/Images')
  _append(os.path.join(test, 'GT-final_test.csv'), '00006.ppm;29;30;5;6;24;25;-1')  # line 8
  _write_ppm(os.path.join(test, '00007.ppm'), 20, 20)

  counts = job.run(gtsrb.Gtsrb(root), str(tmp_path / 'out'), num_shards=1)
  quarantined = {os.path.relpath(r.source, root): r.reason
                 for r in read_quarantine(str(tmp_path / 'out'))}
  gt0 = 'Final_Training/Images/00000/GT-00000.csv'
  expected = {
      'Final_Training/Images/00000/00009_00000.ppm': layout.MISSING_FILE,
      f'{gt0}:9': layout.MALFORMED_ROW, f'{gt0}:10': layout.MALFORMED_ROW,
      f'{gt0}:11': layout.MALFORMED_ROW, f'{gt0}:12': layout.MALFORMED_ROW,
      f'{gt0}:13': layout.LABEL_OUT_OF_RANGE, f'{gt0}:14': layout.MALFORMED_ROW,
      f'{gt0}:15': layout.BAD_FILE_NAME,
      'Final_Training/Images/00000/00005_00000.ppm': layout.MISSING_LABEL,
      'Final_Training/Images/00001/00000_00001.ppm': layout.UNDECODABLE_IMAGE,
      'Final_Training/Images/00001/00000_00002.ppm': layout.EMPTY_FILE,
      'Final_Training/Images/00001/00001_00000.ppm': layout.MALFORMED_ROW,
      'Final_Training/Images/Readme.txt': layout.BAD_FILE_NAME,
      'Final_Test/Images/GT-final_test.csv:8': layout.LABEL_OUT_OF_RANGE,
      'Final_Test/Images/00007.ppm': layout.MISSING_LABEL,
  }
  expected.update({f'Final_Training/Images/00014/{track:05d}_{frame:05d}.ppm':
                   layout.MISSING_LABEL for track in range(2) for frame in range(3)})
  assert quarantined == expected
  assert counts.quarantined == {
      'bad_file_name': 2, 'empty_file': 1, 'label_out_of_range': 2, 'malformed_row': 6,
      'missing_file': 1, 'missing_label': 8, 'undecodable_image': 1}
  assert counts.written == 6 + 3 + TEST_IMAGES
  assert counts.found == counts.written + sum(counts.quarantined.values()) == 36
  details = {os.path.relpath(r.source, root): r.detail
             for r in read_quarantine(str(tmp_path / 'out'))}
  assert 'listed again (first on line 2)' in details[f'{gt0}:9']
  assert "ROI (5, 6)-(29, 25) is not inside the 29x30 image" in details[f'{gt0}:12']
  assert 'says 20x18 but the image is 30x30' in details[
      'Final_Training/Images/00001/00001_00000.ppm']
  assert details['Final_Training/Images/00014/00000_00000.ppm'].endswith(
      'GT-00014.csv does not exist')


def test_bad_kaggle_inputs_are_quarantined_with_their_reason(gtsrb_kaggle, tmp_path):
  root = str(tmp_path / 'data')
  shutil.copytree(gtsrb_kaggle[0], root)
  _append(os.path.join(root, 'Train.csv'),
          '29,30,5,6,24,25,0,../outside.png',                  # line 20
          '29,30,5,6,24,25,0,Train/0/stop.png',                # line 21
          '29,30,5,6,24,25,1,Train/0/00000_00009_00000.png',   # line 22: named as class 0
          '29,30,5,6,24,25,0',                                 # line 23: 7 fields
          '29,30,5,6,24,25,0,Train/0/00000_00008_00000.png',   # line 24: not on disk
          '29,30,5,6,24,30,0,Train/0/00000_00008_00001.png')   # line 25: Y2 = Height
  _append(os.path.join(root, 'Test.csv'), '29,30,5,6,24,25,43,Test/00006.png')  # line 8
  for relative in ('Train/1/00001_00005_00000.png', 'Train/43/00043_00000_00000.png'):
    os.makedirs(os.path.dirname(os.path.join(root, relative)), exist_ok=True)
    Image.new('RGB', (20, 20)).save(os.path.join(root, relative))

  counts = job.run(gtsrb.Gtsrb(root), str(tmp_path / 'out'), num_shards=1)
  quarantined = {os.path.relpath(r.source, root): r.reason
                 for r in read_quarantine(str(tmp_path / 'out'))}
  assert quarantined == {
      'Train.csv:20': layout.PATH_ESCAPES_ROOT, 'Train.csv:21': layout.BAD_FILE_NAME,
      'Train.csv:22': layout.MALFORMED_ROW, 'Train.csv:23': layout.MALFORMED_ROW,
      'Train/0/00000_00008_00000.png': layout.MISSING_FILE,
      'Train.csv:25': layout.MALFORMED_ROW, 'Test.csv:8': layout.LABEL_OUT_OF_RANGE,
      'Train/1/00001_00005_00000.png': layout.MISSING_LABEL,
      'Train/43/00043_00000_00000.png': layout.MISSING_LABEL}
  assert counts.written == TRAIN_IMAGES + TEST_IMAGES
  assert counts.found == counts.written + len(quarantined)


def test_crlf_and_bom_label_files_read_the_same(gtsrb_original, tmp_path):
  root = str(tmp_path / 'data')
  shutil.copytree(gtsrb_original[0], root)
  before = [(os.path.relpath(item.source, root), item.split, item.payload[1])
            for item in _items(gtsrb.Gtsrb(root))]
  for csv in ('Final_Training/Images/00001/GT-00001.csv', 'Final_Test/Images/GT-final_test.csv'):
    path = os.path.join(root, csv)
    with open(path, 'rb') as f:
      data = f.read()
    with open(path, 'wb') as f:
      f.write(b'\xef\xbb\xbf' + data.replace(b'\n', b'\r\n'))
  after = [(os.path.relpath(item.source, root), item.split, item.payload[1])
           for item in _items(gtsrb.Gtsrb(root))]
  assert len(before) == TRAIN_IMAGES + TEST_IMAGES and after == before


def test_a_renamed_header_rejects_every_row_of_that_file(gtsrb_original, tmp_path):
  root = str(tmp_path / 'data')
  shutil.copytree(gtsrb_original[0], root)
  path = os.path.join(root, 'Final_Training/Images/00001/GT-00001.csv')
  with open(path) as f:
    text = f.read()
  with open(path, 'w') as f:
    f.write(text.replace('Roi.X1;Roi.Y1;Roi.X2;Roi.Y2', 'RoiX1;RoiY1;RoiX2;RoiY2'))
  folder = os.path.join(root, 'Final_Training/Images/00001')
  rejected = list(gtsrb.Gtsrb(root).items(('train', folder)))
  assert [r.source for r in rejected] == [f'{path}:{line}' for line in range(2, 8)]
  assert {r.reason for r in rejected} == {layout.MALFORMED_ROW}  # images are not also unlabelled
  assert "header 'Filename;Width;Height;RoiX1" in rejected[0].detail


def test_test_labels_are_found_in_either_place_or_the_test_split_is_empty(gtsrb_original, tmp_path):
  root = str(tmp_path / 'data')
  shutil.copytree(gtsrb_original[0], root)
  labels = os.path.join(root, 'Final_Test/Images/GT-final_test.csv')
  assert gtsrb.Gtsrb(root).test_labels == labels
  os.rename(labels, os.path.join(root, 'GT-final_test.csv'))
  at_root = gtsrb.Gtsrb(root)
  assert at_root.test_labels == os.path.join(root, 'GT-final_test.csv')
  assert sum(item.split == 'test' for item in _items(at_root)) == TEST_IMAGES
  os.rename(os.path.join(root, 'GT-final_test.csv'), os.path.join(root, 'labels.csv'))
  assert gtsrb.Gtsrb(root, test_labels='labels.csv').test_labels == os.path.join(
      root, 'labels.csv')
  with pytest.raises(layout.LayoutError, match=re.escape(os.path.join(root, 'elsewhere.csv'))):
    gtsrb.Gtsrb(root, test_labels='elsewhere.csv')
  # Only GT-final_test.test.csv (no ClassId) is left: no labels, an empty test split, no error.
  unlabelled = gtsrb.Gtsrb(root)
  assert unlabelled.test_labels is None
  counts = job.run(unlabelled, str(tmp_path / 'out'), num_shards=1)
  assert counts.splits['test'] == 0 and counts.found == TRAIN_IMAGES
  assert counts.quarantined == {}


def test_the_official_zips_unpacked_read_as_the_original(original_run, tmp_path):
  """GTSRB_Final_Training_Images.zip and GTSRB_Final_Test_Images.zip unpack into GTSRB/;
  GTSRB_Final_Test_GT.zip puts GT-final_test.csv beside it."""
  root = str(tmp_path / 'data')
  truth = gtsrb_fixture.write_fixture(root, unzipped=True)
  assert sorted(os.listdir(root)) == ['GT-final_test.csv', 'GTSRB']
  assert sorted(os.listdir(os.path.join(root, 'GTSRB/Final_Test/Images')))[-1] == (
      'GT-final_test.test.csv')  # the unlabelled list, not labels
  reader = gtsrb.Gtsrb(root)
  assert reader.test_labels == os.path.join(root, 'GT-final_test.csv')
  counts, examples, _ = _run(root, tmp_path / 'out')
  original_counts, original_examples, _ = original_run
  assert counts.quarantined == {} and counts.found == counts.written == TRAIN_IMAGES + TEST_IMAGES
  assert counts.splits == original_counts.splits
  assert examples.keys() == truth.keys() == {f'GTSRB/{name}' for name in original_examples}
  for relative, (split, example) in examples.items():
    original_split, original = original_examples[relative[len('GTSRB/'):]]
    assert split == original_split
    assert _feature(example, features.LABEL) == truth[relative].class_id
    assert _feature(example, features.IMAGE_ENCODED) == _feature(original,
                                                                 features.IMAGE_ENCODED)
  os.rename(os.path.join(root, 'GT-final_test.csv'),
            os.path.join(root, 'GTSRB/Final_Test/Images/GT-final_test.csv'))
  moved = gtsrb.Gtsrb(root)
  assert moved.test_labels == os.path.join(root, 'GTSRB/Final_Test/Images/GT-final_test.csv')
  assert sum(item.split == 'test' for item in _items(moved)) == TEST_IMAGES


def test_a_label_file_that_is_not_utf8_is_a_lost_file(gtsrb_original, tmp_path):
  root = str(tmp_path / 'data')
  shutil.copytree(gtsrb_original[0], root)
  path = tmp_path / 'data/Final_Training/Images/00001/GT-00001.csv'
  path.write_bytes(path.read_bytes().replace(b'00000_00001.ppm', b'00000_00001\xe9.ppm'))
  with pytest.raises(ingest.LostFilesError, match=re.escape(
      f'{path}: unreadable_file ({path}:3: not UTF-8 text (byte 0xe9 at column 12)')):
    _run(root, tmp_path / 'strict')
  assert not [folder for folder, _, _ in os.walk(tmp_path) if 'beam-temp' in folder]
  counts, examples, _ = _run(root, tmp_path / 'out', allow_lost_files=True)
  assert [entry['source'] for entry in counts.lost_files] == [str(path)]
  assert counts.unaccounted_records == 'unknown'
  assert counts.quarantined == {} and counts.found == TRAIN_IMAGES - 6 + TEST_IMAGES
  assert not [name for name in examples if name.startswith('Final_Training/Images/00001/')]


def test_layout_errors_name_the_problem(gtsrb_original, gtsrb_kaggle, tmp_path):
  empty = tmp_path / 'empty'
  empty.mkdir()
  with pytest.raises(layout.LayoutError, match=f'^{re.escape(str(empty))}: no GTSRB layout'):
    gtsrb.Gtsrb(str(empty))
  both = str(tmp_path / 'both')
  shutil.copytree(gtsrb_original[0], both)
  shutil.copy(os.path.join(gtsrb_kaggle[0], 'Train.csv'), both)
  with pytest.raises(layout.LayoutError, match='holds Final_Training/Images/ and Train.csv, more '
                     'than one GTSRB layout'):
    gtsrb.Gtsrb(both)
  shutil.copytree(os.path.join(gtsrb_original[0], 'Final_Training'),
                  os.path.join(both, 'GTSRB/Final_Training'))
  os.remove(os.path.join(both, 'Train.csv'))
  with pytest.raises(layout.LayoutError, match='holds Final_Training/Images/ and '
                     'GTSRB/Final_Training/Images/, more than one'):
    gtsrb.Gtsrb(both)
  renamed = str(tmp_path / 'renamed')
  shutil.copytree(gtsrb_original[0], renamed)
  shutil.copy(os.path.join(renamed, 'Final_Test/Images/GT-final_test.test.csv'),
              os.path.join(renamed, 'GT-final_test.csv'))
  os.remove(os.path.join(renamed, 'Final_Test/Images/GT-final_test.csv'))
  with pytest.raises(layout.LayoutError, match=re.escape(
      os.path.join(renamed, 'GT-final_test.csv') + ": header 'Filename;Width;Height;Roi.X1;"
      "Roi.Y1;Roi.X2;Roi.Y2' is not")):
    gtsrb.Gtsrb(renamed)
  semicolons = str(tmp_path / 'semicolons')
  shutil.copytree(gtsrb_kaggle[0], semicolons)
  with open(os.path.join(semicolons, 'Train.csv'), 'w') as f:
    f.write('Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n')
  with pytest.raises(layout.LayoutError, match=re.escape(os.path.join(semicolons, 'Train.csv'))):
    gtsrb.Gtsrb(semicolons)
  with pytest.raises(ValueError, match="test_labels='GT-final_test.csv': only the original"):
    gtsrb.Gtsrb(gtsrb_kaggle[0], test_labels='GT-final_test.csv')
  with pytest.raises(ValueError, match='eval_fraction=1.5'):
    gtsrb.Gtsrb(gtsrb_original[0], eval_fraction=1.5)


def test_kaggle_without_test_csv_has_an_empty_test_split(gtsrb_kaggle, tmp_path):
  root = str(tmp_path / 'data')
  shutil.copytree(gtsrb_kaggle[0], root)
  os.remove(os.path.join(root, 'Test.csv'))
  reader = gtsrb.Gtsrb(root)
  assert reader.sources() == [('train', os.path.join(root, 'Train.csv'))]
  assert len(_items(reader)) == TRAIN_IMAGES


def test_tfdv_finds_no_anomalies_in_the_fixture(original_run):
  import tensorflow_data_validation as tfdv  # pylint: disable=import-outside-toplevel
  counts, _, out_dir = original_run
  schema = schemas.load_schema(SCHEMA)
  for split in gtsrb.Gtsrb.splits:
    stats = tfdv.generate_statistics_from_tfrecord(
        data_location=shard_glob(out_dir, split))
    assert stats.datasets[0].num_examples == counts.splits[split]
    assert not tfdv.validate_statistics(stats, schema).anomaly_info, split
  # The check bites: without 'large' in the size domain, the test split is anomalous.
  size = next(domain for domain in schema.string_domain if domain.name == 'size')
  size.value.remove('large')
  assert 'scenario/size' in tfdv.validate_statistics(stats, schema).anomaly_info
