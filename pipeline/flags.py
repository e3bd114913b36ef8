"""Command-line flags generated from the profile dataclass: one flag per field, same name."""
import argparse
import dataclasses
import json
import typing

from pipeline import configs


def parse_bool(text: str) -> bool:
  """`true`/`false` (also 1/0, yes/no, any case) as a bool; ArgumentTypeError otherwise."""
  if text.lower() in ('true', '1', 'yes'):
    return True
  if text.lower() in ('false', '0', 'no'):
    return False
  raise argparse.ArgumentTypeError(f'{text!r} is not a boolean (true or false)')


class ArgumentParser(argparse.ArgumentParser):
  """argparse's parser, but a user's mistake is one line, `error: ...`, and exit status 2."""

  def error(self, message):
    self.exit(2, f'error: {message}\n')


def _json_entries(text: str) -> tuple:
  """A JSON object (`{"scenario/level": 0.8}`: its (key, value) pairs) or a JSON list of lists
  (`[["scenario/level", 0.8]]`) as a tuple of tuples; ArgumentTypeError otherwise."""
  try:
    value = json.loads(text)
  except json.JSONDecodeError as error:
    raise argparse.ArgumentTypeError(f'{text!r} is not JSON ({error})') from None
  if isinstance(value, dict):
    value = list(value.items())
  if not (isinstance(value, list) and all(isinstance(entry, (list, tuple)) for entry in value)):
    raise argparse.ArgumentTypeError(f'{text!r} is neither a JSON object nor a list of lists')
  return tuple(tuple(entry) for entry in value)


def _parser_for(field: dataclasses.Field):
  """A function turning the flag's text into the field's type."""
  hint = field.type
  if hint is bool:
    return parse_bool
  origin = typing.get_origin(hint)
  if origin is tuple:
    item = typing.get_args(hint)[0]
    if typing.get_origin(item) is tuple:  # tuples of tuples, e.g. slice_floors: JSON
      return _json_entries
    return lambda text: tuple(item(part) for part in text.split(',') if part)
  if origin is typing.Union:  # Optional[X]
    return typing.get_args(hint)[0]
  return hint


def _show(value) -> str:
  if isinstance(value, tuple) and value and isinstance(value[0], tuple):
    return json.dumps(value)
  return ','.join(map(str, value)) if isinstance(value, tuple) else str(value)


def add_config_flags(parser: argparse.ArgumentParser) -> None:
  """`--profile` plus one `--<field>` per PipelineConfig field, each overriding the profile."""
  parser.add_argument('--profile', default='dev', choices=sorted(configs.PROFILES),
                      help='Named set of choices (pipeline/configs.py). Default: dev.')
  group = parser.add_argument_group('profile overrides (default: the profile\'s value)')
  for field in dataclasses.fields(configs.PipelineConfig):
    group.add_argument(
        f'--{field.name}', *field.metadata['aliases'], dest=field.name,
        type=_parser_for(field), default=None,
        help=f'{field.metadata["help"]} [dev: {_show(getattr(configs.DEV, field.name))}]')


def config_from_flags(args: argparse.Namespace) -> configs.PipelineConfig:
  overrides = {field.name: getattr(args, field.name)
               for field in dataclasses.fields(configs.PipelineConfig)
               if getattr(args, field.name) is not None}
  return dataclasses.replace(configs.PROFILES[args.profile], **overrides)
