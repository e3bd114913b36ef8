"""The Beam ExampleGen executor: every file of a split becomes one canonical example."""
import json
import os

import apache_beam as beam
from apache_beam.testing import util as beam_util
import pytest
import tensorflow as tf
from tfx.types import standard_component_specs

from components import features
from components.example_gen import cure_tsr
from components.example_gen import executor
from components.example_gen import formats


@pytest.fixture(name='data_root', scope='module')
def fixture_data_root(tmp_path_factory):
  root = str(tmp_path_factory.mktemp('cure_tsr'))
  cure_tsr.write_sample(root, seed=1, train_per_class=1, test_per_class=1,
                        challenges=('snow',), levels=(2,), sequences=('unreal',))
  return root


def _exec_properties(data_root, dataset='cure_tsr'):
  component = executor.image_example_gen(dataset, data_root, code_version='abc')
  return {standard_component_specs.INPUT_BASE_KEY: data_root,
          standard_component_specs.CUSTOM_CONFIG_KEY:
              component.exec_properties[standard_component_specs.CUSTOM_CONFIG_KEY]}


def _read(data_root, split_pattern):
  with beam.Pipeline() as pipeline:
    examples = pipeline | executor.ReadImageDataset(_exec_properties(data_root), split_pattern)
    filenames = examples | beam.Map(
        lambda e: e.features.feature[features.IMAGE_FILENAME].bytes_list.value[0].decode())
    expected = sorted(os.path.relpath(p, data_root) for p in tf.io.gfile.glob(
        os.path.join(data_root, split_pattern)))
    beam_util.assert_that(filenames, beam_util.equal_to(expected))


def test_every_file_of_each_split_becomes_one_example(data_root):
  for pattern in cure_tsr.SPLIT_PATTERNS.values():
    assert len(tf.io.gfile.glob(os.path.join(data_root, pattern))) == 14 * 2
    _read(data_root, pattern)


def test_component_takes_the_layouts_splits(data_root):
  component = executor.image_example_gen('cure_tsr', data_root)
  input_config = json.loads(component.exec_properties[standard_component_specs.INPUT_CONFIG_KEY])
  assert {s['name']: s['pattern'] for s in input_config['splits']} == cure_tsr.SPLIT_PATTERNS


def test_a_corrupt_image_fails_the_run_naming_the_file(data_root, tmp_path):
  root = str(tmp_path / 'broken')
  cure_tsr.write_sample(root, seed=1, train_per_class=1, test_per_class=1,
                        challenges=('snow',), levels=(2,), sequences=('unreal',))
  bad = os.path.join(root, 'Unreal_Test', 'Snow-2', '02_03_11_02_0003.bmp')
  with open(bad, 'wb') as f:
    f.write(b'BM not really a bitmap')
  with pytest.raises(Exception, match='02_03_11_02_0003.bmp: not a decodable image'):
    _read(root, cure_tsr.SPLIT_PATTERNS['eval'])


def test_unknown_dataset_is_rejected_with_the_known_ones():
  with pytest.raises(ValueError, match=r"Unknown dataset format 'mnist'; known: \['cure_tsr'\]"):
    formats.get_format('mnist')
