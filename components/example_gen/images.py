"""Turns an image file's bytes into the canonical encoding: JPEG and PNG kept, others to PNG."""
import io
from typing import NamedTuple

from PIL import Image


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


def canonical_image(data: bytes, source: str) -> CanonicalImage:
  """Decodes `data` fully; JPEG/PNG RGB bytes pass through, anything else becomes RGB PNG.

  Raises ValueError naming `source` when the bytes are empty or not a decodable image.
  """
  if not data:
    raise ValueError(f'{source}: empty file')
  try:
    with Image.open(io.BytesIO(data)) as image:
      image.load()
      image_format = sniff_format(data)
      if image_format and image.mode == 'RGB':
        return CanonicalImage(data, image_format, image.height, image.width)
      rgb = image.convert('RGB')
  except (OSError, SyntaxError, ValueError) as error:  # PIL's ways of saying "not an image"
    raise ValueError(f'{source}: not a decodable image ({error})') from error
  out = io.BytesIO()
  rgb.save(out, format='PNG')
  return CanonicalImage(out.getvalue(), 'png', rgb.height, rgb.width)
