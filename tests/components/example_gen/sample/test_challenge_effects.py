"""The 12 CURE-TSR challenge effects: deterministic, graded by level, the scene still there."""
import numpy as np
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
      correlations[level - 1] += np.corrcoef(out.ravel(), scene.ravel())[0, 1] / len(scenes)
  assert errors[0] > 3, errors                 # level 1 visibly changes the image
  assert np.all(np.diff(errors) > 0), errors   # each level is more severe
  assert correlations[-1] > .45, correlations  # level 5: the sign is still faintly there
