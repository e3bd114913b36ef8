"""CIFAR-10 and CIFAR-100 on disk (the python version): read them into canonical tf.Examples,
or write a fixture in the same layout.

Layout (Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", 2009;
https://www.cs.toronto.edu/~kriz/cifar.html):

  <data_root>/cifar-10-batches-py/{data_batch_1..data_batch_5, test_batch, batches.meta}
  <data_root>/cifar-100-python/{train, test, meta}

`data_root` may also be the `cifar-10-batches-py` / `cifar-100-python` folder itself. Each file
is a pickle (protocol 2, written by Python 2's cPickle, so its strings load as bytes with
`encoding='bytes'`) of a dict with bytes keys:
  batch: `data` uint8 [rows, 3072], channel-planar (1024 R, 1024 G, 1024 B, each 32 x 32
         row-major); `labels` (CIFAR-10) or `fine_labels` and `coarse_labels` (CIFAR-100),
         lists of int; `filenames`; `batch_label`.
  meta:  `label_names` (CIFAR-10) or `fine_label_names` and `coarse_label_names` (CIFAR-100).
A batch holds 10,000 rows (CIFAR-100's train 50,000). Pickles can run code when loaded, so
every file goes through `load_pickle`, which admits only numpy's array and scalar
reconstruction (labels re-pickled as NumPy integers are scalars). A batch file that is missing,
unsafe or not a CIFAR batch is a LostFile of its published number of rows.
"""
import io
import numbers
import os
import pickle
import struct
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Tuple, Union

import numpy as np
from PIL import Image
import tensorflow as tf

from components import features
from components import image_codec
from components.example_gen import layout

IMAGE_SIZE = 32
ROW_BYTES = 3 * IMAGE_SIZE * IMAGE_SIZE  # 3072: R plane, G plane, B plane

CIFAR10_CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse',
                   'ship', 'truck')
# CIFAR-100's 20 superclasses (coarse labels), each with its 5 classes; the meta file lists
# both in alphabetical order, which is their label order.
CIFAR100_SUPERCLASSES = {
    'aquatic_mammals': ('beaver', 'dolphin', 'otter', 'seal', 'whale'),
    'fish': ('aquarium_fish', 'flatfish', 'ray', 'shark', 'trout'),
    'flowers': ('orchid', 'poppy', 'rose', 'sunflower', 'tulip'),
    'food_containers': ('bottle', 'bowl', 'can', 'cup', 'plate'),
    'fruit_and_vegetables': ('apple', 'mushroom', 'orange', 'pear', 'sweet_pepper'),
    'household_electrical_devices': ('clock', 'keyboard', 'lamp', 'telephone', 'television'),
    'household_furniture': ('bed', 'chair', 'couch', 'table', 'wardrobe'),
    'insects': ('bee', 'beetle', 'butterfly', 'caterpillar', 'cockroach'),
    'large_carnivores': ('bear', 'leopard', 'lion', 'tiger', 'wolf'),
    'large_man-made_outdoor_things': ('bridge', 'castle', 'house', 'road', 'skyscraper'),
    'large_natural_outdoor_scenes': ('cloud', 'forest', 'mountain', 'plain', 'sea'),
    'large_omnivores_and_herbivores': ('camel', 'cattle', 'chimpanzee', 'elephant', 'kangaroo'),
    'medium_mammals': ('fox', 'porcupine', 'possum', 'raccoon', 'skunk'),
    'non-insect_invertebrates': ('crab', 'lobster', 'snail', 'spider', 'worm'),
    'people': ('baby', 'boy', 'girl', 'man', 'woman'),
    'reptiles': ('crocodile', 'dinosaur', 'lizard', 'snake', 'turtle'),
    'small_mammals': ('hamster', 'mouse', 'rabbit', 'shrew', 'squirrel'),
    'trees': ('maple_tree', 'oak_tree', 'palm_tree', 'pine_tree', 'willow_tree'),
    'vehicles_1': ('bicycle', 'bus', 'motorcycle', 'pickup_truck', 'train'),
    'vehicles_2': ('lawn_mower', 'rocket', 'streetcar', 'tank', 'tractor'),
}
CIFAR100_COARSE_CLASSES = tuple(CIFAR100_SUPERCLASSES)
CIFAR100_CLASSES = tuple(sorted(name for names in CIFAR100_SUPERCLASSES.values()
                                for name in names))


