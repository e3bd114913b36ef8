"""Procedural traffic-sign crops: 14 sign types drawn with PIL, on synthetic road-side scenes.

Signs are drawn once per design as RGBA templates (supersampled, so edges are anti-aliased)
and then placed, scaled and rotated a few degrees onto a random background. `no_left` and
`no_right` are mirror images of each other, so a horizontal flip is NOT label-preserving for
these classes (nor for the text of `stop` or the letter of `parking`).
"""
import functools
from typing import Callable, Dict, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

TEMPLATE_SIZE = 96      # px, side of a sign template
MIN_IMAGE_SIZE = 16     # px, smallest scene side that still shows a sign
SPEED_LIMITS = (30, 50, 60, 70, 80, 90)  # km/h, the speed_limit designs

_SUPERSAMPLE = 4
_RED = (200, 20, 35)
_BLUE = (10, 80, 170)
_YELLOW = (250, 195, 10)
_WHITE = (245, 245, 245)
_BLACK = (25, 25, 25)
# Road-side colours (sky, overcast, foliage, dark foliage, facade, concrete, asphalt, brick),
# RGB in [0, 1]; backgrounds jitter these.
_SCENE_COLORS = np.array([
    [.55, .7, .9], [.75, .77, .8], [.25, .4, .15], [.12, .22, .1], [.6, .5, .42],
    [.55, .55, .52], [.3, .3, .32], [.55, .27, .2]], np.float32)

# Seven-segment strokes in a unit glyph box (x right, y down), plus 'i', a centre stem.
_SEGMENTS = {
    'a': ((0, 0), (1, 0)), 'b': ((1, 0), (1, .5)), 'c': ((1, .5), (1, 1)),
    'd': ((0, 1), (1, 1)), 'e': ((0, .5), (0, 1)), 'f': ((0, 0), (0, .5)),
    'g': ((0, .5), (1, .5)), 'i': ((.5, 0), (.5, 1)),
}
_GLYPHS = {
    '0': 'abcdef', '3': 'abcdg', '5': 'afgcd', '6': 'afgcde', '7': 'abc', '8': 'abcdefg',
    '9': 'abcdfg', 'S': 'afgcd', 'T': 'ai', 'O': 'abcdef', 'P': 'abfge',
}


class _Pen:
  """Draws on an ImageDraw in unit coordinates: (0, 0) top left, (1, 1) bottom right."""

  def __init__(self, draw: ImageDraw.ImageDraw, size: int):
    self._draw = draw
    self._size = size

  def _px(self, points):
    return [(x * self._size, y * self._size) for x, y in points]

  def disc(self, cx, cy, radius, fill):
    self.ellipse(cx - radius, cy - radius, cx + radius, cy + radius, fill)

  def ellipse(self, x0, y0, x1, y1, fill):
    self._draw.ellipse(self._px([(x0, y0), (x1, y1)]), fill=fill)

  def rect(self, x0, y0, x1, y1, fill, radius=0.0):
    self._draw.rounded_rectangle(self._px([(x0, y0), (x1, y1)]), radius * self._size,
                                 fill=fill)

  def polygon(self, points, fill):
    self._draw.polygon(self._px(points), fill=fill)

  def stroke(self, points, width, fill):
    """A polyline `width` wide with round joints and caps."""
    self._draw.line(self._px(points), fill=fill, width=round(width * self._size),
                    joint='curve')
    for x, y in (points[0], points[-1]):
      self.disc(x, y, width / 2, fill)

  def text(self, chars, cx, cy, height, width, fill):
    """Seven-segment `chars`, each glyph `width` x `height`, centred on (cx, cy)."""
    gap, stroke = 0.35 * width, 0.28 * width
    x = cx - (len(chars) * width + (len(chars) - 1) * gap) / 2
    for char in chars:
      for segment in _GLYPHS[char]:
        (x0, y0), (x1, y1) = _SEGMENTS[segment]
        self.stroke([(x + x0 * width, cy + (y0 - .5) * height),
                     (x + x1 * width, cy + (y1 - .5) * height)], stroke, fill)
      x += width + gap


