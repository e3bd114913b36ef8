"""A synthetic BDD100K in the published layout (formats/bdd100k.py), for tests: frames with
cars, traffic lights, signs, a lane and a drivable area, and their label files."""
import io
import json
import os
from typing import Any, Dict, Tuple

import numpy as np
from PIL import Image
from PIL import ImageDraw
import tensorflow as tf

from components.example_gen.formats import bdd100k

FIXTURE_MIN_SIZE = (64, 40)  # (width, height) px: room for the tallest light
_LAMPS = {'red': (230, 40, 30), 'yellow': (240, 190, 20), 'green': (40, 220, 90)}  # top down
_BRIGHTNESS = {'daytime': 1.0, 'night': .3, 'dawn/dusk': .6, 'undefined': .8}


def _draw(draw: ImageDraw.ImageDraw, category: str, color: str, box: Tuple[int, int, int, int],
          rng: np.random.Generator):
  left, upper, right, lower = box
  if category == bdd100k.LIGHT:  # a dark housing with three lamps, one lit unless colour 'none'
    draw.rectangle((left, upper, right - 1, lower - 1), fill=(25, 25, 25))
    third = (lower - upper) / 3
    for slot, (lamp, rgb) in enumerate(_LAMPS.items()):
      draw.ellipse((left, upper + slot * third, right - 1, upper + (slot + 1) * third - 1),
                   fill=rgb if lamp == color else (70, 70, 70))
  elif category == bdd100k.SIGN:  # a red-rimmed white disc
    draw.ellipse((left, upper, right - 1, lower - 1), fill=(250, 250, 250),
                 outline=(200, 20, 20), width=2)
  else:  # a car
    color = tuple(int(v) for v in rng.integers(0, 256, 3))
    draw.rectangle((left, upper, right - 1, lower - 1), fill=color)


def _frame(rng: np.random.Generator, k: int, split_code: int, image_size: Tuple[int, int],
           first_id: int) -> Tuple[Dict[str, Any], Image.Image]:
  """Frame k of a split: its label-file entry and its picture."""
  width, height = image_size
  attributes = {name: values[(k + split_code) % len(values)]
                for name, values in bdd100k.SCENARIO_VALUES.items()}
  objects = [  # (category, trafficLightColor, (width, height) px)
      ('car', 'none', rng.uniform(20, width / 3) * np.array([1, .6])),
      (bdd100k.LIGHT, bdd100k.LIGHT_COLORS[k % 4],
       rng.uniform(8, 12) * np.array([1, rng.uniform(2.2, 2.6)])),
      (bdd100k.SIGN, 'none', rng.uniform(10, 18) * np.array([1, rng.uniform(.9, 1.1)])),
      (bdd100k.LIGHT, bdd100k.LIGHT_COLORS[(k + 1) % 4],
       rng.uniform(8, 12) * np.array([1, 2.4]))]
  if k % 2:  # a box under DEFAULT_MIN_BOX_SIZE, as BDD has many
    category, color = (bdd100k.LIGHT, 'red') if k % 4 == 1 else (bdd100k.SIGN, 'none')
    objects.append((category, color, rng.uniform(3, 5, 2)))
  sky = np.linspace(200, 120, height)[:, None, None] * np.array([.8, .9, 1.0])
  pixels = np.where(np.arange(height)[:, None, None] < height * .45, sky, 90.0)
  pixels = pixels * _BRIGHTNESS[attributes['timeofday']] + rng.normal(0, 6, (height, width, 3))
  picture = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
  draw = ImageDraw.Draw(picture)
  labels = []
  for category, color, (box_width, box_height) in objects:
    x1, y1 = rng.uniform(0, width - box_width - 1), rng.uniform(0, height - box_height - 1)
    box2d = {'x1': round(x1, 3), 'y1': round(y1, 3), 'x2': round(x1 + box_width, 3),
             'y2': round(y1 + box_height, 3)}
    _draw(draw, category, color, bdd100k.Box('', 0, **box2d).pixels(width, height), rng)
    labels.append({'category': category, 'attributes': {
        'occluded': bool(rng.integers(2)), 'truncated': False, 'trafficLightColor': color},
                   'manualShape': True, 'manualAttributes': True, 'box2d': box2d})
  lane = [[round(rng.uniform(0, width), 3), height - 1.0],
          [round(rng.uniform(0, width), 3), height / 2]]
  draw.line([tuple(point) for point in lane], fill=(235, 235, 235), width=2)
  area = [[0.0, height - 1.0], [round(width / 3, 3), height / 2],
          [round(width * 2 / 3, 3), height / 2], [width - 1.0, height - 1.0]]
  labels += [{'category': 'lane', 'attributes': {
      'laneDirection': 'parallel', 'laneStyle': 'solid', 'laneType': 'road curb'},
              'manualShape': True, 'manualAttributes': True,
              'poly2d': [{'vertices': lane, 'types': 'LL', 'closed': False}]},
             {'category': 'drivable area', 'attributes': {'areaType': 'direct'},
              'manualShape': True, 'manualAttributes': True,
              'poly2d': [{'vertices': area, 'types': 'LLLL', 'closed': True}]}]
  for label_id, label in enumerate(labels, start=first_id):
    label['id'] = label_id
  name = '{:08x}-{:08x}.jpg'.format(*rng.integers(2**32, size=2))
  return {'name': name, 'attributes': attributes, 'timestamp': 10000, 'labels': labels}, picture


