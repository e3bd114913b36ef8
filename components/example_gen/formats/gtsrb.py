"""GTSRB on disk: read either published edition into canonical tf.Examples.

German Traffic Sign Recognition Benchmark (Stallkamp et al., IJCNN 2011): 43 classes, one sign
per image, images 15x15 to 250x250 px with a border around the sign (10% of its size, at least
5 px). 39,209 train and 12,630 test images. Two published editions (EDITIONS), each with its
own layout:

Original (the INI archives), directly under the data root or in the GTSRB/ folder that
GTSRB_Final_Training_Images.zip and GTSRB_Final_Test_Images.zip unpack into:

  Final_Training/Images/000cc/XXXXX_YYYYY.ppm   cc = ClassId, XXXXX = track, YYYYY = frame
  Final_Training/Images/000cc/GT-000cc.csv      that folder's labels
  Final_Test/Images/NNNNN.ppm                   random order, no track structure
  Final_Test/Images/GT-final_test.test.csv      the same columns without ClassId: not labels
  GT-final_test.csv                             the test labels, a separate download
                                                (GTSRB_Final_Test_GT.zip); read from
                                                Final_Test/Images/ or the data root (beside
                                                GTSRB/ where the zip unpacks it)

  ';'-separated, header `Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId`. Images are
  binary PPM (P6) and are re-encoded as PNG.

Kaggle repack:

  Train.csv, Test.csv   ','-separated,
                        header `Width,Height,Roi.X1,Roi.Y1,Roi.X2,Roi.Y2,ClassId,Path`
  Train/<ClassId>/000cc_XXXXX_YYYYY.png   class, track, frame
  Test/NNNNN.png
  Meta.csv (`Path,ClassId,ShapeId,ColorId,SignId`), Meta/<ClassId>.png: class icons, not read.

The ROI corners (Roi.X1, Roi.Y1) and (Roi.X2, Roi.Y2) are read as inclusive pixel coordinates:
the sign spans columns X1..X2 and rows Y1..Y2. A track is the ~30 near-duplicate frames of one
physical sign, so train and eval are split by track (a seeded hash of class and track), never
by image. The test split is the official test set when its labels are present, else empty (and
its images are not read). Files in the image folders that no row lists are quarantined as
MISSING_LABEL (CSV files excepted), so nothing is skipped silently; so are all the files of a
folder whose label file is missing. A label file that cannot be read (not UTF-8) is a LostFile.
"""
import logging
import math
import os
import re
from typing import Dict, Iterator, List, NamedTuple, Optional, Pattern, Set, Tuple, Union

import tensorflow as tf

from components import features
from components import image_codec
from components import stable_hash
from components.example_gen import layout

# ClassId indexes these (the label).
CLASS_NAMES = (
    'speed_limit_20', 'speed_limit_30', 'speed_limit_50', 'speed_limit_60', 'speed_limit_70',
    'speed_limit_80', 'end_speed_limit_80', 'speed_limit_100', 'speed_limit_120', 'no_passing',
    'no_passing_vehicles_over_3_5_tons', 'right_of_way_at_next_intersection', 'priority_road',
    'yield', 'stop', 'no_vehicles', 'vehicles_over_3_5_tons_prohibited', 'no_entry',
    'general_caution', 'dangerous_curve_left', 'dangerous_curve_right', 'double_curve',
    'bumpy_road', 'slippery_road', 'road_narrows_on_right', 'road_work', 'traffic_signals',
    'pedestrians', 'children_crossing', 'bicycles_crossing', 'beware_of_ice_snow',
    'wild_animals_crossing', 'end_speed_and_passing_limits', 'turn_right_ahead',
    'turn_left_ahead', 'ahead_only', 'go_straight_or_right', 'go_straight_or_left', 'keep_right',
    'keep_left', 'roundabout_mandatory', 'end_no_passing',
    'end_no_passing_vehicles_over_3_5_tons')
