"""What one delivery (span) of the embedded sample holds: its mix of challenges and levels.

Every base sign of a delivery is written challenge-free and in `versions` challenged versions,
(challenge, level) cells drawn without replacement with probability proportional to
challenge weight x level weight; without replacement, so one base appears at most once per
challenge folder, as in CURE-TSR. Span 1 (and every span but 2) is the standard delivery: all
12 challenge types, all levels alike. Span 2 is the winter delivery: mostly snow, haze and
darkening, and every challenge at higher levels, a shift that a drift check on
`scenario/challenge` and `scenario/level` sees (L-infinity distances about 0.15 and 0.18).
"""
import dataclasses
from typing import List, Sequence, Tuple

import numpy as np

from components.example_gen.formats import cure_tsr

CHALLENGE_TYPES = cure_tsr.CHALLENGE_NAMES[1:]  # challengeType 1..12
WINTER_SPAN = 2


@dataclasses.dataclass(frozen=True)
class Delivery:
  """A mix of challenged versions per base sign."""
  name: str
  challenge_weights: Tuple[float, ...]  # [12], challengeType 1..12; 0: never drawn
  level_weights: Tuple[float, ...]      # [5], levels 1..5; 0: never drawn
  versions: int                         # challenged versions per base sign, >= 0

  def __post_init__(self):
    cells = np.count_nonzero(self.cell_weights())
    if not 0 <= self.versions <= cells:
      raise ValueError(f'{self.name} delivery: versions={self.versions} must be in 0..{cells} '
                       '(the cells with a weight)')

  def cell_weights(self) -> np.ndarray:
    """float64 [12, 5]: challengeType 1..12 x level 1..5, unnormalised."""
    return np.outer(self.challenge_weights, self.level_weights)

  def draw(self, rng: np.random.Generator) -> List[Tuple[int, int]]:
    """One base's versions: `versions` distinct (challengeType, level) pairs, sorted."""
    weights = self.cell_weights().ravel()
    if self.versions == np.count_nonzero(weights):  # every cell: a full grid, nothing to draw
      cells = np.flatnonzero(weights)
    else:
      cells = rng.choice(weights.size, size=self.versions, replace=False,
                         p=weights / weights.sum())
    return [(1 + int(cell) // len(cure_tsr.LEVELS), 1 + int(cell) % len(cure_tsr.LEVELS))
            for cell in sorted(cells)]


def grid(challenges: Sequence[str], levels: Sequence[int]) -> Delivery:
  """Every base at every one of `challenges` x `levels` (as in the published CURE-TSR)."""
  unknown = set(challenges) - set(CHALLENGE_TYPES)
  if unknown:
    raise ValueError(f'challenges={challenges}: unknown {sorted(unknown)}; choose from '
                     f'{CHALLENGE_TYPES}')
  if not set(levels) <= set(cure_tsr.LEVELS):
    raise ValueError(f'levels={levels}: each must be in {cure_tsr.LEVELS}')
  return Delivery(
      'grid', tuple(float(name in challenges) for name in CHALLENGE_TYPES),
      tuple(float(level in levels) for level in cure_tsr.LEVELS),
      versions=len(set(challenges)) * len(set(levels)))


def _challenge_weights(**heavier: float) -> Tuple[float, ...]:
  return tuple(heavier.get(name, 1.) for name in CHALLENGE_TYPES)


STANDARD = Delivery('standard', _challenge_weights(), (1., 1., 1., 1., 1.), versions=12)
WINTER = Delivery('winter', _challenge_weights(snow=10., haze=4., darkening=4.),
                  (.03, .06, .15, .3, .46), versions=12)


def for_span(span: int) -> Delivery:
  """The delivery of span `span` (1, 2, ...): WINTER for span 2, STANDARD otherwise."""
  if span < 1:
    raise ValueError(f'span={span}: spans are numbered from 1')
  return WINTER if span == WINTER_SPAN else STANDARD
