"""The graph twin of components/image_codec.py: JPEG or PNG bytes -> pixels with TF ops, by
the rules of components/pixel_rules.py, so that the served signatures (which take raw image
bytes), Transform and training decode exactly as ingestion does.

  here (TF graph)          twin in image_codec (Pillow, ingestion)
  decode_rgb               decode_rgb (same pixels, upright, 8-bit)
  exif_orientation         the orientation Pillow's getexif reads
  within_pixel_limit       the TOO_MANY_PIXELS check, from the header before decoding

Only JPEG and PNG are decoded here: canonical examples hold nothing else, and serving takes
nothing else (components/signatures.py). Every refusal is InvalidArgumentError.
"""
import tensorflow as tf

from components import pixel_rules

MAX_JPEG_SEGMENTS = 1024  # markers read before the image data in search of the Exif segment
_SEGMENT_HEAD = 4 + len(pixel_rules.EXIF_HEADER)  # 0xFF, marker, uint16 length, payload start
_APP1, _START_OF_SCAN, _END_OF_IMAGE, _FILL = 0xE1, 0xDA, 0xD9, 0xFF


def _bytes_at(data: tf.Tensor, start, count) -> tf.Tensor:
  """`data`: scalar string; returns int32 [count], its bytes from `start`, zeros past the end."""
  size = tf.cast(tf.strings.length(data), tf.int64)
  start = tf.cast(tf.clip_by_value(tf.cast(start, tf.int64), 0, size), tf.int32)
  values = tf.cast(tf.io.decode_raw(tf.strings.substr(data, start, count), tf.uint8), tf.int32)
  return tf.reshape(tf.pad(values, [[0, count - tf.shape(values)[0]]]), [count])


def _exif_tiff(encoded: tf.Tensor) -> tf.Tensor:
  """`encoded`: scalar string, JPEG bytes; returns the TIFF data (byte order, IFD0, ...) of
  its first APP1 Exif segment before the image data, or '' when it has none."""
  exif_header = tf.constant(list(pixel_rules.EXIF_HEADER), tf.int32)

  def step(position, tiff_start, tiff_length):
    head = _bytes_at(encoded, position, _SEGMENT_HEAD)
    marker, length = head[1], head[2] * 256 + head[3]
    is_marker = tf.equal(head[0], 0xFF)
    is_fill = is_marker & tf.equal(marker, _FILL)
    is_segment = (is_marker & ~is_fill & tf.not_equal(marker, _START_OF_SCAN)
                  & tf.not_equal(marker, _END_OF_IMAGE) & (length >= 2))
    is_exif = is_segment & tf.equal(marker, _APP1) & tf.reduce_all(
        tf.equal(head[4:], exif_header))
    found_at = position + _SEGMENT_HEAD
    next_position = tf.where(is_fill, position + 1,
                             tf.where(is_segment & ~is_exif, position + 2 + length, -1))
    return (next_position, tf.where(is_exif, found_at, tiff_start),
            tf.where(is_exif, length - (_SEGMENT_HEAD - 2), tiff_length))

  _, tiff_start, tiff_length = tf.while_loop(
      lambda position, tiff_start, _: (position >= 0) & (tiff_start < 0), step,
      (tf.constant(2), tf.constant(-1), tf.constant(0)), maximum_iterations=MAX_JPEG_SEGMENTS)
  return tf.strings.substr(encoded, tf.where(tiff_start < 0, 0, tiff_start),
                           tf.maximum(tiff_length, 0))


def exif_orientation(encoded: tf.Tensor) -> tf.Tensor:
  """`encoded`: scalar string, JPEG bytes; returns int32 scalar: IFD0's orientation tag
  (pixel_rules.EXIF_ORIENTATION_TAG, type SHORT) in the first APP1 Exif segment, 1 when there
  is none. Twin of Pillow's `getexif().get(0x0112)` in image_codec."""
  tiff = _exif_tiff(encoded)
  header = _bytes_at(tiff, 0, 8)
  little_endian = tf.equal(header[0], ord('I')) & tf.equal(header[1], ord('I'))
  big_endian = tf.equal(header[0], ord('M')) & tf.equal(header[1], ord('M'))

  def uint(values):
    """int32 [..., n] bytes in the TIFF's byte order -> int64 [...]."""
    values = tf.cast(values, tf.int64)
    powers = [256**i for i in range(values.shape[-1])]
    # Two constants, not a reversed slice: grappler's layout optimizer and remapper fail on
    # a negative-stride slice here and then leave the whole served graph unoptimised.
    weights = tf.where(little_endian, tf.constant(powers, tf.int64),
                       tf.constant(powers[::-1], tf.int64))
    return tf.reduce_sum(values * weights, axis=-1)

  ifd0 = uint(header[4:8])
  count = tf.cast(uint(_bytes_at(tiff, ifd0, 2)), tf.int32)
  entries = tf.reshape(_bytes_at(tiff, ifd0 + 2, 12 * count), [count, 12])  # tag, type, n, value
  found = tf.boolean_mask(uint(entries[:, 8:10]),
                          tf.equal(uint(entries[:, 0:2]), pixel_rules.EXIF_ORIENTATION_TAG)
                          & tf.equal(uint(entries[:, 2:4]), pixel_rules.EXIF_SHORT))
  found = tf.concat([found, tf.constant([1], tf.int64)], 0)[0]
  return tf.cast(tf.where(little_endian | big_endian, found, 1), tf.int32)


