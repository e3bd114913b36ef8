"""The Layout contract beyond reading: each dataset's schema file and its embedded sample, as
the pipeline asks for them before any data is read."""
import os

import pytest

from components import example_gen
from components import schemas
from components.example_gen.formats import manifest


def test_only_cure_tsr_has_an_embedded_sample(tmp_path):
  with_sample = {name for name, cls in example_gen.LAYOUT_CLASSES.items() if cls.has_sample}
  assert with_sample == {'cure_tsr'}
  for name in sorted(set(example_gen.LAYOUT_CLASSES) - with_sample):
    with pytest.raises(example_gen.LayoutError, match=f"Dataset '{name}' has no embedded sample"):
      example_gen.layout_class(name).render_sample(
          str(tmp_path / name), seed=0, train_per_class=1, test_per_class=1)
  assert not os.listdir(tmp_path)


def test_cure_tsr_renders_its_sample_spans_as_cure_tsr_layouts(tmp_path):
  data_root = str(tmp_path / 'cure_tsr')
  render = example_gen.layout_class('cure_tsr').render_sample
  counts = render(data_root, seed=0, train_per_class=1, test_per_class=0)
  per_folder = 14 * (1 + 12)  # classes x (challenge-free + 12 challenged versions)
  assert counts == {'Real_Train': per_folder, 'Unreal_Train': per_folder, 'Real_Test': 0,
                    'Unreal_Test': 0}
  assert render(data_root, seed=0, train_per_class=1, test_per_class=0, span=2) == counts
  assert sorted(os.listdir(data_root)) == ['span-1', 'span-2']
  for span in ('span-1', 'span-2'):
    reader = example_gen.make_layout('cure_tsr', os.path.join(data_root, span))
    assert sum(1 for source in reader.sources() for _ in reader.items(source)) == 2 * per_folder


@pytest.mark.parametrize('dataset', sorted(set(example_gen.LAYOUT_CLASSES) - {'manifest',
                                                                            'tfrecord'}))
def test_a_curated_schema_needs_no_data(dataset, tmp_path):
  schema_file = example_gen.layout_class(dataset).schema_file(
      str(tmp_path / 'no_data'), {}, output_dir=str(tmp_path / 'schema'))
  assert schema_file == schemas.schema_path(dataset)
  assert not os.listdir(tmp_path)


def test_imported_tfrecords_have_no_schema_of_their_own(tmp_path):
  with pytest.raises(ValueError, match="No curated schema for dataset 'tfrecord'"):
    example_gen.layout_class('tfrecord').schema_file(str(tmp_path), {}, output_dir=str(tmp_path))


def test_a_manifest_writes_the_schema_of_its_classes_and_columns(tmp_path):
  data_root = str(tmp_path / 'data')
  manifest.write_fixture(data_root, classes=('owl', 'bat'), per_class=2,
                         scenario_columns={'light': ('dim',), 'site': ('barn',)})
  options = {'eval_fraction': 0.5}
  schema_file = example_gen.layout_class('manifest').schema_file(
      data_root, options, output_dir=str(tmp_path / 'schema'))
  assert schema_file == str(tmp_path / 'schema' / 'manifest.pbtxt')
  schema = schemas.load_schema(schema_file)
  assert schema == example_gen.make_layout('manifest', data_root, options).schema()
  assert schemas.class_names(schema) == ('bat', 'owl')  # sorted: there is no classes file
  assert schemas.scenario_features(schema) == ('scenario/light', 'scenario/site')