class Variant(NamedTuple):
  """One CIFAR release: its folder, file names, dict keys and class lists."""
  folder: str
  meta_file: str
  split_files: Dict[str, Tuple[str, ...]]  # pipeline split -> batch files, in order
  published_rows: Dict[str, int]  # batch file -> its rows in the published release
  label_key: str
  names_key: str
  class_names: Tuple[str, ...]
  coarse_label_key: Optional[str] = None  # CIFAR-100's superclass labels
  coarse_names_key: Optional[str] = None
  coarse_class_names: Tuple[str, ...] = ()


VARIANTS = {
    'cifar10': Variant(
        folder='cifar-10-batches-py', meta_file='batches.meta',
        split_files={'train': tuple(f'data_batch_{i}' for i in range(1, 6)),
                     'eval': ('test_batch',)},
        published_rows={**{f'data_batch_{i}': 10_000 for i in range(1, 6)},
                        'test_batch': 10_000},
        label_key='labels', names_key='label_names', class_names=CIFAR10_CLASSES),
    'cifar100': Variant(
        folder='cifar-100-python', meta_file='meta',
        split_files={'train': ('train',), 'eval': ('test',)},
        published_rows={'train': 50_000, 'test': 10_000},
        label_key='fine_labels', names_key='fine_label_names', class_names=CIFAR100_CLASSES,
        coarse_label_key='coarse_labels', coarse_names_key='coarse_label_names',
        coarse_class_names=CIFAR100_COARSE_CLASSES),
}

# The only globals pickled numpy arrays and scalars (np.int64 labels) need: numpy's
# reconstruction (spelled numpy._core from numpy 2 on), plus _codecs.encode, which Python 3 uses
# for bytes at protocol 2. `scalar` builds a number from a dtype and its bytes.
SAFE_GLOBALS = frozenset({
    ('numpy.core.multiarray', '_reconstruct'), ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'), ('numpy._core.multiarray', 'scalar'),
    ('numpy', 'ndarray'), ('numpy', 'dtype'), ('_codecs', 'encode')})


class _UnsafeGlobal(pickle.UnpicklingError):

  def __init__(self, name: str):
    super().__init__(name)
    self.name = name


class _ArrayUnpickler(pickle.Unpickler):
  """Builds containers, numbers, strings and numpy arrays; refuses every other global, so
  nothing a pickle names (os.system, builtins.eval...) is imported, let alone called."""

  def find_class(self, module: str, name: str):
    if (module, name) not in SAFE_GLOBALS:
      raise _UnsafeGlobal(f'{module}.{name}')
    return super().find_class(module, name)


def load_pickle(data: bytes) -> Any:
  """Unpickles `data` (strings as bytes, as CIFAR's Python 2 pickles need).

  Raises BadInput: UNSAFE_PICKLE naming the first global outside SAFE_GLOBALS, or
  UNREADABLE_FILE when `data` is not a readable pickle.
  """
  try:
    return _ArrayUnpickler(io.BytesIO(data), encoding='bytes').load()
  except _UnsafeGlobal as error:
    raise layout.BadInput(layout.UNSAFE_PICKLE,
                          f'refers to {error.name}; only numpy array globals are allowed'
                          ) from None
  except Exception as error:  # a corrupt pickle fails in the unpickler, in many ways
    raise layout.BadInput(layout.UNREADABLE_FILE,
                          f'not a readable pickle ({type(error).__name__}: {error})') from None


def _str_keys(value: Any) -> Dict[str, Any]:
  """A pickled dict with its bytes keys as str (a re-pickled file may already have str)."""
  if not isinstance(value, dict):
    raise layout.BadInput(layout.UNREADABLE_FILE, f'holds a {type(value).__name__}, not a dict')
  return {key.decode('latin-1') if isinstance(key, bytes) else key: item
          for key, item in value.items()}


