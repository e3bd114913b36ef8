"""BDD100K layout: the crops read back, and every kind of bad input counted."""
import collections
import io
import json
import math
import os
import re
import shutil

import numpy as np
from PIL import Image
import pytest
import tensorflow_data_validation as tfdv

from components import features
from components import schemas
from components.example_gen import job
from components.example_gen import layout
from components.example_gen.formats import bdd100k
from components.example_gen.formats import bdd100k_fixture
from example_util import feature as _feature
from example_util import read_examples
from example_util import read_quarantine
from example_util import shard_glob

TRAIN_JSON = 'labels/bdd100k_labels_images_train.json'
VAL_JSON = 'labels/bdd100k_labels_images_val.json'


@pytest.fixture(name='clean', scope='module')
def fixture_clean(bdd100k_root, tmp_path_factory):
  """(output dir, counts) of ingesting the clean fixture."""
  out = str(tmp_path_factory.mktemp('bdd100k_out'))
  return out, job.run(bdd100k.Bdd100k(bdd100k_root), out, num_shards=2)


def _frames(bdd100k_root, relative):
  with open(os.path.join(bdd100k_root, relative)) as f:
    return json.load(f)


def _write_frames(bdd100k_root, relative, frames):
  with open(os.path.join(bdd100k_root, relative), 'w') as f:
    json.dump(frames, f)


def _by_filename(examples):
  return {_feature(e, features.IMAGE_FILENAME).decode(): e for e in examples}


def _pixels(encoded):
  with Image.open(io.BytesIO(encoded)) as image:
    return np.asarray(image.convert('RGB'))


def test_vocabularies_follow_the_published_dataset():
  assert bdd100k.CLASS_NAMES == ('traffic_light_red', 'traffic_light_yellow',
                                 'traffic_light_green', 'traffic_light_none', 'traffic_sign')
  tokens = {name: [bdd100k.scenario_token(value) for value in values]
            for name, values in bdd100k.SCENARIO_VALUES.items()}
  assert tokens == {
      'weather': ['clear', 'overcast', 'partly_cloudy', 'rainy', 'snowy', 'foggy', 'undefined'],
      'scene': ['city_street', 'highway', 'residential', 'parking_lot', 'gas_stations', 'tunnel',
                'undefined'],
      'timeofday': ['daytime', 'night', 'dawn_dusk', 'undefined'],
  }
  assert bdd100k.scenario_token(' Partly  Cloudy ') == 'partly_cloudy'
  assert bdd100k.scenario_token('') == bdd100k.scenario_token('/') == 'unknown'


def test_clean_fixture_counts(clean):
  _, counts = clean
  assert (counts.found, counts.written) == (48, 48)
  assert counts.splits == {'train': 24, 'eval': 24}
  assert counts.quarantined == {}
  assert counts.skipped == {bdd100k.BOX_TOO_SMALL: 8}


# (split, frame index, {label id: class}, scenario). Ids run through each file: even frames
# have 6 labels (car, light, sign, light, lane, drivable area), odd ones a small box as well.
NAMED_FRAMES = [
    ('train', 1, {7: 'traffic_light_yellow', 8: 'traffic_sign', 9: 'traffic_light_green'},
     {'weather': 'overcast', 'scene': 'highway', 'timeofday': 'night'}),
    ('train', 6, {40: 'traffic_light_green', 41: 'traffic_sign', 42: 'traffic_light_none'},
     {'weather': 'undefined', 'scene': 'undefined', 'timeofday': 'dawn_dusk'}),
    ('eval', 3, {20: 'traffic_light_none', 21: 'traffic_sign', 22: 'traffic_light_red'},
     {'weather': 'snowy', 'scene': 'gas_stations', 'timeofday': 'daytime'}),
]


