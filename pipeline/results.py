"""What a pipeline run produced, read back from ML Metadata and TFMA, and its text summary."""
import dataclasses
import os
from typing import Dict, List, Optional, Tuple

from ml_metadata import metadata_store
import tensorflow as tf
from ml_metadata.proto import metadata_store_pb2

from components.data_gate import result as gate_result
from components import evaluation_dashboard
from components import evaluation_results
from components.edge import report as edge_report


@dataclasses.dataclass(frozen=True)
class RunResults:
  run_id: str
  component_seconds: Dict[str, float]  # wall time per component, as they ran; 0-ish if cached
  cached: Tuple[str, ...]              # components whose outputs were reused
  examples_uri: str
  schema_uri: Optional[str]            # the run's schema (ImportSchemaGen), if it recorded one
  gate_uri: str                        # the DataGate's output (anomalies, drift)
  gate: gate_result.GateResult
  evaluation_uri: Optional[str]        # None when the data gate blocked training
  slices: Tuple[evaluation_results.SliceResult, ...]  # overall first; () when not trained
  blessed: bool
  failed_checks: Tuple[str, ...]       # why not blessed, one line per failed threshold
  pushed_model: Optional[str]          # the registry version's folder, if it was pushed
  pushed_version: Optional[int]        # its version number
  dashboard_path: Optional[str] = None  # the EvaluationDashboard's page, if the run wrote one
  # The dataset's published test split (e.g. GTSRB's Final_Test): reported, never gated.
  test_examples: Optional[int] = None  # examples ExampleGen wrote to it; None: the layout has none
  test_evaluation_uri: Optional[str] = None  # its TestEvaluator's output, if it was evaluated
  test_slices: Tuple[evaluation_results.SliceResult, ...] = ()  # overall first
  edge: Optional[edge_report.EdgeReport] = None  # the EdgeExport's report, if it ran
  edge_uri: Optional[str] = None                 # its output

  @property
  def trained(self) -> bool:
    return self.gate.passed

  def accuracy(self, name: str) -> float:
    return next(s.accuracy for s in self.slices if s.name == name)

  def test_accuracy(self, name: str) -> float:
    """Accuracy on slice `name` of the published test split."""
    return next(s.accuracy for s in self.test_slices if s.name == name)

  def _slice_lines(self) -> List[str]:
    """Examples and accuracy per slice on the eval split and, when it was evaluated, on the
    published test split (columns 'test ...'; '-' where a slice is absent from a split)."""
    evaluated = {s.name: s for s in self.slices}
    tested = {s.name: s for s in self.test_slices}
    names = [*evaluated, *(name for name in tested if name not in evaluated)]
    width = max(map(len, names))
    splits = [('', evaluated)] + ([('test ', tested)] if tested else [])
    lines = [f'{"slice":<{width}}' + ''.join(
        f'  {prefix + "examples":>{8 + len(prefix)}}  {prefix + "accuracy":>{8 + len(prefix)}}'
        for prefix, _ in splits)]
    for name in names:
      line = f'{name:<{width}}'
      for prefix, results in splits:
        result, size = results.get(name), 8 + len(prefix)
        line += (f'  {result.examples:>{size}d}  {result.accuracy:>{size}.4f}' if result
                 else f'  {"-":>{size}}  {"-":>{size}}')
      lines.append(line)
    return lines

  def summary(self, wall_seconds: float) -> str:
    """The run in a few lines of text: the data gate, slices, verdict, what was pushed,
    where things are."""
    lines = [f'Pipeline run {self.run_id} finished in {wall_seconds:.0f} s.', '']
    lines += data_section(self.gate)
    if not self.trained:
      lines += ['', 'Not trained: the data gate blocked this delivery; the registry is '
                'unchanged. Fix the data, or accept the drift with --accept_drift FEATURE[,...].']
      if self.dashboard_path:
        lines.append(f'Dashboard: {os.path.abspath(self.dashboard_path)}')
      return '\n'.join(lines)
    lines += [''] + self._slice_lines()
    lines.append('')
    if self.test_slices:
      lines.append('test: the dataset\'s published test split, reported, never gated; the '
                   'thresholds judge the eval split.')
    elif self.test_examples == 0:
      lines.append('The published test split is empty (no labelled test examples were '
                   'ingested): not evaluated.')
    if self.blessed:
      lines.append('Blessed: every threshold passed.')
    else:
      lines.append('NOT blessed:')
      lines += [f'  - {reason}' for reason in self.failed_checks]
    lines.append(f'Registered as version {self.pushed_version}: {self.pushed_model}'
                 if self.pushed_model else
                 'Nothing pushed (the model was not blessed); the registry is unchanged.')
    lines += edge_section(self.edge) if self.edge else []
    if self.cached:
      lines.append(f'Reused cached outputs of: {", ".join(self.cached)}')
    lines.append(f'Evaluation: {self.evaluation_uri}')
    if self.test_evaluation_uri:
      lines.append(f'Test split evaluation: {self.test_evaluation_uri}')
    if self.dashboard_path:
      lines.append(f'Dashboard: {os.path.abspath(self.dashboard_path)}')
    return '\n'.join(lines)


