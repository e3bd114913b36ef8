"""The 12 CURE-TSR challenge types as image effects, at levels 1..5 (5 most severe).

Each effect takes float32 RGB [h, w, 3] in [0, 1] and a severity s = level / 5 in (0, 1]. At
level 5 the sign is hard to read but still faintly there.
"""
import io
from typing import Callable, Dict

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

_HAZE = np.array([.86, .87, .89], np.float32)  # grey-white airlight, RGB in [0, 1]


def _to_image(pixels: np.ndarray) -> Image.Image:
  return Image.fromarray(np.uint8(np.clip(pixels, 0, 1) * 255 + .5))


def _luma(pixels: np.ndarray) -> np.ndarray:
  """[h, w, 1] Rec. 601 luma."""
  return pixels @ np.array([.299, .587, .114], np.float32)[:, None]


def _blend(pixels, color, alpha):
  """Alpha-composites `color` ([3] or [h, w, 3]) over `pixels` with alpha [h, w, 1] or scalar."""
  return pixels * (1 - alpha) + color * alpha


def _decolorization(pixels, s, rng):
  return _blend(pixels, _luma(pixels), s)


def _lens_blur(pixels, s, rng):
  """Defocus: the mean over a disc of radius 2.2% of the side per level."""
  side = pixels.shape[0]
  radius = max(1, round(.11 * s * side))
  padded = np.pad(pixels, ((radius, radius), (radius, radius), (0, 0)), mode='edge')
  offsets = [(dy, dx) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1)
             if dy * dy + dx * dx <= radius * radius]
  h, w = pixels.shape[:2]
  total = sum(padded[radius + dy:radius + dy + h, radius + dx:radius + dx + w]
              for dy, dx in offsets)
  return total / len(offsets)


def _codec_error(pixels, s, rng):
  """Low-quality JPEG, and from level 3 a few 8x8 blocks shifted or dropped."""
  out = io.BytesIO()
  _to_image(pixels).save(out, format='JPEG', quality=round(32 - 26 * s))
  decoded = np.asarray(Image.open(out), np.float32) / 255
  h, w = decoded.shape[:2]
  for _ in range(round(max(0, s - .4) * 5 * h * w / 1024)):
    y, x = rng.integers(0, h - 7), rng.integers(0, w - 7)
    sy, sx = np.clip([y, x] + rng.integers(-8, 9, 2), 0, [h - 8, w - 8])
    source = decoded[sy:sy + 8, sx:sx + 8].copy()
    decoded[y:y + 8, x:x + 8] = source.mean(axis=(0, 1)) if rng.random() < .5 else source
  return decoded


def _darkening(pixels, s, rng):
  return (1 - .8 * s) * pixels ** (1 + .8 * s)


def _dirty_lens(pixels, s, rng):
  """Blurred brownish blotches, more and more opaque with the level."""
  h, w = pixels.shape[:2]
  mask = Image.new('L', (w, h), 0)
  draw = ImageDraw.Draw(mask)
  for _ in range(2 + round(8 * s)):
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    r = rng.uniform(.05, .18) * w
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=int(rng.integers(150, 256)))
  mask = mask.filter(ImageFilter.GaussianBlur(.06 * w))
  alpha = np.asarray(mask, np.float32)[..., None] / 255 * (.35 + .5 * s)
  return _blend(pixels, np.array([.25, .2, .12], np.float32), alpha)


def _exposure(pixels, s, rng):
  """Over-exposure: gain and lift, clipping highlights."""
  return pixels * (1 + 2 * s) + .3 * s


def _gaussian_blur(pixels, s, rng):
  sigma = .06 * s * pixels.shape[0]
  return np.asarray(_to_image(pixels).filter(ImageFilter.GaussianBlur(sigma)),
                    np.float32) / 255


def _noise(pixels, s, rng):
  return pixels + rng.normal(0, .25 * s, pixels.shape)


def _rain(pixels, s, rng):
  """Slanted light streaks over a dimmed, slightly greyed scene."""
  h, w = pixels.shape[:2]
  streaks = Image.new('L', (w, h), 0)
  draw = ImageDraw.Draw(streaks)
  slant = rng.uniform(-.35, .35)
  for _ in range(round(s * h * w / 25)):
    x, y = rng.uniform(-.2 * w, 1.2 * w), rng.uniform(-.2 * h, h)
    length = rng.uniform(.1, .1 + .2 * s) * h
    draw.line([x, y, x + slant * length, y + length], fill=int(rng.integers(120, 256)))
  alpha = np.asarray(streaks, np.float32)[..., None] / 255 * (.4 + .4 * s)
  scene = _blend(pixels * (1 - .3 * s), _luma(pixels), .3 * s)
  return _blend(scene, np.float32(.85), alpha)


def _shadow(pixels, s, rng):
  """A soft-edged shadow over a random half-plane and stripe."""
  h, w = pixels.shape[:2]
  y, x = np.mgrid[0:h, 0:w] / max(h, w)
  angle = rng.uniform(0, 2 * np.pi)
  along = x * np.cos(angle) + y * np.sin(angle)
  edge = np.median(along) + rng.uniform(-.15, .15)
  width = rng.uniform(.08, .2)
  shade = np.clip((along - edge) / .05, 0, 1)
  stripe = np.clip(1 - np.abs(along - edge + .35) / width, 0, 1)
  mask = np.maximum(shade, stripe)[..., None]
  return pixels * (1 - .85 * s * mask)


def _snow(pixels, s, rng):
  """White flakes of varying size over a whitened scene."""
  h, w = pixels.shape[:2]
  flakes = Image.new('L', (w, h), 0)
  draw = ImageDraw.Draw(flakes)
  for _ in range(round(s * h * w / 30)):
    x, y = rng.uniform(0, w), rng.uniform(0, h)
    r = rng.uniform(.3, .6 + 1.2 * s) * w / 64
    draw.ellipse([x - r, y - r, x + r, y + r], fill=int(rng.integers(170, 256)))
  alpha = np.asarray(flakes, np.float32)[..., None] / 255
  return _blend(_blend(pixels, np.float32(.95), .35 * s), np.float32(.97), alpha)


def _haze(pixels, s, rng):
  """Atmospheric haze: a blend toward grey-white airlight, denser toward the top."""
  h = pixels.shape[0]
  density = .8 * s * (1 - .15 * np.linspace(0, 1, h, dtype=np.float32))[:, None, None]
  return _blend(pixels, _HAZE, density)


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
