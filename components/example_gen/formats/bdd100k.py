"""BDD100K on disk: traffic-light and traffic-sign crops with their scene attributes.

Layout (Yu et al., "BDD100K: A Diverse Driving Dataset for Heterogeneous Multitask Learning",
CVPR 2020), with the 2018 detection labels:

  <data_root>/images/100k/{train,val,test}/<name>.jpg        1280x720 JPEG frames
  <data_root>/labels/bdd100k_labels_images_{train,val}.json  a JSON list of frames:
    {"name": "b1c66a42-6f7d68ca.jpg", "timestamp": 10000,
     "attributes": {"weather": "overcast", "scene": "city street", "timeofday": "daytime"},
     "labels": [{"category": "traffic light", "id": 0, "manualShape": true, ...,
                 "attributes": {"occluded": false, "truncated": false,
                                "trafficLightColor": "green"},
                 "box2d": {"x1": 1125.9, "y1": 133.5, "x2": 1156.9, "y2": 210.9}},
                {"category": "lane", "id": 1, "poly2d": [...], ...}, ...]}

Splits: train from the train labels, eval from the val labels (test has no labels). Every
'traffic light' and 'traffic sign' box2d becomes one example: lights are classed by
trafficLightColor (a light without one is 'none'), signs are one class; other categories are
ignored. Box coordinates are continuous (pixel i spans [i, i + 1)): a box is rounded outward to
whole pixels (floor x1, y1; ceil x2, y2) and clipped to the frame, and the crop is a PNG of the
decoded frame's pixels. `image/filename` is '<image path>#<label id>', e.g.
'images/100k/train/b1c66a42-6f7d68ca.jpg#0'. Scenario features weather, scene and timeofday
are the frame's attributes as tokens ('partly cloudy' -> 'partly_cloudy', 'dawn/dusk' ->
'dawn_dusk'); BDD's own 'undefined' stays, an absent attribute is 'unknown'.

Counts are in boxes. A crop whose shorter side is under `min_box_size` px (after rounding and
clipping) is skipped (counted under `skipped` as BOX_TOO_SMALL, not quarantined). A fault in
a label file entry is quarantined with the entry as source
('labels/bdd100k_labels_images_train.json[17].labels[3]'): one record per light or sign box
of a faulty frame (bad name, attributes, box2d, id, colour), one for an entry that is not a
frame object with a labels list (its boxes are unknown). A missing or corrupt
frame gives one record per box, with the crop as source. An absent label file is a LayoutError
at launch; one that is not a JSON list, not JSON or not UTF-8 is a LostFile (the frames before
the fault are read; how many boxes were lost is unknown).

Each label file is one source, streamed on one worker (the train file is about 1.4 GB: memory
holds one frame at a time); each frame with lights or signs is one item, decoded once.
"""
import codecs
import json
import math
import os
import re
from typing import Any, Dict, Iterator, List, NamedTuple, Set, Tuple, Union

from PIL import Image
import tensorflow as tf

from components import features
from components import image_codec
from components.example_gen import layout

LIGHT, SIGN = 'traffic light', 'traffic sign'  # the categories that become examples
LIGHT_COLORS = ('red', 'yellow', 'green', 'none')  # trafficLightColor values, in label order
CLASS_NAMES = tuple(f'traffic_light_{color}' for color in LIGHT_COLORS) + ('traffic_sign',)
# The published values of each frame attribute, the scenario features.
SCENARIO_VALUES = {
    'weather': ('clear', 'overcast', 'partly cloudy', 'rainy', 'snowy', 'foggy', 'undefined'),
    'scene': ('city street', 'highway', 'residential', 'parking lot', 'gas stations', 'tunnel',
              'undefined'),
    'timeofday': ('daytime', 'night', 'dawn/dusk', 'undefined'),
}
IMAGE_FOLDERS = {'train': 'images/100k/train', 'eval': 'images/100k/val'}
DEFAULT_LABELS = {'train': 'labels/bdd100k_labels_images_train.json',
                  'eval': 'labels/bdd100k_labels_images_val.json'}
DEFAULT_MIN_BOX_SIZE = 8  # px, on the shorter side of the rounded, clipped box
BOX_TOO_SMALL = 'box_too_small'  # why a crop under min_box_size is skipped (not damage)