def _regular_polygon(sides, radius, rotation, center=(.5, .5)):
  angles = rotation + 2 * np.pi * np.arange(sides) / sides
  return [(center[0] + radius * np.cos(a), center[1] + radius * np.sin(a)) for a in angles]


def _shrink(points, factor, center):
  return [(center[0] + factor * (x - center[0]), center[1] + factor * (y - center[1]))
          for x, y in points]


def _prohibition(pen, inner=_WHITE):
  """White (or `inner`) disc with a red ring: radius 0.44, ring 0.1 of it."""
  pen.disc(.5, .5, .44, _RED)
  pen.disc(.5, .5, .35, inner)


def _slash(pen, reverse=False):
  """Red diagonal across the prohibition disc, top left to bottom right (or the reverse)."""
  a, b = .5 - .25, .5 + .25
  pen.stroke([(a, b), (b, a)] if reverse else [(a, a), (b, b)], .07, _RED)


def _speed_limit(pen, variant):
  _prohibition(pen)
  pen.text(str(SPEED_LIMITS[variant]), .5, .5, height=.32, width=.15, fill=_BLACK)


def _goods_vehicles(pen, variant):
  _prohibition(pen)
  pen.rect(.38, .36, .74, .58, _BLACK, radius=.01)     # cargo box
  pen.rect(.25, .43, .36, .58, _BLACK, radius=.02)     # cab
  pen.rect(.28, .455, .34, .5, _WHITE)                  # cab window
  pen.rect(.25, .58, .74, .61, _BLACK)                  # chassis
  for x in (.32, .6, .69):
    pen.disc(x, .63, .045, _BLACK)


def _car_front(pen, cx, fill):
  pen.polygon([(cx - .075, .48), (cx - .05, .37), (cx + .05, .37), (cx + .075, .48)], fill)
  pen.rect(cx - .095, .47, cx + .095, .6, fill, radius=.02)
  pen.rect(cx - .085, .58, cx - .05, .66, fill, radius=.01)
  pen.rect(cx + .05, .58, cx + .085, .66, fill, radius=.01)
  pen.rect(cx - .045, .4, cx + .045, .46, _WHITE)       # windscreen


def _no_overtaking(pen, variant):
  _prohibition(pen)
  _car_front(pen, .38, _RED)
  _car_front(pen, .62, _BLACK)


def _no_stopping(pen, variant):
  _prohibition(pen, inner=_BLUE)
  _slash(pen)
  _slash(pen, reverse=True)


def _no_parking(pen, variant):
  _prohibition(pen, inner=_BLUE)
  _slash(pen)


def _stop(pen, variant):
  octagon = _regular_polygon(8, .45, np.pi / 8)
  pen.polygon(octagon, _WHITE)
  pen.polygon(_shrink(octagon, .92, (.5, .5)), _RED)
  pen.text('STOP', .5, .5, height=.2, width=.1, fill=_WHITE)


def _bicycle(pen, variant):
  pen.disc(.5, .5, .44, _WHITE)
  pen.disc(.5, .5, .42, _BLUE)
  for x in (.31, .69):
    pen.disc(x, .6, .12, _WHITE)
    pen.disc(x, .6, .09, _BLUE)
  white, w = _WHITE, .035
  pen.stroke([(.31, .6), (.47, .6), (.42, .41)], w, white)      # chain stay, seat tube
  pen.stroke([(.31, .6), (.43, .44), (.64, .44), (.47, .6)], w, white)  # stays, frame
  pen.stroke([(.69, .6), (.63, .36), (.58, .36)], w, white)      # fork, handlebar
  pen.stroke([(.37, .39), (.47, .39)], w, white)                 # saddle


def _warning_triangle(pen):
  triangle = [(.5, .07), (.95, .86), (.05, .86)]
  center = (.5, (.07 + .86 + .86) / 3)
  pen.polygon(triangle, _RED)
  pen.polygon(_shrink(triangle, .7, center), _WHITE)


