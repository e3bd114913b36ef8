"""The 12 CURE-TSR challenge effects: deterministic, graded by level, the scene still there."""
import numpy as np
from PIL import Image
import pytest

from components.example_gen.formats import cure_tsr
from components.example_gen.sample import challenge_effects
from components.example_gen.sample import sign_rendering

CHALLENGES = cure_tsr.CHALLENGE_NAMES[1:]


@pytest.fixture(scope='module')
def scenes():
  return [sign_rendering.render_scene(name, realistic=k % 2 == 0, rng=np.random.default_rng(k))
          for k, name in enumerate(cure_tsr.CLASS_NAMES)]


def test_none_returns_the_image():
  pixels = np.zeros((8, 8, 3), np.uint8)
  assert challenge_effects.apply_challenge(pixels, 'none', 0, np.random.default_rng(0)) is pixels


def test_unknown_challenge_is_an_error():
  with pytest.raises(ValueError, match="challenge='fog'"):
    challenge_effects.apply_challenge(np.zeros((8, 8, 3), np.uint8), 'fog', 1,
                                      np.random.default_rng(0))


def _model_view(pixels):
  """float [32, 32, 3]: the image as the default pipeline sees it (bilinear, antialiased)."""
  return np.asarray(Image.fromarray(pixels).resize((32, 32), Image.BILINEAR), float)


@pytest.mark.parametrize('challenge', CHALLENGES)
def test_effect_grows_with_level_and_keeps_the_scene(challenge, scenes):
  errors, correlations = np.zeros(5), np.zeros(5)
  for k, scene in enumerate(scenes):
    for level in range(1, 6):
      out = challenge_effects.apply_challenge(scene, challenge, level, np.random.default_rng(k))
      assert out.dtype == np.uint8 and out.shape == scene.shape
      again = challenge_effects.apply_challenge(scene, challenge, level,
                                                np.random.default_rng(k))
      np.testing.assert_array_equal(out, again)
      errors[level - 1] += np.abs(out.astype(float) - scene).mean() / len(scenes)
      correlations[level - 1] += np.corrcoef(
          _model_view(out).ravel(), _model_view(scene).ravel())[0, 1] / len(scenes)
  assert errors[0] > 5, errors                     # level 1 visibly changes the image
  assert np.all(np.diff(errors) > 2), errors       # each level moves further from the clean one
  assert np.all(np.diff(correlations) < 0), correlations  # ... and keeps less of it
  assert correlations[-1] > .3, correlations       # level 5: the scene is still faintly there


@pytest.mark.parametrize('challenge, most', [
    # Those that destroy or move spatial detail keep little at level 5 ...
    ('lens_blur', .7), ('gaussian_blur', .75), ('dirty_lens', .45), ('codec_error', .6),
    ('noise', .35),
])
def test_detail_destroying_effects_keep_little_at_level_5(challenge, most, scenes):
  correlations = [np.corrcoef(_model_view(challenge_effects.apply_challenge(
      scene, challenge, 5, np.random.default_rng(k))).ravel(), _model_view(scene).ravel())[0, 1]
                  for k, scene in enumerate(scenes)]
  assert np.mean(correlations) < most


def test_darkening_keeps_the_scene_up_to_a_scale():
  """Darkening, the mildest challenge in CURE-TSR, lowers the light but keeps the pattern."""
  scenes_ = [sign_rendering.render_scene(name, realistic=True, rng=np.random.default_rng(k))
             for k, name in enumerate(cure_tsr.CLASS_NAMES)]
  for k, scene in enumerate(scenes_):
    dark = challenge_effects.apply_challenge(scene, 'darkening', 5, np.random.default_rng(k))
    assert dark.mean() < .25 * scene.mean()
    assert np.corrcoef(_model_view(dark).ravel(), _model_view(scene).ravel())[0, 1] > .95
