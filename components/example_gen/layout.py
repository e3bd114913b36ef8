"""The contract every dataset format implements, and the outcomes ingestion counts.

A `Layout` is one dataset's published on-disk layout under a data root. Ingestion asks it for
`sources()` (a short list: globs, label files, pickles; computed where the job is launched),
expands each source into `Item`s on the workers (`items`), and turns each item into canonical
tf.Examples (`read`). Anything that cannot become an example is a `Rejected` outcome: it is
quarantined with a reason and counted, so items found = examples written + rejected. Items the
layout's options exclude on purpose are `Skipped`: counted apart, outside `found`. A whole file
that cannot be read (a CIFAR batch, a TFRecord shard, a label file) is a `LostFile`: not one
item but all its records, so it fails the run unless the layout's `allow_lost_files` is set.
Problems with the layout itself (no label file, unknown layout) raise `LayoutError` instead.

A layout class also answers what the pipeline needs of its dataset before any data is read:
its schema (`schema_file`) and, for a dataset that has one, the synthetic sample the `dev`
profile runs on when no data root is given (`has_sample`, `render_sample`).
"""
import abc
import codecs
import functools
import os
from typing import (Any, ClassVar, Dict, Iterable, Iterator, Mapping, NamedTuple, Optional,
                    Sequence, Tuple, Union)

import tensorflow as tf

from components import schemas
from components.image_codec import BadInput
from components.image_codec import DEFAULT_MAX_PIXELS
from components.image_codec import EMPTY_FILE
from components.image_codec import TOO_MANY_PIXELS
from components.image_codec import UNDECODABLE_IMAGE

# Why an item was quarantined; every Rejected carries one of these. The image reasons
# (EMPTY_FILE, UNDECODABLE_IMAGE, TOO_MANY_PIXELS) come from the image codec.
MISSING_FILE = 'missing_file'            # listed in a label file, absent on disk
MISSING_LABEL = 'missing_label'          # on disk, absent from the label file
LABEL_OUT_OF_RANGE = 'label_out_of_range'
LABEL_MISMATCH = 'label_mismatch'        # label and class name in one record disagree
MALFORMED_ROW = 'malformed_row'          # a CSV or JSON entry that does not parse
BAD_FILE_NAME = 'bad_file_name'          # a name the layout's naming scheme rejects
PATH_ESCAPES_ROOT = 'path_escapes_root'  # '..', absolute, or a symlink to outside the root
UNSAFE_PICKLE = 'unsafe_pickle'
CORRUPT_RECORD_FILE = 'corrupt_record_file'
UNREADABLE_FILE = 'unreadable_file'      # a label file or batch that is not what it should be
REASONS = (EMPTY_FILE, UNDECODABLE_IMAGE, TOO_MANY_PIXELS, MISSING_FILE, MISSING_LABEL,
           LABEL_OUT_OF_RANGE, LABEL_MISMATCH, MALFORMED_ROW, BAD_FILE_NAME, PATH_ESCAPES_ROOT,
           UNSAFE_PICKLE, CORRUPT_RECORD_FILE, UNREADABLE_FILE)


class LayoutError(ValueError):
  """The layout itself is unusable (a required file is missing or unreadable)."""


class Item(NamedTuple):
  """One would-be example: `source` names it (a path, or 'file:line'); `payload` is the
  format's own picklable data (label, box, pixels...)."""
  split: str
  source: str
  payload: Any = None


class Rejected(NamedTuple):
  """A quarantined item: written as a JSON line {source, reason, detail} and counted."""
  source: str
  reason: str
  detail: str

  @classmethod
  def of(cls, source: str, error: BadInput) -> 'Rejected':
    return cls(source, error.reason, error.detail)


class Skipped(NamedTuple):
  """An item the layout's options leave out on purpose (e.g. a box under min_box_size): not
  damaged, so not quarantined, but counted under `skipped` in the counts."""
  source: str
  reason: str
  detail: str


