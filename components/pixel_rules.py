"""How stored image bytes become pixels: the one table of rules that ingestion's decoder
(components/image_codec.py, Pillow) and its graph twin (components/image_codec_graph.py, TF
ops inside the served signatures, Transform and training) both follow, so a model is served
the pixels it was trained on.

  stored bytes                          decoded pixels (uint8 RGB [height, width, 3])
  JPEG                                  the accurate integer IDCT (JPEG_DCT_METHOD), then
                                        turned upright by its EXIF orientation (ORIENTATIONS)
  8-bit PNG (grey, RGB, palette, alpha) RGB; alpha is dropped
  16-bit PNG (grey, RGB, alpha)         RGB, each sample `to_8_bits` (scaled, not clipped)

Both sides read a JPEG's orientation from IFD0 tag EXIF_ORIENTATION_TAG (type SHORT) of its
first APP1 'Exif' segment; a missing tag or a value outside 1..8 leaves the pixels as stored.
"""
from typing import NamedTuple

JPEG_MAGIC = b'\xff\xd8\xff'
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'

# TF's decode_jpeg defaults to a fast IDCT that differs from Pillow's (libjpeg's default
# JDCT_ISLOW) by up to 7 levels; this one gives Pillow's pixels exactly.
JPEG_DCT_METHOD = 'INTEGER_ACCURATE'

# A PNG opens with its magic and the IHDR chunk: width and height (big-endian uint32) and the
# bit depth (one byte) stand at these byte offsets.
PNG_WIDTH_OFFSET = 16
PNG_HEIGHT_OFFSET = 20
PNG_BIT_DEPTH_OFFSET = 24

EXIF_HEADER = b'Exif\x00\x00'  # opens an APP1 segment's payload; the TIFF header follows
EXIF_ORIENTATION_TAG = 0x0112
EXIF_SHORT = 3  # the TIFF field type of the orientation tag: uint16


class Orientation(NamedTuple):
  """The steps that make stored pixels upright, applied in this order."""
  transpose: bool  # rows <-> columns (mirror about the main diagonal)
  flip_left_right: bool
  flip_up_down: bool


UPRIGHT = Orientation(transpose=False, flip_left_right=False, flip_up_down=False)
# EXIF orientation value -> its steps (as photo viewers and Pillow's ImageOps.exif_transpose
# show it); any other value is UPRIGHT.
ORIENTATIONS = {
    1: UPRIGHT,
    2: Orientation(transpose=False, flip_left_right=True, flip_up_down=False),  # mirrored
    3: Orientation(transpose=False, flip_left_right=True, flip_up_down=True),   # turned 180
    4: Orientation(transpose=False, flip_left_right=False, flip_up_down=True),  # flipped
    5: Orientation(transpose=True, flip_left_right=False, flip_up_down=False),  # transposed
    6: Orientation(transpose=True, flip_left_right=True, flip_up_down=False),   # turn 90 cw
    7: Orientation(transpose=True, flip_left_right=True, flip_up_down=True),    # transverse
    8: Orientation(transpose=True, flip_left_right=False, flip_up_down=True),   # turn 90 ccw
}


def to_8_bits(samples):
  """16-bit samples (0..65535, integers: a NumPy array or a TF tensor of a type that holds
  65535 * 255, e.g. int32) -> 0..255, `round(value * 255 / 65535)`, same type. Exact in
  integers: no value lies halfway, so the rounding direction never matters."""
  return (samples * 255 + 65535 // 2) // 65535