def _hump(pen, variant):
  _warning_triangle(pen)
  pen.ellipse(.3, .56, .48, .78, _BLACK)
  pen.ellipse(.52, .56, .7, .78, _BLACK)
  pen.rect(.28, .67, .72, .78, _WHITE)                  # cut the bumps' lower halves
  pen.rect(.28, .67, .72, .71, _BLACK)                  # road surface


def _no_left(pen, variant):
  _prohibition(pen)
  pen.stroke([(.58, .72), (.58, .5), (.55, .43), (.48, .4), (.42, .4)], .07, _BLACK)
  pen.polygon([(.27, .4), (.42, .3), (.42, .5)], _BLACK)  # arrowhead, pointing left
  _slash(pen)


def _priority_to(pen, variant):
  diamond = _regular_polygon(4, .45, 0)
  pen.polygon(diamond, _BLACK)
  pen.polygon(_shrink(diamond, .95, (.5, .5)), _WHITE)
  pen.polygon(_shrink(diamond, .64, (.5, .5)), _BLACK)
  pen.polygon(_shrink(diamond, .6, (.5, .5)), _YELLOW)


def _no_entry(pen, variant):
  pen.disc(.5, .5, .44, _WHITE)
  pen.disc(.5, .5, .42, _RED)
  pen.rect(.24, .44, .76, .56, _WHITE)


def _yield(pen, variant):
  triangle = [(.05, .12), (.95, .12), (.5, .92)]
  center = (.5, (.12 + .12 + .92) / 3)
  pen.polygon(triangle, _RED)
  pen.polygon(_shrink(triangle, .62, center), _WHITE)


def _parking(pen, variant):
  pen.rect(.07, .07, .93, .93, _WHITE, radius=.08)
  pen.rect(.1, .1, .9, .9, _BLUE, radius=.06)
  pen.ellipse(.36, .22, .7, .56, _WHITE)               # the P's bowl ...
  pen.rect(.32, .22, .53, .56, _WHITE)
  pen.ellipse(.45, .32, .6, .46, _BLUE)                # ... and its hole
  pen.rect(.42, .32, .525, .46, _BLUE)
  pen.rect(.3, .22, .43, .8, _WHITE)                   # stem


# Sign name -> painter(pen, variant); the variant only matters for speed_limit.
_PAINTERS: Dict[str, Callable] = {
    'speed_limit': _speed_limit, 'goods_vehicles': _goods_vehicles,
    'no_overtaking': _no_overtaking, 'no_stopping': _no_stopping, 'no_parking': _no_parking,
    'stop': _stop, 'bicycle': _bicycle, 'hump': _hump, 'no_left': _no_left,
    'priority_to': _priority_to, 'no_entry': _no_entry, 'yield': _yield, 'parking': _parking,
}
_MIRRORS = {'no_right': 'no_left'}  # sign -> the sign it is the mirror image of
SIGN_NAMES = tuple(_PAINTERS) + tuple(_MIRRORS)


@functools.lru_cache(maxsize=None)
def sign_template(sign: str, variant: int = 0) -> Image.Image:
  """RGBA template, TEMPLATE_SIZE px square; the sign fits the central 0.9 (room to rotate)."""
  if sign in _MIRRORS:
    return sign_template(_MIRRORS[sign], variant).transpose(Image.FLIP_LEFT_RIGHT)
  if sign not in _PAINTERS:
    raise ValueError(f'sign={sign!r}: choose from {SIGN_NAMES}')
  size = TEMPLATE_SIZE * _SUPERSAMPLE
  canvas = Image.new('RGBA', (size, size), (0, 0, 0, 0))
  _PAINTERS[sign](_Pen(ImageDraw.Draw(canvas), size), variant)
  return canvas.resize((TEMPLATE_SIZE, TEMPLATE_SIZE), Image.LANCZOS)


def _gradient(side, colors, rng):
  """float32 [side, side, 3]: a linear blend between two colours in a random direction."""
  angle = rng.uniform(0, 2 * np.pi)
  y, x = np.mgrid[0:side, 0:side] / max(side - 1, 1)
  t = x * np.cos(angle) + y * np.sin(angle)
  t = (t - t.min()) / max(np.ptp(t), 1e-6)
  return (colors[0] + (colors[1] - colors[0]) * t[..., None]).astype(np.float32)


