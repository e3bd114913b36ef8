"""`python runner.py dashboard`: the dashboard of a named Evaluator output, or of the latest
run in an ML Metadata store (built here through ml_metadata's API, as the local runner records
a run), and clear errors when there is nothing to show."""
import os
import time

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
import pytest

from components.data_gate import result as gate_result
from components import evaluation_results
from components import schemas
from components import features
from components.data_gate.result import write_result
from dashboard_inputs import MODEL, blocking_result, registry_of_three
from pipeline import dashboard


PIPELINE = 'ran-dashboard-test'
# What latest_run_results reads of a run: component -> [(artifact type, custom properties)].
RUN_OUTPUTS = {
    'ExampleGen': [('Examples', {})],
    'DataGate': [('ExampleAnomalies', {'passed': 1})],
    'Evaluator': [('ModelEvaluation', {}), ('ModelBlessing', {'blessed': 0})],
    'RegistryPusher': [('PushedModel', {'pushed': 1, 'pushed_destination': 'registry/m/7'})],
}


def _store(path: str) -> metadata_store.MetadataStore:
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = path
  config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
  return metadata_store.MetadataStore(config)


def record_run(store, pipeline: str, run: str, evaluation_uri: str,
               schema_uri: str = '', running=()) -> None:
  """Records a completed run of `pipeline` whose Evaluator wrote `evaluation_uri` (and, given
  `schema_uri`, whose ImportSchemaGen wrote that schema); the components in `running` are
  left RUNNING, as a killed run leaves them."""
  run_outputs = dict(RUN_OUTPUTS, **({'ImportSchemaGen': [('Schema', {})]} if schema_uri else {}))
  gate_uri = os.path.join(os.path.dirname(evaluation_uri), f'gate-{run}')
  os.makedirs(gate_uri, exist_ok=True)
  gate_result.write_result(gate_result.GateResult(
      span=0, baseline_span=None, examples={'train': 10, 'eval': 5}, ingest={}, anomalies=[],
      drift=[], accepted_drift=[]), gate_uri)
  uris = {'ModelEvaluation': evaluation_uri, 'Schema': schema_uri, 'ExampleAnomalies': gate_uri}
  def type_id(put, proto, name):
    return put(proto(name=name))

  context_type = {name: type_id(store.put_context_type, metadata_store_pb2.ContextType, name)
                  for name in ('pipeline', 'pipeline_run', 'node')}
  execution_type = type_id(store.put_execution_type, metadata_store_pb2.ExecutionType,
                           'component')
  pipeline_context = store.get_context_by_type_and_name('pipeline', pipeline)
  if pipeline_context is None:
    [pipeline_id] = store.put_contexts([metadata_store_pb2.Context(
        type_id=context_type['pipeline'], name=pipeline)])
  else:
    pipeline_id = pipeline_context.id
  [run_id] = store.put_contexts([metadata_store_pb2.Context(
      type_id=context_type['pipeline_run'], name=run)])
  store.put_parent_contexts([metadata_store_pb2.ParentContext(child_id=run_id,
                                                              parent_id=pipeline_id)])
  [run_context] = store.get_contexts_by_id([run_id])
  for component, outputs in run_outputs.items():
    node = store.get_context_by_type_and_name('node', f'{pipeline}.{component}')
    if node is None:
      node = metadata_store_pb2.Context(type_id=context_type['node'],
                                        name=f'{pipeline}.{component}')
    artifacts = []
    for artifact_type, properties in outputs:
      artifact = metadata_store_pb2.Artifact(
          type_id=type_id(store.put_artifact_type, metadata_store_pb2.ArtifactType,
                          artifact_type),
          uri=uris.get(artifact_type) or f'/{run}/{component}')
      for name, value in properties.items():
        field = 'int_value' if isinstance(value, int) else 'string_value'
        setattr(artifact.custom_properties[name], field, value)
      artifacts.append((artifact, metadata_store_pb2.Event(
          type=metadata_store_pb2.Event.OUTPUT)))
    state = (metadata_store_pb2.Execution.RUNNING if component in running
             else metadata_store_pb2.Execution.COMPLETE)
    store.put_execution(
        metadata_store_pb2.Execution(type_id=execution_type, last_known_state=state),
        artifacts, [run_context, node])
  time.sleep(0.01)  # the newest run is the one created last (millisecond times)


def _read(path) -> str:
  with open(path, encoding='utf-8') as f:
    return f.read()


def test_the_page_of_a_given_evaluation(evaluations, tmp_path, capsys):
  output = tmp_path / 'dashboard.html'
  assert dashboard.main(['--evaluation', evaluations[1], '--output', str(output)]) == 0
  out, err = capsys.readouterr()
  assert out == f'Dashboard: {output}\n'
  # The dev profile's dataset names 14 classes; this evaluation has 6.
  assert 'cure_tsr.pbtxt has 14 classes, the evaluation 6' in err
  page = _read(output)
  for result in evaluation_results.load_evaluation(evaluations[1]).slices:
    assert f'data-slice="{result.name}"' in page
  assert 'Compared with the last blessed model' in page and '<dt>evaluated</dt>' in page


