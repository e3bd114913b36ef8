"""ImageNet ILSVRC2012 (classification) on disk: read either published edition.

Either edition's layout may be under the data root; the reader finds which.

ILSVRC2012 (image-net.org's tars, extracted):
  <data_root>/train/<wnid>/<wnid>_<n>.JPEG   1,281,167 images in 1000 wnid folders
  <data_root>/val/ILSVRC2012_val_00000001.JPEG ... _00050000.JPEG   flat (option `val_folder`)
  validation labels, one line per image in image order, from either
  - the devkit, ILSVRC2012_devkit_t12/data/: `ILSVRC2012_validation_ground_truth.txt` holds an
    ILSVRC2012_ID (1..1000) per line, mapped to wnids by `meta.mat`, a MATLAB struct array
    `synsets` (ILSVRC2012_ID, WNID, words, gloss, num_children, children, wordnet_height,
    num_train_images) of 1860 synsets, whose leaves (num_children == 0) are the 1000 classes.
    ID order is not wnid order: ID 1 is n02119789 (kit fox). Or
  - a wnid per line: `imagenet_2012_validation_synset_labels.txt` (TF's converters).
Kaggle (ImageNet Object Localization Challenge):
  <data_root>/ILSVRC/Data/CLS-LOC/{train/<wnid>/<wnid>_<n>.JPEG, val/ILSVRC2012_val_*.JPEG}
  <data_root>/LOC_synset_mapping.txt  `n01440764 tench, Tinca tinca`: line i is class i
  <data_root>/LOC_val_solution.csv    header `ImageId,PredictionString`, rows such as
      `ILSVRC2012_val_00008726,n02119789 255 142 454 329 n02119789 44 21 322 295`
      (boxes as wnid x_min y_min x_max y_max); the label is the first wnid.

Labels are 0-based in sorted wnid order among the standard 1000 classes (as in TFDS and Keras),
whatever class folders are present: subsets such as Imagenette, ImageNet-100 or a partial
download keep the labels of the full dataset. The class list is read from the devkit's meta.mat
(its leaves) or LOC_synset_mapping.txt, either of which must list those 1000 wnids (the
curated schema's); with neither (wnid-per-line validation labels) it is the curated schema's.
Classes without a train/ folder are reported (`absent_classes`); validation images of every
class are read. `image/class/text` is the wnid, as the human descriptions are not unique (two
synsets are 'crane'). Known dirty training files:
n02105855_2933.JPEG is a PNG, 22 are CMYK JPEGs (e.g. n01739381_1309.JPEG) and some are
grayscale; image_codec.canonical_image keeps the PNG as PNG and makes the others RGB JPEGs.
"""
import csv
import functools
import io
import os
import re
from typing import Dict, Iterator, List, Sequence, Tuple, Union

import numpy as np
import scipy.io
import tensorflow as tf

from components import features
from components import image_codec
from components import schemas
from components.example_gen import layout

WNID = re.compile(r'n\d{8}')
VAL_ID = re.compile(r'ILSVRC2012_val_\d{8}')  # a validation image's name without .JPEG
VAL_NAME = re.compile(rf'({VAL_ID.pattern})\.JPEG')
TRAIN_FOLDER = 'train'
DEVKIT_GROUND_TRUTH = 'ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt'
DEVKIT_META = 'ILSVRC2012_devkit_t12/data/meta.mat'
SYNSET_LABELS = 'imagenet_2012_validation_synset_labels.txt'
KAGGLE_DATA = 'ILSVRC/Data/CLS-LOC'
KAGGLE_SYNSET_MAPPING = 'LOC_synset_mapping.txt'
KAGGLE_VAL_SOLUTION = 'LOC_val_solution.csv'
KAGGLE_HEADER = ['ImageId', 'PredictionString']
META_FIELDS = ('ILSVRC2012_ID', 'WNID', 'words', 'gloss', 'num_children', 'children',
               'wordnet_height', 'num_train_images')


@functools.lru_cache(maxsize=1)
def standard_wnids() -> Tuple[str, ...]:
  """The 1000 ILSVRC2012 classes in sorted wnid order: the curated schema's class list."""
  return schemas.class_names(schemas.load_schema(schemas.schema_path(ImageNet.dataset)))