@pytest.mark.parametrize('split, index, classes, scenario', NAMED_FRAMES)
def test_crops_of_a_named_frame(bdd100k_root, clean, split, index, classes, scenario):
  out, _ = clean
  folder = {'train': 'images/100k/train', 'eval': 'images/100k/val'}[split]
  frame = _frames(bdd100k_root, {'train': TRAIN_JSON, 'eval': VAL_JSON}[split])[index]
  with Image.open(os.path.join(bdd100k_root, folder, frame['name'])) as image:
    decoded = np.asarray(image.convert('RGB'))
  examples = _by_filename(read_examples(out, split))
  boxes = {label['id']: label['box2d'] for label in frame['labels']
           if label['category'] in ('traffic light', 'traffic sign')}
  for label_id, class_name in classes.items():
    example = examples[f'{folder}/{frame["name"]}#{label_id}']
    assert _feature(example, features.LABEL) == bdd100k.CLASS_NAMES.index(class_name)
    assert _feature(example, features.LABEL_TEXT) == class_name.encode()
    for name, value in scenario.items():
      assert _feature(example, features.scenario_key(name)) == value.encode()
    box = boxes[label_id]  # inside the frame: rounded outward only
    region = decoded[math.floor(box['y1']):math.ceil(box['y2']),
                     math.floor(box['x1']):math.ceil(box['x2'])]
    assert _feature(example, features.IMAGE_FORMAT) == b'png'
    assert (_feature(example, features.IMAGE_HEIGHT),
            _feature(example, features.IMAGE_WIDTH)) == region.shape[:2]
    np.testing.assert_array_equal(_pixels(_feature(example, features.IMAGE_ENCODED)), region)
  assert not read_quarantine(out)
  assert len(set(boxes) - set(classes)) == index % 2  # odd frames have a small box, skipped


def test_boxes_are_rounded_outward_and_clipped(tmp_path):
  root = str(tmp_path)
  bdd100k_fixture.write_fixture(root, frames_per_split=1, image_size=(160, 90))
  frames = _frames(root, TRAIN_JSON)

  def box_label(label_id, x1, y1, x2, y2, category='traffic light'):
    return {'category': category, 'id': label_id, 'box2d': dict(x1=x1, y1=y1, x2=x2, y2=y2),
            'attributes': {'trafficLightColor': 'red'}}
  frames[0]['labels'] = [
      box_label(100, 10.2, 5.7, 30.0, 40.01),          # -> (10, 5, 30, 41)
      box_label(101, 150.5, -3.2, 163.9, 12.0),        # clipped -> (150, 0, 160, 12)
      box_label(102, 20.0, 50.0, 27.5, 60.0, 'traffic sign'),  # 8 px wide: kept
      box_label(103, 20.2, 50.0, 27.0, 60.0, 'traffic sign'),  # 7 px wide: too small
      box_label(104, 170, 10, 180, 30),                # outside the frame: 0 px wide
      box_label(105, 40, 20, 52, 32, 'traffic sign'),  # integer coordinates
  ]
  _write_frames(root, TRAIN_JSON, frames)
  reader = bdd100k.Bdd100k(root)
  (item,) = reader.items(('train', os.path.join(root, TRAIN_JSON)))
  image_path = f'images/100k/train/{frames[0]["name"]}'
  assert item.source == os.path.join(root, image_path)
  outcomes = {}
  for outcome in reader.read(item):
    if isinstance(outcome, (layout.Rejected, layout.Skipped)):
      outcomes[outcome.source] = outcome
    else:
      outcomes[_feature(outcome, features.IMAGE_FILENAME).decode()] = outcome
  with Image.open(os.path.join(root, image_path)) as image:
    decoded = np.asarray(image.convert('RGB'))
  expected = {100: (10, 5, 30, 41), 101: (150, 0, 160, 12), 102: (20, 50, 28, 60),
              105: (40, 20, 52, 32)}
  for label_id, (left, upper, right, lower) in expected.items():
    crop = _pixels(_feature(outcomes[f'{image_path}#{label_id}'], features.IMAGE_ENCODED))
    np.testing.assert_array_equal(crop, decoded[upper:lower, left:right])
  assert outcomes[f'{image_path}#103'] == layout.Skipped(
      f'{image_path}#103', bdd100k.BOX_TOO_SMALL,
      '7x10 px after rounding out and clipping to the 160x90 frame; min_box_size=8')
  assert outcomes[f'{image_path}#104'].detail.startswith('0x20 px')
  assert len(outcomes) == 6


