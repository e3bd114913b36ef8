"""data_schemas/cure_tsr.pbtxt agrees with the CURE-TSR format module's vocabularies."""
import pytest
from tensorflow_metadata.proto.v0 import schema_pb2

from components import features
from components import schemas
from components.example_gen import cure_tsr


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
