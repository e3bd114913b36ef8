"""The decode rules ingestion and serving share, checked against independent references."""
import io

import numpy as np
from PIL import Image
from PIL import ImageOps
import pytest

from components import pixel_rules


def _steps_applied(pixels: np.ndarray, steps: pixel_rules.Orientation) -> np.ndarray:
  if steps.transpose:
    pixels = pixels.transpose(1, 0, 2)
  if steps.flip_left_right:
    pixels = pixels[:, ::-1]
  if steps.flip_up_down:
    pixels = pixels[::-1]
  return pixels


@pytest.mark.parametrize('orientation', range(1, 9))
def test_each_orientation_turns_pixels_as_pillows_exif_transpose(orientation):
  stored = np.arange(3 * 5 * 3, dtype=np.uint8).reshape(3, 5, 3)  # every pixel distinct
  image = Image.fromarray(stored)
  exif = Image.Exif()
  exif[pixel_rules.EXIF_ORIENTATION_TAG] = orientation
  out = io.BytesIO()
  image.save(out, format='PNG', exif=exif.tobytes())  # lossless, so the pixels stay exact
  expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(out.getvalue()))))
  np.testing.assert_array_equal(
      _steps_applied(stored, pixel_rules.ORIENTATIONS[orientation]), expected)


def test_unknown_orientations_are_not_in_the_table():
  assert sorted(pixel_rules.ORIENTATIONS) == list(range(1, 9))
  assert pixel_rules.ORIENTATIONS[1] == pixel_rules.UPRIGHT


def test_16_bit_samples_scale_to_the_nearest_8_bit_level():
  samples = np.arange(65536, dtype=np.int64)
  scaled = pixel_rules.to_8_bits(samples)
  np.testing.assert_array_equal(scaled, np.round(samples * 255 / 65535).astype(np.int64))
  assert pixel_rules.to_8_bits(np.int64(32768)) == 128  # 50% grey stays mid-grey
  assert (pixel_rules.to_8_bits(np.int64(0)), pixel_rules.to_8_bits(np.int64(65535))) == (0, 255)
  # An 8-bit value widened the PNG way (v * 257) comes back as itself.
  np.testing.assert_array_equal(pixel_rules.to_8_bits(np.arange(256) * 257), np.arange(256))