def _latency(latency: Optional[edge_report.Latency]) -> str:
  return f'{latency.median_ms:.2f} / {latency.p90_ms:.2f} ms' if latency else '-'


def edge_section(report: edge_report.EdgeReport) -> List[str]:
  """The 'Edge' lines of a run: per TFLite model its size, accuracy against the float model
  (the float32 network), latency at batch 1 and whether it was written (why not, when not);
  the SavedModel as served beside them."""
  overall = next(iter(report.models.values())).overall
  shape = 'x'.join(map(str, report.input_shape))
  lines = ['', f'Edge: TFLite, uint8 [{shape}] in; accuracy on {report.eval_examples} eval '
           f'images against the float32 network; latency at batch 1, median / p90',
           f'  {"model":<16}  {"bytes":>11}  {"accuracy":>8}  {"vs float":>8}  {"latency":>17}',
           f'  {"float32 network":<16}  {"":>11}  {overall.float_accuracy:>8.4f}',
           f'  {"SavedModel":<16}  {report.saved_model_bytes:>11,d}  '
           f'{overall.served_accuracy:>8.4f}  {overall.served_delta:>+8.4f}  '
           f'{_latency(report.float_latency):>17}  ({report.served_policy}, as served)']
  for model in report.models.values():
    lines.append(f'  {"TFLite " + model.kind:<16}  {model.size_bytes:>11,d}  '
                 f'{model.overall.accuracy:>8.4f}  {model.overall.delta:>+8.4f}  '
                 f'{_latency(model.latency):>17}  '
                 + (model.path if model.written else 'NOT written'))
    lines += [f'    - {reason}' for reason in model.reasons]
  return lines


def data_section(gate: gate_result.GateResult) -> List[str]:
  """The 'Data' lines of a run: span, counts, quarantine, anomalies, drift, the verdict."""
  against = ('the first delivery: no drift check' if gate.baseline_span is None
             else f'drift against span {gate.baseline_span}')
  split_counts = ', '.join(f'{split} {count}' for split, count in gate.examples.items())
  ingest = gate.ingest
  lines = [f'Data: span {gate.span} ({against})',
           f'  examples: {split_counts}; found {ingest.get("found")}, written '
           f'{ingest.get("written")}, quarantined {ingest.get("quarantined")}, skipped '
           f'{ingest.get("skipped")}']
  lines += ['  schema anomalies: none'] if not gate.anomalies else (
      ['  schema anomalies:'] +
      [f'    {a.split} {a.feature or "(dataset)"}: {a.description}' for a in gate.anomalies])
  if gate.drift:
    width = max(len(d.feature) for d in gate.drift)
    lines.append(f'  {"feature":<{width}}  {"L-inf distance":>14}  {"threshold":>9}')
    for row in gate.drift:
      mark = ('BLOCKS' if row.blocks else 'accepted' if row.accepted and
              row.distance > row.threshold else '')
      lines.append(f'  {row.feature:<{width}}  {row.distance:>14.4f}  {row.threshold:>9.4f}'
                   f'  {mark}'.rstrip())
  lines.append('  Data gate: passed.' if gate.passed else
               '  Data gate: BLOCKED:\n' + '\n'.join(f'    - {r}' for r in gate.reasons))
  return lines


def _store(metadata_path: str) -> metadata_store.MetadataStore:
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = metadata_path
  config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
  return metadata_store.MetadataStore(config)


_FINISHED = (metadata_store_pb2.Execution.COMPLETE, metadata_store_pb2.Execution.CACHED)


class IncompleteRunError(ValueError):
  """A run without the outputs a finished run has (killed, failed, or still running)."""


