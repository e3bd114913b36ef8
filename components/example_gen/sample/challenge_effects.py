"""The 12 CURE-TSR challenge types as image effects, at levels 1..5 (5 most severe).

Each effect takes float32 RGB [h, w, 3] in [0, 1], a severity s = level / 5 in (0, 1] and a
random generator. Sizes are fractions of the image side, so an effect looks the same at any
crop size. Strengths follow what the CURE-TSR paper measured (Temel et al. 2017): the effects
that destroy or move spatial detail (lens blur, gaussian blur, dirty lens, codec error, noise)
leave little of the sign at level 5, weather (rain, snow, haze) and shadow occlude part of it,
while darkening, exposure and decolorization keep most of its shape.
"""
import io
from typing import Callable, Dict

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

_HAZE = np.array([.86, .87, .89], np.float32)  # grey-white airlight, RGB in [0, 1]
_DIRT = np.array([.22, .18, .11], np.float32)  # dark brown, RGB in [0, 1]


def _to_image(pixels: np.ndarray) -> Image.Image:
  return Image.fromarray(np.uint8(np.clip(pixels, 0, 1) * 255 + .5))


def _from_image(image: Image.Image) -> np.ndarray:
  return np.asarray(image, np.float32) / 255


def _luma(pixels: np.ndarray) -> np.ndarray:
  """[h, w, 1] Rec. 601 luma."""
  return pixels @ np.array([.299, .587, .114], np.float32)[:, None]


def _blend(pixels, color, alpha):
  """Alpha-composites `color` ([3] or [h, w, 3]) over `pixels` with alpha [h, w, 1] or scalar."""
  return pixels * (1 - alpha) + color * alpha


def _gaussian(pixels: np.ndarray, sigma_px: float) -> np.ndarray:
  return _from_image(_to_image(pixels).filter(ImageFilter.GaussianBlur(sigma_px)))


def _disc_mean(pixels: np.ndarray, radius: int) -> np.ndarray:
  """The mean over a disc of `radius` px around each pixel, edges repeated (a defocused lens).
  Row by row from prefix sums, so the cost grows with the radius, not its square."""
  h, w = pixels.shape[:2]
  padded = np.pad(pixels, ((radius, radius), (radius, radius), (0, 0)), mode='edge')
  prefix = np.concatenate([np.zeros_like(padded[:, :1]), np.cumsum(padded, axis=1)], axis=1)
  total, count = np.zeros_like(pixels), 0
  for dy in range(-radius, radius + 1):
    half = int(np.sqrt(radius * radius - dy * dy))
    rows = prefix[radius + dy:radius + dy + h]
    right, left = radius + half + 1, radius - half  # the row's span is [left, right)
    total += rows[:, right:right + w] - rows[:, left:left + w]
    count += 2 * half + 1
  return total / count


def _decolorization(pixels, s, rng):
  """Saturation lost toward grey: 8% of it left at level 5."""
  return _blend(pixels, _luma(pixels), .92 * s)


def _lens_blur(pixels, s, rng):
  """Defocus: the mean over a disc whose radius grows to 26% of the side at level 5."""
  return _disc_mean(pixels, max(1, round(.26 * s * pixels.shape[0])))


def _codec_error(pixels, s, rng):
  """JPEG down to quality 1, then a growing share of its 8x8 blocks lost: copied from a
  displaced spot, flattened to their mean, or given a wrong colour."""
  out = io.BytesIO()
  _to_image(pixels).save(out, format='JPEG', quality=max(1, round(26 - 25 * s)))
  decoded = _from_image(Image.open(out))
  h, w = decoded.shape[:2]
  for _ in range(round(.8 * s * s * h * w / 64)):
    y, x = rng.integers(0, h - 7), rng.integers(0, w - 7)
    sy, sx = np.clip([y, x] + rng.integers(-16, 17, 2), 0, [h - 8, w - 8])
    block = decoded[sy:sy + 8, sx:sx + 8].copy()
    kind = rng.integers(3)
    if kind == 1:
      block = block.mean(axis=(0, 1))
    elif kind == 2:
      block = block[..., rng.permutation(3)] * rng.uniform(.5, 1.3)
    decoded[y:y + 8, x:x + 8] = block
  return decoded


def _darkening(pixels, s, rng):
  """Less light: gain down to 0.2 with a steeper gamma, and low-light sensor noise."""
  dark = (1 - .8 * s) * pixels ** (1 + .6 * s)
  return dark + rng.normal(0, .012 * s, pixels.shape)


def _dirty_lens(pixels, s, rng):
  """Blurred dark-brown blotches, mostly over the middle where the sign is, larger and more
  opaque with the level."""
  h, w = pixels.shape[:2]
  mask = Image.new('L', (w, h), 0)
  draw = ImageDraw.Draw(mask)
  for _ in range(2 + round(8 * s)):
    cx, cy = rng.normal(.5, .18, 2) * (w, h)
    r = rng.uniform(.08, .1 + .22 * s) * w
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=int(rng.integers(190, 256)))
  mask = mask.filter(ImageFilter.GaussianBlur(.05 * w))
  alpha = np.clip(np.asarray(mask, np.float32)[..., None] / 255 * (.3 + .85 * s), 0, 1)
  return _blend(pixels, _DIRT * rng.uniform(.7, 1.3), alpha)


