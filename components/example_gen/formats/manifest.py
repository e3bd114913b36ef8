"""A user's own image dataset described by a CSV manifest: read it into canonical
tf.Examples, build its schema, or write a fixture.

Layout:

  <data_root>/manifest.csv   (option `manifest`): a header, then one row per image
  <data_root>/classes.txt    optional (option `classes`): one class name per line; line
                             order is label order
  <data_root>/<path>         the images, in any format PIL reads (JPEG, PNG, BMP...)

  path,label,split,scenario/weather
  images/cat/day/cat_000.jpg,cat,train,rain

`path` is relative to the data root (absolute paths and '..' escapes are quarantined);
`label` is a class name. Optional columns: `split` (train | eval | test: test rows are a
published test split, evaluated beside eval but never gating; without the column each path
goes to eval with probability `eval_fraction`, stably for a seed) and any number of
`scenario/<name>` columns, emitted as scenario features ('unknown' for an empty cell).
Without a classes file the class list is the sorted set of the manifest's labels.
A row is one physical line: quoted cells may hold commas, not line breaks. Blank lines are
skipped; a row's source in the quarantine is '<manifest>:<line>' (the header is line 1). Both
files are UTF-8: a byte that is not is a LayoutError naming the file and line.
"""
import csv
import io
import os
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
from PIL import Image
import tensorflow as tf
from tensorflow_metadata.proto.v0 import schema_pb2

from components import features
from components import image_codec
from components import schemas
from components import stable_hash
from components.example_gen import layout

PATH, LABEL, SPLIT = 'path', 'label', 'split'
DEFAULT_MANIFEST = 'manifest.csv'
DEFAULT_CLASSES = 'classes.txt'
CLASS_NAMES_DOMAIN = 'class_names'  # the string domain of the class text in the schema


