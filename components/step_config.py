"""A pipeline step's typed settings, carried whole in its TFX `custom_config`.

A step's settings are a frozen dataclass deriving from `StepConfig`. The pipeline builds one
from the profile by field name (`from_fields`): a field keeps its name from PipelineConfig to
the step, so a field renamed on one side only fails when the pipeline is compiled, not inside
the step's container. It travels as JSON under one key of the component's custom_config
(`to_custom_config`; other keys may sit beside it, e.g. the Vertex AI Trainer's), and the
step's code reads it back typed (`from_custom_config`).
"""
import dataclasses
import typing
from typing import Any, ClassVar, Dict, Mapping


class StepConfigError(ValueError):
  """Settings that do not fit a step config's fields: missing, unknown or misnamed."""


def _typed(field_type, value):
  """`value` as JSON gives it back, with the tuples `field_type` names (JSON has lists)."""
  if typing.get_origin(field_type) is not tuple:
    return value
  item_types = typing.get_args(field_type)
  if item_types[1:] == (Ellipsis,):
    item_types = item_types[:1] * len(value)
  return tuple(_typed(item_type, item) for item_type, item in zip(item_types, value))


@dataclasses.dataclass(frozen=True)
class StepConfig:
  """Base of a step's settings; a subclass names its `CUSTOM_CONFIG_KEY`."""
  CUSTOM_CONFIG_KEY: ClassVar[str]

  @classmethod
  def from_fields(cls, source: Any, **given: Any) -> 'StepConfig':
    """The config with `given` fields and every other field read from `source` (the
    PipelineConfig) under the same name; StepConfigError naming the fields `source` lacks."""
    read = [f.name for f in dataclasses.fields(cls) if f.name not in given]
    lacking = [name for name in read if not hasattr(source, name)]
    if lacking:
      raise StepConfigError(
          f'{cls.__name__} fields {lacking} have no {type(source).__name__} field of the same '
          'name: a field keeps its name from the profile to the step')
    return cls(**{name: getattr(source, name) for name in read}, **given)

  def to_custom_config(self) -> Dict[str, Dict[str, Any]]:
    """{CUSTOM_CONFIG_KEY: every field by name}, for a component's custom_config."""
    return {self.CUSTOM_CONFIG_KEY: dataclasses.asdict(self)}

  @classmethod
  def from_custom_config(cls, custom_config: Mapping[str, Any]) -> 'StepConfig':
    """The config `to_custom_config` wrote, read back from a (JSON round-tripped)
    custom_config; StepConfigError naming missing or unknown fields."""
    if cls.CUSTOM_CONFIG_KEY not in custom_config:
      raise StepConfigError(f'custom_config has no {cls.CUSTOM_CONFIG_KEY!r} (it has '
                            f'{sorted(custom_config)}): build it with {cls.__name__}')
    values = custom_config[cls.CUSTOM_CONFIG_KEY]
    types = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    missing = [name for name in names if name not in values]
    unknown = sorted(set(values) - set(names))
    if missing or unknown:
      raise StepConfigError(f'custom_config[{cls.CUSTOM_CONFIG_KEY!r}] does not fit '
                            f'{cls.__name__}: missing fields {missing}, unknown fields {unknown}')
    return cls(**{name: _typed(types[name], values[name]) for name in names})