def _exposure(pixels, s, rng):
  """Over-exposure: gain and lift, clipping highlights."""
  return pixels * (1 + 2.4 * s) + .35 * s


def _gaussian_blur(pixels, s, rng):
  """A gaussian of standard deviation up to 12% of the side at level 5."""
  return _gaussian(pixels, .12 * s * pixels.shape[0])


def _noise(pixels, s, rng):
  """Sensor noise: per pixel, plus a coarser part (3x3 px) that survives downscaling."""
  h, w = pixels.shape[:2]
  coarse = rng.normal(0, 1, ((h + 2) // 3, (w + 2) // 3, 3)).repeat(3, 0).repeat(3, 1)[:h, :w]
  return pixels + .7 * s * rng.normal(0, 1, pixels.shape) + .8 * s * coarse


def _rain(pixels, s, rng):
  """Slanted light streaks over a dimmed, greyed scene softened by water on the lens."""
  h, w = pixels.shape[:2]
  streaks = Image.new('L', (w, h), 0)
  draw = ImageDraw.Draw(streaks)
  slant = rng.uniform(-.35, .35)
  count = round(s * h * w / 12)
  xs, ys = rng.uniform(-.2 * w, 1.2 * w, count), rng.uniform(-.2 * h, h, count)
  lengths = rng.uniform(.1, .1 + .25 * s, count) * h
  fills, wide = rng.integers(120, 256, count), rng.random(count) < s / 2
  for x, y, length, fill, width in zip(xs.tolist(), ys.tolist(), lengths.tolist(),
                                       fills.tolist(), (1 + wide).tolist()):
    draw.line([x, y, x + slant * length, y + length], fill=fill, width=width)
  alpha = np.asarray(streaks, np.float32)[..., None] / 255 * (.4 + .55 * s)
  scene = _blend(pixels * (1 - .35 * s), _luma(pixels), .35 * s)
  scene = _gaussian(scene, .05 * s * h)
  return _blend(scene, np.float32(.85), alpha)


def _shadow(pixels, s, rng):
  """A soft-edged shadow over a random half-plane and stripe, nearly black at level 5."""
  h, w = pixels.shape[:2]
  y, x = np.mgrid[0:h, 0:w] / max(h, w)
  angle = rng.uniform(0, 2 * np.pi)
  along = x * np.cos(angle) + y * np.sin(angle)
  edge = np.median(along) + rng.uniform(-.15, .15)
  width = rng.uniform(.08, .2)
  shade = np.clip((along - edge) / .05, 0, 1)
  stripe = np.clip(1 - np.abs(along - edge + .35) / width, 0, 1)
  mask = np.maximum(shade, stripe)[..., None]
  return pixels * (1 - .97 * s * mask)


def _snow(pixels, s, rng):
  """White flakes, more and larger with the level, over a whitened scene."""
  h, w = pixels.shape[:2]
  flakes = Image.new('L', (w, h), 0)
  draw = ImageDraw.Draw(flakes)
  count = round(s * h * w / 10)
  xs, ys = rng.uniform(0, w, count), rng.uniform(0, h, count)
  radii = rng.uniform(.3, .6 + 2.6 * s, count) * w / 64
  for x, y, r, fill in zip(xs.tolist(), ys.tolist(), radii.tolist(),
                           rng.integers(170, 256, count).tolist()):
    draw.ellipse([x - r, y - r, x + r, y + r], fill=fill)
  alpha = np.asarray(flakes, np.float32)[..., None] / 255
  return _blend(_blend(pixels, np.float32(.95), .65 * s), np.float32(.97), alpha)


def _haze(pixels, s, rng):
  """Atmospheric haze: a blend toward grey-white airlight, denser toward the top, with the
  scattered light's own noise."""
  toward_bottom = np.linspace(0, 1, pixels.shape[0], dtype=np.float32)[:, None, None]
  density = (1 - .55 ** (5 * s)) * (1 - .08 * toward_bottom)
  return _blend(pixels, _HAZE, density) + rng.normal(0, .03 * s, pixels.shape)


_EFFECTS: Dict[str, Callable] = {
    'decolorization': _decolorization, 'lens_blur': _lens_blur, 'codec_error': _codec_error,
    'darkening': _darkening, 'dirty_lens': _dirty_lens, 'exposure': _exposure,
    'gaussian_blur': _gaussian_blur, 'noise': _noise, 'rain': _rain, 'shadow': _shadow,
    'snow': _snow, 'haze': _haze,
}


def apply_challenge(pixels: np.ndarray, challenge: str, level: int,
                    rng: np.random.Generator) -> np.ndarray:
  """`pixels`: uint8 RGB [h, w, 3]; returns it with `challenge` at `level` (0..5) applied.

  `challenge` is a CURE-TSR challenge name ('none' returns `pixels` as they are).
  """
  if challenge == 'none':
    return pixels
  if challenge not in _EFFECTS:
    raise ValueError(f'challenge={challenge!r}: choose from {("none",) + tuple(_EFFECTS)}')
  out = _EFFECTS[challenge](pixels.astype(np.float32) / 255, level / 5, rng)
  return np.uint8(np.clip(out, 0, 1) * 255 + .5)