class Manifest(layout.Layout):
  """The rows of a CSV manifest, read in chunks of `lines_per_source` lines by the workers.

  Launching costs one sequential pass over the CSV: it checks the header, notes the byte
  offset of every chunk, collects the labels (the class list when there is no classes file)
  and finds repeated paths (their later rows are quarantined as MALFORMED_ROW), holding every
  distinct path in memory. Measured here: 200,000 rows of 60-character paths in 1.8 s, with a
  peak of 190 bytes per row.
  """
  dataset = 'manifest'
  splits = ('train', 'eval', 'test')

  def __init__(self, data_root: str, *, manifest: str = DEFAULT_MANIFEST,
               classes: Optional[str] = None, eval_fraction: float = 0.2,
               lines_per_source: int = 10_000, **options):
    """`manifest`, `classes`: paths relative to the data root; `classes` defaults to
    classes.txt when that exists. `eval_fraction`: used only without a split column."""
    super().__init__(data_root, **options)
    if not 0 <= eval_fraction <= 1:
      raise ValueError(f'eval_fraction={eval_fraction}: must be in [0, 1]')
    if lines_per_source < 1:
      raise ValueError(f'lines_per_source={lines_per_source}: must be >= 1')
    self.manifest = manifest
    self.eval_fraction = eval_fraction
    self.manifest_path = os.path.join(self.data_root, manifest)
    if not tf.io.gfile.exists(self.manifest_path):
      raise layout.LayoutError(f'{self.manifest_path}: manifest does not exist')
    self.classes_path = os.path.join(self.data_root, classes or DEFAULT_CLASSES)
    if not tf.io.gfile.exists(self.classes_path):
      if classes:
        raise layout.LayoutError(f'{self.classes_path}: classes file does not exist')
      self.classes_path = None
    with tf.io.gfile.GFile(self.manifest_path, 'rb') as f:
      self.columns = self._check_header(f.readline())
      self._sources, self._duplicates, labels = self._scan(f, lines_per_source)
    if self.classes_path:
      self._class_names = _read_classes(self.classes_path)
    else:
      self._class_names = tuple(sorted(labels))
    if not self._class_names:
      raise layout.LayoutError(f'{self.manifest_path}: no row has a label, and there is no '
                               f'classes file to give the class list')

  @property
  def class_names(self) -> Tuple[str, ...]:
    return self._class_names

  @property
  def scenario_names(self) -> Tuple[str, ...]:
    """The `scenario/<name>` columns' names, in header order."""
    return tuple(column[len(features.SCENARIO_PREFIX):] for column in self.columns
                 if column.startswith(features.SCENARIO_PREFIX))

  def sources(self) -> List[Tuple[int, int, int]]:
    """(byte offset, first line number, number of lines): chunks of the manifest."""
    return self._sources

  def items(self, source: Tuple[int, int, int]
            ) -> Iterator[Union[layout.Item, layout.Rejected]]:
    offset, first_line, num_lines = source
    with tf.io.gfile.GFile(self.manifest_path, 'rb') as f:
      f.seek(offset)
      for line_number in range(first_line, first_line + num_lines):
        raw = f.readline()
        if not raw.strip():
          continue
        item_source = f'{self.manifest}:{line_number}'
        try:
          yield self._item(raw, line_number, item_source)
        except layout.BadInput as error:
          yield layout.Rejected.of(item_source, error)

  def read(self, item: layout.Item) -> Iterator[tf.train.Example]:
    relative, label, scenario = item.payload
    image = image_codec.canonical_image(self.read_bytes(self.path(relative)),
                                        max_pixels=self.max_pixels)
    yield features.make_example(
        encoded=image.encoded, image_format=image.image_format, height=image.height,
        width=image.width, filename=relative, label=label,
        label_text=self.class_names[label], scenario=scenario)

  def fingerprint_paths(self) -> List[str]:
    return [path for path in (self.manifest_path, self.classes_path) if path]

  def schema(self) -> schema_pb2.Schema:
    """data_schemas/manifest.pbtxt filled in for this manifest: its class list (label max
    included) and one string feature per scenario column, present in every example."""
    result = schemas.load_schema(schemas.schema_path(self.dataset))
    label = next(f for f in result.feature if f.name == features.LABEL)
    label.int_domain.max = len(self.class_names) - 1
    domain = next(d for d in result.string_domain if d.name == CLASS_NAMES_DOMAIN)
    domain.value.extend(self.class_names)
    for name in self.scenario_names:
      feature = result.feature.add(name=features.scenario_key(name), type=schema_pb2.BYTES)
      feature.presence.min_fraction = 1.0
      feature.presence.min_count = 1
      feature.shape.dim.add(size=1)
    return result

  @classmethod
  def schema_file(cls, data_root: str, options: Mapping[str, Any], *, output_dir: str) -> str:
    """The `schema()` of the manifest at `data_root`, written as <output_dir>/manifest.pbtxt:
    the classes and scenario columns are the user's, so there is no curated file."""
    path = os.path.join(output_dir, f'{cls.dataset}.pbtxt')
    schemas.write_schema(cls(data_root, **options).schema(), path)
    return path

  def _scan(self, f, lines_per_source: int
            ) -> Tuple[List[Tuple[int, int, int]], Dict[int, int], set]:
    """The launch pass over the rows of the open manifest `f`: the sources, {line of a
    repeated path: line of its first row}, and the labels seen."""
    sources, duplicates, labels, first_line_of = [], {}, set(), {}
    line_number = 1
    while True:
      offset = f.tell()  # not a sum of line lengths: readline drops the '\r' of '\r\n'
      raw = f.readline()
      if not raw:
        break
      line_number += 1
      if (line_number - 2) % lines_per_source == 0:
        sources.append((offset, line_number, lines_per_source))
      try:
        row = self._row(raw)
        path = self.path(row[PATH])  # normalized: 'a/./b.jpg' repeats 'a/b.jpg'
      except layout.BadInput as error:
        if error.reason == layout.UNREADABLE_FILE:
          raise layout.LayoutError(f'{self.manifest_path}:{line_number}: {error.detail}') from None
        continue  # rejected with its reason on the workers
      labels.add(row[LABEL])
      if path in first_line_of:
        duplicates[line_number] = first_line_of[path]
      else:
        first_line_of[path] = line_number
    if sources:  # the last chunk ends at the last line
      offset, first, _ = sources[-1]
      sources[-1] = (offset, first, line_number - first + 1)
    return sources, duplicates, labels

  def _check_header(self, header: bytes) -> Tuple[str, ...]:
    try:
      columns = tuple(cell.strip() for cell in next(csv.reader(
          [header.decode('utf-8-sig')], strict=True), []))
    except (UnicodeDecodeError, csv.Error) as error:
      raise layout.LayoutError(f'{self.manifest_path}:1: unreadable header ({error})') from None
    problems = [f'no {name!r} column' for name in (PATH, LABEL) if name not in columns]
    unknown = [c for c in columns if c not in (PATH, LABEL, SPLIT)
               and not (c.startswith(features.SCENARIO_PREFIX)
                        and len(c) > len(features.SCENARIO_PREFIX))]
    if unknown:
      problems.append(f'unknown column(s) {unknown}')
    if len(set(columns)) != len(columns):
      problems.append('a repeated column')
    if problems:
      raise layout.LayoutError(
          f'{self.manifest_path}: header {list(columns)} has {"; ".join(problems)}; expected '
          f'{PATH},{LABEL} and optionally {SPLIT} and {features.SCENARIO_PREFIX}<name> columns')
    return columns

  def _row(self, raw: bytes) -> Dict[str, str]:
    """The line's cells by column; BadInput(MALFORMED_ROW) unless it has every column and a
    path and a label."""
    try:
      cells = next(csv.reader([raw.decode('utf-8')], strict=True))
    except UnicodeDecodeError as error:
      raise layout.BadInput(layout.UNREADABLE_FILE, f'not UTF-8 text (byte '
                            f'0x{raw[error.start]:02x} at column {error.start + 1}); save the '
                            'manifest as UTF-8') from None
    except csv.Error as error:
      raise layout.BadInput(layout.MALFORMED_ROW, f'not a CSV row ({error})') from None
    if len(cells) != len(self.columns):
      raise layout.BadInput(layout.MALFORMED_ROW, f'{len(cells)} cells, but the header has '
                            f'{len(self.columns)} columns {list(self.columns)}')
    row = {column: cell.strip() for column, cell in zip(self.columns, cells)}
    for column in (PATH, LABEL):
      if not row[column]:
        raise layout.BadInput(layout.MALFORMED_ROW, f'empty {column}')
    return row

  def _item(self, raw: bytes, line_number: int, source: str) -> layout.Item:
    row = self._row(raw)
    relative = self.relative(self.path(row[PATH]))
    if line_number in self._duplicates:
      raise layout.BadInput(layout.MALFORMED_ROW, f'{relative} is already listed on line '
                            f'{self._duplicates[line_number]}')
    label = self.label_of(row[LABEL])
    if SPLIT in row:
      split = row[SPLIT]
      if split not in self.splits:
        raise layout.BadInput(layout.MALFORMED_ROW,
                              f'split {split!r} is not one of {list(self.splits)}')
    else:
      split = stable_hash.hash_split(relative, self.seed, self.eval_fraction)
    scenario = {name: row[features.scenario_key(name)] or features.UNKNOWN_SCENARIO
                for name in self.scenario_names}
    return layout.Item(split, source, (relative, label, scenario))