def _label_list(batch: Dict[str, Any], key: str, rows: int) -> List[Any]:
  """The `key` labels, a list (or a 1-D array) with one per data row."""
  labels = batch.get(key)
  if isinstance(labels, np.ndarray) and labels.ndim == 1:
    labels = list(labels)
  if not isinstance(labels, list) or len(labels) != rows:
    raise layout.BadInput(layout.UNREADABLE_FILE,
                          f'{key!r} must be a list of {rows} labels, one per data row')
  return labels


class _Cifar(layout.Layout):
  """A CIFAR release in its python layout: one item per row of each batch file."""
  variant: Variant

  def __init__(self, data_root: str, **options):
    super().__init__(data_root, **options)
    variant = self.variant
    nested = os.path.join(self.data_root, variant.folder)
    inside = (not tf.io.gfile.isdir(nested)
              and tf.io.gfile.exists(os.path.join(self.data_root, variant.meta_file)))
    self.folder = self.data_root if inside else nested
    meta_path = os.path.join(self.folder, variant.meta_file)
    try:
      meta = _str_keys(load_pickle(self.read_bytes(meta_path)))
    except layout.BadInput as error:
      problem = ('does not exist' if error.reason == layout.MISSING_FILE
                 else f'{error.reason} ({error.detail})')
      raise layout.LayoutError(f'{meta_path}: {problem}; data_root must be the folder that '
                               f'holds {variant.folder}/, or that folder itself') from None
    lists = [(variant.names_key, variant.class_names)]
    if variant.coarse_names_key:
      lists.append((variant.coarse_names_key, variant.coarse_class_names))
    for key, expected in lists:
      found = meta.get(key)
      names = tuple(name.decode() if isinstance(name, bytes) else name for name in found or ())
      if names != expected:
        raise layout.LayoutError(f'{meta_path}: {key!r} is {found!r}, not the published '
                                 f'{len(expected)} names {expected}')

  @property
  def class_names(self) -> Tuple[str, ...]:
    return self.variant.class_names

  def sources(self) -> List[Tuple[str, str]]:
    """(split, batch file path): one pickle per source."""
    return [(split, os.path.join(self.folder, name))
            for split, names in self.variant.split_files.items() for name in names]

  def items(self, source: Tuple[str, str]
            ) -> Iterator[Union[layout.Item, layout.Rejected, layout.LostFile]]:
    """One item per data row, `<path>:<row>`; the whole file is a LostFile of its published
    rows when it is missing, unsafe or not a CIFAR batch."""
    split, path = source
    try:
      data, labels = self._load_batch(path)
    except layout.BadInput as error:
      yield layout.LostFile.of(path, error,
                               records=self.variant.published_rows[os.path.basename(path)])
      return
    for row, row_labels in enumerate(labels):
      item_source = f'{path}:{row}'
      try:
        payload = (self._check_labels(row_labels), data[row].tobytes())
      except layout.BadInput as error:
        yield layout.Rejected.of(item_source, error)
        continue
      yield layout.Item(split, item_source, payload)

  def read(self, item: layout.Item) -> Iterator[tf.train.Example]:
    (label, coarse_label), pixels = item.payload
    hwc = np.frombuffer(pixels, np.uint8).reshape(3, IMAGE_SIZE, IMAGE_SIZE).transpose(1, 2, 0)
    image = image_codec.from_pixels(Image.fromarray(hwc))
    path, row = item.source.rsplit(':', 1)
    scenario = {}
    if coarse_label is not None:
      scenario['superclass'] = self.variant.coarse_class_names[coarse_label]
    yield features.make_example(
        encoded=image.encoded, image_format=image.image_format, height=image.height,
        width=image.width, filename=f'{self.relative(path)}:{row}', label=label,
        label_text=self.class_names[label], scenario=scenario)

  def fingerprint_paths(self) -> List[str]:
    return [os.path.join(self.folder, self.variant.meta_file)] + [
        path for _, path in self.sources()]

  def _load_batch(self, path: str) -> Tuple[np.ndarray, List[Tuple[Any, Any]]]:
    """The batch's data [rows, 3072] and each row's (label, coarse label or None)."""
    batch = _str_keys(load_pickle(self.read_bytes(path)))
    data = batch.get('data')
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
            and data.shape[1] == ROW_BYTES):
      described = (f'{data.dtype} {list(data.shape)}' if isinstance(data, np.ndarray)
                   else type(data).__name__)
      raise layout.BadInput(layout.UNREADABLE_FILE,
                            f"'data' must be a uint8 array [rows, {ROW_BYTES}], not {described}")
    rows = data.shape[0]
    labels = _label_list(batch, self.variant.label_key, rows)
    if self.variant.coarse_label_key:
      coarse = _label_list(batch, self.variant.coarse_label_key, rows)
    else:
      coarse = [None] * rows
    return data, list(zip(labels, coarse))

  def _check_labels(self, row_labels: Tuple[Any, Any]) -> Tuple[int, Optional[int]]:
    label, coarse = row_labels
    for value in row_labels if self.variant.coarse_label_key else (label,):
      if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)):
        raise layout.BadInput(layout.MALFORMED_ROW, f'label {value!r} is not an integer')
    label, coarse = int(label), None if coarse is None else int(coarse)
    self.check_label(label)
    if coarse is not None and not 0 <= coarse < len(self.variant.coarse_class_names):
      raise layout.BadInput(layout.LABEL_OUT_OF_RANGE, f'coarse label {coarse} not in '
                            f'0..{len(self.variant.coarse_class_names) - 1}')
    return label, coarse