def test_min_box_size_option(bdd100k_root, tmp_path):
  counts = job.run(bdd100k.Bdd100k(bdd100k_root, min_box_size=1), str(tmp_path), num_shards=1)
  assert (counts.found, counts.written, counts.quarantined, counts.skipped) == (
      56, 56, {}, {})
  with pytest.raises(ValueError, match='min_box_size=0'):
    bdd100k.Bdd100k(bdd100k_root, min_box_size=0)


def _crop_name(folder, frame, j):
  """The image/filename of the crop of label j of `frame`."""
  return f'{folder}/{frame["name"]}#{frame["labels"][j]["id"]}'


def _break(root):
  """Injects the faults that test_bad_inputs_are_counted counts into the fixture at `root`."""
  train, val = _frames(root, TRAIN_JSON), _frames(root, VAL_JSON)
  image = lambda frame: os.path.join(root, 'images/100k/train', frame['name'])
  os.remove(image(train[0]))
  with open(image(train[1]), 'wb') as f:
    f.write(b'\xff\xd8\xff\xe0 not really a JPEG')
  open(image(train[2]), 'wb').close()
  del train[3]['name']
  train[4]['name'] = '../../../../' + train[4]['name']
  del train[5]['labels'][1]['box2d']['y2']
  train[5]['labels'][2]['box2d']['x1'] = 'left'
  train[5]['labels'][3]['attributes']['trafficLightColor'] = 'blue'
  box = train[6]['labels'][2]['box2d']
  box['x1'], box['x2'] = box['x2'], box['x1']
  train[6]['labels'][3]['id'] = train[6]['labels'][1]['id']
  train[7]['name'] = 'sub/' + train[7]['name']
  val.append(dict(val[2]))  # a second entry for frame 2
  val[0] = 42
  val[3]['labels'] = 'none'
  val[4]['attributes']['weather'] = 5
  del val[5]['attributes']
  del val[6]['labels'][1]['attributes']  # a light without a colour
  val[6]['labels'].append('oops')
  val[7]['labels'][1]['poly2d'] = val[7]['labels'][1].pop('box2d')
  val[7]['labels'].append({'category': 'bus', 'id': 999, 'box2d': {'x1': 'not checked'}})
  _write_frames(root, TRAIN_JSON, train)
  _write_frames(root, VAL_JSON, val)
  return train, val


