"""Each span's mix of challenges and levels: distinct draws, full grids, the winter shift."""
import collections

import numpy as np
import pytest

from components.example_gen.formats import cure_tsr
from components.example_gen.sample import deliveries


def _shares(delivery, bases, seed=0):
  """Shares of scenario/challenge and scenario/level values over `bases` drawn bases, each
  with its challenge-free image, as the ingested examples would carry them."""
  challenges, levels = collections.Counter(), collections.Counter()
  rng = np.random.default_rng(seed)
  for _ in range(bases):
    for challenge, level in [(0, 0)] + delivery.draw(rng):
      challenges[cure_tsr.CHALLENGE_NAMES[challenge]] += 1
      levels[str(level)] += 1
  total = sum(challenges.values())
  return ({k: v / total for k, v in challenges.items()},
          {k: v / total for k, v in levels.items()})


def _linf(p, q):
  return max(abs(p.get(key, 0) - q.get(key, 0)) for key in set(p) | set(q))


def test_a_draw_is_distinct_sorted_cells():
  rng = np.random.default_rng(0)
  for _ in range(50):
    versions = deliveries.WINTER.draw(rng)
    assert len(versions) == 12 == len(set(versions))
    assert versions == sorted(versions)
    assert all(1 <= c <= 12 and 1 <= level <= 5 for c, level in versions)


def test_a_grid_is_every_cell_without_randomness():
  grid = deliveries.grid(('rain', 'haze'), (1, 5))
  expected = [(9, 1), (9, 5), (12, 1), (12, 5)]
  assert grid.draw(np.random.default_rng(0)) == grid.draw(np.random.default_rng(1)) == expected
  assert deliveries.grid((), (1,)).draw(np.random.default_rng(0)) == []


def test_bad_deliveries_are_errors():
  with pytest.raises(ValueError, match="unknown \\['fog'\\]"):
    deliveries.grid(('fog',), (1,))
  with pytest.raises(ValueError, match='levels=\\(0, 1\\)'):
    deliveries.grid(('rain',), (0, 1))
  with pytest.raises(ValueError, match='versions=61 must be in 0..60'):
    deliveries.Delivery('big', deliveries.STANDARD.challenge_weights,
                        deliveries.STANDARD.level_weights, versions=61)
  with pytest.raises(ValueError, match='span=0'):
    deliveries.for_span(0)


def test_the_standard_delivery_uses_every_challenge_and_level_alike():
  challenges, levels = _shares(deliveries.STANDARD, 3000)
  assert set(challenges) == set(cure_tsr.CHALLENGE_NAMES)
  assert challenges['none'] == levels['0'] == pytest.approx(1 / 13)
  for name in cure_tsr.CHALLENGE_NAMES[1:]:
    assert challenges[name] == pytest.approx(1 / 13, abs=.006)
  for level in '12345':
    assert levels[level] == pytest.approx(12 / 13 / 5, abs=.008)


def test_the_winter_span_shifts_challenges_and_levels_and_later_spans_do_not():
  standard = _shares(deliveries.for_span(1), 3000)
  winter = _shares(deliveries.for_span(2), 3000, seed=1)
  challenges, levels = winter
  # More snow, haze and darkening, each more than any other challenge ...
  others = max(share for name, share in challenges.items()
               if name not in ('none', 'snow', 'haze', 'darkening'))
  assert min(challenges['snow'], challenges['haze'], challenges['darkening']) > 2.5 * others
  # ... at higher levels.
  assert [levels[level] for level in '12345'] == sorted(levels[level] for level in '12345')
  assert _linf(standard[0], challenges) == pytest.approx(.15, abs=.01)   # at snow
  assert _linf(standard[1], levels) == pytest.approx(.18, abs=.01)       # at level 5
  for span in (3, 4):
    later = _shares(deliveries.for_span(span), 3000, seed=span)
    assert _linf(standard[0], later[0]) < .02 and _linf(standard[1], later[1]) < .02
