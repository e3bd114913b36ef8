"""TFDV checks of a delivery: schema anomalies per split, and drift against the span before.

Drift is TFDV's L-infinity distance between two categorical value distributions (the largest
difference in any one value's share), on the label and every `scenario/*` feature of the
schema, computed on the train splits. Statistics must come from a StatisticsGen given the
schema, so that the integer label is counted as categorical.
"""
from typing import Dict, List, Mapping, Optional, Sequence

from apache_beam.options.pipeline_options import PipelineOptions

import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import schema_pb2
from tensorflow_metadata.proto.v0 import statistics_pb2

from components import features
from components import schemas
from components.data_gate.result import Anomaly
from components.data_gate.result import Drift

DRIFT_SPLIT = 'train'
ACCEPT_ALL = 'all'  # --accept_drift all


def drift_features(schema: schema_pb2.Schema) -> List[str]:
  """The features drift is measured on: the label, then the scenario features."""
  return [features.LABEL] + list(schemas.scenario_features(schema))


def thresholds_for(schema: schema_pb2.Schema, default: float,
                   per_feature: Mapping[str, float]) -> Dict[str, float]:
  """Each drift feature's threshold: `per_feature`'s, else `default`. ValueError for a
  per-feature threshold on a feature drift is not measured on."""
  known = drift_features(schema)
  unknown = sorted(set(per_feature) - set(known))
  if unknown:
    raise ValueError(f'--drift_thresholds: {", ".join(unknown)} not among the features drift '
                     f'is measured on: {known}')
  return {name: float(per_feature.get(name, default)) for name in known}


def check_accepted(schema: schema_pb2.Schema, accepted: Sequence[str]) -> None:
  """ValueError for an accepted feature drift is not measured on."""
  unknown = sorted(set(accepted) - set(drift_features(schema)) - {ACCEPT_ALL})
  if unknown:
    raise ValueError(f'--accept_drift: {", ".join(unknown)} not among the features drift is '
                     f'measured on: {drift_features(schema)} (or {ACCEPT_ALL!r})')


def schema_anomalies(
    statistics: statistics_pb2.DatasetFeatureStatisticsList,
    schema: schema_pb2.Schema, split: str) -> List[Anomaly]:
  """TFDV's anomalies of one split's statistics against the curated schema."""
  found = tfdv.validate_statistics(statistics, schema)
  rows = [Anomaly(split, feature, f'{info.short_description}: {info.description}')
          for feature, info in sorted(found.anomaly_info.items())]
  for reason in found.dataset_anomaly_info.reason:
    rows.append(Anomaly(split, '', f'{reason.short_description}: {reason.description}'))
  return rows


def drift_statistics(file_pattern: str, schema: schema_pb2.Schema,
                     beam_options: Optional[PipelineOptions] = None
                     ) -> statistics_pb2.DatasetFeatureStatisticsList:
  """Statistics of the drift features of the tf.Examples in the (gzipped) TFRecord files of
  `file_pattern`, counted as StatisticsGen counts them (with the schema), by a Beam job with
  `beam_options` (default: DirectRunner)."""
  return tfdv.generate_statistics_from_tfrecord(
      file_pattern, stats_options=tfdv.StatsOptions(
          schema=schema, feature_allowlist=drift_features(schema)),
      pipeline_options=beam_options)


def drift(statistics: statistics_pb2.DatasetFeatureStatisticsList,
          previous: statistics_pb2.DatasetFeatureStatisticsList,
          schema: schema_pb2.Schema, thresholds: Mapping[str, float],
          accepted: Sequence[str]) -> List[Drift]:
  """One Drift row per feature of `thresholds`, measured by TFDV's drift comparator."""
  compared = schema_pb2.Schema()
  compared.CopyFrom(schema)
  for name, threshold in thresholds.items():
    tfdv.get_feature(compared, name).drift_comparator.infinity_norm.threshold = threshold
  found = tfdv.validate_statistics(statistics, compared, previous_statistics=previous)
  distances = {'/'.join(info.path.step): measurement.value
               for info in found.drift_skew_info for measurement in info.drift_measurements
               if measurement.type == measurement.L_INFTY}
  everything = ACCEPT_ALL in accepted
  return [Drift(name, round(float(distances.get(name, 0.0)), 6), threshold,
                everything or name in accepted)
          for name, threshold in thresholds.items()]

