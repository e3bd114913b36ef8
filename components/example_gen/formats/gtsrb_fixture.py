"""A tiny GTSRB in either published edition (formats/gtsrb.py), for tests."""
import io
import os
from typing import Dict, Sequence, Tuple, Union

import numpy as np
from PIL import Image
import tensorflow as tf

from components.example_gen.formats import gtsrb

# The test images' columns without ClassId, as published in Final_Test/Images.
ORIGINAL_UNLABELLED_CSV = gtsrb.CsvFormat(';', ('Filename',) + gtsrb.NUMBER_COLUMNS[:-1],
                                          'Filename')
# Image side per frame (per test index), cycling: ROIs land in 'small', 'medium', 'large'.
FIXTURE_SIDES = (20, 48, 80)
# Kaggle Meta.csv 'ShapeId,ColorId,SignId' by ClassId, as published.
_META = (
    '1,0,3.29', '1,0,3.29', '1,0,3.29', '1,0,3.29', '1,0,3.29', '1,0,3.29', '1,3,3.3',
    '1,0,3.29', '1,0,3.29', '1,0,3.25', '1,0,3.27', '0,0,1.22', '2,2,2.3', '4,0,2.1', '3,0,2.2',
    '1,0,3.1', '1,0,3.3', '1,0,3.21', '0,0,1.39', '0,0,1.2', '0,0,1.1', '0,0,1.3.2', '0,0,1.1',
    '0,0,1.13', '0,0,1.5.2', '0,0,1.37', '0,0,1.24', '0,0,1.32', '0,0,1.33', '0,0,1.34',
    '0,0,None', '0,0,1.36', '1,3,3.42', '1,1,4.2', '1,1,4.3', '1,1,4.1', '1,1,4.4', '1,1,4.5',
    '1,1,4.7', '1,1,4.8', '1,1,4.1', '1,3,3.26', '1,3,3.28')


def _fixture_image(stream: Tuple[int, ...], side: int, class_id: int
                   ) -> Tuple[np.ndarray, gtsrb.Annotation]:
  """Random RGB pixels about `side` px square, and a ROI leaving a 4-6 px border."""
  rng = np.random.default_rng(stream)
  width, height = (side + int(rng.integers(-2, 3)) for _ in range(2))
  left, top, right, bottom = (int(rng.integers(4, 7)) for _ in range(4))
  pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
  return pixels, gtsrb.Annotation(width, height, left, top, width - 1 - right,
                                  height - 1 - bottom, class_id)


def _write(path: str, data: Union[bytes, str]):
  tf.io.gfile.makedirs(os.path.dirname(path))
  with tf.io.gfile.GFile(path, 'wb') as f:
    f.write(data.encode() if isinstance(data, str) else data)


def _write_image(path: str, pixels: np.ndarray, image_format: str):
  out = io.BytesIO()
  Image.fromarray(pixels).save(out, format=image_format)
  _write(path, out.getvalue())


def _write_csv(path: str, csv_format: gtsrb.CsvFormat,
               rows: Sequence[Tuple[str, gtsrb.Annotation]]):
  """The header and one line per row, LF line ends and a final newline (as in the Kaggle
  files; the reader takes CRLF too)."""
  _write(path, ''.join(line + '\n' for line in [csv_format.header_line] +
                       [csv_format.format_row(name, annotation) for name, annotation in rows]))