def _scene_colors(count, rng):
  """float32 [count, 3]: road-side colours, jittered; one in five a random vivid colour."""
  colors = _SCENE_COLORS[rng.integers(len(_SCENE_COLORS), size=count)]
  colors = colors + rng.normal(0, .07, colors.shape)
  vivid = rng.random(count) < .2
  colors[vivid] = rng.uniform(0, 1, (vivid.sum(), 3))
  return np.clip(colors, 0, 1)


def _background(side: int, realistic: bool, rng: np.random.Generator) -> Image.Image:
  """Road-side scene: a colour gradient, texture (realistic) or flat bands, clutter shapes."""
  pixels = _gradient(side, _scene_colors(2, rng), rng)
  if realistic:
    texture = Image.fromarray(rng.normal(0, 1, (6, 6)).astype(np.float32))
    texture = np.asarray(texture.resize((side, side), Image.BICUBIC))  # smooth luminance
    pixels += .08 * texture[..., None] + rng.normal(0, .03, pixels.shape)
  else:
    pixels = np.round(pixels * 4) / 4  # flat colour bands
  image = Image.fromarray(np.uint8(np.clip(pixels, 0, 1) * 255 + .5))
  draw = ImageDraw.Draw(image)
  for color in _scene_colors(int(rng.integers(2, 7)), rng):
    color = tuple(int(c) for c in np.uint8(color * 255))
    x0, y0, x1, y1 = (side * rng.uniform(-.2, 1.2, 4)).tolist()
    box = [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]
    shape = rng.integers(3)
    if shape == 0:
      draw.rectangle(box, fill=color)
    elif shape == 1:
      draw.ellipse(box, fill=color)
    else:
      draw.line(box, fill=color, width=int(rng.integers(1, max(2, side // 10))))
  return image


def _photographic(image: Image.Image, rng: np.random.Generator) -> np.ndarray:
  """Camera look: slight blur, colour cast, uneven light, sensor noise; uint8 [h, w, 3]."""
  image = image.filter(ImageFilter.GaussianBlur(rng.uniform(.3, .8)))
  pixels = np.asarray(image, np.float32) / 255
  side = pixels.shape[0]
  light = _gradient(side, np.array([[1.], [rng.uniform(.6, 1.)]]), rng)
  pixels = pixels * rng.uniform(.8, 1.15, 3) * light + rng.uniform(-.05, .08)
  pixels += rng.normal(0, rng.uniform(.01, .04), pixels.shape)
  return np.uint8(np.clip(pixels, 0, 1) * 255 + .5)


def render_scene(sign: str, *, realistic: bool, rng: np.random.Generator,
                 image_size_range: Tuple[int, int] = (40, 64)) -> np.ndarray:
  """One square crop around `sign`: uint8 RGB [side, side, 3], side drawn from the range.

  The sign fills 70..95% of the side, rotated by up to 6 degrees, on a sign post.
  `realistic` (CURE-TSR 'real' sequences) adds blur, colour cast, uneven light and noise;
  otherwise ('unreal') colours are flat and clean.
  """
  side = int(rng.integers(image_size_range[0], image_size_range[1] + 1))
  scene = _background(side, realistic, rng)
  variant = int(rng.integers(len(SPEED_LIMITS))) if sign == 'speed_limit' else 0
  sign_px = max(4, round(side * rng.uniform(.7, .95)))
  x, y = (int(v) for v in rng.integers(0, side - sign_px + 1, 2))
  post = max(1, sign_px // 12)
  grey = int(rng.integers(90, 180))
  ImageDraw.Draw(scene).rectangle(
      [x + sign_px // 2 - post, y + sign_px // 2, x + sign_px // 2 + post, side],
      fill=(grey, grey, grey))
  template = sign_template(sign, variant).rotate(rng.uniform(-6, 6), Image.BICUBIC)
  template = template.resize((sign_px, sign_px), Image.LANCZOS)
  scene.paste(template, (x, y), template)
  if realistic:
    return _photographic(scene, rng)
  return np.asarray(scene)