_CHUNK_BYTES = 1 << 20      # label files are read this much at a time
MAX_FRAME_CHARS = 64 << 20  # a frame entry longer than this is taken for broken JSON
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r'[ \t\n\r]*')


def scenario_token(value: str) -> str:
  """'partly cloudy' -> 'partly_cloudy', 'dawn/dusk' -> 'dawn_dusk', '' -> 'unknown'."""
  return re.sub(r'[^a-z0-9]+', '_', value.lower()).strip('_') or features.UNKNOWN_SCENARIO


class Box(NamedTuple):
  """One light or sign of a frame: its label id, class and box2d (px, continuous)."""
  label_id: str
  label: int
  x1: float
  y1: float
  x2: float
  y2: float

  def pixels(self, width: int, height: int) -> Tuple[int, int, int, int]:
    """(left, upper, right, lower) px: rounded outward, clipped to a width x height frame."""
    return (min(max(math.floor(self.x1), 0), width), min(max(math.floor(self.y1), 0), height),
            max(min(math.ceil(self.x2), width), 0), max(min(math.ceil(self.y2), height), 0))


class _Text:
  """A UTF-8 file's text read a chunk at a time; `text[pos:]` is not consumed yet."""

  def __init__(self, f, path: str):
    self._file, self._path = f, path
    self._utf8 = codecs.getincrementaldecoder('utf-8')()
    self.text, self.pos, self.consumed, self.eof = '', 0, 0, False
    self._lines_read = 0  # line breaks in the chunks read so far

  def more(self) -> bool:
    """Reads the next chunk; False when the file was already read to its end. BadInput
    (UNREADABLE_FILE) naming the line of a byte that is not UTF-8."""
    if self.eof:
      return False
    chunk = self._file.read(_CHUNK_BYTES)
    self.eof = not chunk
    self.consumed += self.pos
    pending = self._utf8.getstate()[0]  # the start of a character split between chunks
    try:
      self.text = self.text[self.pos:] + self._utf8.decode(chunk, final=self.eof)
    except UnicodeDecodeError as error:
      data = pending + chunk
      line = self._lines_read + data.count(b'\n', 0, error.start) + 1
      raise layout.BadInput(layout.UNREADABLE_FILE, f'{self._path}:{line}: not UTF-8 text '
                            f'(byte 0x{data[error.start]:02x}); save it as UTF-8') from None
    self._lines_read += chunk.count(b'\n')
    self.pos = 0
    return True

  def peek(self) -> str:
    """The next character that is not white space ('' at the end); skips to it."""
    while True:
      self.pos = _SPACE.match(self.text, self.pos).end()
      if self.pos < len(self.text) or not self.more():
        return self.text[self.pos:self.pos + 1]

  def value(self) -> Any:
    """Decodes the JSON value after white space; JSONDecodeError (pos in `text`) if none."""
    self.peek()
    while True:
      try:
        value, end = _DECODER.raw_decode(self.text, self.pos)
        if end < len(self.text) or self.eof:  # else a number may go on in the next chunk
          self.pos = end
          return value
      except json.JSONDecodeError:
        if self.eof or len(self.text) - self.pos > MAX_FRAME_CHARS:
          raise
      self.more()


def json_list(path: str) -> Iterator[Any]:
  """The elements of the JSON list in file `path`, decoded one at a time, so memory holds one
  element and a chunk, not the file. BadInput(UNREADABLE_FILE) naming the file when it is not
  a JSON list of UTF-8 text."""
  def unreadable(problem: str) -> layout.BadInput:
    return layout.BadInput(layout.UNREADABLE_FILE, f'{path}: {problem}')

  with tf.io.gfile.GFile(path, 'rb') as f:
    stream = _Text(f, path)
    try:
      if stream.peek() != '[':
        raise unreadable('not a JSON list of frames')
      stream.pos += 1
      separator = ']' if stream.peek() == ']' else ','
      while separator == ',':
        yield stream.value()
        separator = stream.peek()
        if separator not in (',', ']'):
          raise unreadable(f'expected , or ] at character {stream.consumed + stream.pos}')
        stream.pos += 1
      if stream.peek():
        raise unreadable(f'data after the list at character {stream.consumed + stream.pos}')
    except json.JSONDecodeError as error:
      raise unreadable(f'not valid JSON at character {stream.consumed + error.pos} '
                       f'({error.msg}), or a frame over {MAX_FRAME_CHARS} characters') from None


