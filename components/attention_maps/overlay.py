"""Attention maps drawn over images: a perceptual colour ramp, alpha blending, a figure.

`overlay(image, attention_map)` blends one map onto an image at display size;
`render_overlays(image, maps, titles=..., caption=...)` returns the encoded bytes of a figure
(PNG; JPEG where size matters more than exact pixels, as in the dashboard):
the image, then one overlay per map, each labelled with its title and the map's raw range.
Each map is min-max normalised for display, so its own extremes span the whole ramp.
"""
import io
from typing import Sequence

import numpy as np
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

DISPLAY_SIZE = 160  # px: the longer side of every panel
ALPHA = 0.5  # weight of the colour-mapped attention in an overlay

# Viridis sampled at 0, 0.1, ..., 1 (RGB 0..255): dark blue, green, yellow, its lightness
# rising monotonically, so brighter always means more attention, also in greyscale.
_RAMP = np.array([
    [68, 1, 84], [72, 36, 117], [65, 68, 135], [53, 95, 141], [42, 120, 142],
    [33, 145, 140], [34, 168, 132], [68, 191, 112], [122, 209, 81], [189, 223, 38],
    [253, 231, 37]], np.float32)

_MARGIN = 6  # px around panels and between text lines
_FONT_SIZE = 12  # px
_BACKGROUND = (255, 255, 255)
_TEXT = (0, 0, 0)
_ENCODER_OPTIONS = {'PNG': {}, 'JPEG': {'quality': 90}}  # render_overlays' image formats


def colorize(values) -> np.ndarray:
  """`values` float `[...]`, clipped to [0, 1] -> uint8 RGB `[..., 3]` on the viridis ramp
  (linear between its 11 stops)."""
  position = np.clip(np.asarray(values, np.float32), 0.0, 1.0) * (len(_RAMP) - 1)
  lower = np.minimum(np.floor(position).astype(np.int64), len(_RAMP) - 2)
  fraction = (position - lower)[..., None]
  rgb = _RAMP[lower] * (1.0 - fraction) + _RAMP[lower + 1] * fraction
  return np.round(rgb).astype(np.uint8)


def normalize_for_display(attention_map) -> np.ndarray:
  """`attention_map` float `[h, w]` -> float32 `[h, w]` min-max scaled to [0, 1]
  (all zeros when the map is constant)."""
  values = np.asarray(attention_map, np.float32)
  low, high = values.min(), values.max()
  return (values - low) / (high - low) if high > low else np.zeros_like(values)


def _check_image(image) -> np.ndarray:
  image = np.asarray(image)
  if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
    raise ValueError('image must be uint8 [height, width, 3] (RGB). '
                     f'Received dtype={image.dtype}, shape={image.shape}')
  return image


def _check_map(attention_map, index=0) -> np.ndarray:
  values = np.asarray(attention_map, np.float32)
  if values.ndim != 2 or values.size == 0 or not np.all(np.isfinite(values)):
    raise ValueError(f'maps[{index}] must be a finite, non-empty [height, width] array. '
                     f'Received shape={values.shape}')
  return values


def _display_shape(height: int, width: int, size: int):
  """(height, width) with the longer side `size` and the aspect ratio kept."""
  scale = size / max(height, width)
  return max(1, round(height * scale)), max(1, round(width * scale))


def _resize_image(image: np.ndarray, shape) -> np.ndarray:
  return np.asarray(Image.fromarray(image).resize(shape[::-1], Image.BILINEAR))


def overlay(image, attention_map, *, size: int = DISPLAY_SIZE,
            alpha: float = ALPHA) -> np.ndarray:
  """Blends `attention_map` onto `image` at display size.

  image: uint8 `[H, W, 3]`. attention_map: float `[h, w]` covering the whole image (any
  resolution). Both are resized (bilinear) so the longer side is `size` px; the map is
  min-max normalised, colour-mapped and blended: (1 - alpha) * image + alpha * colour.
  Returns uint8 `[H', W', 3]`, max(H', W') = size.
  """
  image = _check_image(image)
  shape = _display_shape(*image.shape[:2], size)
  values = Image.fromarray(normalize_for_display(_check_map(attention_map)))  # mode 'F'
  colour = colorize(np.asarray(values.resize(shape[::-1], Image.BILINEAR)))
  blended = (1.0 - alpha) * _resize_image(image, shape) + alpha * colour
  return np.round(blended).astype(np.uint8)


def render_overlays(image, maps: Sequence, *, titles: Sequence[str], caption: str,
                    size: int = DISPLAY_SIZE, columns: int = 4,
                    alpha: float = ALPHA, image_format: str = 'PNG') -> bytes:
  """A figure's bytes in `image_format` ('PNG', or 'JPEG' at quality 90: about a third of
  the size): `caption` on top, then panels in rows of `columns`.

  The first panel is `image` (uint8 `[H, W, 3]`, labelled 'input'); then one `overlay` per
  map in `maps` (float `[h, w]` each, covering the whole image), labelled with its entry in
  `titles` and, on a second line, the map's raw range before display normalisation.
  """
  image = _check_image(image)
  maps = [_check_map(m, i) for i, m in enumerate(maps)]
  if image_format not in _ENCODER_OPTIONS:
    raise ValueError(f'image_format must be one of {sorted(_ENCODER_OPTIONS)}. '
                     f'Received {image_format!r}')
  if len(titles) != len(maps):
    raise ValueError(f'Expected one title per map: {len(maps)} maps, {len(titles)} titles.')
  panels = [(_resize_image(image, _display_shape(*image.shape[:2], size)), ['input', ''])]
  for values, title in zip(maps, titles):
    panels.append((overlay(image, values, size=size, alpha=alpha),
                   [title, f'range {values.min():.3f}..{values.max():.3f}']))
  font = ImageFont.load_default(size=_FONT_SIZE)
  line = _FONT_SIZE + _MARGIN // 2
  columns = max(1, min(columns, len(panels)))
  rows = -(-len(panels) // columns)
  cell_height, cell_width = size + 2 * line + _MARGIN, size + _MARGIN
  figure = Image.new('RGB', (_MARGIN + columns * cell_width,
                             _MARGIN + line + _MARGIN + rows * cell_height), _BACKGROUND)
  draw = ImageDraw.Draw(figure)
  draw.text((_MARGIN, _MARGIN), caption, fill=_TEXT, font=font)
  for index, (pixels, labels) in enumerate(panels):
    left = _MARGIN + (index % columns) * cell_width
    top = _MARGIN + line + _MARGIN + (index // columns) * cell_height
    for k, label in enumerate(labels):
      draw.text((left, top + k * line), label, fill=_TEXT, font=font)
    figure.paste(Image.fromarray(pixels), (left, top + 2 * line))
  out = io.BytesIO()
  figure.save(out, format=image_format, **_ENCODER_OPTIONS[image_format])
  return out.getvalue()
