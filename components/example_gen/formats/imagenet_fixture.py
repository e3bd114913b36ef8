"""A small ImageNet in either published edition (formats/imagenet.py), for tests and
benchmarks: photo-like JPEGs (`smooth_image`), the validation labels and the devkit's meta.mat.
Like Imagenette, ImageNet-100 or a partial download, it holds images of a few classes, while
its label files list the standard 1000 as published.
"""
import io
import os
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
from PIL import Image
import scipy.io
import tensorflow as tf

from components import stable_hash
from components.example_gen.formats import imagenet

EDITIONS = ('ilsvrc', 'kaggle')  # image-net.org's tars, the Kaggle localization challenge

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
  """ILSVRC2012_IDs 1..len(wnids) for `wnids` (the fixture's: all 1000): n02119789 first, as
  in the devkit, the others in an order drawn from `seed` (like the devkit's, not wnid
  order)."""
  order = sorted(wnids, key=lambda w: (w != FIRST_ID_WNID, stable_hash.stable_fraction(w, seed)))
  return {wnid: synset_id for synset_id, wnid in enumerate(order, start=1)}


def write_devkit_meta(path: str, leaf_ids: Mapping[str, int], train_counts: Mapping[str, int]):
  """Writes meta.mat as the devkit has it: an n x 1 struct array `synsets` with META_FIELDS,
  the leaves (`leaf_ids`: wnid -> ILSVRC2012_ID) first in ID order, then INNER_SYNSETS."""
  leaves = sorted(leaf_ids, key=leaf_ids.get)
  animal = len(leaves) + 1
  total = sum(train_counts.values())
  rows = [(leaf_ids[w], w, WORDS.get(w, w), [], 0, train_counts.get(w, 0)) for w in leaves]
  rows += [(animal, *INNER_SYNSETS[0], sorted(leaf_ids.values()), 1, total),
           (animal + 1, *INNER_SYNSETS[1], [animal], 2, total)]
  synsets = np.empty((len(rows), 1), dtype=[(name, 'O') for name in imagenet.META_FIELDS])
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
  rows = [','.join(imagenet.KAGGLE_HEADER)]
  for number in rng.permutation(len(val_wnids)) + 1:
    boxes = []
    for _ in range(rng.integers(1, 3)):
      x = np.sort(rng.integers(0, image_size[0], 2))
      y = np.sort(rng.integers(0, image_size[1], 2))
      boxes.append(f'{val_wnids[number - 1]} {x[0]} {y[0]} {x[1]} {y[1]}')
    rows.append(f'ILSVRC2012_val_{number:08d},{" ".join(boxes)}')
  return '\n'.join(rows) + '\n'


def _check_fixture_args(edition, val_labels, wnids, val_wnids, counts, image_size):
  if edition not in EDITIONS:
    raise ValueError(f'edition={edition!r}: choose from {EDITIONS}')
  if val_labels not in ('devkit', 'synsets'):
    raise ValueError(f"val_labels={val_labels!r}: choose 'devkit' or 'synsets'")
  for name, classes in (('wnids', wnids), ('val_wnids', val_wnids)):
    if (not classes or len(set(classes)) != len(classes)
        or not set(classes) <= set(imagenet.standard_wnids())):
      raise ValueError(f'{name}={classes}: need distinct wnids of the 1000 ILSVRC2012 classes '
                       'such as n01440764')
  if not all(0 <= count <= MAX_TRAIN_NUMBER - len(QUIRKS) for count in counts):
    raise ValueError(f'train_per_class, val_per_class = {counts}: each must be in '
                     f'0..{MAX_TRAIN_NUMBER - len(QUIRKS)}')
  if min(image_size) < 1:
    raise ValueError(f'image_size={image_size}: width and height must be >= 1')