class Cifar10(_Cifar):
  """CIFAR-10: 10 classes; train = data_batch_1..5 (50,000), eval = test_batch (10,000)."""
  dataset = 'cifar10'
  variant = VARIANTS['cifar10']


class Cifar100(_Cifar):
  """CIFAR-100: label = fine label (100 classes); `scenario/superclass` = the coarse class
  name (20), so evaluation can slice by superclass. train 50,000, eval (test) 10,000."""
  dataset = 'cifar100'
  variant = VARIANTS['cifar100']


# Fixture writer.

class _Python2Pickler(pickle._Pickler):  # the Python implementation: its dispatch is a dict
  """Pickles str and bytes as Python 2 `str` (SHORT_BINSTRING / BINSTRING), as cPickle wrote
  CIFAR's files; Python 3 writes bytes at protocol 2 as a call to _codecs.encode instead.

  Its dispatch names the standard savers itself: dill (imported by Beam) rewrites
  pickle._Pickler.dispatch. Arrays, dtypes and numpy's functions go through __reduce_ex__.
  """

  def save_python2_str(self, obj: Union[str, bytes]):
    data = obj.encode('latin-1') if isinstance(obj, str) else obj
    if len(data) < 256:
      self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
    else:
      self.write(pickle.BINSTRING + struct.pack('<i', len(data)) + data)
    self.memoize(obj)

  _stdlib = pickle._Pickler
  dispatch = {type(None): _stdlib.save_none, bool: _stdlib.save_bool, int: _stdlib.save_long,
              float: _stdlib.save_float, tuple: _stdlib.save_tuple, list: _stdlib.save_list,
              dict: _stdlib.save_dict, type: _stdlib.save_type,
              str: save_python2_str, bytes: save_python2_str}


def _write_pickle(value: Dict[bytes, Any], path: str):
  out = io.BytesIO()
  _Python2Pickler(out, protocol=2).dump(value)
  with tf.io.gfile.GFile(path, 'wb') as f:
    f.write(out.getvalue())


def pattern_image(file_index: int) -> np.ndarray:
  """Row 0 of the `file_index`-th batch file (0-based, layout order) in a fixture: uint8
  [32, 32, 3] HWC with R = 8 x, G = 8 y, B = 4 (x + y) + file_index (x column, y row), so a
  misread channel layout or order cannot reproduce it."""
  y, x = np.mgrid[:IMAGE_SIZE, :IMAGE_SIZE]
  return np.stack([8 * x, 8 * y, 4 * (x + y) + file_index], axis=-1).astype(np.uint8)