def _check_classes(path: str, wnids: Sequence[str]):
  """LayoutError unless `wnids`, the class list read from `path`, are standard_wnids()."""
  standard = standard_wnids()
  if tuple(wnids) != standard:
    raise layout.LayoutError(
        f'{path}: its {len(wnids)} classes are not the {len(standard)} ILSVRC2012 classes in '
        f'sorted wnid order (only in the file: {sorted(set(wnids) - set(standard))[:5]}, '
        f'missing from it: {sorted(set(standard) - set(wnids))[:5]}); labels index those '
        f'{len(standard)}, whichever class folders are present')


def _launch_text(path: str) -> str:
  """A label file read where the job is launched; LayoutError naming it (and the line of a
  byte that is not UTF-8)."""
  try:
    return layout.read_text(path)
  except layout.BadInput as error:
    raise layout.LayoutError(error.detail) from None


def _require(path: str, what: str) -> str:
  if not tf.io.gfile.exists(path):
    raise layout.LayoutError(f'{path}: {what} not found')
  return path


def read_devkit_meta(path: str) -> Dict[int, str]:
  """ILSVRC2012_ID -> wnid for the leaf synsets (the classes) of the devkit's meta.mat."""
  _require(path, 'devkit meta.mat')
  try:
    with tf.io.gfile.GFile(path, 'rb') as f:
      synsets = scipy.io.loadmat(io.BytesIO(f.read()), squeeze_me=True)['synsets']
    rows = list(zip(*(np.atleast_1d(synsets[name])
                      for name in ('ILSVRC2012_ID', 'WNID', 'num_children'))))
    leaves = [(int(synset_id), str(wnid)) for synset_id, wnid, children in rows
              if int(children) == 0]
  except (ValueError, TypeError, KeyError, IndexError, scipy.io.matlab.MatReadError) as error:
    raise layout.LayoutError(f'{path}: not the devkit meta.mat (a struct array `synsets` with '
                             f'fields ILSVRC2012_ID, WNID, num_children...): {error}') from None
  id_to_wnid = dict(leaves)
  if len(id_to_wnid) != len(leaves) or not all(WNID.fullmatch(w) for w in id_to_wnid.values()):
    raise layout.LayoutError(f'{path}: leaf synsets with repeated ILSVRC2012_IDs or bad WNIDs')
  return id_to_wnid


def _read_synset_mapping(path: str) -> Tuple[str, ...]:
  """The wnids of Kaggle's LOC_synset_mapping.txt, in line (class) order."""
  wnids = []
  text = _launch_text(_require(path, 'Kaggle synset mapping'))
  for number, line in enumerate(text.splitlines(), start=1):
    wnid = line.split(' ', 1)[0]
    if not WNID.fullmatch(wnid):
      raise layout.LayoutError(f'{path}:{number}: {line!r} is not `<wnid> <description>`')
    wnids.append(wnid)
  return tuple(wnids)


