"""The contract every dataset format implements, and the outcomes ingestion counts.

A `Layout` is one dataset's published on-disk layout under a data root. Ingestion asks it for
`sources()` (a short list: globs, label files, pickles; computed where the job is launched),
expands each source into `Item`s on the workers (`items`), and turns each item into canonical
tf.Examples (`read`). Anything that cannot become an example is a `Rejected` outcome: it is
quarantined with a reason and counted, so items found = examples written + rejected. Items the
layout's options exclude on purpose are `Skipped`: counted apart, outside `found`.
Problems with the layout itself (no label file, unknown layout) raise `LayoutError` instead.
"""
import abc
import functools
import hashlib
import os
from typing import Any, ClassVar, Dict, Iterable, Iterator, NamedTuple, Sequence, Tuple, Union

import tensorflow as tf

# Why an item was quarantined; every Rejected carries one of these.
EMPTY_FILE = 'empty_file'
UNDECODABLE_IMAGE = 'undecodable_image'  # corrupt or truncated
TOO_MANY_PIXELS = 'too_many_pixels'
MISSING_FILE = 'missing_file'            # listed in a label file, absent on disk
MISSING_LABEL = 'missing_label'          # on disk, absent from the label file
LABEL_OUT_OF_RANGE = 'label_out_of_range'
LABEL_MISMATCH = 'label_mismatch'        # label and class name in one record disagree
MALFORMED_ROW = 'malformed_row'          # a CSV or JSON entry that does not parse
BAD_FILE_NAME = 'bad_file_name'          # a name the layout's naming scheme rejects
PATH_ESCAPES_ROOT = 'path_escapes_root'
UNSAFE_PICKLE = 'unsafe_pickle'
CORRUPT_RECORD_FILE = 'corrupt_record_file'
REASONS = (EMPTY_FILE, UNDECODABLE_IMAGE, TOO_MANY_PIXELS, MISSING_FILE, MISSING_LABEL,
           LABEL_OUT_OF_RANGE, LABEL_MISMATCH, MALFORMED_ROW, BAD_FILE_NAME, PATH_ESCAPES_ROOT, UNSAFE_PICKLE,
           CORRUPT_RECORD_FILE)

DEFAULT_MAX_PIXELS = 50_000_000  # about 7000 x 7000; ImageNet's largest is under 10M


class LayoutError(ValueError):
  """The layout itself is unusable (a required file is missing or unreadable)."""


class BadInput(Exception):
  """Raised while reading one item: it is quarantined with `reason` and `detail`."""

  def __init__(self, reason: str, detail: str):
    if reason not in REASONS:
      raise ValueError(f'Unknown quarantine reason {reason!r}; known: {REASONS}')
    super().__init__(f'{reason}: {detail}')
    self.reason = reason
    self.detail = detail


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
  damaged, so not quarantined, but counted under `skipped` in the report."""
  source: str
  reason: str
  detail: str


Outcome = Union[tf.train.Example, Rejected, Skipped]


class Layout(abc.ABC):
  """One dataset's published layout under `data_root` (any tf.io.gfile path).

  Subclasses check the layout in `__init__` (raising LayoutError naming the file) and must stay
  picklable: Beam ships them to the workers.
  """
  dataset: ClassVar[str]  # the name in the format registry and data_schemas/
  splits: ClassVar[Tuple[str, ...]] = ('train', 'eval')

  def __init__(self, data_root: str, *, seed: int = 0, max_pixels: int = DEFAULT_MAX_PIXELS):
    if not tf.io.gfile.isdir(data_root):
      raise LayoutError(f'{data_root}: data root does not exist or is not a directory')
    if max_pixels < 1:
      raise ValueError(f'max_pixels={max_pixels}: must be >= 1')
    self.data_root = data_root.rstrip('/') or '/'
    self.seed = seed
    self.max_pixels = max_pixels

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

  def fingerprint_paths(self) -> Sequence[str]:
    """Files and folders whose size and modification time stand for the input, so the
    pipeline's cache notices a changed dataset without stat-ing every image."""
    return [self.data_root]

  # Helpers for subclasses.

  def path(self, relative: str) -> str:
    """`relative` (from a label file or manifest) under the data root; BadInput when it is
    absolute or escapes the root with '..'."""
    normalized = os.path.normpath(relative.replace('\\', '/'))
    if os.path.isabs(relative) or normalized == '..' or normalized.startswith('../'):
      raise BadInput(PATH_ESCAPES_ROOT, f'{relative!r} is outside the data root {self.data_root}')
    return os.path.join(self.data_root, normalized)

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


def read_bytes(path: str) -> bytes:
  """The file's bytes; BadInput(MISSING_FILE) when it does not exist."""
  try:
    with tf.io.gfile.GFile(path, 'rb') as f:
      return f.read()
  except tf.errors.NotFoundError:
    raise BadInput(MISSING_FILE, f'{path} does not exist') from None
  except tf.errors.FailedPreconditionError as error:  # e.g. a folder where a file belongs
    raise BadInput(UNDECODABLE_IMAGE, f'{path} is not a readable file ({error.message})') from None


def stable_fraction(key: str, seed: int) -> float:
  """A uniform number in [0, 1) from `key` and `seed`, the same on every machine and run."""
  digest = hashlib.sha256(f'{seed}:{key}'.encode()).digest()
  return int.from_bytes(digest[:8], 'big') / 2.0**64


def hash_split(key: str, seed: int, eval_fraction: float) -> str:
  """'eval' for about `eval_fraction` of keys, else 'train'; stable for a (key, seed)."""
  return 'eval' if stable_fraction(key, seed) < eval_fraction else 'train'
