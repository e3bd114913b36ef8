"""Finding and reading an Examples split's files."""
import numpy as np
import pytest

from components import example_files
import example_data


def test_files_of_every_pattern_come_sorted_and_the_first_image_is_read(tmp_path):
  images = [np.full((4, 5, 3), value, np.uint8) for value in (10, 200)]
  for name, image in (('b.tfrecord.gz', images[1]), ('a.tfrecord.gz', images[0])):
    example_data.write_examples(tmp_path / name, [image], [0])
  (tmp_path / 'other.txt').write_text('')
  pattern = str(tmp_path / '*.tfrecord.gz')
  assert example_files.tfrecord_files([pattern, str(tmp_path / 'none-*')]) == [
      str(tmp_path / 'a.tfrecord.gz'), str(tmp_path / 'b.tfrecord.gz')]
  assert example_files.first_encoded_image([pattern]) == example_data.encode(images[0])


def test_no_matching_file_fails_naming_the_patterns(tmp_path):
  with pytest.raises(ValueError, match=r"No TFRecord files match \['.*/\*.gz'\]"):
    example_files.tfrecord_files([str(tmp_path / '*.gz')])
