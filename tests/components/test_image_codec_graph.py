"""The graph twin decodes exactly as ingestion's codec does, and checks sizes from headers."""
import io

import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from components import image_codec
from components import image_codec_graph
from components import pixel_rules
import stored_images

CASES = stored_images.parity_cases(height=6, width=10)


@pytest.mark.parametrize('name, data', CASES, ids=[name for name, _ in CASES])
def test_the_graph_decodes_the_pixels_ingestion_decodes_and_stores(name, data):
  ingested = np.asarray(image_codec.decode_rgb(data))
  canonical = image_codec.canonical_image(data)
  stored = np.asarray(Image.open(io.BytesIO(canonical.encoded)))
  served = image_codec_graph.decode_rgb(tf.constant(data)).numpy()
  assert served.dtype == np.uint8 and served.shape == ingested.shape == stored.shape
  np.testing.assert_array_equal(served, ingested)
  np.testing.assert_array_equal(stored, ingested)  # canonical bytes hold exactly these
  turned = name.endswith(('_5', '_6', '_7', '_8'))
  assert (canonical.height, canonical.width) == ((10, 6) if turned else (6, 10))
  if name.startswith('png_16_bit'):
    assert canonical.encoded[24] == 8  # stored as an 8-bit PNG
  if name == 'png_16_bit_grey_50_percent':
    np.testing.assert_array_equal(served, 128)  # mid-grey, not white


@pytest.mark.parametrize('orientation', range(1, 9))
def test_orientation_turns_the_stored_pixels_upright(orientation):
  """A stored image is the upright one with the inverse turn; decoding undoes it."""
  upright = stored_images.gradient(24, 40)
  steps = pixel_rules.ORIENTATIONS[orientation]
  stored = upright
  # Undo the steps in reverse order (each step is its own inverse).
  if steps.flip_up_down:
    stored = stored[::-1]
  if steps.flip_left_right:
    stored = stored[:, ::-1]
  if steps.transpose:
    stored = stored.transpose(1, 0, 2)
  data = stored_images.jpeg(np.ascontiguousarray(stored), orientation)
  decoded = image_codec_graph.decode_rgb(tf.constant(data)).numpy()
  assert decoded.shape == upright.shape
  assert np.abs(decoded.astype(int) - upright).mean() < 2  # JPEG's loss only


@pytest.mark.parametrize('value', [0, 9, 300])
def test_orientation_values_outside_1_to_8_leave_pixels_as_stored(value):
  pixels = stored_images.gradient(6, 10)
  data = stored_images.jpeg(pixels, value)
  assert int(image_codec_graph.exif_orientation(tf.constant(data))) == (value or 1)
  np.testing.assert_array_equal(image_codec_graph.decode_rgb(tf.constant(data)).numpy(),
                                image_codec_graph.decode_rgb(tf.constant(
                                    stored_images.jpeg(pixels))).numpy())


def test_the_exif_segment_is_found_after_other_segments():
  """A JFIF APP0 and a comment come first; the orientation still counts."""
  data = stored_images.jpeg(stored_images.gradient(6, 10), 6)
  comment = b'\xff\xfe\x00\x07hello'
  jfif = b'\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00'
  data = data[:2] + jfif + comment + data[2:]
  assert int(image_codec_graph.exif_orientation(tf.constant(data))) == 6
  assert image_codec.decode_rgb(data).size == (6, 10)  # Pillow agrees: turned


def test_header_size_reads_jpeg_and_png_headers_without_decoding():
  png = stored_images.black_png(7072, 7072)
  assert image_codec_graph.header_size(tf.constant(png)).numpy().tolist() == [7072, 7072]
  jpeg = stored_images.jpeg(stored_images.gradient(6, 10), 6)
  assert image_codec_graph.header_size(tf.constant(jpeg)).numpy().tolist() == [6, 10]
  assert image_codec_graph.header_size(tf.constant(b'BM garbage')).numpy().tolist() == [-1, -1]


def test_the_pixel_limit_refuses_the_first_image_over_it():
  small, large = (stored_images.jpeg(stored_images.gradient(6, 10)),
                  stored_images.png_16_bit(np.zeros((7, 10), np.uint16)))
  batch = tf.constant([small, large])
  assert image_codec_graph.within_pixel_limit(batch, 70).numpy().tolist() == [small, large]
  with pytest.raises(tf.errors.InvalidArgumentError, match=(
      r'image 1 of the batch is 10x7 pixels, over the limit of 69 pixels \(the ingestion '
      r'limit\); it was not decoded')):
    image_codec_graph.within_pixel_limit(batch, 69)
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match='image 1 of the batch is neither JPEG nor PNG'):
    image_codec_graph.within_pixel_limit(tf.constant([small, b'GIF89a\xff\x00']), 70)
  assert image_codec_graph.within_pixel_limit(tf.constant([], tf.string), 1).shape == (0,)


def test_ingestion_and_serving_refuse_the_same_large_image():
  data = stored_images.black_png(7072, 7072)  # 50,013,184 pixels
  assert 7072 * 7072 > image_codec.DEFAULT_MAX_PIXELS > 7071 * 7071
  with pytest.raises(image_codec.BadInput) as error:
    image_codec.canonical_image(data)
  assert error.value.reason == image_codec.TOO_MANY_PIXELS
  with pytest.raises(tf.errors.InvalidArgumentError, match='7072x7072 pixels, over the limit'):
    image_codec_graph.within_pixel_limit(tf.constant([data]), image_codec.DEFAULT_MAX_PIXELS)


@pytest.mark.parametrize('data', [b'', b'plain text', stored_images.jpeg(
    stored_images.gradient(6, 10))[:200]])
def test_bytes_that_are_no_image_are_invalid_argument(data):
  with pytest.raises(tf.errors.InvalidArgumentError):
    image_codec_graph.decode_rgb(tf.constant(data))
