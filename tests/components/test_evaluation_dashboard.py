"""The EvaluationDashboard step's executor on a run the data gate blocked: no evaluation and
no pushed model among its inputs, the page written from the gate's artifact and the registry."""
import shutil

from tfx import types
from tfx.types import standard_artifacts
from tfx.types.experimental import simple_artifacts

from components import evaluation_dashboard
from components import schemas
from components.data_gate.result import write_result
from dashboard_inputs import MODEL, blocking_result, registry_of_three
from html_tree import parse


def _artifact(artifact_type, uri):
  artifact = artifact_type()
  artifact.uri = str(uri)
  uri.mkdir(parents=True, exist_ok=True)
  return artifact


def test_a_blocked_run_gets_a_page_without_evaluation_or_push(tmp_path):
  schema = _artifact(standard_artifacts.Schema, tmp_path / 'schema')
  shutil.copy(schemas.schema_path('cure_tsr'), tmp_path / 'schema' / 'schema.pbtxt')
  gate = _artifact(standard_artifacts.ExampleAnomalies, tmp_path / 'gate')
  write_result(blocking_result(), gate.uri)
  page = _artifact(simple_artifacts.File, tmp_path / 'dashboard')
  inputs = {'examples': [_artifact(standard_artifacts.Examples, tmp_path / 'examples')],
            'schema': [schema], 'data_gate': [gate], 'evaluation': [], 'pushed_model': []}
  evaluation_dashboard.Executor().Do(inputs, {'dashboard': [page]}, {
      'model_name': 'attention_56_cifar', 'registry_root': registry_of_three(tmp_path),
      'registered_model_name': MODEL})
  tree = parse((tmp_path / 'dashboard' / evaluation_dashboard.PAGE).read_text())
  assert tree.find('h1').text() == 'Blocked delivery of attention_56_cifar'
  assert tree.find('div', id='verdict').find('strong').text() == 'Not trained'
  assert [s.attrs['id'] for s in tree.find_all('section')] == ['section-data', 'section-history']
  facts = [node.text() for node in tree.find('header').find('dl').children]
  assert facts == ['model', 'attention_56_cifar', 'pushed to', 'nothing pushed']


def test_the_step_takes_no_evaluation_and_no_push():
  step = evaluation_dashboard.EvaluationDashboard(
      examples=types.Channel(type=standard_artifacts.Examples),
      schema=types.Channel(type=standard_artifacts.Schema), model_name='m',
      data_gate=types.Channel(type=standard_artifacts.ExampleAnomalies))
  assert sorted(step.inputs) == ['data_gate', 'examples', 'schema']
  assert step.exec_properties['registry_root'] == ''  # no History section
