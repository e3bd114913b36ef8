"""Seeded hashes that are the same on every machine, process and run (unlike `hash()`)."""
import hashlib


def stable_fraction(key: str, seed: int) -> float:
  """A uniform number in [0, 1) from `key` and `seed`, the same on every machine and run."""
  digest = hashlib.sha256(f'{seed}:{key}'.encode()).digest()
  return int.from_bytes(digest[:8], 'big') / 2.0**64


def hash_split(key: str, seed: int, eval_fraction: float) -> str:
  """'eval' for about `eval_fraction` of keys, else 'train'; stable for a (key, seed)."""
  return 'eval' if stable_fraction(key, seed) < eval_fraction else 'train'