# scenario/size: the ROI's larger side in px (a distance proxy), below each exclusive bound.
SIZE_BUCKETS = (('small', 30), ('medium', 60), ('large', math.inf))
EDITIONS = ('original', 'kaggle')  # the INI archives, the Kaggle repack

ZIP_FOLDER = 'GTSRB'  # the folder the official image zips unpack into
TRAIN_FOLDER = 'Final_Training/Images'
TEST_FOLDER = 'Final_Test/Images'
TEST_LABELS = 'GT-final_test.csv'  # in TEST_FOLDER or the data root, tried in that order
KAGGLE_TRAIN, KAGGLE_TEST = 'Train', 'Test'  # folders; labels in <folder>.csv

# What a row's image name must look like; group 'track' in training names, 'class' where the
# name says the class.
_TRAIN_PPM = re.compile(r'(?P<track>\d{5})_\d{5}\.ppm')  # track_frame
_TEST_PPM = re.compile(r'\d{5}\.ppm')
_KAGGLE_TRAIN_PNG = re.compile(r'Train/\d+/(?P<class>\d{5})_(?P<track>\d{5})_\d{5}\.png')
_KAGGLE_TEST_PNG = re.compile(r'Test/\d{5}\.png')
_CLASS_FOLDER = re.compile(r'\d{5}')

Outcome = Union[layout.Item, layout.Rejected, layout.LostFile]  # of listing a label file

NUMBER_COLUMNS = ('Width', 'Height', 'Roi.X1', 'Roi.Y1', 'Roi.X2', 'Roi.Y2', 'ClassId')


class CsvFormat(NamedTuple):
  """One published label file format: separator, header, and the column naming the image."""
  delimiter: str
  header: Tuple[str, ...]
  name_column: str

  @property
  def header_line(self) -> str:
    return self.delimiter.join(self.header)

  def format_row(self, name: str, annotation: 'Annotation') -> str:
    values = dict(zip(NUMBER_COLUMNS, annotation), **{self.name_column: name})
    return self.delimiter.join(str(values[column]) for column in self.header)


ORIGINAL_CSV = CsvFormat(';', ('Filename',) + NUMBER_COLUMNS, 'Filename')
KAGGLE_CSV = CsvFormat(',', NUMBER_COLUMNS + ('Path',), 'Path')


class _LabelFile(NamedTuple):
  """One label file and how its rows map to images."""
  path: str
  csv_format: CsvFormat
  names_under: str  # the folder (relative to the data root) that row names are relative to
  folder: str       # where a file that no row names is MISSING_LABEL
  name: Pattern[str]  # what a row's name must look like
  folder_class: Optional[int] = None  # the ClassId the folder of a per-class file says


def size_bucket(side: int) -> str:
  """The SIZE_BUCKETS name of a sign whose ROI's larger side is `side` px."""
  return next(name for name, below in SIZE_BUCKETS if side < below)


class Annotation(NamedTuple):
  """One label row: image size, the sign's ROI (corners inclusive) in px, and ClassId."""
  width: int
  height: int
  x1: int
  y1: int
  x2: int
  y2: int
  class_id: int

  @property
  def box(self) -> Tuple[int, int, int, int]:
    """The ROI as a PIL crop box (left, upper, right, lower); right and lower exclusive."""
    return self.x1, self.y1, self.x2 + 1, self.y2 + 1

  @property
  def size_bucket(self) -> str:
    return size_bucket(max(self.x2 - self.x1 + 1, self.y2 - self.y1 + 1))


def track_key(class_id: int, track: int) -> str:
  """The key train/eval are split on: tracks are numbered per class."""
  return f'{class_id:05d}_{track:05d}'


def _lines(path: str) -> List[Tuple[int, str]]:
  """(1-based line number, text) of every non-blank line; LF or CRLF, optional UTF-8 BOM.
  BadInput as layout.read_text."""
  text = layout.read_text(path)
  return [(number, line.rstrip('\r')) for number, line in enumerate(text.split('\n'), start=1)
          if line.strip()]