def write_fixture(data_root: str, *, edition: str = 'ilsvrc', val_labels: str = 'devkit',
                  wnids: Sequence[str] = SAMPLE_WNIDS, val_wnids: Optional[Sequence[str]] = None,
                  train_per_class: int = 3, val_per_class: int = 2,
                  image_size: Tuple[int, int] = (40, 30), seed: int = 0,
                  quirks: bool = True) -> Dict[str, Dict[str, str]]:
  """Writes a small ImageNet under `data_root` in the published `edition` ('ilsvrc' |
  'kaggle'): a subset of the 1000 classes, as Imagenette or a partial download has it.

  Per wnid of `wnids` (the class folders under train/): `train_per_class` training JPEGs
  `<wnid>_<n>.JPEG` (n drawn from 1..20000). Per wnid of `val_wnids` (default `wnids`):
  `val_per_class` validation JPEGs, numbered ILSVRC2012_val_00000001... in shuffled class
  order. RGB, `image_size` (width, height) px, quality 90. `quirks` adds the three QUIRKS.
  Validation labels: Kaggle's CSV and synset mapping, or for 'ilsvrc' the devkit's
  (`val_labels='devkit'`: ground truth IDs; meta.mat with the `devkit_ids` and two non-leaf
  synsets) or a wnid per line ('synsets'). meta.mat and the synset mapping list all 1000
  classes, as published. The same arguments give the same bytes.
  Returns {'train': {path: wnid}, 'eval': {path: wnid}, 'quirks': {kind: path}}, paths
  relative to `data_root`.
  """
  val_wnids = wnids if val_wnids is None else val_wnids
  _check_fixture_args(edition, val_labels, wnids, val_wnids, (train_per_class, val_per_class),
                      image_size)
  data = imagenet.KAGGLE_DATA if edition == 'kaggle' else ''
  tints = {wnid: np.random.default_rng((seed, 0, index)).uniform(-40, 40, 3)
           for index, wnid in enumerate(sorted(set(wnids) | set(val_wnids)))}  # a colour cast
  written = {'train': {}, 'eval': {}, 'quirks': {}}

  def write_image(split: str, relative: str, wnid: str, stream: Tuple[int, ...], kind='rgb'):
    file_format, mode = ENCODINGS[kind]
    image = smooth_image(np.random.default_rng((seed,) + stream), image_size, tints[wnid])
    out = io.BytesIO()
    image.convert(mode).save(out, format=file_format, quality=JPEG_QUALITY)
    _write(os.path.join(data_root, relative), out.getvalue())
    written[split][relative] = wnid
    if kind != 'rgb':
      written['quirks'][kind] = relative

  train_counts = {}
  for class_index, wnid in enumerate(wnids):
    tf.io.gfile.makedirs(os.path.join(data_root, data, imagenet.TRAIN_FOLDER, wnid))
    dirty = [(number, kind) for kind, real_wnid, number in QUIRKS
             if quirks and (real_wnid if real_wnid in wnids else wnids[0]) == wnid]
    numbers = np.setdiff1d(np.arange(1, MAX_TRAIN_NUMBER + 1), [n for n, _ in dirty])
    numbers = np.random.default_rng((seed, 1, class_index)).choice(
        numbers, train_per_class, replace=False)
    for number, kind in sorted([(int(n), 'rgb') for n in numbers] + dirty):
      write_image('train', os.path.join(data, imagenet.TRAIN_FOLDER, wnid, f'{wnid}_{number}.JPEG'),
                  wnid, (2, class_index, number), kind)
    train_counts[wnid] = train_per_class + len(dirty)

  val_order = [wnid for wnid in val_wnids for _ in range(val_per_class)]
  val_order = [val_order[i]
               for i in np.random.default_rng((seed, 3)).permutation(len(val_order))]
  tf.io.gfile.makedirs(os.path.join(data_root, data, 'val'))
  for number, wnid in enumerate(val_order, start=1):
    write_image('eval', os.path.join(data, 'val', f'ILSVRC2012_val_{number:08d}.JPEG'), wnid,
                (4, number))

  classes = imagenet.standard_wnids()
  if edition == 'kaggle':
    _write(os.path.join(data_root, imagenet.KAGGLE_SYNSET_MAPPING),
           ''.join(f'{w} {WORDS.get(w, w)}\n' for w in classes))
    _write(os.path.join(data_root, imagenet.KAGGLE_VAL_SOLUTION),
           _kaggle_val_solution(val_order, image_size, seed))
  elif val_labels == 'devkit':
    leaf_ids = devkit_ids(classes, seed)
    write_devkit_meta(os.path.join(data_root, imagenet.DEVKIT_META), leaf_ids, train_counts)
    _write(os.path.join(data_root, imagenet.DEVKIT_GROUND_TRUTH),
           ''.join(f'{leaf_ids[w]}\n' for w in val_order))
  else:
    _write(os.path.join(data_root, imagenet.SYNSET_LABELS), ''.join(f'{w}\n' for w in val_order))
  return written