class LostFile(NamedTuple):
  """A whole file that could not be read (a missing or unsafe CIFAR batch, a corrupt or
  truncated TFRecord shard, a label file that is not UTF-8): its records are unaccounted for.
  `records`: how many it holds when the layout knows (CIFAR's published batch sizes), else
  None (unknown). Records read from it before the fault are written as usual."""
  source: str
  reason: str
  detail: str
  records: Optional[int] = None

  @classmethod
  def of(cls, source: str, error: BadInput, records: Optional[int] = None) -> 'LostFile':
    return cls(source, error.reason, error.detail, records)


Outcome = Union[tf.train.Example, Rejected, Skipped, LostFile]


class Layout(abc.ABC):
  """One dataset's published layout under `data_root` (any tf.io.gfile path).

  Subclasses check the layout in `__init__` (raising LayoutError naming the file) and must stay
  picklable: Beam ships them to the workers. `allow_lost_files`: a LostFile is reported in the
  counts instead of failing the run.
  """
  dataset: ClassVar[str]  # the name in the format registry and data_schemas/
  splits: ClassVar[Tuple[str, ...]] = ('train', 'eval')
  has_sample: ClassVar[bool] = False  # whether `render_sample` writes an embedded sample

  def __init__(self, data_root: str, *, seed: int = 0, max_pixels: int = DEFAULT_MAX_PIXELS,
               allow_lost_files: bool = False):
    if not tf.io.gfile.isdir(data_root):
      raise LayoutError(f'{data_root}: data root does not exist or is not a directory')
    if max_pixels < 1:
      raise ValueError(f'max_pixels={max_pixels}: must be >= 1')
    self.data_root = data_root.rstrip('/') or '/'
    self.seed = seed
    self.max_pixels = max_pixels
    self.allow_lost_files = allow_lost_files

  @property
  @abc.abstractmethod
  def class_names(self) -> Tuple[str, ...]:
    """Class names in label order."""

  @abc.abstractmethod
  def sources(self) -> Sequence[Any]:
    """Picklable units of listing work (globs, label files), cheap to compute."""

  @abc.abstractmethod
  def items(self, source: Any) -> Iterable[Union[Item, Rejected]]:
    """Expands one source into items, rejecting entries that are already bad (malformed rows,
    paths escaping the root...). Runs on the workers."""

  @abc.abstractmethod
  def read(self, item: Item) -> Iterator[Outcome]:
    """The item's canonical tf.Example(s). Raise BadInput to quarantine the whole item."""

  def absent_classes(self) -> Dict[str, Tuple[str, ...]]:
    """{split: classes that have no folder of their own there}, for layouts with a folder per
    class (a subset or a partial download): reported in the counts, not an error."""
    return {}

  def fingerprint_paths(self) -> Sequence[str]:
    """Files and folders whose size and modification time stand for the input, so the
    pipeline's cache notices a changed dataset without stat-ing every image."""
    return [self.data_root]

  @classmethod
  def schema_file(cls, data_root: str, options: Mapping[str, Any], *, output_dir: str) -> str:
    """The schema ImportSchemaGen imports: the curated data_schemas/<dataset>.pbtxt, which
    needs neither the data nor `output_dir`. A layout whose classes come from its data
    overrides this: it reads the layout at `data_root` (with reader `options`) and writes the
    schema under `output_dir`."""
    del data_root, options, output_dir  # a curated schema is the same for any data
    return schemas.schema_path(cls.dataset)

  @classmethod
  def render_sample(cls, data_root: str, *, seed: int, train_per_class: int,
                    test_per_class: int, span: int = 1) -> Dict[str, int]:
    """Writes delivery `span` of the dataset's embedded sample (synthetic images in its
    published layout) into `<data_root>/span-<span>/` (`span_folder`): `train_per_class` and
    `test_per_class` base images per class, the same files for the same (seed, span). Span 1
    is the standard delivery; a dataset may shift later spans' distribution. Returns the
    number of images written per folder. LayoutError unless `has_sample`."""
    raise LayoutError(f'Dataset {cls.dataset!r} has no embedded sample')

  # Helpers for subclasses.

  def path(self, relative: str) -> str:
    """`relative` (from a label file or manifest) under the data root; BadInput when it is
    absolute or escapes the root with '..'."""
    normalized = os.path.normpath(relative.replace('\\', '/'))
    if os.path.isabs(relative) or normalized == '..' or normalized.startswith('../'):
      raise BadInput(PATH_ESCAPES_ROOT, f'{relative!r} is outside the data root {self.data_root}')
    return os.path.join(self.data_root, normalized)

  def inside_root(self, path: str) -> str:
    """`path`, a file found under the data root; BadInput(PATH_ESCAPES_ROOT) when a symlink
    (the file or a folder on its way) leads outside the data root."""
    if '://' not in path:  # object stores have no symlinks
      real = os.path.realpath(path)
      if os.path.commonpath([real, self._real_root]) != self._real_root:
        raise BadInput(PATH_ESCAPES_ROOT, f'{path} is a link to {real}, outside the data root '
                       f'{self.data_root}')
    return path

  def read_bytes(self, path: str) -> bytes:
    """The bytes of `path`, a file under the data root; BadInput as `inside_root` and
    `read_bytes`."""
    return read_bytes(self.inside_root(path))

  @functools.cached_property
  def _real_root(self) -> str:
    return os.path.realpath(self.data_root)

  def relative(self, path: str) -> str:
    """`path` relative to the data root, with '/' separators (the example's filename)."""
    return os.path.relpath(path, self.data_root).replace(os.sep, '/')

  def label_of(self, name: str) -> int:
    """The label of class `name`; BadInput(LABEL_OUT_OF_RANGE) when it is not a class."""
    try:
      return self._label_index[name]
    except KeyError:
      raise BadInput(LABEL_OUT_OF_RANGE,
                     f'class {name!r} is not one of the {len(self.class_names)} classes') from None

  def check_label(self, label: int) -> int:
    if not 0 <= label < len(self.class_names):
      raise BadInput(LABEL_OUT_OF_RANGE, f'label {label} not in 0..{len(self.class_names) - 1}')
    return label

  @functools.cached_property
  def _label_index(self) -> Dict[str, int]:
    return {name: label for label, name in enumerate(self.class_names)}