def _schema_of_six_classes(folder) -> str:
  """A copy of the dev schema with evaluation_data's six classes, as ImportSchemaGen writes it."""
  schema = schemas.load_schema(schemas.schema_path('cure_tsr'))
  text = next(f for f in schema.feature if f.name == features.LABEL_TEXT)
  domain = next(d for d in schema.string_domain if d.name == text.domain)
  domain.value[:] = [f'sign_{i}' for i in range(6)]
  next(f for f in schema.feature if f.name == features.LABEL).int_domain.max = 5
  folder.mkdir()
  (folder / 'schema.pbtxt').write_text(str(schema))
  return str(folder)


def test_the_page_of_the_latest_run_goes_to_the_output_dir(evaluations, tmp_path, capsys):
  store = _store(str(tmp_path / 'metadata.sqlite'))
  record_run(store, PIPELINE, 'run-older', evaluations[0])
  record_run(store, PIPELINE, 'run-newer', evaluations[1],
             schema_uri=_schema_of_six_classes(tmp_path / 'schema'))
  record_run(store, 'another-pipeline', 'run-elsewhere', evaluations[0])
  del store
  assert dashboard.main(['--output_dir', str(tmp_path), '--pipeline_name', PIPELINE]) == 0
  path = tmp_path / 'dashboard' / 'index.html'
  out, err = capsys.readouterr()
  assert out == f'Dashboard: {path}\n'
  assert 'showing class ids' not in err  # the run's own schema names its six classes
  page = _read(path)
  assert 'sign_5' in page
  assert '<dt>run</dt><dd>run-newer</dd>' in page and 'run-older' not in page
  assert '<dt>pushed to</dt><dd>registry/m/7</dd>' in page
  assert f'<dt>evaluation</dt><dd>{evaluations[1]}</dd>' in page


def test_the_page_of_a_blocked_delivery_with_the_registrys_history(tmp_path, capsys):
  gate = tmp_path / 'DataGate'
  gate.mkdir()
  write_result(blocking_result(), str(gate))
  registry_of_three(tmp_path)  # <output_dir>/registry, where the pipeline publishes
  assert dashboard.main(['--data_gate', str(gate), '--output_dir', str(tmp_path),
                         '--pipeline_name', MODEL]) == 0  # registered under the pipeline's name
  page = _read(tmp_path / 'dashboard' / 'index.html')
  assert 'Not trained</strong>: the data gate blocked this delivery.' in page
  assert '<title>Blocked delivery</title>' in page
  assert page.count('<tr data-version=') == 3 and 'id="drift-table"' in page
  capsys.readouterr()


def test_a_run_that_did_not_finish_is_passed_over(evaluations, tmp_path, capsys):
  store = _store(str(tmp_path / 'metadata.sqlite'))
  record_run(store, PIPELINE, 'run-finished', evaluations[1])
  record_run(store, PIPELINE, 'run-killed', evaluations[0], running=('RegistryPusher',))
  del store
  assert dashboard.main(['--output_dir', str(tmp_path), '--pipeline_name', PIPELINE]) == 0
  page = _read(tmp_path / 'dashboard' / 'index.html')
  assert '<dt>run</dt><dd>run-finished</dd>' in page and 'run-killed' not in page
  capsys.readouterr()

  only_killed = tmp_path / 'killed'
  only_killed.mkdir()
  store = _store(str(only_killed / 'metadata.sqlite'))
  record_run(store, PIPELINE, 'run-killed', evaluations[0], running=('Evaluator',))
  del store
  assert dashboard.main(['--output_dir', str(only_killed), '--pipeline_name', PIPELINE]) == 2
  assert capsys.readouterr().err == (
      f"error: No finished run of pipeline '{PIPELINE}' in {only_killed}/metadata.sqlite (the "
      'newest, run-killed, did not finish)\n')


@pytest.mark.parametrize('arguments, message', [
    (['--output_dir', '{tmp}'], 'No ML Metadata store at {tmp}/metadata.sqlite: run the '
     'pipeline first'),
    (['--evaluation', '{tmp}'], '{tmp} is not an Evaluator output directory'),
    (['--data_gate', '{tmp}'], '{tmp} is not a DataGate output directory'),
    (['--output_dir', '{tmp}', '--pipeline_name', 'none-such'],
     "No run of pipeline 'none-such' in {tmp}/metadata.sqlite"),
])
def test_nothing_to_show_exits_2_saying_why(arguments, message, tmp_path, capsys):
  if 'none-such' in arguments:
    _store(str(tmp_path / 'metadata.sqlite')).put_context_type(
        metadata_store_pb2.ContextType(name='pipeline_run'))
  code = dashboard.main([a.format(tmp=tmp_path) for a in arguments])
  out, err = capsys.readouterr()
  assert code == 2 and out == ''
  assert err.startswith('error: ' + message.format(tmp=tmp_path))
  assert not os.path.exists(tmp_path / 'dashboard')


def test_a_dataset_without_a_curated_schema_is_an_error(evaluations, tmp_path, capsys):
  assert dashboard.main(['--evaluation', evaluations[1], '--dataset', 'no_such_dataset',
                      '--output', str(tmp_path / 'page.html')]) == 2
  assert "error: No curated schema for dataset 'no_such_dataset'" in capsys.readouterr().err
  assert not os.path.exists(tmp_path / 'page.html')