def latest_run_results(metadata_path: str, pipeline_name: str) -> RunResults:
  """Results of the newest finished run of `pipeline_name` recorded in the sqlite store; runs
  that did not finish (killed, failed, still running) are passed over."""
  store = _store(metadata_path)
  runs = [c for c in store.get_contexts_by_type('pipeline_run')
          if any(p.name == pipeline_name
                 for p in store.get_parent_contexts_by_context(c.id))]
  if not runs:
    raise ValueError(f'No run of pipeline {pipeline_name!r} in {metadata_path}')
  component = {}  # execution id -> node id, e.g. 'Evaluator'
  for node in store.get_contexts_by_type('node'):
    for execution in store.get_executions_by_context(node.id):
      component[execution.id] = node.name.split('.', 1)[-1]
  newest_first = sorted(runs, key=lambda c: c.create_time_since_epoch, reverse=True)
  for run in newest_first:
    try:
      return _run_results(store, run, component)
    except IncompleteRunError:
      continue
  raise ValueError(f'No finished run of pipeline {pipeline_name!r} in {metadata_path} (the '
                   f'newest, {newest_first[0].name}, did not finish)')


def _run_results(store, run, component) -> RunResults:
  """What `run` produced; IncompleteRunError when it lacks a finished run's outputs."""
  executions = sorted(store.get_executions_by_context(run.id), key=lambda e: e.id)  # as they ran
  outputs: Dict[str, List[metadata_store_pb2.Artifact]] = {}
  for execution in executions:
    if execution.last_known_state not in _FINISHED:
      continue  # its outputs, if any, are partial
    output_ids = [e.artifact_id for e in store.get_events_by_execution_ids([execution.id])
                  if e.type == metadata_store_pb2.Event.OUTPUT]
    outputs[component[execution.id]] = store.get_artifacts_by_id(output_ids)
  seconds = {component[e.id]: (e.last_update_time_since_epoch - e.create_time_since_epoch) / 1e3
             for e in executions}
  cached = tuple(component[e.id] for e in executions
                 if e.last_known_state == metadata_store_pb2.Execution.CACHED)
  gate_artifact = _only(outputs, 'DataGate', 'ExampleAnomalies')
  gate = gate_result.read_result(gate_artifact.uri)
  schema_outputs = _outputs_of(outputs, 'ImportSchemaGen', 'Schema')
  dashboards = _outputs_of(outputs, 'EvaluationDashboard', 'File')
  common = dict(run_id=run.name, component_seconds=seconds, cached=cached,
                examples_uri=_only(outputs, 'ExampleGen', 'Examples').uri,
                schema_uri=schema_outputs[0].uri if schema_outputs else None,
                gate_uri=gate_artifact.uri, gate=gate,
                dashboard_path=(evaluation_dashboard.page_path(dashboards[0])
                                if dashboards else None))
  if not gate.passed:
    return RunResults(evaluation_uri=None, slices=(), blessed=False, failed_checks=(),
                      pushed_model=None, pushed_version=None, **common)
  evaluation = _only(outputs, 'Evaluator', 'ModelEvaluation')
  blessing = _only(outputs, 'Evaluator', 'ModelBlessing')
  pushed = _only(outputs, 'RegistryPusher', 'PushedModel')
  evaluated = evaluation_results.load_evaluation(evaluation.uri)
  was_pushed = pushed.custom_properties['pushed'].int_value == 1
  examples = _only(outputs, 'ExampleGen', 'Examples')
  test_evaluations = _outputs_of(outputs, 'TestEvaluator', 'ModelEvaluation')  # none: skipped
  edge_reports = [a for a in _outputs_of(outputs, 'EdgeExport', 'File')  # none: skipped
                  if tf.io.gfile.exists(os.path.join(a.uri, edge_report.REPORT_FILE))]
  return RunResults(
      evaluation_uri=evaluation.uri,
      slices=evaluated.slices,
      blessed=blessing.custom_properties['blessed'].int_value == 1,
      failed_checks=evaluated.reasons,
      pushed_model=(pushed.custom_properties['pushed_destination'].string_value
                    if was_pushed else None),
      pushed_version=(pushed.custom_properties['registry_version'].int_value
                      if was_pushed else None),
      test_examples=(examples.custom_properties['written_test'].int_value
                     if 'written_test' in examples.custom_properties else None),
      test_evaluation_uri=test_evaluations[0].uri if test_evaluations else None,
      test_slices=(evaluation_results.load_evaluation(test_evaluations[0].uri).slices
                   if test_evaluations else ()),
      edge=edge_report.read_report(edge_reports[0].uri) if edge_reports else None,
      edge_uri=edge_reports[0].uri if edge_reports else None,
      **common)


def _outputs_of(outputs, component: str, artifact_type: str) -> List[metadata_store_pb2.Artifact]:
  return [a for a in outputs.get(component, []) if a.type == artifact_type]


def _only(outputs, component: str, artifact_type: str) -> metadata_store_pb2.Artifact:
  matches = _outputs_of(outputs, component, artifact_type)
  if len(matches) != 1:
    raise IncompleteRunError(f'Expected one {artifact_type} output of {component}, found '
                             f'{len(matches)}')
  return matches[0]
