"""The DataGate without span resolvers (Kubeflow Pipelines 2, Vertex): it keeps each checked
span's statistics in a store under the pipeline root and measures the next span's drift
against the newest earlier one, as the local runner's resolver would."""
import json
import os

import pandas as pd
import pytest
import tensorflow_data_validation as tfdv
from tfx.types import artifact_utils
from tfx.types import standard_artifacts

from components import features
from components import schemas
from components.data_gate import component
from components.data_gate import span_statistics
from components.data_gate import validation
from components.data_gate.result import read_result

CHALLENGE = features.scenario_key('challenge')


def _statistics(challenges):
  frame = pd.DataFrame({CHALLENGE: challenges, features.LABEL: [0] * len(challenges)})
  return tfdv.generate_statistics_from_dataframe(frame)


def test_the_baseline_is_the_newest_stored_span_below(tmp_path):
  store = str(tmp_path / 'store')
  assert span_statistics.previous(store, 2) is None  # no store yet
  snow, rain = _statistics(['snow'] * 4), _statistics(['rain'] * 4)
  span_statistics.save(store, 1, snow)
  span_statistics.save(store, 3, rain)
  (tmp_path / 'store' / 'span-2.pb.tmp').write_bytes(b'half a file')  # a killed write
  (tmp_path / 'store' / 'notes.txt').write_text('not a span')
  assert span_statistics.previous(store, 1) is None
  assert span_statistics.previous(store, 3) == (1, snow)
  assert span_statistics.previous(store, 9) == (3, rain)
  span_statistics.save(store, 3, snow)  # a span checked again replaces its statistics
  assert span_statistics.previous(store, 4) == (3, snow)
  assert sorted(os.listdir(store)) == ['notes.txt', 'span-1.pb', 'span-2.pb.tmp', 'span-3.pb']


def _span_artifacts(tmp_path, span, schema, challenges):
  """A span's Examples (counts only) and its statistics, as ExampleGen and StatisticsGen
  write them (a train and an eval split)."""
  examples = standard_artifacts.Examples()
  examples.uri = str(tmp_path / f'examples-{span}')
  examples.span = span
  examples.split_names = artifact_utils.encode_split_names(['train', 'eval'])
  for name in component.INGEST_COUNTS:
    examples.set_int_custom_property(name, len(challenges) if name == 'written' else 0)
  for split in ('train', 'eval'):
    examples.set_int_custom_property(f'written_{split}', len(challenges) // 2)
  statistics = standard_artifacts.ExampleStatistics()
  statistics.uri = str(tmp_path / f'statistics-{span}')
  statistics.split_names = examples.split_names
  frame = pd.DataFrame({CHALLENGE: challenges, features.LABEL: [0] * len(challenges),
                        features.scenario_key('level'): ['0'] * len(challenges),
                        features.scenario_key('sequence'): ['real'] * len(challenges)})
  proto = tfdv.generate_statistics_from_dataframe(
      frame, stats_options=tfdv.StatsOptions(schema=schema))
  for split in ('train', 'eval'):
    folder = os.path.join(statistics.uri, f'Split-{split}')
    os.makedirs(folder)
    with open(os.path.join(folder, 'FeatureStats.pb'), 'wb') as f:
      f.write(proto.SerializeToString())
  return examples, statistics


@pytest.fixture(name='schema_artifact')
def fixture_schema_artifact(tmp_path):
  """The curated CURE-TSR schema restricted to the label and the scenario features."""
  schema = schemas.load_schema(schemas.schema_path('cure_tsr'))
  kept = [f for f in schema.feature if f.name == features.LABEL or
          f.name.startswith('scenario/')]
  del schema.feature[:]
  schema.feature.extend(kept)
  artifact = standard_artifacts.Schema()
  artifact.uri = str(tmp_path / 'schema')
  os.makedirs(artifact.uri)
  tfdv.write_schema_text(schema, os.path.join(artifact.uri, 'schema.pbtxt'))
  return artifact, schema


def _check(tmp_path, span, schema_artifact, challenges, store):
  schema_artifact, schema = schema_artifact
  examples, statistics = _span_artifacts(tmp_path, span, schema, challenges)
  result = standard_artifacts.ExampleAnomalies()
  result.uri = str(tmp_path / f'result-{span}')
  os.makedirs(result.uri)
  component.Executor().Do(
      {'examples': [examples], 'statistics': [statistics], 'schema': [schema_artifact]},
      {'result': [result]},
      {'drift_thresholds': json.dumps(validation.thresholds_for(schema, 0.1, {})),
       'accepted_drift': '[]', 'statistics_store': store})
  return result.get_int_custom_property(component.PASSED), read_result(result.uri)


def test_without_a_resolved_baseline_the_gate_compares_with_the_stored_span(
    tmp_path, schema_artifact):
  store = str(tmp_path / 'pipeline_root' / 'DataGate' / 'span_statistics')
  passed, first = _check(tmp_path, 1, schema_artifact, ['none'] * 10 + ['snow'] * 10, store)
  assert passed == 1 and first.baseline_span is None and first.drift == []
  passed, winter = _check(tmp_path, 2, schema_artifact, ['none'] * 4 + ['snow'] * 16, store)
  assert passed == 0 and winter.baseline_span == 1
  blocking = {row.feature: row.distance for row in winter.drift if row.blocks}
  assert blocking == {CHALLENGE: pytest.approx(0.3)}  # snow 50% -> 80%
  assert sorted(os.listdir(store)) == ['span-1.pb', 'span-2.pb']
