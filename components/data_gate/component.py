"""DataGate: the newest span passes or blocks training.

Inputs: the newest span's Examples (their counts), its statistics, the curated schema and,
when the orchestrator resolves it, the Examples of the span before it, whose drift features'
statistics it computes (TFX's span resolvers need a `version` property, which statistics do
not have). Where it cannot (Kubeflow Pipelines 2, Vertex), the gate is given a
`statistics_store` folder instead: it keeps each checked span's statistics there and takes the
newest span below this one as the baseline (components/data_gate/span_statistics.py). It
writes TFDV's schema anomalies per split and the drift of the label and every scenario
feature (components/data_gate/validation.py) as `data_gate.json` in its ExampleAnomalies
artifact, and sets the artifact's `passed` custom property (1 or 0), on which the pipeline's
`tfx.dsl.Cond` runs or skips Transform, Trainer, Evaluator and RegistryPusher. Drift a person
accepted (`accepted_drift`, a feature or 'all') is shown but does not block.
"""
import json
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

from absl import logging
from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx import types
from tfx.components.statistics_gen import stats_artifact_utils
from apache_beam.options.pipeline_options import PipelineOptions
from tfx.dsl.components.base import base_beam_executor
from tfx.dsl.components.base import base_component
from tfx.dsl.components.base import executor_spec
from tfx.types import artifact_utils
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter
from tfx.types.component_spec import ExecutionParameter
from tfx.utils import io_utils

from components import schemas
from components.data_gate import span_statistics
from components.data_gate import validation
from components.data_gate.result import GateResult
from components.data_gate.result import write_result

PASSED = 'passed'  # the output artifact's int custom property
INGEST_COUNTS = ('found', 'written', 'quarantined', 'skipped')  # ExampleGen's properties


class DataGateSpec(types.ComponentSpec):
  """Inputs: the newest span's examples and statistics, the schema, the previous span."""
  PARAMETERS = {
      'drift_thresholds': ExecutionParameter(type=str),  # JSON: feature -> threshold
      'accepted_drift': ExecutionParameter(type=str),    # JSON list of features, or ['all']
      'statistics_store': ExecutionParameter(type=str, optional=True),  # a folder
      'code_version': ExecutionParameter(type=str, optional=True),
  }
  INPUTS = {
      'examples': ChannelParameter(type=standard_artifacts.Examples),
      'statistics': ChannelParameter(type=standard_artifacts.ExampleStatistics),
      'schema': ChannelParameter(type=standard_artifacts.Schema),
      'baseline_examples': ChannelParameter(type=standard_artifacts.Examples, optional=True),
  }
  OUTPUTS = {'result': ChannelParameter(type=standard_artifacts.ExampleAnomalies)}


def _splits(statistics: types.Artifact) -> List[str]:
  return artifact_utils.decode_split_names(statistics.split_names)


def checked_thresholds(schema, default: float, per_feature: Dict[str, float],
                       accepted: Sequence[str]) -> Dict[str, float]:
  """The drift threshold of each checked feature (validation.thresholds_for); ValueError for
  a threshold or an accepted drift on a feature drift is not measured on."""
  validation.check_accepted(schema, accepted)
  return validation.thresholds_for(schema, default, per_feature)


Baseline = Optional[Tuple[int, statistics_pb2.DatasetFeatureStatisticsList]]


def gate(examples: types.Artifact, statistics: types.Artifact, schema_path: str,
         baseline: Baseline, thresholds: Dict[str, float],
         accepted: Sequence[str]) -> GateResult:
  """The verdict on `examples`' span against `baseline`, the span before it and its
  DRIFT_SPLIT statistics (none for the first delivery); see the module doc."""
  schema = schemas.load_schema(schema_path)
  anomalies = []
  for split in _splits(statistics):
    anomalies += validation.schema_anomalies(
        stats_artifact_utils.load_statistics(statistics, split).proto(), schema, split)
  drift = []
  if baseline is not None:
    drift = validation.drift(_drift_split_statistics(statistics), baseline[1], schema,
                             thresholds, accepted)
  counts = {split: examples.get_int_custom_property(f'written_{split}')
            for split in artifact_utils.decode_split_names(examples.split_names)}
  return GateResult(
      span=examples.span, baseline_span=None if baseline is None else baseline[0],
      examples=counts,
      ingest={name: examples.get_int_custom_property(name) for name in INGEST_COUNTS},
      anomalies=anomalies, drift=drift, accepted_drift=list(accepted))


