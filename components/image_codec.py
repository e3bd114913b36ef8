"""Turns an image file's bytes into the canonical encoding: upright 8-bit RGB, as JPEG or PNG.

The pixels follow components/pixel_rules.py (EXIF orientation applied, 16-bit scaled to 8
bits), the table the graph twin components/image_codec_graph.py follows when serving decodes
raw bytes: `decode_rgb` here and there give the same pixels.

  stored bytes                          canonical encoding
  RGB JPEG, EXIF orientation 1 or none  the bytes, untouched
  JPEG with EXIF orientation 2..8       RGB PNG of the upright pixels (lossless: training
                                        sees exactly what serving decodes from the original)
  CMYK or grayscale JPEG                RGB JPEG (JPEG_QUALITY)
  8-bit RGB PNG                         the bytes, untouched
  16-bit PNG, any other PNG, BMP, PPM   RGB PNG (alpha dropped)

Canonical JPEGs therefore carry no EXIF turn, and canonical PNGs are 8-bit. The format
recorded is the one the bytes really are, whatever the file is called.

Bytes that are not a usable image raise `BadInput` with one of the image reasons below.
`BadInput` is ingestion's quarantine signal (components/example_gen/layout.py lists every
reason); it lives here so that the codec's other users (the attention-map tools) need
nothing of ingestion.
"""
import io
from typing import NamedTuple

from PIL import Image
from PIL import UnidentifiedImageError
import tensorflow as tf

from components import image_codec_graph
from components import pixel_rules

# Why bytes are not a usable image (quarantine reasons).
EMPTY_FILE = 'empty_file'
UNDECODABLE_IMAGE = 'undecodable_image'  # corrupt or truncated
TOO_MANY_PIXELS = 'too_many_pixels'

DEFAULT_MAX_PIXELS = 50_000_000  # about 7000 x 7000; ImageNet's largest is under 10M
JPEG_QUALITY = 95  # for the few JPEGs that must be re-encoded (CMYK or grayscale)


class BadInput(Exception):
  """One input (an image's bytes, a label row, ...) cannot become an example: ingestion
  quarantines it under `reason` (a snake_case token) with `detail`."""

  def __init__(self, reason: str, detail: str):
    super().__init__(f'{reason}: {detail}')
    self.reason = reason
    self.detail = detail


class CanonicalImage(NamedTuple):
  encoded: bytes
  image_format: str  # 'jpeg' or 'png'
  height: int
  width: int


_MAGIC = ((pixel_rules.JPEG_MAGIC, 'jpeg'), (pixel_rules.PNG_MAGIC, 'png'))
# Pillow's operation for each field of pixel_rules.Orientation, in its order.
_PIL_STEPS = pixel_rules.Orientation(transpose=Image.Transpose.TRANSPOSE,
                                     flip_left_right=Image.Transpose.FLIP_LEFT_RIGHT,
                                     flip_up_down=Image.Transpose.FLIP_TOP_BOTTOM)


def sniff_format(data: bytes) -> str:
  """The format the bytes really are ('jpeg', 'png'), or '' for anything else."""
  for magic, name in _MAGIC:
    if data.startswith(magic):
      return name
  return ''


def _encode(image: Image.Image, image_format: str) -> bytes:
  out = io.BytesIO()
  if image_format == 'jpeg':
    image.save(out, format='JPEG', quality=JPEG_QUALITY)
  else:
    image.save(out, format='PNG')
  return out.getvalue()


def from_pixels(image: Image.Image) -> CanonicalImage:
  """An in-memory image (a crop, decoded pixels) as RGB PNG."""
  rgb = image.convert('RGB')
  return CanonicalImage(_encode(rgb, 'png'), 'png', rgb.height, rgb.width)


def canonical_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> CanonicalImage:
  """Decodes `data` fully and returns it in the canonical encoding (the module's table).

  Raises BadInput: EMPTY_FILE, TOO_MANY_PIXELS (checked from the header, before decoding) or
  UNDECODABLE_IMAGE (not an image, corrupt, truncated).
  """
  decoded = _decoded(data, max_pixels)
  image_format = sniff_format(data)
  rgb = decoded.rgb
  if image_format and decoded.as_stored:
    return CanonicalImage(data, image_format, rgb.height, rgb.width)
  image_format = 'jpeg' if image_format == 'jpeg' and not decoded.turned else 'png'
  return CanonicalImage(_encode(rgb, image_format), image_format, rgb.height, rgb.width)


def decode_rgb(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
  """The decoded pixels, RGB, upright and 8-bit by pixel_rules (e.g. to crop boxes from a
  frame, then `from_pixels`); the graph twin is image_codec_graph.decode_rgb. BadInput as
  above."""
  return _decoded(data, max_pixels).rgb


class _Decoded(NamedTuple):
  rgb: Image.Image  # upright 8-bit RGB
  as_stored: bool   # the stored bytes are 8-bit RGB, upright: they decode to `rgb` as they are
  turned: bool      # an EXIF orientation turned the stored pixels


def _decoded(data: bytes, max_pixels: int) -> _Decoded:
  if not data:
    raise BadInput(EMPTY_FILE, 'file has zero bytes')
  try:
    image = Image.open(io.BytesIO(data))
    if image.width * image.height > max_pixels:
      raise BadInput(TOO_MANY_PIXELS, f'{image.width}x{image.height} is over the limit of '
                     f'{max_pixels} pixels')
    if _is_16_bit_png(data):  # Pillow reads 16-bit colour as its high bytes: TF decodes it
      rgb = Image.fromarray(image_codec_graph.decode_rgb(tf.constant(data)).numpy())
      return _Decoded(rgb, as_stored=False, turned=False)
    image.load()
    steps = pixel_rules.UPRIGHT
    if sniff_format(data) == 'jpeg':
      orientation = image.getexif().get(pixel_rules.EXIF_ORIENTATION_TAG)
      steps = pixel_rules.ORIENTATIONS.get(orientation, pixel_rules.UPRIGHT)
    rgb = image.convert('RGB')
    for step, operation in zip(steps, _PIL_STEPS):
      if step:
        rgb = rgb.transpose(operation)
    turned = steps != pixel_rules.UPRIGHT
    return _Decoded(rgb, as_stored=image.mode == 'RGB' and not turned, turned=turned)
  except Image.DecompressionBombError as error:
    raise BadInput(TOO_MANY_PIXELS, str(error)) from error
  except UnidentifiedImageError:
    raise BadInput(UNDECODABLE_IMAGE, 'not an image format PIL can read') from None
  except (OSError, SyntaxError, ValueError) as error:  # PIL's ways of saying "corrupt"
    raise BadInput(UNDECODABLE_IMAGE, f'not a decodable image ({error})') from error
  except tf.errors.InvalidArgumentError as error:  # TF's, for 16-bit PNGs
    raise BadInput(UNDECODABLE_IMAGE, f'not a decodable image ({error.message})') from error


def _is_16_bit_png(data: bytes) -> bool:
  offset = pixel_rules.PNG_BIT_DEPTH_OFFSET
  return data.startswith(pixel_rules.PNG_MAGIC) and len(data) > offset and data[offset] == 16