def write_fixture(data_root: str, *, frames_per_split: int = 8,
                  image_size: Tuple[int, int] = (1280, 720), seed: int = 0
                  ) -> Dict[str, Dict[str, Any]]:
  """Writes a synthetic BDD100K sample in the published layout under `data_root`.

  Per split (train: images/100k/train and the train labels; eval: images/100k/val and the val
  labels), `frames_per_split` JPEG frames of `image_size` (width, height) px. Frame k has the
  k-th (train) or (k + 1)-th (eval) published value of each attribute, cycling, and labels: a
  car, two traffic lights (colours LIGHT_COLORS[k % 4] and [(k + 1) % 4]), a traffic sign, on
  odd frames a light (k % 4 == 1) or sign (k % 4 == 3) under DEFAULT_MIN_BOX_SIZE, a lane and
  a drivable area; each box is drawn. Label ids run through each file. The same arguments give
  byte-identical files. Returns per split the frames, the crops per class at the default
  min_box_size, and the number of boxes under it ('small').
  """
  if seed < 0 or frames_per_split < 0:
    raise ValueError(f'seed={seed}, frames_per_split={frames_per_split}: must be >= 0')
  if image_size[0] < FIXTURE_MIN_SIZE[0] or image_size[1] < FIXTURE_MIN_SIZE[1]:
    raise ValueError(f'image_size={image_size}: must be at least {FIXTURE_MIN_SIZE}')
  counts = {}
  for split_code, (split, folder) in enumerate(bdd100k.IMAGE_FOLDERS.items()):
    tf.io.gfile.makedirs(os.path.join(data_root, folder))
    frames, crops, small = [], dict.fromkeys(bdd100k.CLASS_NAMES, 0), 0
    for k in range(frames_per_split):
      frame, picture = _frame(np.random.default_rng((seed, split_code, k)), k, split_code,
                              tuple(image_size), sum(len(f['labels']) for f in frames))
      out = io.BytesIO()
      picture.save(out, format='JPEG', quality=90)
      with tf.io.gfile.GFile(os.path.join(data_root, folder, frame['name']), 'wb') as f:
        f.write(out.getvalue())
      frames.append(frame)
      for entry in frame['labels']:
        if entry['category'] not in (bdd100k.LIGHT, bdd100k.SIGN):
          continue
        box = bdd100k.parse_box(entry, set())
        left, upper, right, lower = box.pixels(*image_size)
        if min(right - left, lower - upper) < bdd100k.DEFAULT_MIN_BOX_SIZE:
          small += 1
        else:
          crops[bdd100k.CLASS_NAMES[box.label]] += 1
    tf.io.gfile.makedirs(os.path.join(data_root, 'labels'))
    with tf.io.gfile.GFile(os.path.join(data_root, bdd100k.DEFAULT_LABELS[split]), 'w') as f:
      f.write(json.dumps(frames, indent=4))
    counts[split] = {'frames': frames_per_split, 'crops': crops, 'small': small}
  return counts
