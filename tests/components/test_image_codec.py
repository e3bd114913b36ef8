"""The canonical image encoding and the image checks every format shares."""
import io

import numpy as np
from PIL import Image
import pytest

from components import image_codec
import stored_images


def _encode(image, image_format, **kwargs) -> bytes:
  out = io.BytesIO()
  image.save(out, format=image_format, **kwargs)
  return out.getvalue()


def _decode(data):
  return np.asarray(Image.open(io.BytesIO(data)))


def _gradient(mode='RGB', size=(24, 16)):
  y, x = np.mgrid[:size[1], :size[0]]
  rgb = np.stack([x * 10, y * 15, (x + y) * 5], axis=-1).astype(np.uint8)
  return Image.fromarray(rgb, 'RGB').convert(mode)


def test_rgb_jpeg_and_png_pass_through_untouched():
  for image_format, name in (('JPEG', 'jpeg'), ('PNG', 'png')):
    data = _encode(_gradient(), image_format)
    image = image_codec.canonical_image(data)
    assert image == (data, name, 16, 24)


def test_a_png_named_jpeg_is_recorded_as_png():
  data = _encode(_gradient(), 'PNG')
  assert image_codec.canonical_image(data).image_format == 'png'  # the name plays no part


@pytest.mark.parametrize('mode', ['CMYK', 'L'])
def test_cmyk_and_grayscale_jpeg_become_rgb_jpeg(mode):
  source = _gradient(mode)
  image = image_codec.canonical_image(_encode(source, 'JPEG', quality=95))
  assert image.image_format == 'jpeg'
  decoded = Image.open(io.BytesIO(image.encoded))
  assert decoded.mode == 'RGB' and decoded.size == (24, 16)
  expected = np.asarray(Image.open(io.BytesIO(_encode(source, 'JPEG', quality=95))).convert('RGB'))
  assert np.abs(np.asarray(decoded).astype(int) - expected).mean() < 3  # one re-encoding


def test_other_formats_become_lossless_rgb_png():
  source = _gradient()
  for data in (_encode(source, 'BMP'), _encode(source, 'PPM'), _encode(source.convert('P'), 'PNG'),
               _encode(source.convert('RGBA'), 'PNG')):
    image = image_codec.canonical_image(data)
    assert image.image_format == 'png'
    np.testing.assert_array_equal(_decode(image.encoded), np.asarray(Image.open(
        io.BytesIO(data)).convert('RGB')))


@pytest.mark.parametrize('data, reason', [
    (b'', image_codec.EMPTY_FILE),
    (b'plain text', image_codec.UNDECODABLE_IMAGE),
    (_encode(_gradient(), 'JPEG')[:200], image_codec.UNDECODABLE_IMAGE),  # truncated
    (_encode(_gradient(), 'PNG')[:60], image_codec.UNDECODABLE_IMAGE),
])
def test_bad_bytes_raise_bad_input_with_the_reason(data, reason):
  with pytest.raises(image_codec.BadInput) as error:
    image_codec.canonical_image(data)
  assert error.value.reason == reason


def test_the_pixel_limit_is_checked_before_decoding():
  data = _encode(_gradient(size=(100, 50)), 'PNG')
  assert image_codec.canonical_image(data, max_pixels=5000).width == 100
  with pytest.raises(image_codec.BadInput,
                     match='100x50 is over the limit of 4999 pixels') as error:
    image_codec.canonical_image(data, max_pixels=4999)
  assert error.value.reason == image_codec.TOO_MANY_PIXELS


def test_crops_are_exact_png_regions():
  source = _gradient()
  crop = image_codec.from_pixels(image_codec.decode_rgb(_encode(source, 'PNG')).crop(
      (3, 2, 13, 9)))
  assert (crop.image_format, crop.height, crop.width) == ('png', 7, 10)
  np.testing.assert_array_equal(_decode(crop.encoded), np.asarray(source)[2:9, 3:13])


def test_a_turned_jpeg_is_stored_upright_as_lossless_png_and_an_upright_one_untouched():
  pixels = stored_images.gradient(16, 24)
  upright = stored_images.jpeg(pixels, 1)
  assert image_codec.canonical_image(upright) == (upright, 'jpeg', 16, 24)
  turned = stored_images.jpeg(pixels, 6)  # stored 90 degrees counter-clockwise
  image = image_codec.canonical_image(turned)
  assert (image.image_format, image.height, image.width) == ('png', 24, 16)
  as_stored = _decode(turned)  # Pillow ignores the EXIF turn when it decodes
  np.testing.assert_array_equal(_decode(image.encoded), np.rot90(as_stored, k=-1))
  assert 'exif' not in Image.open(io.BytesIO(image.encoded)).info


def test_16_bit_pngs_are_scaled_to_8_bits_not_clipped():
  grey = image_codec.canonical_image(stored_images.png_16_bit(
      np.array([[0, 257, 32768, 65535]], np.uint16)))
  assert (grey.image_format, grey.encoded[24]) == ('png', 8)
  np.testing.assert_array_equal(_decode(grey.encoded)[0], [[0] * 3, [1] * 3, [128] * 3,
                                                           [255] * 3])
  rgb = image_codec.canonical_image(stored_images.png_16_bit(
      np.array([[[65535, 32768, 128], [255, 256, 384]]], np.uint16)))
  np.testing.assert_array_equal(_decode(rgb.encoded), [[[255, 128, 0], [1, 1, 1]]])
