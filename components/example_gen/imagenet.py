"""ImageNet ILSVRC2012 (classification) on disk: read its published layouts, or write a fixture.

Either layout may be under the data root; the reader finds which.

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

Labels are 0-based in sorted wnid order (as in TFDS and Keras); `image/class/text` is the wnid,
as the human descriptions are not unique (two synsets are 'crane'). Known dirty training files:
n02105855_2933.JPEG is a PNG, 22 are CMYK JPEGs (e.g. n01739381_1309.JPEG) and some are
grayscale; images.canonical_image keeps the PNG as PNG and makes the others RGB JPEGs.
"""
import csv
import io
import os
import re
from typing import Dict, Iterator, List, Mapping, Sequence, Tuple, Union

import numpy as np
from PIL import Image
import scipy.io
import tensorflow as tf

from components import features
from components.example_gen import images
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


def _read_text(path: str) -> str:
  with tf.io.gfile.GFile(path) as f:
    return f.read()


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
  for number, line in enumerate(_read_text(_require(path, 'Kaggle synset mapping')).splitlines(),
                                start=1):
    wnid = line.split(' ', 1)[0]
    if not WNID.fullmatch(wnid):
      raise layout.LayoutError(f'{path}:{number}: {line!r} is not `<wnid> <description>`')
    wnids.append(wnid)
  return tuple(wnids)


