"""data_schemas/cure_tsr.pbtxt agrees with the CURE-TSR layout, and validation uses it."""
import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tensorflow_metadata.proto.v0 import schema_pb2

from components import features
from components import schemas
from components.example_gen import sample
from components.example_gen.formats import cure_tsr


@pytest.fixture(name='schema')
def fixture_schema():
  return schemas.load_schema(schemas.schema_path('cure_tsr'))


def _domain(schema, feature_name):
  feature = next(f for f in schema.feature if f.name == feature_name)
  return list(next(d for d in schema.string_domain if d.name == feature.domain).value)


def test_class_names_are_the_label_order(schema):
  assert schemas.class_names(schema) == cure_tsr.CLASS_NAMES


def test_scenario_vocabularies_match_the_layout(schema):
  assert _domain(schema, features.scenario_key('challenge')) == list(cure_tsr.CHALLENGE_NAMES)
  assert _domain(schema, features.scenario_key('level')) == ['0', '1', '2', '3', '4', '5']
  assert _domain(schema, features.scenario_key('sequence')) == ['real', 'unreal']


def test_image_bytes_are_an_image_domain(schema):
  encoded = next(f for f in schema.feature if f.name == features.IMAGE_ENCODED)
  assert encoded.HasField('image_domain')


def test_every_canonical_key_is_in_the_schema(schema):
  names = {f.name for f in schema.feature}
  assert {features.IMAGE_ENCODED, features.IMAGE_FORMAT, features.IMAGE_HEIGHT,
          features.IMAGE_WIDTH, features.IMAGE_FILENAME, features.LABEL,
          features.LABEL_TEXT} <= names


def test_label_domain_must_match_the_class_names(schema):
  broken = schema_pb2.Schema()
  broken.CopyFrom(schema)
  next(f for f in broken.feature if f.name == features.LABEL).int_domain.max = 20
  with pytest.raises(ValueError, match='label domain max 20 does not match 14 class names'):
    schemas.class_names(broken)


def test_unknown_dataset_has_no_schema():
  with pytest.raises(ValueError, match="No curated schema for dataset 'mnist'"):
    schemas.schema_path('mnist')


def _tfrecord(path, examples):
  with tf.io.TFRecordWriter(path) as writer:
    for example in examples:
      writer.write(example.SerializeToString())


def test_validation_passes_clean_examples_and_flags_injected_anomalies(schema, tmp_path):
  """What ExampleValidator computes (tfdv.validate_statistics) on a clean CURE-TSR fixture,
  then with one example whose scenario value and label are outside the schema's domains."""
  root = str(tmp_path / 'cure_tsr')
  sample.render_sample(root, seed=2, train_per_class=1, test_per_class=0,
                       challenges=('rain',), levels=(1,), sequences=('real',))
  reader = cure_tsr.CureTsr(root)
  clean = [example for source in reader.sources() for item in reader.items(source)
           for example in reader.read(item)]
  _tfrecord(str(tmp_path / 'clean.tfrecord'), clean)
  stats = tfdv.generate_statistics_from_tfrecord(str(tmp_path / 'clean.tfrecord'))
  assert not tfdv.validate_statistics(stats, schema).anomaly_info

  odd = tf.train.Example()
  odd.CopyFrom(clean[0])
  odd.features.feature[features.scenario_key('challenge')].bytes_list.value[:] = [b'fog']
  odd.features.feature[features.LABEL].int64_list.value[:] = [14]
  _tfrecord(str(tmp_path / 'odd.tfrecord'), clean + [odd])
  stats = tfdv.generate_statistics_from_tfrecord(str(tmp_path / 'odd.tfrecord'))
  anomalies = tfdv.validate_statistics(stats, schema).anomaly_info
  assert set(anomalies) == {features.scenario_key('challenge'), features.LABEL}
  assert 'fog' in anomalies[features.scenario_key('challenge')].description
  assert anomalies[features.LABEL].reason[0].type == (
      anomalies_pb2.AnomalyInfo.INT_TYPE_BIG_INT)