def write_fixture(data_root: str, *, edition: str = 'original',
                  classes: Sequence[int] = (0, 1, 14), tracks_per_class: int = 2,
                  frames_per_track: int = 3, test_per_class: int = 2, seed: int = 0,
                  unzipped: bool = False) -> Dict[str, gtsrb.Annotation]:
  """Writes a tiny GTSRB under `data_root` in its published `edition` ('original' | 'kaggle').
  `unzipped` (original edition): as the three official zips unpack, the image folders under
  GTSRB/ and GT-final_test.csv beside it; else both in Final_Test/Images/ under the data root.

  Train: per class, `tracks_per_class` tracks of `frames_per_track` frames, image sides cycling
  through FIXTURE_SIDES (+-2 px) frame by frame. Test: `test_per_class` images per class in a
  seeded random order. Pixels are random, one stream per image from (seed, image), the same in
  both editions. Returns {image path relative to data_root: its Annotation}.
  """
  if edition not in gtsrb.EDITIONS:
    raise ValueError(f'edition={edition!r}: choose from {gtsrb.EDITIONS}')
  if seed < 0:
    raise ValueError(f'seed={seed}: must be >= 0')
  if unzipped and edition != 'original':
    raise ValueError(f'unzipped=True: only the original edition comes in zips, not {edition!r}')
  under = f'{gtsrb.ZIP_FOLDER}/' if unzipped else ''  # where the image folders go
  class_ids = set(range(len(gtsrb.CLASS_NAMES)))
  if len(set(classes)) != len(classes) or not set(classes) <= class_ids:
    raise ValueError(f'classes={classes}: distinct ClassIds in 0..{len(gtsrb.CLASS_NAMES) - 1}')
  counts = (tracks_per_class, frames_per_track, test_per_class * len(classes))
  if not all(0 <= count <= 99999 for count in counts):
    raise ValueError(f'tracks_per_class, frames_per_track, test images = {counts}: each must '
                     'be in 0..99999 (five-digit names)')
  written = {}

  def add(path, stream, side, class_id) -> gtsrb.Annotation:
    pixels, annotation = _fixture_image(stream, side, class_id)
    _write_image(os.path.join(data_root, path), pixels, 'PPM' if edition == 'original' else 'PNG')
    written[path] = annotation
    return annotation

  train_rows = []  # (name in its label file, annotation), every class
  for class_id in classes:
    rows = []
    for track in range(tracks_per_class):
      for frame in range(frames_per_track):
        stream, side = (seed, 0, class_id, track, frame), FIXTURE_SIDES[frame % 3]
        if edition == 'original':
          name = f'{track:05d}_{frame:05d}.ppm'
          rows.append((name, add(f'{under}{gtsrb.TRAIN_FOLDER}/{class_id:05d}/{name}', stream,
                                 side, class_id)))
        else:
          path = f'{gtsrb.KAGGLE_TRAIN}/{class_id}/{class_id:05d}_{track:05d}_{frame:05d}.png'
          rows.append((path, add(path, stream, side, class_id)))
    if edition == 'original':
      _write_csv(os.path.join(data_root, under + gtsrb.TRAIN_FOLDER, f'{class_id:05d}',
                              f'GT-{class_id:05d}.csv'), gtsrb.ORIGINAL_CSV, rows)
    train_rows += rows

  order = np.random.default_rng((seed, 1)).permutation(np.repeat(classes, test_per_class))
  test_rows = []
  for index, class_id in enumerate(order.tolist()):
    stream, side = (seed, 2, index), FIXTURE_SIDES[index % 3]
    if edition == 'original':
      name = f'{index:05d}.ppm'
      test_rows.append((name, add(f'{under}{gtsrb.TEST_FOLDER}/{name}', stream, side,
                                  class_id)))
    else:
      path = f'{gtsrb.KAGGLE_TEST}/{index:05d}.png'
      test_rows.append((path, add(path, stream, side, class_id)))

  if edition == 'original':
    folder = os.path.join(data_root, under + gtsrb.TEST_FOLDER)
    _write_csv(os.path.join(folder, 'GT-final_test.test.csv'), ORIGINAL_UNLABELLED_CSV,
               test_rows)
    _write_csv(os.path.join(data_root if unzipped else folder, gtsrb.TEST_LABELS),
               gtsrb.ORIGINAL_CSV, test_rows)
  else:
    _write_csv(os.path.join(data_root, f'{gtsrb.KAGGLE_TRAIN}.csv'), gtsrb.KAGGLE_CSV,
               train_rows)
    _write_csv(os.path.join(data_root, f'{gtsrb.KAGGLE_TEST}.csv'), gtsrb.KAGGLE_CSV, test_rows)
    meta = ['Path,ClassId,ShapeId,ColorId,SignId']
    for class_id in sorted(classes, key=str):  # rows in file-name order
      icon = np.random.default_rng((seed, 3, class_id)).integers(0, 256, (16, 16, 4), np.uint8)
      _write_image(os.path.join(data_root, 'Meta', f'{class_id}.png'), icon, 'PNG')
      meta.append(f'Meta/{class_id}.png,{class_id},{_META[class_id]}')
    _write(os.path.join(data_root, 'Meta.csv'), ''.join(line + '\n' for line in meta))
  return written