# A Python table, made a tensor inside the graph: a tf.constant at import would start TF's
# runtime, after which tf.distribute cannot configure devices or collectives.
_STEPS = [list(pixel_rules.ORIENTATIONS.get(value, pixel_rules.UPRIGHT))
          for value in range(max(pixel_rules.ORIENTATIONS) + 1)]


def upright(image: tf.Tensor, orientation: tf.Tensor) -> tf.Tensor:
  """`image`: [height, width, channels] as stored; `orientation`: int32 scalar, EXIF.
  Returns the image turned upright by pixel_rules.ORIENTATIONS (as image_codec's PIL steps):
  the transpose, then the flips (of the transposed image's axes)."""
  known = (orientation >= 1) & (orientation < len(_STEPS))
  transpose, flip_left_right, flip_up_down = tf.unstack(
      tf.gather(tf.constant(_STEPS), tf.where(known, orientation, 1)))
  channels = image.shape[-1]
  image = tf.transpose(image, tf.where(transpose, [1, 0, 2], [0, 1, 2]))
  image = tf.reverse(image, tf.boolean_mask([1, 0], tf.stack([flip_left_right, flip_up_down])))
  return tf.ensure_shape(image, [None, None, channels])


def _is_png(encoded: tf.Tensor) -> tf.Tensor:
  return tf.equal(tf.strings.substr(encoded, 0, len(pixel_rules.PNG_MAGIC)),
                  pixel_rules.PNG_MAGIC)


def _png_rgb(encoded: tf.Tensor) -> tf.Tensor:
  """8-bit PNGs decode as they are; 16-bit ones as uint16, then pixel_rules.to_8_bits."""
  def sixteen_bits():
    samples = tf.io.decode_png(encoded, channels=3, dtype=tf.uint16)
    return tf.cast(pixel_rules.to_8_bits(tf.cast(samples, tf.int32)), tf.uint8)

  bit_depth = _bytes_at(encoded, pixel_rules.PNG_BIT_DEPTH_OFFSET, 1)[0]
  return tf.cond(tf.equal(bit_depth, 16), sixteen_bits,
                 lambda: tf.io.decode_png(encoded, channels=3))


def decode_rgb(encoded: tf.Tensor) -> tf.Tensor:
  """`encoded`: scalar string, JPEG or PNG bytes; returns uint8 [height, width, 3], upright and
  8-bit by pixel_rules (twin of image_codec.decode_rgb). InvalidArgumentError for anything
  else or corrupt bytes."""
  def jpeg():
    image = tf.io.decode_jpeg(encoded, channels=3, dct_method=pixel_rules.JPEG_DCT_METHOD)
    return upright(image, exif_orientation(encoded))

  return tf.cond(tf.io.is_jpeg(encoded), jpeg, lambda: _png_rgb(encoded))


def header_size(encoded: tf.Tensor) -> tf.Tensor:
  """`encoded`: scalar string; returns int64 [2], (height, width) as the JPEG or PNG header
  states them (as stored, before any EXIF turn), without decoding; (-1, -1) for other bytes.
  InvalidArgumentError for a JPEG whose header is corrupt."""
  def png():
    return tf.stack([_big_endian_uint32(encoded, pixel_rules.PNG_HEIGHT_OFFSET),
                     _big_endian_uint32(encoded, pixel_rules.PNG_WIDTH_OFFSET)])

  return tf.case([(tf.io.is_jpeg(encoded),
                   lambda: tf.cast(tf.image.extract_jpeg_shape(encoded)[:2], tf.int64)),
                  (_is_png(encoded), png)],
                 default=lambda: tf.constant([-1, -1], tf.int64))


def _big_endian_uint32(data: tf.Tensor, start: int) -> tf.Tensor:
  values = tf.cast(_bytes_at(data, start, 4), tf.int64)
  return tf.reduce_sum(values * tf.constant([256**3, 256**2, 256, 1], tf.int64))


def within_pixel_limit(encoded: tf.Tensor, max_pixels: int) -> tf.Tensor:
  """`encoded`: string [batch], image bytes. Returns `encoded` once every image is a JPEG or
  PNG of at most `max_pixels` by its header (the twin of image_codec's TOO_MANY_PIXELS
  check), so that nothing large is decoded; else InvalidArgumentError naming the first
  image's index in the batch and its size."""
  sizes = tf.map_fn(header_size, encoded, fn_output_signature=tf.TensorSpec([2], tf.int64))
  unknown = sizes[:, 0] < 0
  over = tf.reduce_prod(sizes, axis=1) > max_pixels

  def refuse(bad, describe):
    """Fails with `describe(index of the first bad image)` when any image is `bad`."""
    text = tf.cond(tf.reduce_any(bad), lambda: describe(tf.argmax(tf.cast(bad, tf.int32))),
                   lambda: tf.constant(''))
    return tf.debugging.Assert(~tf.reduce_any(bad), [text])

  checks = [
      refuse(unknown, lambda i: tf.strings.format(
          'image {} of the batch is neither JPEG nor PNG, the formats served models decode',
          (i,))),
      refuse(over, lambda i: tf.strings.format(
          'image {} of the batch is {}x{} pixels, over the limit of {} pixels (the ingestion '
          'limit); it was not decoded', (i, sizes[i, 1], sizes[i, 0], max_pixels)))]
  with tf.control_dependencies(checks):
    return tf.identity(encoded)