def span_folder(span: int) -> str:
  """The folder of delivery `span` (1, 2, ...) under a data root: 'span-<span>'."""
  return f'span-{span}'


def read_bytes(path: str) -> bytes:
  """The file's bytes; BadInput(MISSING_FILE) when it does not exist, UNDECODABLE_IMAGE when it
  is a folder or unreadable."""
  try:
    with tf.io.gfile.GFile(path, 'rb') as f:
      return f.read()
  except tf.errors.NotFoundError:
    raise BadInput(MISSING_FILE, f'{path} does not exist') from None
  except (tf.errors.FailedPreconditionError,  # e.g. a folder where a file belongs
          tf.errors.PermissionDeniedError) as error:
    raise BadInput(UNDECODABLE_IMAGE, f'{path} is not a readable file ({error.message})') from None


def read_text(path: str) -> str:
  """A label file's text (UTF-8, a leading BOM dropped). BadInput: MISSING_FILE, or
  UNREADABLE_FILE naming the file, line and column of the first byte that is not UTF-8, or
  when it is a folder or unreadable."""
  try:
    data = read_bytes(path)
  except BadInput as error:
    if error.reason == MISSING_FILE:
      raise
    raise BadInput(UNREADABLE_FILE, error.detail) from None
  data = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
  try:
    return data.decode('utf-8')
  except UnicodeDecodeError as error:
    line, line_start = data.count(b'\n', 0, error.start) + 1, data.rfind(b'\n', 0, error.start) + 1
    raise BadInput(UNREADABLE_FILE, f'{path}:{line}: not UTF-8 text (byte '
                   f'0x{data[error.start]:02x} at column {error.start - line_start + 1}); save it '
                   'as UTF-8') from None
