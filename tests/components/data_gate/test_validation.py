"""The DataGate's TFDV checks on statistics of small frames, against the curated CURE-TSR
schema: drift per feature with its own threshold, accepted drift, and the schema anomalies
that block (an unknown scenario value, a label out of the domain)."""
import pandas as pd
import pytest
import tensorflow_data_validation as tfdv

from components import features
from components import schemas
from components.data_gate import validation
from components.data_gate.result import Anomaly
from components.data_gate.result import Drift
from components.data_gate.result import GateResult
from components.data_gate.result import read_result
from components.data_gate.result import write_result

CHALLENGE, LEVEL = features.scenario_key('challenge'), features.scenario_key('level')


@pytest.fixture(scope='module')
def schema():
  """The curated CURE-TSR schema, restricted to the label and the scenario features."""
  full = schemas.load_schema(schemas.schema_path('cure_tsr'))
  kept = [f for f in full.feature if f.name == features.LABEL or f.name.startswith('scenario/')]
  del full.feature[:]
  full.feature.extend(kept)
  return full


def _statistics(schema, challenges, labels):
  """Statistics of len(challenges) examples (level 0, sequence real), counted with the schema
  as StatisticsGen counts them (the label categorical)."""
  frame = pd.DataFrame({CHALLENGE: challenges, LEVEL: ['0'] * len(challenges),
                        features.scenario_key('sequence'): ['real'] * len(challenges),
                        features.LABEL: labels})
  return tfdv.generate_statistics_from_dataframe(
      frame, stats_options=tfdv.StatsOptions(schema=schema))


def test_drift_is_the_largest_share_difference_with_per_feature_thresholds(schema):
  before = _statistics(schema, ['none'] * 50 + ['snow'] * 50, [0] * 50 + [1] * 50)
  after = _statistics(schema, ['none'] * 20 + ['snow'] * 80, [0] * 45 + [1] * 55)
  thresholds = validation.thresholds_for(schema, 0.1, {CHALLENGE: 0.35})
  assert thresholds == {features.LABEL: 0.1, CHALLENGE: 0.35, LEVEL: 0.1,
                        features.scenario_key('sequence'): 0.1}
  rows = {row.feature: row for row in validation.drift(after, before, schema, thresholds, [])}
  assert rows[CHALLENGE].distance == pytest.approx(0.3)  # snow 50% -> 80%
  assert not rows[CHALLENGE].blocks  # under its own threshold of 0.35
  assert rows[features.LABEL].distance == pytest.approx(0.05)
  assert rows[LEVEL].distance == 0.0
  strict = validation.drift(after, before, schema, validation.thresholds_for(schema, 0.1, {}),
                            [])
  assert [row.feature for row in strict if row.blocks] == [CHALLENGE]
  accepted = validation.drift(after, before, schema,
                              validation.thresholds_for(schema, 0.1, {}), [CHALLENGE])
  assert not any(row.blocks for row in accepted)
  assert not any(row.blocks for row in validation.drift(
      after, before, schema, validation.thresholds_for(schema, 0.1, {}), ['all']))


def test_thresholds_and_accepted_drift_on_unknown_features_are_refused(schema):
  with pytest.raises(ValueError, match='--drift_thresholds: scenario/weather not among'):
    validation.thresholds_for(schema, 0.1, {'scenario/weather': 0.2})
  with pytest.raises(ValueError, match='--accept_drift: scenario/weather not among'):
    validation.check_accepted(schema, ['scenario/weather'])
  validation.check_accepted(schema, ['all', CHALLENGE])


def test_unknown_scenario_value_and_label_out_of_domain_are_anomalies(schema):
  clean = _statistics(schema, ['none', 'snow'] * 10, [0, 13] * 10)
  assert validation.schema_anomalies(clean, schema, 'train') == []
  bad = _statistics(schema, ['none', 'sandstorm'] * 10, [0, 14] * 10)
  anomalies = validation.schema_anomalies(bad, schema, 'train')
  assert {a.feature for a in anomalies} == {CHALLENGE, features.LABEL}
  by_feature = {a.feature: a.description for a in anomalies}
  assert 'sandstorm' in by_feature[CHALLENGE]
  assert 'Out-of-range values' in by_feature[features.LABEL]


def test_a_result_blocks_on_anomalies_or_unaccepted_drift_and_round_trips(tmp_path):
  drift = [Drift(CHALLENGE, 0.3, 0.1, accepted=False), Drift(LEVEL, 0.2, 0.1, accepted=True),
           Drift(features.LABEL, 0.01, 0.1, accepted=False)]
  result = GateResult(span=2, baseline_span=1, examples={'train': 10}, ingest={'found': 10},
                      anomalies=[], drift=drift, accepted_drift=[LEVEL])
  assert not result.passed
  assert result.reasons == [f'drift on {CHALLENGE}: L-infinity distance 0.300 > threshold '
                            '0.100 against span 1']
  write_result(result, str(tmp_path))
  assert read_result(str(tmp_path)) == result
  anomalous = GateResult(span=2, baseline_span=None, examples={}, ingest={},
                         anomalies=[Anomaly('eval', LEVEL, 'Unexpected string values')],
                         drift=[], accepted_drift=[])
  assert not anomalous.passed
  assert anomalous.reasons == [f'anomaly in eval {LEVEL}: Unexpected string values']
