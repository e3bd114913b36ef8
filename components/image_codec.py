"""Turns an image file's bytes into the canonical encoding: RGB JPEG or RGB PNG.

RGB JPEG and PNG bytes pass through untouched (recorded with the format their bytes really
are, whatever the file is called). A JPEG that is not RGB (CMYK, grayscale) is re-encoded as
an RGB JPEG; everything else (BMP, PPM, paletted or RGBA PNG, grayscale PNG) becomes RGB PNG.

Bytes that are not a usable image raise `BadInput` with one of the image reasons below.
`BadInput` is ingestion's quarantine signal (components/example_gen/layout.py lists every
reason); it lives here so that the codec's other users (the attention-map tools) need
nothing of ingestion.
"""
import io
from typing import NamedTuple

from PIL import Image
from PIL import UnidentifiedImageError

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


_MAGIC = ((b'\xff\xd8\xff', 'jpeg'), (b'\x89PNG\r\n\x1a\n', 'png'))


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
  """Decodes `data` fully and returns it in the canonical encoding.

  Raises BadInput: EMPTY_FILE, TOO_MANY_PIXELS (checked from the header, before decoding) or
  UNDECODABLE_IMAGE (not an image, corrupt, truncated).
  """
  image = _decoded(data, max_pixels)
  image_format = sniff_format(data)
  if image_format and image.mode == 'RGB':
    return CanonicalImage(data, image_format, image.height, image.width)
  rgb = image.convert('RGB')
  image_format = 'jpeg' if image_format == 'jpeg' else 'png'
  return CanonicalImage(_encode(rgb, image_format), image_format, rgb.height, rgb.width)


def decode_rgb(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
  """The decoded RGB pixels (e.g. to crop boxes from a frame, then `from_pixels`); BadInput as
  above."""
  return _decoded(data, max_pixels).convert('RGB')


def _decoded(data: bytes, max_pixels: int) -> Image.Image:
  if not data:
    raise BadInput(EMPTY_FILE, 'file has zero bytes')
  try:
    image = Image.open(io.BytesIO(data))
    if image.width * image.height > max_pixels:
      raise BadInput(TOO_MANY_PIXELS, f'{image.width}x{image.height} is over the limit of '
                     f'{max_pixels} pixels')
    image.load()
    return image
  except Image.DecompressionBombError as error:
    raise BadInput(TOO_MANY_PIXELS, str(error)) from error
  except UnidentifiedImageError:
    raise BadInput(UNDECODABLE_IMAGE, 'not an image format PIL can read') from None
  except (OSError, SyntaxError, ValueError) as error:  # PIL's ways of saying "corrupt"
    raise BadInput(UNDECODABLE_IMAGE, f'not a decodable image ({error})') from error