def _check_header(path: str, csv_format: CsvFormat):
  """LayoutError naming `path` unless its first line is the published header."""
  with tf.io.gfile.GFile(path, 'rb') as f:
    header = f.readline().decode('utf-8-sig', errors='replace').rstrip('\r\n')
  if header != csv_format.header_line:
    raise layout.LayoutError(f'{path}: header {header!r} is not the published '
                             f'{csv_format.header_line!r}')


def _files_under(folder: str) -> Iterator[str]:
  """Every file under `folder` but CSV files (label files, not images)."""
  if not tf.io.gfile.isdir(folder):
    return
  for directory, _, names in sorted(tf.io.gfile.walk(folder)):
    for name in sorted(names):
      if not name.lower().endswith('.csv'):
        yield os.path.join(directory, name)


class Gtsrb(layout.Layout):
  """Either published GTSRB edition (`edition`: 'original' | 'kaggle'), detected from the
  data root.

  Options: `crop_to_roi` (False: the whole image, border included; True: only the ROI),
  `eval_fraction` (of the training tracks that go to eval), `test_labels` (original edition: the
  GT-final_test.csv path relative to the data root; default: in the test image folder, else at
  the data root). `images_under`: '' or 'GTSRB/', where the original edition's folders are.
  """
  dataset = 'gtsrb'
  splits = ('train', 'eval', 'test')
  class_names = CLASS_NAMES

  def __init__(self, data_root: str, *, crop_to_roi: bool = False, eval_fraction: float = 0.2,
               test_labels: Optional[str] = None, **options):
    super().__init__(data_root, **options)
    if not 0 <= eval_fraction <= 1:
      raise ValueError(f'eval_fraction={eval_fraction}: must be in [0, 1]')
    self.crop_to_roi = crop_to_roi
    self.eval_fraction = eval_fraction
    self.edition = self._detect_edition()
    if self.edition == 'kaggle':
      if test_labels is not None:
        raise ValueError(f'test_labels={test_labels!r}: only the original edition takes it; the '
                         f'Kaggle repack labels its test set in {KAGGLE_TEST}.csv')
      _check_header(self._at(f'{KAGGLE_TRAIN}.csv'), KAGGLE_CSV)
      candidates = [f'{KAGGLE_TEST}.csv']
    else:
      candidates = ([f'{self.images_under}{TEST_FOLDER}/{TEST_LABELS}', TEST_LABELS]
                    if test_labels is None else [test_labels])
    self.test_labels = next((self._at(path) for path in candidates
                             if tf.io.gfile.exists(self._at(path))), None)
    if self.test_labels:
      _check_header(self.test_labels, KAGGLE_CSV if self.edition == 'kaggle' else ORIGINAL_CSV)
    elif test_labels is not None:
      raise layout.LayoutError(f'{self._at(test_labels)}: test labels (test_labels) not found')
    else:
      logging.warning('%s: no test labels (%s); the test split is empty', self.data_root,
                      ' or '.join(candidates))

  def _at(self, relative: str) -> str:
    return os.path.join(self.data_root, relative)

  def _detect_edition(self) -> str:
    """'original' (setting `images_under`) or 'kaggle'; LayoutError unless exactly one of the
    layouts is there."""
    prefixes = [prefix for prefix in ('', f'{ZIP_FOLDER}/')
                if tf.io.gfile.isdir(self._at(prefix + TRAIN_FOLDER))]
    kaggle = tf.io.gfile.exists(self._at(f'{KAGGLE_TRAIN}.csv'))
    found = [f'{prefix}{TRAIN_FOLDER}/' for prefix in prefixes] + [f'{KAGGLE_TRAIN}.csv'] * kaggle
    if len(found) > 1:
      raise layout.LayoutError(f'{self.data_root}: holds {" and ".join(found)}, more than one '
                               f'GTSRB layout; keep one')
    if not found:
      raise layout.LayoutError(
          f'{self.data_root}: no GTSRB layout: expected {TRAIN_FOLDER}/ or '
          f'{ZIP_FOLDER}/{TRAIN_FOLDER}/ (original, as the zips unpack) or {KAGGLE_TRAIN}.csv '
          '(Kaggle repack)')
    self.images_under = prefixes[0] if prefixes else ''
    return 'original' if prefixes else 'kaggle'

  def sources(self) -> List[Tuple[str, str]]:
    """(split, path): one per class folder (original) or the one Train.csv (Kaggle), plus the
    test labels when present."""
    if self.edition == 'kaggle':
      found = [('train', self._at(f'{KAGGLE_TRAIN}.csv'))]
    else:
      folder = self._at(self.images_under + TRAIN_FOLDER)
      found = [('train', os.path.join(folder, name.rstrip('/')))
               for name in sorted(tf.io.gfile.listdir(folder))]
    return found + ([('test', self.test_labels)] if self.test_labels else [])

  def fingerprint_paths(self) -> List[str]:
    folders = ([self.images_under + TEST_FOLDER] if self.edition == 'original'
               else [KAGGLE_TRAIN, KAGGLE_TEST])
    return [path for _, path in self.sources()] + [self._at(folder) for folder in folders]

  def items(self, source: Tuple[str, str]) -> Iterator[Outcome]:
    split, path = source
    if self.edition == 'kaggle':
      folder, name = ((KAGGLE_TRAIN, _KAGGLE_TRAIN_PNG) if split == 'train'
                      else (KAGGLE_TEST, _KAGGLE_TEST_PNG))
      yield from self._labelled_items(_LabelFile(path, KAGGLE_CSV, '', folder, name))
    elif split == 'test':
      test_folder = self.images_under + TEST_FOLDER
      yield from self._labelled_items(
          _LabelFile(path, ORIGINAL_CSV, test_folder, test_folder, _TEST_PPM))
    else:
      class_folder, class_name = self.relative(path), os.path.basename(path)
      if not (_CLASS_FOLDER.fullmatch(class_name) and tf.io.gfile.isdir(path)):
        yield layout.Rejected(path, layout.BAD_FILE_NAME, 'not a class folder (five digits, '
                              f'e.g. 00014) in {self.images_under}{TRAIN_FOLDER}')
        return
      yield from self._labelled_items(_LabelFile(
          os.path.join(path, f'GT-{class_name}.csv'), ORIGINAL_CSV, class_folder, class_folder,
          _TRAIN_PPM, int(class_name)))

  def _labelled_items(self, labels: _LabelFile) -> Iterator[Outcome]:
    """One item per row of the label file, then MISSING_LABEL for every file under its folder
    that no row names; a LostFile when the label file exists but cannot be read."""
    listed: Set[str] = set()
    try:
      yield from self._rows(labels, _lines(labels.path), listed)
      detail = f'not listed in {labels.path}'
    except layout.BadInput as error:
      if error.reason != layout.MISSING_FILE:
        yield layout.LostFile.of(labels.path, error)
        return
      detail = f'{labels.path} does not exist'
    for path in _files_under(self._at(labels.folder)):
      if path not in listed:
        yield layout.Rejected(path, layout.MISSING_LABEL, detail)

  def _rows(self, labels: _LabelFile, lines: List[Tuple[int, str]], listed: Set[str]
            ) -> Iterator[Union[layout.Item, layout.Rejected]]:
    """The label file's `lines` as items, or rejected; adds each row's image path to
    `listed`."""
    csv_format = labels.csv_format
    header = lines[0][1] if lines else ''
    first_line: Dict[str, int] = {}
    name_index = csv_format.header.index(csv_format.name_column)
    for number, line in lines[1:]:
      location = f'{labels.path}:{number}'
      fields = line.split(csv_format.delimiter)
      name = fields[name_index] if len(fields) > name_index else ''
      try:
        path = self.path(os.path.join(labels.names_under, name))
        listed.add(path)
        if header != csv_format.header_line:
          raise layout.BadInput(layout.MALFORMED_ROW, f'the header {header!r} is not the '
                                f'published {csv_format.header_line!r}')
        if len(fields) != len(csv_format.header):
          raise layout.BadInput(layout.MALFORMED_ROW, f'{len(fields)} fields, expected '
                                f'{len(csv_format.header)} ({csv_format.header_line})')
        if path in first_line:
          raise layout.BadInput(layout.MALFORMED_ROW, f'{name} is listed again '
                                f'(first on line {first_line[path]})')
        first_line[path] = number
        annotation = self._annotation(fields, csv_format)
        split = self._split_of(name, annotation, labels)
        yield layout.Item(split, path, (location, annotation))
      except layout.BadInput as error:
        yield layout.Rejected.of(location, error)

  def _annotation(self, fields: List[str], csv_format: CsvFormat) -> Annotation:
    values = []
    for column in NUMBER_COLUMNS:
      text = fields[csv_format.header.index(column)]
      try:
        values.append(int(text))
      except ValueError:
        raise layout.BadInput(layout.MALFORMED_ROW,
                              f'{column} {text!r} is not an integer') from None
    annotation = Annotation(*values)
    self.check_label(annotation.class_id)
    if not (0 <= annotation.x1 <= annotation.x2 < annotation.width and
            0 <= annotation.y1 <= annotation.y2 < annotation.height):
      raise layout.BadInput(
          layout.MALFORMED_ROW, f'ROI ({annotation.x1}, {annotation.y1})-({annotation.x2}, '
          f'{annotation.y2}) is not inside the {annotation.width}x{annotation.height} image')
    return annotation

  def _split_of(self, name: str, annotation: Annotation, labels: _LabelFile) -> str:
    """'test', or a training image's split by its track; BadInput for a name outside the
    published scheme or one whose folder or name says another class."""
    match = labels.name.fullmatch(name)
    if not match:
      raise layout.BadInput(layout.BAD_FILE_NAME, f'{name!r} does not match the published '
                            f'naming {labels.name.pattern!r}')
    named = match.groupdict()
    claimed = labels.folder_class if labels.folder_class is not None else named.get('class')
    if claimed is not None and int(claimed) != annotation.class_id:
      raise layout.BadInput(layout.MALFORMED_ROW, f'ClassId {annotation.class_id} for an '
                            f'image of class {int(claimed)} by its folder or name')
    if 'track' not in named:
      return 'test'  # test images have no tracks: each is its own
    return stable_hash.hash_split(track_key(annotation.class_id, int(named['track'])),
                                  self.seed, self.eval_fraction)

  def read(self, item: layout.Item) -> Iterator[tf.train.Example]:
    """The image, or with crop_to_roi its ROI as PNG; either way decoded once."""
    location, annotation = item.payload
    data = self.read_bytes(item.source)
    if self.crop_to_roi:
      frame = image_codec.decode_rgb(data, max_pixels=self.max_pixels)
      _check_size(location, annotation, frame.width, frame.height)
      image = image_codec.from_pixels(frame.crop(annotation.box))
    else:
      image = image_codec.canonical_image(data, max_pixels=self.max_pixels)
      _check_size(location, annotation, image.width, image.height)
    yield features.make_example(
        encoded=image.encoded, image_format=image.image_format, height=image.height,
        width=image.width, filename=self.relative(item.source), label=annotation.class_id,
        label_text=CLASS_NAMES[annotation.class_id], scenario={'size': annotation.size_bucket})


def _check_size(location: str, annotation: Annotation, width: int, height: int):
  """BadInput(MALFORMED_ROW) unless the decoded image has the size its label row says."""
  if (width, height) != (annotation.width, annotation.height):
    raise layout.BadInput(layout.MALFORMED_ROW, f'{location} says {annotation.width}x'
                          f'{annotation.height} but the image is {width}x{height}')
