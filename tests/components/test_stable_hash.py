"""The seeded hashes behind hash splits and the dashboard's image choice: pinned values, so a
change of hash (which would move images between train and eval) fails here."""
import hashlib

from components import stable_hash


def test_stable_fraction_is_the_seeded_sha256_prefix():
  assert stable_hash.stable_fraction('a/b.png', 0) == 0.5341032622849192
  assert stable_hash.stable_fraction('a/b.png', 1) == 0.43900126273497375
  digest = hashlib.sha256(b'0:a/b.png').digest()
  assert stable_hash.stable_fraction('a/b.png', 0) == int.from_bytes(digest[:8], 'big') / 2**64


def test_hash_split_sends_about_the_fraction_to_eval():
  splits = [stable_hash.hash_split(f'k{i}', 7, 0.2) for i in range(10000)]
  assert splits.count('eval') == 2043
  assert [stable_hash.hash_split(key, 0, 0.5) for key in 'xyzw'] == [
      'train', 'eval', 'train', 'train']
  assert {stable_hash.hash_split(f'k{i}', 7, 0.0) for i in range(100)} == {'train'}
  assert {stable_hash.hash_split(f'k{i}', 7, 1.0) for i in range(100)} == {'eval'}
