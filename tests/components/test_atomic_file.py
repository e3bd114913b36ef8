"""atomic_file.write: text and bytes land whole, replace what was there, leave no partial."""
import pytest

from components import atomic_file


def test_text_and_bytes_replace_the_file_and_leave_no_partial(tmp_path):
  path = tmp_path / 'card.json'
  atomic_file.write(str(path), '{"version": 1}')
  assert path.read_text() == '{"version": 1}'
  atomic_file.write(str(path), b'\x00\xffbinary')
  assert path.read_bytes() == b'\x00\xffbinary'
  assert sorted(p.name for p in tmp_path.iterdir()) == ['card.json']


def test_a_failed_write_leaves_the_old_file(tmp_path):
  path = tmp_path / 'latest.json'
  atomic_file.write(str(path), 'old')
  with pytest.raises(TypeError):
    atomic_file.write(str(path), 12345)  # neither text nor bytes: the write itself fails
  assert path.read_text() == 'old'
