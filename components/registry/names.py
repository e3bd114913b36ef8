"""What a registry accepts as a model name, an alias and a version number.

Names become path components under the registry root, so anything that could climb out of it
(`..`, `a/b`, absolute paths) or hide from a listing (a leading `.`) is rejected at the
boundary, with the value in the message.
"""
import re
from typing import Any

SIMPLE_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]{0,127}')
DIGITS = re.compile(r'[0-9]+')  # a version number as written: ASCII digits


def check_name(value: Any, kind: str = 'model name') -> str:
  """`value` if it is a simple name: 1-128 of [A-Za-z0-9._-], starting with a letter or digit."""
  if not isinstance(value, str) or not SIMPLE_NAME.fullmatch(value):
    raise ValueError(f'{kind} {value!r} is not a simple name: use 1-128 letters, digits, '
                     "'.', '_' or '-', starting with a letter or digit")
  return value


def check_alias(value: Any) -> str:
  """`value` if it is a simple name that is not a number (numbers are versions)."""
  check_name(value, 'alias')
  if DIGITS.fullmatch(value):
    raise ValueError(f'alias {value!r} is a number; aliases must not look like versions')
  return value


def check_version(value: Any) -> int:
  """`value` if it is a version number: an int >= 1 (TF Serving's numeric version dirs)."""
  if isinstance(value, bool) or not isinstance(value, int) or value < 1:
    raise ValueError(f'version {value!r} is not an integer >= 1')
  return value


def parse_version(text: str) -> int:
  """The version number written as `text` (ASCII digits only, e.g. '3')."""
  if not DIGITS.fullmatch(text):
    raise ValueError(f'version {text!r} is not an integer >= 1')
  return check_version(int(text))