def _read_classes(path: str) -> Tuple[str, ...]:
  try:
    names = [line.strip() for line in layout.read_text(path).splitlines()]
  except layout.BadInput as error:
    raise layout.LayoutError(error.detail) from None
  while names and not names[-1]:
    names.pop()
  problems = [f'line {n} is empty' for n, name in enumerate(names, 1) if not name]
  repeated = sorted({name for name in names if names.count(name) > 1})
  if repeated:
    problems.append(f'{repeated} repeated')
  if problems:
    raise layout.LayoutError(f'{path}: {"; ".join(problems)} (one class name per line, line '
                             'order = label)')
  return tuple(names)


# Fixture writer.

IMAGE_FORMATS = (('jpg', 'JPEG'), ('png', 'PNG'), ('bmp', 'BMP'))  # (extension, PIL format)


def write_fixture(data_root: str, *, classes: Sequence[str] = ('cat', 'dog', 'bird'),
                  per_class: int = 4,
                  scenario_columns: Optional[Mapping[str, Sequence[str]]] = None,
                  with_split: bool = True, with_classes_file: bool = False,
                  seed: int = 0) -> Dict[str, Dict[str, Any]]:
  """Writes `per_class` images per class under `data_root`/images/<class>/{day,night}/ and a
  manifest.csv listing them in an order shuffled by `seed`.

  Image k of class c is `<c>_<k:03d>` in the k-th of (JPEG, PNG, BMP), cycling, in folder
  'day' for even k and 'night' for odd; RGB noise of 8..24 px a side. With `with_split`
  there is a split column: eval for k % 4 == 3, else train. `scenario_columns` maps a
  scenario name to the values that rows take in turn, in manifest order ('' is an empty
  cell); default {'weather': ('clear', 'rain', '')}. `with_classes_file`: also write
  classes.txt in `classes` order.
  Returns, per image path: 'line' (in the manifest), 'label' (class name), 'split' (None
  without a split column) and 'scenario' {name: cell}.
  """
  if per_class < 1 or not classes:
    raise ValueError(f'classes={classes}, per_class={per_class}: need a class and an image')
  if scenario_columns is None:
    scenario_columns = {'weather': ('clear', 'rain', '')}
  rng = np.random.default_rng(seed)
  rows = []
  for class_index, name in enumerate(classes):
    for k in range(per_class):
      extension, pil_format = IMAGE_FORMATS[k % len(IMAGE_FORMATS)]
      relative = f'images/{name}/{"night" if k % 2 else "day"}/{name}_{k:03d}.{extension}'
      height, width = rng.integers(8, 25, size=2)
      pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
      out = io.BytesIO()
      Image.fromarray(pixels).save(out, format=pil_format)
      tf.io.gfile.makedirs(os.path.dirname(os.path.join(data_root, relative)))
      with tf.io.gfile.GFile(os.path.join(data_root, relative), 'wb') as f:
        f.write(out.getvalue())
      rows.append((relative, name, 'eval' if k % 4 == 3 else 'train'))
  rows = [rows[i] for i in rng.permutation(len(rows))]
  header = [PATH, LABEL] + ([SPLIT] if with_split else []) + [
      features.scenario_key(name) for name in scenario_columns]
  written = {}
  text = io.StringIO()
  writer = csv.writer(text, lineterminator='\n')
  writer.writerow(header)
  for index, (relative, name, split) in enumerate(rows):
    scenario = {column: values[index % len(values)]
                for column, values in scenario_columns.items()}
    writer.writerow([relative, name] + ([split] if with_split else []) + list(scenario.values()))
    written[relative] = {'line': index + 2, 'label': name,
                         'split': split if with_split else None, 'scenario': scenario}
  with tf.io.gfile.GFile(os.path.join(data_root, DEFAULT_MANIFEST), 'w') as f:
    f.write(text.getvalue())
  if with_classes_file:
    with tf.io.gfile.GFile(os.path.join(data_root, DEFAULT_CLASSES), 'w') as f:
      f.write(''.join(f'{name}\n' for name in classes))
  return written