def fixture_label(variant: str, file_index: int, row: int, seed: int) -> int:
  """The (fine) label of `row` in the `file_index`-th batch file of a fixture."""
  classes = len(VARIANTS[variant].class_names)
  return (37 * row + 11 * file_index + seed) % classes


LABEL_TYPES = ('list', 'numpy_ints', 'array')  # as published; NumPy scalars; a NumPy array


def write_fixture(data_root: str, *, variant: str = 'cifar10', rows_per_batch: int = 4,
                  seed: int = 0, labels_as: str = 'list') -> Dict[str, Dict[str, Any]]:
  """Writes a small CIFAR-10 or CIFAR-100 (`variant`) in the published python layout under
  `data_root`/<folder>: every batch file with `rows_per_batch` rows, and the meta file.

  Row 0 of each batch is `pattern_image(file_index)`, the rest are uniform noise from `seed`;
  labels follow `fixture_label`, CIFAR-100's coarse label is the fine class's superclass.
  `labels_as` (LABEL_TYPES): the published list of ints, or as files re-saved from NumPy hold
  them, a list of np.int64 or an int64 array.
  Returns, per batch file path relative to `data_root`: 'images' uint8 [rows, 32, 32, 3] HWC,
  'labels' and, for CIFAR-100, 'coarse_labels'.
  """
  if variant not in VARIANTS:
    raise ValueError(f'variant={variant!r}: choose from {sorted(VARIANTS)}')
  if rows_per_batch < 1:
    raise ValueError(f'rows_per_batch={rows_per_batch}: must be >= 1')
  if labels_as not in LABEL_TYPES:
    raise ValueError(f'labels_as={labels_as!r}: choose from {LABEL_TYPES}')
  stored = {'list': list, 'numpy_ints': lambda values: [np.int64(v) for v in values],
            'array': lambda values: np.array(values, np.int64)}[labels_as]
  spec = VARIANTS[variant]
  folder = os.path.join(data_root, spec.folder)
  tf.io.gfile.makedirs(folder)
  names = {spec.names_key: spec.class_names}
  if variant == 'cifar10':
    meta = {b'num_cases_per_batch': 10000, b'num_vis': ROW_BYTES}
  else:
    meta = {}
    names[spec.coarse_names_key] = spec.coarse_class_names
  meta.update({key.encode(): [name.encode() for name in values]
               for key, values in names.items()})
  _write_pickle(meta, os.path.join(folder, spec.meta_file))
  superclass_of = {name: CIFAR100_COARSE_CLASSES.index(superclass)
                   for superclass, members in CIFAR100_SUPERCLASSES.items() for name in members}
  written = {}
  batches = [(split, name) for split, names in spec.split_files.items() for name in names]
  for file_index, (split, name) in enumerate(batches):
    rng = np.random.default_rng((seed, file_index))
    hwc = rng.integers(0, 256, (rows_per_batch, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    hwc[0] = pattern_image(file_index)
    labels = [fixture_label(variant, file_index, row, seed) for row in range(rows_per_batch)]
    count = len(spec.split_files[split])
    kind = 'training' if split == 'train' else 'testing'
    batch = {
        b'batch_label': f'{kind} batch {spec.split_files[split].index(name) + 1} of {count}'
                        .encode(),
        spec.label_key.encode(): stored(labels),
        b'data': hwc.transpose(0, 3, 1, 2).reshape(rows_per_batch, ROW_BYTES),
        b'filenames': [f'{spec.class_names[label]}_s_{file_index * rows_per_batch + row:06d}'
                       f'.png'.encode() for row, label in enumerate(labels)],
    }
    record = {'images': hwc, 'labels': labels}
    if spec.coarse_label_key:
      coarse = [superclass_of[spec.class_names[label]] for label in labels]
      batch[spec.coarse_label_key.encode()] = stored(coarse)
      record['coarse_labels'] = coarse
    _write_pickle(batch, os.path.join(folder, name))
    written[f'{spec.folder}/{name}'] = record
  return written