def _drift_split_statistics(statistics: types.Artifact
                            ) -> statistics_pb2.DatasetFeatureStatisticsList:
  return stats_artifact_utils.load_statistics(statistics, validation.DRIFT_SPLIT).proto()


def _baseline(baseline_examples: List[types.Artifact], store: Optional[str], span: int,
              schema_path: str, beam_options: PipelineOptions) -> Baseline:
  """The newest resolved previous-span Examples (their statistics computed here, a Beam job
  with `beam_options`), else the store's newest span below `span`, else None."""
  if baseline_examples:
    newest = max(baseline_examples, key=lambda a: a.mlmd_artifact.create_time_since_epoch)
    pattern = os.path.join(
        artifact_utils.get_split_uri([newest], validation.DRIFT_SPLIT), '*')
    return newest.span, validation.drift_statistics(
        pattern, schemas.load_schema(schema_path), beam_options)
  return span_statistics.previous(store, span) if store else None


class Executor(base_beam_executor.BaseBeamExecutor):
  """Writes the verdict; see the module doc. Its Beam job (the previous span's statistics)
  runs on the pipeline's Beam runner."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    self._log_startup(input_dict, output_dict, exec_properties)
    examples = artifact_utils.get_single_instance(input_dict['examples'])
    statistics = artifact_utils.get_single_instance(input_dict['statistics'])
    schema_path = io_utils.get_only_uri_in_dir(artifact_utils.get_single_uri(
        input_dict['schema']))
    store = exec_properties.get('statistics_store')
    result = gate(
        examples, statistics, schema_path,
        _baseline(input_dict.get('baseline_examples') or [], store, examples.span,
                  schema_path, PipelineOptions(self._beam_pipeline_args or [])),
        json.loads(exec_properties['drift_thresholds']),
        json.loads(exec_properties['accepted_drift']))
    if store:
      span_statistics.save(store, examples.span, _drift_split_statistics(statistics))
    output = artifact_utils.get_single_instance(output_dict['result'])
    output.span = result.span
    output.split_names = artifact_utils.encode_split_names(list(result.examples))
    write_result(result, output.uri)
    output.set_int_custom_property(PASSED, int(result.passed))
    for reason in result.reasons:
      logging.warning('Data gate: %s', reason)


class DataGate(base_component.BaseComponent):
  """Passes or blocks the newest span (see the module doc).

  Args:
    examples: the newest span's Examples (ExampleGen's output).
    statistics: their statistics (StatisticsGen given the schema).
    schema: the curated schema.
    baseline_examples: the previous span's Examples; none for the first delivery.
    statistics_store: where the orchestrator cannot resolve `baseline_examples`, a folder
      that keeps each checked span's statistics, the baseline of the next (under the
      pipeline root).
    drift_thresholds: feature -> largest L-infinity distance that passes
      (validation.thresholds_for).
    accepted_drift: features whose drift a person accepted, or ['all'].
    code_version: this step's code key (pipeline/code_versions.py).
  """
  SPEC_CLASS = DataGateSpec
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)

  def __init__(self, *, examples: types.BaseChannel, statistics: types.BaseChannel,
               schema: types.BaseChannel, baseline_examples: Optional[types.BaseChannel],
               drift_thresholds: Dict[str, float], accepted_drift: Sequence[str],
               statistics_store: Optional[str] = None, code_version: str = ''):
    super().__init__(spec=DataGateSpec(
        examples=examples, statistics=statistics, schema=schema,
        baseline_examples=baseline_examples,
        drift_thresholds=json.dumps(drift_thresholds, sort_keys=True),
        accepted_drift=json.dumps(sorted(accepted_drift)), statistics_store=statistics_store,
        code_version=code_version,
        result=types.Channel(type=standard_artifacts.ExampleAnomalies)))
