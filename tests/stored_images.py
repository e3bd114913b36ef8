"""Image files as users store them, for the decode-parity tests of ingestion and serving:
phone JPEGs with an EXIF orientation, 16-bit PNGs, and the cases to compare."""
import io
import struct
import zlib

import numpy as np
from PIL import Image
import tensorflow as tf

from components import pixel_rules


def gradient(height: int, width: int) -> np.ndarray:
  """uint8 [height, width, 3], smooth (JPEG keeps it well) and different in every corner."""
  y, x = np.mgrid[0:height, 0:width]
  return np.stack([x * 200 // width + 20, y * 200 // height + 30,
                   (x + 2 * y) * 60 // (width + height) + 90], axis=-1).astype(np.uint8)


def jpeg(pixels: np.ndarray, orientation: int = 0, *, big_endian: bool = False) -> bytes:
  """`pixels` as a JPEG whose EXIF orientation tag is `orientation` (0: no EXIF), written by
  Pillow (little-endian TIFF) or, with `big_endian`, by hand ('MM' byte order)."""
  out = io.BytesIO()
  exif = b''
  if big_endian:
    exif = (pixel_rules.EXIF_HEADER + b'MM\x00\x2a' + struct.pack('>I', 8) + struct.pack(
        '>HHHIHH', 1, pixel_rules.EXIF_ORIENTATION_TAG, pixel_rules.EXIF_SHORT, 1,
        orientation, 0) + struct.pack('>I', 0))
  elif orientation:
    tags = Image.Exif()
    tags[pixel_rules.EXIF_ORIENTATION_TAG] = orientation
    exif = tags.tobytes()
  Image.fromarray(pixels).save(out, format='JPEG', quality=90, exif=exif)
  return out.getvalue()


def png_16_bit(samples: np.ndarray) -> bytes:
  """uint16 [height, width] (grey) or [height, width, 3] (RGB) as a 16-bit PNG."""
  if samples.ndim == 2:
    samples = samples[..., None]
  return tf.io.encode_png(tf.constant(samples, tf.uint16)).numpy()


def black_png(width: int, height: int) -> bytes:
  """A valid 8-bit grey PNG of `width` x `height` black pixels, compressed row by row, so
  that no buffer of the full size exists (7072 x 7072: about 50 KB of file)."""
  def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack('>I', len(data)) + kind + data + struct.pack(
        '>I', zlib.crc32(kind + data))

  compressor = zlib.compressobj(1)
  row = bytes(width + 1)  # filter byte 0, then the row
  data = b''.join(compressor.compress(row) for _ in range(height)) + compressor.flush()
  return (pixel_rules.PNG_MAGIC + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 0, 0,
                                                             0, 0))
          + chunk(b'IDAT', data) + chunk(b'IEND', b''))


def parity_cases(height: int, width: int):
  """(name, bytes) of every kind of stored image whose pixels ingestion and serving must
  agree on: an 8-bit PNG, 16-bit grey and RGB PNGs (one a 50% grey), JPEGs with each EXIF
  orientation 1..8, none, and a big-endian EXIF."""
  pixels = gradient(height, width)
  out = io.BytesIO()
  Image.fromarray(pixels).save(out, format='PNG')
  rng = np.random.default_rng(0)
  cases = [('png_8_bit', out.getvalue()),
           ('png_16_bit_grey_50_percent', png_16_bit(np.full((height, width), 32768, np.uint16))),
           ('png_16_bit_grey', png_16_bit(rng.integers(0, 65536, (height, width), np.uint16))),
           ('png_16_bit_rgb', png_16_bit(rng.integers(0, 65536, (height, width, 3), np.uint16))),
           ('jpeg_no_exif', jpeg(pixels)),
           ('jpeg_big_endian_orientation_6', jpeg(pixels, 6, big_endian=True))]
  return cases + [(f'jpeg_orientation_{o}', jpeg(pixels, o)) for o in range(1, 9)]