def test_bad_inputs_are_counted(bdd100k_root, tmp_path):
  broken = str(tmp_path / 'broken')
  shutil.copytree(bdd100k_root, broken)
  train, val = _break(broken)
  out = str(tmp_path / 'out')
  counts = job.run(bdd100k.Bdd100k(broken), out, num_shards=1)
  assert counts.splits == {'train': 1, 'eval': 14}
  assert counts.quarantined == {
      layout.MISSING_FILE: 3, layout.UNDECODABLE_IMAGE: 4, layout.EMPTY_FILE: 3,
      layout.MALFORMED_ROW: 18, layout.PATH_ESCAPES_ROOT: 3, layout.LABEL_OUT_OF_RANGE: 1,
      layout.BAD_FILE_NAME: 4}
  assert counts.skipped == {bdd100k.BOX_TOO_SMALL: 4}
  assert counts.found == 51 == counts.written + sum(counts.quarantined.values())

  crop = lambda k, j: _crop_name('images/100k/train', train[k], j)
  entry = lambda labels, k, j=None: f'{labels}[{k}]' + ('' if j is None else f'.labels[{j}]')
  expected = {
      *{(crop(0, j), layout.MISSING_FILE) for j in (1, 2, 3)},
      *{(crop(1, j), layout.UNDECODABLE_IMAGE) for j in (1, 2, 3, 4)},
      *{(crop(2, j), layout.EMPTY_FILE) for j in (1, 2, 3)},
      *{(entry(TRAIN_JSON, 3, j), layout.MALFORMED_ROW) for j in (1, 2, 3, 4)},
      *{(entry(TRAIN_JSON, 4, j), layout.PATH_ESCAPES_ROOT) for j in (1, 2, 3)},
      (entry(TRAIN_JSON, 5, 1), layout.MALFORMED_ROW),
      (entry(TRAIN_JSON, 5, 2), layout.MALFORMED_ROW),
      (entry(TRAIN_JSON, 5, 3), layout.LABEL_OUT_OF_RANGE),
      (entry(TRAIN_JSON, 6, 2), layout.MALFORMED_ROW),
      (entry(TRAIN_JSON, 6, 3), layout.MALFORMED_ROW),
      *{(entry(TRAIN_JSON, 7, j), layout.BAD_FILE_NAME) for j in (1, 2, 3, 4)},
      (entry(VAL_JSON, 0), layout.MALFORMED_ROW),
      (entry(VAL_JSON, 3), layout.MALFORMED_ROW),
      *{(entry(VAL_JSON, 4, j), layout.MALFORMED_ROW) for j in (1, 2, 3)},
      (entry(VAL_JSON, 6, 6), layout.MALFORMED_ROW),
      (entry(VAL_JSON, 7, 1), layout.MALFORMED_ROW),
      *{(entry(VAL_JSON, 8, j), layout.MALFORMED_ROW) for j in (1, 2, 3)},
  }
  rejected = read_quarantine(out)
  assert collections.Counter((r.source, r.reason) for r in rejected) == dict.fromkeys(expected, 1)
  details = {r.source: r.detail for r in rejected}
  assert details[entry(TRAIN_JSON, 5, 3)] == (
      "trafficLightColor 'blue' is not one of ('red', 'yellow', 'green', 'none')")
  assert details[entry(TRAIN_JSON, 6, 3)] == (
      f'label id {train[6]["labels"][1]["id"]} repeats in the frame')
  assert details[entry(VAL_JSON, 8, 1)] == f'frame {val[2]["name"]} repeats {VAL_JSON}[2]'
  assert 'is outside the data root' in details[entry(TRAIN_JSON, 4, 1)]

  train_examples = read_examples(out, 'train')
  assert [_feature(e, features.IMAGE_FILENAME) for e in train_examples] == [crop(6, 1).encode()]
  examples = _by_filename(read_examples(out, 'eval'))
  val_crop = lambda k, j: _crop_name('images/100k/val', val[k], j)
  for j in (1, 2, 3):  # a frame without attributes: every scenario is unknown
    assert all(_feature(examples[val_crop(5, j)], features.scenario_key(name)) == b'unknown'
               for name in bdd100k.SCENARIO_VALUES)
  assert _feature(examples[val_crop(6, 1)], features.LABEL_TEXT) == b'traffic_light_none'
  assert val_crop(7, 2) in examples and val_crop(7, 1) not in examples


@pytest.mark.parametrize('missing, option', [(TRAIN_JSON, 'train_labels'),
                                             (VAL_JSON, 'eval_labels')])
def test_a_missing_label_file_is_a_layout_error(bdd100k_root, tmp_path, missing, option):
  copy = str(tmp_path / 'copy')
  shutil.copytree(bdd100k_root, copy)
  os.remove(os.path.join(copy, missing))
  with pytest.raises(layout.LayoutError, match=f'{re.escape(missing)}: .* \\(option {option}\\)'):
    bdd100k.Bdd100k(copy)
  renamed = str(tmp_path / 'copy/labels/mine.json')
  shutil.copy(os.path.join(bdd100k_root, missing), renamed)
  reader = bdd100k.Bdd100k(copy, **{option: 'labels/mine.json'})
  assert renamed in dict(reader.sources()).values()