class ImageNet(layout.Layout):
  """ILSVRC2012 classification in the image-net.org or the Kaggle layout.

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
    mapping = None
    if tf.io.gfile.isdir(os.path.join(kaggle, TRAIN_FOLDER)):
      self.val_labels = 'kaggle'
      self._train, self._val = os.path.join(kaggle, TRAIN_FOLDER), os.path.join(kaggle, 'val')
      self._label_file = _require(os.path.join(self.data_root, KAGGLE_VAL_SOLUTION),
                                  'Kaggle validation labels')
      with tf.io.gfile.GFile(self._label_file) as f:
        header = next(csv.reader([f.readline()]), [])
      if header != KAGGLE_HEADER:
        raise layout.LayoutError(f'{self._label_file}: header {header}, expected {KAGGLE_HEADER}')
      mapping_path = os.path.join(self.data_root, KAGGLE_SYNSET_MAPPING)
      mapping = _read_synset_mapping(mapping_path)
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
    self._class_names = tuple(name for name in entries if WNID.fullmatch(name))
    self._strays = tuple(name for name in entries if not WNID.fullmatch(name))
    if not self._class_names:
      raise layout.LayoutError(f'{self._train}: no class folders (<wnid>/, e.g. n01440764/)')
    if mapping is not None and mapping != self._class_names:
      raise layout.LayoutError(
          f'{mapping_path}: its {len(mapping)} wnids are not the {len(self._class_names)} class '
          f'folders of {self._train} in sorted order (only in the mapping: '
          f'{sorted(set(mapping) - set(self._class_names))[:5]}, only folders: '
          f'{sorted(set(self._class_names) - set(mapping))[:5]})')

  @property
  def class_names(self) -> Tuple[str, ...]:
    """The wnid folders under train/, sorted: label i is the i-th."""
    return self._class_names

  def sources(self) -> List[Tuple[str, str]]:
    """('train', name) per entry of train/ (the class folders, listed on the workers) and
    ('eval', validation folder)."""
    return [('train', name) for name in self._class_names + self._strays] + [('eval', self._val)]

  def items(self, source: Tuple[str, str]) -> Iterator[Union[layout.Item, layout.Rejected]]:
    split, name = source
    if split == 'eval':
      yield from self._val_items()
      return
    folder = os.path.join(self._train, name)
    if name not in self._class_names:
      yield layout.Rejected(folder, layout.BAD_FILE_NAME,
                            f'not a class folder {TRAIN_FOLDER}/<wnid>/ (e.g. n01440764/)')
      return
    for file_name in sorted(tf.io.gfile.listdir(folder)):
      yield layout.Item('train', os.path.join(folder, file_name), name)

  def read(self, item: layout.Item) -> Iterator[tf.train.Example]:
    """`item.payload` is the wnid."""
    label = self.label_of(item.payload)
    image = images.canonical_image(layout.read_bytes(item.source), max_pixels=self.max_pixels)
    yield features.make_example(
        encoded=image.encoded, image_format=image.image_format, height=image.height,
        width=image.width, filename=self.relative(item.source), label=label,
        label_text=item.payload, scenario={})

  def fingerprint_paths(self) -> List[str]:
    return ([os.path.join(self._train, name) for name in self._class_names + self._strays]
            + [self._val, self._label_file] + self._other_label_files)

  def _val_items(self) -> Iterator[Union[layout.Item, layout.Rejected]]:
    """Each validation image with its label line; rejects the unmatched on either side."""
    labels, rejected = self._read_val_labels()
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
    """{image id: ('file:line', label token)} and the rows that name no image."""
    text = _read_text(self._label_file)
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


# The fixture: real wnids, among them the classes of the known dirty files and ILSVRC2012_ID 1.
SAMPLE_WNIDS = ('n01440764', 'n01443537', 'n01484850', 'n01491361', 'n01494475', 'n01739381',
                'n02105855', 'n02119789')
FIRST_ID_WNID = 'n02119789'  # ILSVRC2012_ID 1 (kit fox)
WORDS = {  # LOC_synset_mapping.txt and meta.mat `words`; other wnids get a placeholder
    'n01440764': 'tench, Tinca tinca', 'n01443537': 'goldfish, Carassius auratus',
    'n01484850': 'great white shark, white shark, man-eater, man-eating shark, '
                 'Carcharodon carcharias',
    'n01491361': 'tiger shark, Galeocerdo cuvieri', 'n01494475': 'hammerhead, hammerhead shark',
    'n01739381': 'vine snake', 'n02105855': 'Shetland sheepdog, Shetland sheep dog, Shetland',
    'n02119789': 'kit fox, Vulpes macrotis'}
# Non-leaf synsets the fixture's meta.mat adds after the leaves: (wnid, words).
INNER_SYNSETS = (('n00015388', 'animal, animate being, beast, brute, creature, fauna'),
                 ('n00001740', 'entity'))
# (kind, wnid, number): the dirty training files written when `quirks`, named as the real ones
# (the grayscale number is made up), in the first wnid's folder when the wnid is not sampled.
QUIRKS = (('png', 'n02105855', 2933), ('cmyk', 'n01739381', 1309),
          ('grayscale', 'n01440764', 10000))
ENCODINGS = {'rgb': ('JPEG', 'RGB'), 'png': ('PNG', 'RGB'), 'cmyk': ('JPEG', 'CMYK'),
             'grayscale': ('JPEG', 'L')}  # kind -> (file format, PIL mode)
JPEG_QUALITY = 90
MAX_TRAIN_NUMBER = 20000  # training file numbers are drawn from 1..this


def smooth_image(rng: np.random.Generator, size: Tuple[int, int], tint: np.ndarray
                 ) -> Image.Image:
  """A photo-like RGB image of `size` (width, height) px: random blobs at four scales plus
  grain, offset by `tint` (3 values in -128..128), so JPEGs are about as large as photos'
  (about 53 KiB at 500 x 375, quality 90)."""
  width, height = size
  grid_size = (min(width, 160), max(1, min(width, 160) * height // width))  # finest blobs
  grid = np.full(grid_size[::-1] + (3,), 128, np.float32) + tint
  for cells, amplitude in ((3, 60), (12, 35), (48, 22), (160, 14)):
    cells = min(cells, grid_size[0])
    noise = rng.integers(0, 256, (max(2, cells * height // width), max(2, cells), 3), np.uint8)
    blobs = Image.fromarray(noise).resize(grid_size, Image.BICUBIC)
    grid += (np.asarray(blobs, np.float32) - 128) * (amplitude / 128)
  image = Image.fromarray(np.clip(grid, 0, 255).astype(np.uint8)).resize(size, Image.BICUBIC)
  pixels = np.asarray(image, np.int16) + rng.integers(-6, 7, (height, width, 1), np.int16)
  return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _write(path: str, data: Union[bytes, str]):
  tf.io.gfile.makedirs(os.path.dirname(path))
  with tf.io.gfile.GFile(path, 'wb' if isinstance(data, bytes) else 'w') as f:
    f.write(data)


def devkit_ids(wnids: Sequence[str], seed: int) -> Dict[str, int]:
  """The fixture's ILSVRC2012_IDs 1..len(wnids): n02119789 first, as in the devkit, the others
  in an order drawn from `seed` (like the devkit's, not wnid order)."""
  order = sorted(wnids, key=lambda w: (w != FIRST_ID_WNID, layout.stable_fraction(w, seed)))
  return {wnid: synset_id for synset_id, wnid in enumerate(order, start=1)}


def write_devkit_meta(path: str, leaf_ids: Mapping[str, int], train_counts: Mapping[str, int]):
  """Writes meta.mat as the devkit has it: an n x 1 struct array `synsets` with META_FIELDS,
  the leaves (`leaf_ids`: wnid -> ILSVRC2012_ID) first in ID order, then INNER_SYNSETS."""
  leaves = sorted(leaf_ids, key=leaf_ids.get)
  animal = len(leaves) + 1
  total = sum(train_counts.values())
  rows = [(leaf_ids[w], w, WORDS.get(w, w), [], 0, train_counts[w]) for w in leaves]
  rows += [(animal, *INNER_SYNSETS[0], sorted(leaf_ids.values()), 1, total),
           (animal + 1, *INNER_SYNSETS[1], [animal], 2, total)]
  synsets = np.empty((len(rows), 1), dtype=[(name, 'O') for name in META_FIELDS])
  for row, (synset_id, wnid, words, children, height, count) in enumerate(rows):
    synsets[row, 0] = (float(synset_id), wnid, words, f'(gloss of {wnid})', float(len(children)),
                       np.array([children], np.float64).reshape(1, -1), float(height),
                       float(count))
  out = io.BytesIO()
  scipy.io.savemat(out, {'synsets': synsets})
  _write(path, out.getvalue())


def _kaggle_val_solution(val_wnids: Sequence[str], image_size: Tuple[int, int], seed: int
                         ) -> str:
  """LOC_val_solution.csv: a row per image in shuffled order, one or two boxes each."""
  rng = np.random.default_rng((seed, 5))
  rows = [','.join(KAGGLE_HEADER)]
  for number in rng.permutation(len(val_wnids)) + 1:
    boxes = []
    for _ in range(rng.integers(1, 3)):
      x = np.sort(rng.integers(0, image_size[0], 2))
      y = np.sort(rng.integers(0, image_size[1], 2))
      boxes.append(f'{val_wnids[number - 1]} {x[0]} {y[0]} {x[1]} {y[1]}')
    rows.append(f'ILSVRC2012_val_{number:08d},{" ".join(boxes)}')
  return '\n'.join(rows) + '\n'


def _check_fixture_args(layout_name, val_labels, wnids, counts, image_size):
  if layout_name not in ('ilsvrc', 'kaggle'):
    raise ValueError(f"layout={layout_name!r}: choose 'ilsvrc' or 'kaggle'")
  if val_labels not in ('devkit', 'synsets'):
    raise ValueError(f"val_labels={val_labels!r}: choose 'devkit' or 'synsets'")
  if not wnids or len(set(wnids)) != len(wnids) or not all(WNID.fullmatch(w) for w in wnids):
    raise ValueError(f'wnids={wnids}: need distinct wnids such as n01440764')
  if not all(0 <= count <= MAX_TRAIN_NUMBER - len(QUIRKS) for count in counts):
    raise ValueError(f'train_per_class, val_per_class = {counts}: each must be in '
                     f'0..{MAX_TRAIN_NUMBER - len(QUIRKS)}')
  if min(image_size) < 1:
    raise ValueError(f'image_size={image_size}: width and height must be >= 1')


def write_fixture(root: str, *, layout: str = 'ilsvrc', val_labels: str = 'devkit',
                  wnids: Sequence[str] = SAMPLE_WNIDS, train_per_class: int = 3,
                  val_per_class: int = 2, image_size: Tuple[int, int] = (40, 30), seed: int = 0,
                  quirks: bool = True) -> Dict[str, Dict[str, str]]:
  """Writes a small ImageNet under `root` in the published `layout` ('ilsvrc' | 'kaggle').

  Per wnid: `train_per_class` training JPEGs `<wnid>_<n>.JPEG` (n drawn from 1..20000), and
  `val_per_class` validation JPEGs, numbered ILSVRC2012_val_00000001... in shuffled class
  order; RGB, `image_size` (width, height) px, quality 90. `quirks` adds the three QUIRKS.
  Validation labels: Kaggle's CSV and synset mapping, or for 'ilsvrc' the devkit's
  (`val_labels='devkit'`: ground truth IDs; meta.mat with the `devkit_ids` and two non-leaf
  synsets) or a wnid per line ('synsets'). The same arguments give the same bytes.
  Returns {'train': {path: wnid}, 'eval': {path: wnid}, 'quirks': {kind: path}}, paths
  relative to `root`.
  """
  _check_fixture_args(layout, val_labels, wnids, (train_per_class, val_per_class), image_size)
  data = KAGGLE_DATA if layout == 'kaggle' else ''
  tints = {wnid: np.random.default_rng((seed, 0, index)).uniform(-40, 40, 3)
           for index, wnid in enumerate(sorted(wnids))}  # a colour cast per class
  written = {'train': {}, 'eval': {}, 'quirks': {}}

  def write_image(split: str, relative: str, wnid: str, stream: Tuple[int, ...], kind='rgb'):
    file_format, mode = ENCODINGS[kind]
    image = smooth_image(np.random.default_rng((seed,) + stream), image_size, tints[wnid])
    out = io.BytesIO()
    image.convert(mode).save(out, format=file_format, quality=JPEG_QUALITY)
    _write(os.path.join(root, relative), out.getvalue())
    written[split][relative] = wnid
    if kind != 'rgb':
      written['quirks'][kind] = relative

  train_counts = {}
  for class_index, wnid in enumerate(wnids):
    tf.io.gfile.makedirs(os.path.join(root, data, TRAIN_FOLDER, wnid))
    dirty = [(number, kind) for kind, real_wnid, number in QUIRKS
             if quirks and (real_wnid if real_wnid in wnids else wnids[0]) == wnid]
    numbers = np.setdiff1d(np.arange(1, MAX_TRAIN_NUMBER + 1), [n for n, _ in dirty])
    numbers = np.random.default_rng((seed, 1, class_index)).choice(
        numbers, train_per_class, replace=False)
    for number, kind in sorted([(int(n), 'rgb') for n in numbers] + dirty):
      write_image('train', os.path.join(data, TRAIN_FOLDER, wnid, f'{wnid}_{number}.JPEG'),
                  wnid, (2, class_index, number), kind)
    train_counts[wnid] = train_per_class + len(dirty)

  val_wnids = [wnid for wnid in wnids for _ in range(val_per_class)]
  val_wnids = [val_wnids[i] for i in np.random.default_rng((seed, 3)).permutation(len(val_wnids))]
  tf.io.gfile.makedirs(os.path.join(root, data, 'val'))
  for number, wnid in enumerate(val_wnids, start=1):
    write_image('eval', os.path.join(data, 'val', f'ILSVRC2012_val_{number:08d}.JPEG'), wnid,
                (4, number))

  if layout == 'kaggle':
    _write(os.path.join(root, KAGGLE_SYNSET_MAPPING),
           ''.join(f'{w} {WORDS.get(w, w)}\n' for w in sorted(wnids)))
    _write(os.path.join(root, KAGGLE_VAL_SOLUTION),
           _kaggle_val_solution(val_wnids, image_size, seed))
  elif val_labels == 'devkit':
    leaf_ids = devkit_ids(wnids, seed)
    write_devkit_meta(os.path.join(root, DEVKIT_META), leaf_ids, train_counts)
    _write(os.path.join(root, DEVKIT_GROUND_TRUTH), ''.join(f'{leaf_ids[w]}\n' for w in val_wnids))
  else:
    _write(os.path.join(root, SYNSET_LABELS), ''.join(f'{w}\n' for w in val_wnids))
  return written