def _scenario(attributes: Any) -> Dict[str, str]:
  if attributes is None:
    attributes = {}
  if not isinstance(attributes, dict):
    raise layout.BadInput(layout.MALFORMED_ROW, "frame 'attributes' is not an object")
  scenario = {}
  for name in SCENARIO_VALUES:
    value = attributes.get(name)
    if value is not None and not isinstance(value, str):
      raise layout.BadInput(layout.MALFORMED_ROW, f'attribute {name!r} is {value!r}, not a string')
    scenario[name] = features.UNKNOWN_SCENARIO if value is None else scenario_token(value)
  return scenario


def _number(value: Any) -> bool:
  return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def parse_box(entry: Dict[str, Any], frame_ids: Set[str]) -> Box:
  """The Box of a light or sign entry of `labels`; adds its id to `frame_ids`."""
  label_id = entry.get('id')
  if isinstance(label_id, bool) or not isinstance(label_id, (int, str)) or label_id == '':
    raise layout.BadInput(layout.MALFORMED_ROW, f'label id {label_id!r} is not an int or string')
  label_id = str(label_id)
  if label_id in frame_ids:
    raise layout.BadInput(layout.MALFORMED_ROW, f'label id {label_id} repeats in the frame')
  box2d = entry.get('box2d')
  corners = [box2d.get(key) for key in ('x1', 'y1', 'x2', 'y2')] if isinstance(box2d, dict) else []
  if not corners or not all(_number(value) for value in corners):
    raise layout.BadInput(layout.MALFORMED_ROW, f'box2d {box2d!r} needs numbers x1, y1, x2, y2')
  x1, y1, x2, y2 = (float(value) for value in corners)
  if x1 > x2 or y1 > y2:
    raise layout.BadInput(layout.MALFORMED_ROW, f'box2d {box2d!r} has x1 > x2 or y1 > y2')
  label = len(LIGHT_COLORS)  # traffic_sign
  if entry['category'] == LIGHT:
    attributes = entry.get('attributes') or {}
    if not isinstance(attributes, dict):
      raise layout.BadInput(layout.MALFORMED_ROW, "label 'attributes' is not an object")
    color = attributes.get('trafficLightColor') or 'none'
    if color not in LIGHT_COLORS:
      raise layout.BadInput(layout.LABEL_OUT_OF_RANGE,
                            f'trafficLightColor {color!r} is not one of {LIGHT_COLORS}')
    label = LIGHT_COLORS.index(color)
  frame_ids.add(label_id)
  return Box(label_id, label, x1, y1, x2, y2)