class ImageNet(layout.Layout):
  """ILSVRC2012 classification in the image-net.org or the Kaggle layout, whole or a subset.

  Options name files relative to the data root (or absolute) for the image-net.org layout:
  `val_folder` holds the flat validation images; their labels come from the devkit
  (`val_ground_truth` with `devkit_meta`) when its ground truth file exists, else from
  `val_synset_labels`. The Kaggle layout's names are fixed. `val_labels` says which labels
  were found: 'devkit', 'synsets' or 'kaggle'.
  """
  dataset = 'imagenet'

  def __init__(self, data_root: str, *, val_folder: str = 'val',
               val_ground_truth: str = DEVKIT_GROUND_TRUTH, devkit_meta: str = DEVKIT_META,
               val_synset_labels: str = SYNSET_LABELS, **options):
    super().__init__(data_root, **options)
    kaggle = os.path.join(self.data_root, KAGGLE_DATA)
    self._id_to_wnid: Dict[int, str] = {}
    if tf.io.gfile.isdir(os.path.join(kaggle, TRAIN_FOLDER)):
      self.val_labels = 'kaggle'
      self._train, self._val = os.path.join(kaggle, TRAIN_FOLDER), os.path.join(kaggle, 'val')
      self._label_file = _require(os.path.join(self.data_root, KAGGLE_VAL_SOLUTION),
                                  'Kaggle validation labels')
      with tf.io.gfile.GFile(self._label_file, 'rb') as f:
        first_line = f.readline()
      try:
        header = next(csv.reader([first_line.decode('utf-8-sig')]), [])
      except UnicodeDecodeError:
        header = [repr(first_line[:60])]
      if header != KAGGLE_HEADER:
        raise layout.LayoutError(f'{self._label_file}: header {header}, expected {KAGGLE_HEADER}')
      mapping_path = os.path.join(self.data_root, KAGGLE_SYNSET_MAPPING)
      _check_classes(mapping_path, _read_synset_mapping(mapping_path))
      self._other_label_files = [mapping_path]
    elif tf.io.gfile.isdir(os.path.join(self.data_root, TRAIN_FOLDER)):
      self._train = os.path.join(self.data_root, TRAIN_FOLDER)
      self._val = os.path.join(self.data_root, val_folder)
      ground_truth = os.path.join(self.data_root, val_ground_truth)
      synset_labels = os.path.join(self.data_root, val_synset_labels)
      if tf.io.gfile.exists(ground_truth):
        self.val_labels, self._label_file = 'devkit', ground_truth
        self._other_label_files = [os.path.join(self.data_root, devkit_meta)]
        self._id_to_wnid = read_devkit_meta(self._other_label_files[0])
        _check_classes(self._other_label_files[0], sorted(self._id_to_wnid.values()))
      elif tf.io.gfile.exists(synset_labels):
        self.val_labels, self._label_file = 'synsets', synset_labels
        self._other_label_files = []
      else:
        raise layout.LayoutError(f'{self.data_root}: no validation labels: neither the devkit '
                                 f'{ground_truth} nor {synset_labels}')
    else:
      raise layout.LayoutError(
          f'{self.data_root}: neither the ILSVRC2012 layout ({TRAIN_FOLDER}/<wnid>/) nor the '
          f'Kaggle layout ({KAGGLE_DATA}/{TRAIN_FOLDER}/<wnid>/); is this ImageNet?')
    if not tf.io.gfile.isdir(self._val):
      raise layout.LayoutError(f'{self._val}: validation image folder not found')
    entries = sorted(name.rstrip('/') for name in tf.io.gfile.listdir(self._train))
    self._folders = tuple(name for name in entries if WNID.fullmatch(name))
    self._strays = tuple(name for name in entries if not WNID.fullmatch(name))
    if not set(self._folders) & set(self.class_names):
      raise layout.LayoutError(f'{self._train}: no class folders (<wnid>/, e.g. n01440764/) of '
                               f'the {len(self.class_names)} ILSVRC2012 classes')

  @property
  def class_names(self) -> Tuple[str, ...]:
    """The 1000 ILSVRC2012 wnids, sorted: label i is the i-th."""
    return standard_wnids()

  def absent_classes(self) -> Dict[str, Tuple[str, ...]]:
    """The classes without a folder under train/ (all but a subset's)."""
    return {'train': tuple(sorted(set(self.class_names) - set(self._folders)))}

  def sources(self) -> List[Tuple[str, str]]:
    """('train', name) per entry of train/ (the class folders, listed on the workers) and
    ('eval', validation folder)."""
    return [('train', name) for name in self._folders + self._strays] + [('eval', self._val)]

  def items(self, source: Tuple[str, str]) -> Iterator[Union[layout.Item, layout.Rejected]]:
    split, name = source
    if split == 'eval':
      yield from self._val_items()
      return
    folder = os.path.join(self._train, name)
    if name not in self._folders:
      yield layout.Rejected(folder, layout.BAD_FILE_NAME,
                            f'not a class folder {TRAIN_FOLDER}/<wnid>/ (e.g. n01440764/)')
      return
    for file_name in sorted(tf.io.gfile.listdir(folder)):
      yield layout.Item('train', os.path.join(folder, file_name), name)

  def read(self, item: layout.Item) -> Iterator[tf.train.Example]:
    """`item.payload` is the wnid."""
    label = self.label_of(item.payload)
    image = image_codec.canonical_image(self.read_bytes(item.source),
                                        max_pixels=self.max_pixels)
    yield features.make_example(
        encoded=image.encoded, image_format=image.image_format, height=image.height,
        width=image.width, filename=self.relative(item.source), label=label,
        label_text=item.payload, scenario={})

  def fingerprint_paths(self) -> List[str]:
    return ([os.path.join(self._train, name) for name in self._folders + self._strays]
            + [self._val, self._label_file] + self._other_label_files)

  def _val_items(self) -> Iterator[Union[layout.Item, layout.Rejected, layout.LostFile]]:
    """Each validation image with its label line; rejects the unmatched on either side. An
    unreadable label file is a LostFile (its images are not listed)."""
    try:
      labels, rejected = self._read_val_labels()
    except layout.BadInput as error:
      yield layout.LostFile.of(self._label_file, error)
      return
    yield from rejected
    for file_name in sorted(name.rstrip('/') for name in tf.io.gfile.listdir(self._val)):
      path = os.path.join(self._val, file_name)
      match = VAL_NAME.fullmatch(file_name)
      if not match:
        yield layout.Rejected(path, layout.BAD_FILE_NAME,
                              'not a validation image name (ILSVRC2012_val_<8 digits>.JPEG)')
      elif match.group(1) not in labels:
        yield layout.Rejected(path, layout.MISSING_LABEL, f'no label for it in {self._label_file}')
      else:
        where, token = labels.pop(match.group(1))
        try:
          yield layout.Item('eval', path, self._val_wnid(where, token))
        except layout.BadInput as error:
          yield layout.Rejected.of(path, error)
    for image_id, (where, _) in labels.items():
      yield layout.Rejected(os.path.join(self._val, image_id + '.JPEG'), layout.MISSING_FILE,
                            f'{where} labels it, but it does not exist')

  def _read_val_labels(self) -> Tuple[Dict[str, Tuple[str, str]], List[layout.Rejected]]:
    """{image id: ('file:line', label token)} and the rows that name no image; BadInput when
    the label file cannot be read."""
    text = layout.read_text(self._label_file)
    if self.val_labels != 'kaggle':  # line n labels ILSVRC2012_val_<n>
      return {f'ILSVRC2012_val_{number:08d}': (f'{self._label_file}:{number}', line.strip())
              for number, line in enumerate(text.splitlines(), start=1)}, []
    labels, rejected = {}, []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
      where = f'{self._label_file}:{number}'
      if number == 1:
        continue  # the header, checked at launch
      if len(row) != 2 or not VAL_ID.fullmatch(row[0]):
        rejected.append(layout.Rejected(where, layout.MALFORMED_ROW,
                                        f'{row} is not ILSVRC2012_val_<8 digits>,<boxes>'))
      elif row[0] in labels:
        rejected.append(layout.Rejected(where, layout.MALFORMED_ROW, f'a second row for '
                                        f'{row[0]} (first at {labels[row[0]][0]})'))
      else:
        labels[row[0]] = (where, (row[1].split() or [''])[0])
    return labels, rejected

  def _val_wnid(self, where: str, token: str) -> str:
    """The wnid that a label line's token names (read() checks it is a class)."""
    if self.val_labels == 'devkit':
      if not token.isdigit():
        raise layout.BadInput(layout.MALFORMED_ROW, f'{where}: {token!r} is not an ILSVRC2012_ID')
      if int(token) not in self._id_to_wnid:
        raise layout.BadInput(layout.LABEL_OUT_OF_RANGE,
                              f'{where}: ILSVRC2012_ID {token} is not a leaf synset of meta.mat')
      token = self._id_to_wnid[int(token)]
    elif not WNID.fullmatch(token):
      raise layout.BadInput(layout.MALFORMED_ROW, f'{where}: {token!r} is not a wnid')
    return token
