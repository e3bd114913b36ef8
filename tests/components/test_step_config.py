"""A step config built from a profile by field name and carried through JSON, typed."""
import dataclasses
import json
from typing import Tuple

import pytest

from components import step_config


@dataclasses.dataclass(frozen=True)
class _Profile:
  size: int = 32
  fractions: Tuple[float, ...] = (0.4, 0.6)
  pairs: Tuple[Tuple[str, float], ...] = (('level', 0.8),)
  unrelated: str = 'not read'


@dataclasses.dataclass(frozen=True)
class _StepConfig(step_config.StepConfig):
  CUSTOM_CONFIG_KEY = 'step_config'
  size: int
  fractions: Tuple[float, ...]
  pairs: Tuple[Tuple[str, float], ...]
  code_version: str


def test_fields_are_read_from_the_profile_by_name_beside_the_given_ones():
  assert _StepConfig.from_fields(_Profile(), code_version='abc') == _StepConfig(
      size=32, fractions=(0.4, 0.6), pairs=(('level', 0.8),), code_version='abc')


def test_a_field_the_profile_lacks_fails_naming_it():
  @dataclasses.dataclass(frozen=True)
  class Renamed:
    image_size: int = 32
    fractions: Tuple[float, ...] = ()
    pairs: Tuple[Tuple[str, float], ...] = ()

  with pytest.raises(step_config.StepConfigError,
                     match=r"_StepConfig fields \['size'\] have no Renamed field"):
    _StepConfig.from_fields(Renamed(), code_version='abc')


def test_the_round_trip_through_json_gives_the_same_config_with_tuples():
  config = _StepConfig.from_fields(_Profile(), code_version='abc')
  custom_config = {'other_key': True, **config.to_custom_config()}
  read = _StepConfig.from_custom_config(json.loads(json.dumps(custom_config)))
  assert read == config
  assert type(read.fractions) is tuple and type(read.pairs[0]) is tuple


@pytest.mark.parametrize('change, message', [
    (lambda values: values.pop('size'), r"missing fields \['size'\], unknown fields \[\]"),
    (lambda values: values.update(colour='red'),
     r"missing fields \[\], unknown fields \['colour'\]"),
])
def test_missing_or_unknown_fields_are_named(change, message):
  custom_config = _StepConfig.from_fields(_Profile(), code_version='abc').to_custom_config()
  change(custom_config['step_config'])
  with pytest.raises(step_config.StepConfigError, match=message):
    _StepConfig.from_custom_config(custom_config)


def test_a_custom_config_without_the_key_names_the_keys_it_has():
  with pytest.raises(step_config.StepConfigError,
                     match=r"no 'step_config' \(it has \['size'\]\)"):
    _StepConfig.from_custom_config({'size': 32})