class Bdd100k(layout.Layout):
  """The published BDD100K layout: light and sign crops of the train and val frames.

  Options: `train_labels`, `eval_labels` (label files, relative to the data root) and
  `min_box_size` (px, >= 1; shorter crops are skipped as BOX_TOO_SMALL).
  """
  dataset = 'bdd100k'
  class_names = CLASS_NAMES

  def __init__(self, data_root: str, *, train_labels: str = DEFAULT_LABELS['train'],
               eval_labels: str = DEFAULT_LABELS['eval'],
               min_box_size: int = DEFAULT_MIN_BOX_SIZE, **options):
    super().__init__(data_root, **options)
    if min_box_size < 1:
      raise ValueError(f'min_box_size={min_box_size}: must be >= 1')
    self.min_box_size = min_box_size
    self.label_files = {'train': os.path.join(self.data_root, train_labels),
                        'eval': os.path.join(self.data_root, eval_labels)}
    for split, path in self.label_files.items():
      if not tf.io.gfile.exists(path):
        raise layout.LayoutError(f'{path}: BDD100K {split} label file does not exist '
                                 f'(option {split}_labels)')

  def sources(self) -> List[Tuple[str, str]]:
    """(split, label file)."""
    return list(self.label_files.items())

  def items(self, source: Tuple[str, str]
            ) -> Iterator[Union[layout.Item, layout.Rejected, layout.LostFile]]:
    """The items of the label file's frames; a LostFile from the first fault in the file."""
    split, path = source
    label_file = self.relative(path)
    first_seen = {}  # frame name -> where
    frames = enumerate(json_list(path))
    while True:
      try:
        index, frame = next(frames)
      except StopIteration:
        return
      except layout.BadInput as error:
        yield layout.LostFile.of(path, error)
        return
      yield from self._frame_items(split, f'{label_file}[{index}]', frame, first_seen)

  def _frame_items(self, split: str, where: str, frame: Any, first_seen: Dict[str, str]
                   ) -> Iterator[Union[layout.Item, layout.Rejected]]:
    """The frame's item (its light and sign boxes) and the rejected entries of frame `where`."""
    labels = frame.get('labels') if isinstance(frame, dict) else None
    if not isinstance(frame, dict) or not isinstance(labels, (list, type(None))):
      yield layout.Rejected(where, layout.MALFORMED_ROW, "not a frame object with a 'labels' list")
      return
    candidates = []
    for j, entry in enumerate(labels or ()):
      if not isinstance(entry, dict):
        yield layout.Rejected(f'{where}.labels[{j}]', layout.MALFORMED_ROW, 'not an object')
      elif entry.get('category') in (LIGHT, SIGN):
        candidates.append((f'{where}.labels[{j}]', entry))
    if not candidates:
      return
    try:
      path = self._image_path(split, frame.get('name'))
      if path in first_seen:
        raise layout.BadInput(layout.MALFORMED_ROW,
                              f'frame {frame["name"]} repeats {first_seen[path]}')
      first_seen[path] = where
      scenario = _scenario(frame.get('attributes'))
    except layout.BadInput as error:
      for source, _ in candidates:
        yield layout.Rejected.of(source, error)
      return
    boxes, frame_ids = [], set()
    for source, entry in candidates:
      try:
        boxes.append(parse_box(entry, frame_ids))
      except layout.BadInput as error:
        yield layout.Rejected.of(source, error)
    if boxes:
      yield layout.Item(split, path, (scenario, tuple(boxes)))

  def _image_path(self, split: str, name: Any) -> str:
    if not isinstance(name, str) or not name:
      raise layout.BadInput(layout.MALFORMED_ROW, f'frame name {name!r} is not a file name')
    path = self.path(f'{IMAGE_FOLDERS[split]}/{name}')  # PATH_ESCAPES_ROOT
    if name in ('.', '..') or '/' in name or '\\' in name:
      raise layout.BadInput(layout.BAD_FILE_NAME, f'frame name {name!r} is not a bare file '
                            f'name in {IMAGE_FOLDERS[split]}')
    return path

  def read(self, item: layout.Item) -> Iterator[layout.Outcome]:
    scenario, boxes = item.payload
    relative = self.relative(item.source)
    try:
      frame = image_codec.decode_rgb(self.read_bytes(item.source),
                                     max_pixels=self.max_pixels)
    except layout.BadInput as error:
      for box in boxes:
        yield layout.Rejected.of(f'{relative}#{box.label_id}', error)
      return
    for box in boxes:
      yield self._crop(frame, box, f'{relative}#{box.label_id}', scenario)

  def _crop(self, frame: Image.Image, box: Box, filename: str, scenario: Dict[str, str]
            ) -> layout.Outcome:
    left, upper, right, lower = box.pixels(frame.width, frame.height)
    if min(right - left, lower - upper) < self.min_box_size:
      return layout.Skipped(filename, BOX_TOO_SMALL,
                             f'{right - left}x{lower - upper} px after rounding out and clipping '
                             f'to the {frame.width}x{frame.height} frame; min_box_size='
                             f'{self.min_box_size}')
    crop = image_codec.from_pixels(frame.crop((left, upper, right, lower)))
    return features.make_example(
        encoded=crop.encoded, image_format=crop.image_format, height=crop.height,
        width=crop.width, filename=filename, label=box.label, label_text=CLASS_NAMES[box.label],
        scenario=scenario)

  def fingerprint_paths(self) -> List[str]:
    return list(self.label_files.values()) + [os.path.join(self.data_root, folder)
                                              for folder in IMAGE_FOLDERS.values()]