@pytest.mark.parametrize('text, complaint', [
    (b'{"name": "a.jpg"}', 'not a JSON list of frames'),
    (b'', 'not a JSON list of frames'),
    (b'[{"name": "a.jpg"}, {"name": ', 'not valid JSON at character 29'),
    (b'[{"name": "a.jpg"} {"name": "b.jpg"}]', 'expected , or \\] at character 19'),
    (b'[{"name": "a.jpg"},]', 'not valid JSON at character 19'),
    (b'[{"name": "a.jpg"}] []', 'data after the list at character 20'),
    (b'[\n{"name": "a.jpg"},\n{"name": "\xe9.jpg"}]',
     ':3: not UTF-8 text \\(byte 0xe9\\)'),
])
def test_a_broken_label_file_is_a_lost_file(bdd100k_root, tmp_path, text, complaint):
  copy = str(tmp_path / 'copy')
  shutil.copytree(bdd100k_root, copy)
  path = os.path.join(copy, VAL_JSON)
  with open(path, 'wb') as f:
    f.write(text)
  reader = bdd100k.Bdd100k(copy)  # the label files are read on the workers, not here
  *_, lost = reader.items(('eval', path))
  assert isinstance(lost, layout.LostFile)
  assert (lost.source, lost.reason, lost.records) == (path, layout.UNREADABLE_FILE, None)
  assert re.match(f'{re.escape(path)}:? ?{complaint}', lost.detail), lost.detail


def test_label_files_are_streamed_across_chunk_boundaries(bdd100k_root, tmp_path, monkeypatch):
  path = str(tmp_path / 'list.json')
  values = [1, 23456, {'a': 'é€ 😀', 'b': [1.5e3, None]}, [], 'x', -7]
  with open(path, 'w', encoding='utf-8') as f:
    f.write(' [\n' + ' ,\n'.join(json.dumps(v, ensure_ascii=False) for v in values) + '\n] \n')
  source = ('train', os.path.join(bdd100k_root, TRAIN_JSON))
  whole = list(bdd100k.Bdd100k(bdd100k_root).items(source))
  for chunk in (1, 2, 3, 5, 7):
    monkeypatch.setattr(bdd100k, '_CHUNK_BYTES', chunk)
    assert list(bdd100k.json_list(path)) == values
  assert list(bdd100k.Bdd100k(bdd100k_root).items(source)) == whole
  assert len(whole) == 8 and all(len(item.payload[1]) in (3, 4) for item in whole)
  monkeypatch.setattr(bdd100k, 'MAX_FRAME_CHARS', 8)  # an over-long frame is not read to the end
  with pytest.raises(layout.BadInput, match='or a frame over 8 characters'):
    list(bdd100k.json_list(path))
  monkeypatch.setattr(bdd100k, '_CHUNK_BYTES', 5)  # the line of a bad byte, chunk by chunk
  with open(path, 'wb') as f:
    f.write('[1,\n2,\n"é",\n"'.encode() + b'\xff"]')
  with pytest.raises(layout.BadInput, match=f'{re.escape(path)}:4: not UTF-8 text \\(byte 0xff'):
    list(bdd100k.json_list(path))


def test_schema_matches_the_layout(clean):
  out, _ = clean
  schema = schemas.load_schema(schemas.schema_path('bdd100k'))
  assert schemas.class_names(schema) == bdd100k.CLASS_NAMES
  domains = {domain.name: list(domain.value) for domain in schema.string_domain}
  for name, values in bdd100k.SCENARIO_VALUES.items():
    assert domains[name] == [bdd100k.scenario_token(v) for v in values] + ['unknown']
  for split in ('train', 'eval'):
    stats = tfdv.generate_statistics_from_tfrecord(
        data_location=shard_glob(out, split))
    assert stats.datasets[0].num_examples == 24
    assert not tfdv.validate_statistics(stats, schema).anomaly_info
  # The check has teeth: a domain without a value the fixture has is an anomaly.
  timeofday = next(d for d in schema.string_domain if d.name == 'timeofday')
  timeofday.value.remove('dawn_dusk')
  anomalies = tfdv.validate_statistics(stats, schema).anomaly_info
  assert set(anomalies) == {'scenario/timeofday'}
