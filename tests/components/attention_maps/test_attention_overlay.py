"""Tests for components/attention_maps/overlay.py: the colour ramp, overlays, the figure."""
import io

import numpy as np
from PIL import Image
import pytest

from components.attention_maps import overlay


def _decode(png: bytes) -> np.ndarray:
  image = Image.open(io.BytesIO(png))
  assert image.format == 'PNG'
  return np.asarray(image.convert('RGB'))


def _luma(rgb):
  return rgb.astype(np.float64) @ [0.2126, 0.7152, 0.0722]


def _contains(figure: np.ndarray, patch: np.ndarray) -> bool:
  """Whether `patch` [h, w, 3] appears exactly somewhere in `figure`."""
  windows = np.lib.stride_tricks.sliding_window_view(figure, patch.shape)
  return bool(np.all(windows == patch, axis=(-3, -2, -1)).any())


def test_colour_ramp_runs_dark_to_light():
  rgb = overlay.colorize(np.linspace(0.0, 1.0, 101))
  assert rgb.shape == (101, 3) and rgb.dtype == np.uint8
  assert rgb[0].tolist() == [68, 1, 84] and rgb[-1].tolist() == [253, 231, 37]
  assert np.all(np.diff(_luma(rgb)) > 0)  # more attention is always lighter
  np.testing.assert_array_equal(overlay.colorize([[-3.0, 0.0], [1.0, 7.0]]),
                                [[rgb[0], rgb[0]], [rgb[-1], rgb[-1]]])


def test_maps_are_normalised_per_map_for_display():
  np.testing.assert_allclose(overlay.normalize_for_display([[0.4, 0.5], [0.6, 0.45]]),
                             [[0.0, 0.5], [1.0, 0.25]], atol=1e-6)
  np.testing.assert_array_equal(overlay.normalize_for_display(np.full((3, 3), 0.7)), 0.0)


def test_overlay_blends_the_map_onto_the_image_at_display_size():
  image = np.zeros((20, 40, 3), np.uint8)
  image[:, :, 0] = 200
  ramp = np.array([[0.0, 1.0], [0.0, 1.0]])  # left low, right high
  only_image = overlay.overlay(image, ramp, size=80, alpha=0.0)
  assert only_image.shape == (40, 80, 3)  # the longer side is `size`, aspect kept
  np.testing.assert_array_equal(only_image, np.broadcast_to([200, 0, 0], (40, 80, 3)))
  only_map = overlay.overlay(image, ramp, size=80, alpha=1.0)
  assert only_map[:, 0].tolist() == [[68, 1, 84]] * 40
  assert only_map[:, -1].tolist() == [[253, 231, 37]] * 40
  half = overlay.overlay(image, ramp, size=80)
  np.testing.assert_allclose(half, (only_image.astype(float) + only_map) / 2, atol=1)
  # Per-map normalisation: an affine change of the map draws the same overlay.
  np.testing.assert_array_equal(overlay.overlay(image, 0.01 * ramp + 0.3, size=80), half)


def test_figure_shows_the_image_and_each_overlay_with_labels():
  rng = np.random.default_rng(0)
  image = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
  maps = [rng.random((4, 4)), rng.random((2, 2)), rng.random((8, 8))]
  png = overlay.render_overlays(image, maps, titles=['a', 'b', 'c'], caption='stop (p=0.9)',
                                size=32, columns=2)
  figure = _decode(png)
  one_row = _decode(overlay.render_overlays(image, maps, titles=['a', 'b', 'c'],
                                            caption='stop (p=0.9)', size=32, columns=4))
  assert figure.shape[0] > one_row.shape[0] and figure.shape[1] < one_row.shape[1]
  assert _contains(figure, np.asarray(Image.fromarray(image).resize((32, 32),
                                                                    Image.BILINEAR)))
  for values in maps:
    assert _contains(figure, overlay.overlay(image, values, size=32))
  # Labels are drawn: the text rows above the panels are not blank.
  assert (figure[:20] != 255).any()


def test_a_jpeg_figure_is_the_png_figure_smaller():
  rng = np.random.default_rng(1)
  image = np.asarray(Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
                     .resize((32, 32), Image.BILINEAR))  # smooth, like a real photo
  maps = [rng.random((4, 4)), rng.random((2, 2)), rng.random((8, 8))]
  args = dict(titles=['a', 'b', 'c'], caption='stop (p=0.9)', size=120)
  png = overlay.render_overlays(image, maps, **args)
  jpeg = overlay.render_overlays(image, maps, **args, image_format='JPEG')
  decoded = Image.open(io.BytesIO(jpeg))
  assert decoded.format == 'JPEG'
  assert np.asarray(decoded).shape == _decode(png).shape
  assert np.abs(np.asarray(decoded, np.float32) - _decode(png)).mean() < 3
  assert len(jpeg) < len(png) / 2
  with pytest.raises(ValueError, match="image_format must be one of.*Received 'GIF'"):
    overlay.render_overlays(image, maps, **args, image_format='GIF')


@pytest.mark.parametrize('image, maps, titles, message', [
    (np.zeros((8, 8, 3), np.float32), [np.zeros((2, 2))], ['a'], 'dtype=float32'),
    (np.zeros((8, 8), np.uint8), [np.zeros((2, 2))], ['a'], r'shape=\(8, 8\)'),
    (np.zeros((8, 8, 3), np.uint8), [np.zeros((2, 2)), np.zeros((2, 2, 3))], ['a', 'b'],
     r'maps\[1\].*shape=\(2, 2, 3\)'),
    (np.zeros((8, 8, 3), np.uint8), [np.full((2, 2), np.nan)], ['a'], r'maps\[0\] must be'),
    (np.zeros((8, 8, 3), np.uint8), [np.zeros((2, 2))], ['a', 'b'], '1 maps, 2 titles'),
])
def test_bad_figure_inputs_are_named(image, maps, titles, message):
  with pytest.raises(ValueError, match=message):
    overlay.render_overlays(image, maps, titles=titles, caption='')
