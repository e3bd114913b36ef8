"""--runner=vertex: the PipelineJob request built from the compiled pipeline, submitted or
scheduled through a stand-in for `aiplatform.PipelineJob`; nothing touches the network."""
import socket

from google.api_core import exceptions as api_exceptions
from google.auth import credentials as auth_credentials
from google.auth import exceptions as auth_exceptions
from google.cloud import aiplatform
import pytest

import runner
from pipeline import flags
from pipeline import vertex

IMAGE = 'europe-docker.pkg.dev/proj/ran/ran-tfx:7'
VERTEX_FLAGS = ['--runner=vertex', '--vertex_project', 'proj', '--vertex_region', 'europe-west4',
                '--output_dir', 'gs://bucket/ran', '--data_root', 'gs://bucket/data/cure_tsr',
                '--container_image', IMAGE]
JOB_NAME = 'projects/123/locations/europe-west4/pipelineJobs/ran-dev-20250101000000'


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
  def refuse(self, address):
    raise AssertionError(f'a test tried to connect to {address}')
  monkeypatch.setattr(socket.socket, 'connect', refuse)


class FakePipelineJob:
  """Records what the runner asks of `aiplatform.PipelineJob`; `fail_in` names the step that
  raises `error` instead."""
  calls = []
  fail_in = None
  error = None

  def __init__(self, **kwargs):
    self._record('PipelineJob', kwargs)
    self.job_id = 'ran-dev-20250101000000'
    self.resource_name = JOB_NAME

  def submit(self, **kwargs):
    self._record('submit', kwargs)

  def create_schedule(self, **kwargs):
    self._record('create_schedule', kwargs)
    return type('Schedule', (), {'resource_name': 'projects/123/locations/europe-west4/'
                                                  'schedules/42'})()

  def _record(self, step, kwargs):
    if step == self.fail_in:
      raise self.error
    self.calls.append((step, kwargs))


@pytest.fixture
def fake_job(monkeypatch):
  monkeypatch.setattr(FakePipelineJob, 'calls', [])
  monkeypatch.setattr(aiplatform, 'PipelineJob', FakePipelineJob)
  return FakePipelineJob


@pytest.fixture
def spec_path(tmp_path):
  return str(tmp_path / 'pipeline.json')


def _expected_job(spec_path, **overrides):
  return {'display_name': 'ran-dev', 'template_path': spec_path,
          'pipeline_root': 'gs://bucket/ran/pipeline/ran-dev', 'project': 'proj',
          'location': 'europe-west4', 'enable_caching': None,
          'labels': {'pipeline': 'ran-dev', 'model': 'attention-56-cifar',
                     'dataset': 'cure-tsr'}, **overrides}


def test_submit_builds_the_pipeline_job_and_submits_it(fake_job, spec_path, capsys):
  code = runner.main(VERTEX_FLAGS + [
      '--output_file', spec_path, '--service_account', 'runner@proj.iam.gserviceaccount.com',
      '--network', 'projects/123/global/networks/vpc', '--enable_caching', 'false',
      '--labels', 'team=adas,cost-centre=ml_1'])
  assert code == 0
  assert fake_job.calls == [
      ('PipelineJob', _expected_job(spec_path, enable_caching=False, labels={
          'pipeline': 'ran-dev', 'model': 'attention-56-cifar', 'dataset': 'cure-tsr',
          'team': 'adas', 'cost-centre': 'ml_1'})),
      ('submit', {'service_account': 'runner@proj.iam.gserviceaccount.com',
                  'network': 'projects/123/global/networks/vpc'})]
  out = capsys.readouterr().out
  assert out.startswith(f'Submitted {JOB_NAME}\n')
  assert ('https://console.cloud.google.com/vertex-ai/locations/europe-west4/pipelines/runs/'
          'ran-dev-20250101000000?project=proj') in out


def test_schedule_creates_a_schedule_and_no_single_run(fake_job, spec_path, capsys):
  code = runner.main(VERTEX_FLAGS + ['--output_file', spec_path, '--schedule', '0 3 * * 1',
                                     '--max_concurrent_runs', '2'])
  assert code == 0
  assert fake_job.calls == [
      ('PipelineJob', _expected_job(spec_path)),
      ('create_schedule', {'cron': '0 3 * * 1', 'display_name': 'ran-dev-schedule',
                           'max_concurrent_run_count': 2, 'service_account': None,
                           'network': None})]
  assert capsys.readouterr().out == ('Scheduled ran-dev at "0 3 * * 1": '
                                     'projects/123/locations/europe-west4/schedules/42\n')


@pytest.mark.parametrize('fail_in, error', [
    ('PipelineJob', auth_exceptions.DefaultCredentialsError('no credentials found')),
    ('submit', api_exceptions.PermissionDenied('aiplatform.pipelineJobs.create denied')),
    ('create_schedule', api_exceptions.InvalidArgument('bad cron')),
])
def test_a_refused_request_is_an_error_never_a_submission(fail_in, error, fake_job, spec_path,
                                                          monkeypatch, capsys):
  monkeypatch.setattr(fake_job, 'fail_in', fail_in)
  monkeypatch.setattr(fake_job, 'error', error)
  schedule = ['--schedule', '0 3 * * 1'] if fail_in == 'create_schedule' else []
  assert runner.main(VERTEX_FLAGS + ['--output_file', spec_path] + schedule) == 1
  captured = capsys.readouterr()
  assert 'Submitted' not in captured.out and 'Scheduled' not in captured.out
  assert captured.err.startswith(f'error: Vertex AI did not take the pipeline '
                                 f'({type(error).__name__}: ')
  assert f'The compiled pipeline is {spec_path}.' in captured.err


def test_dry_run_compiles_and_submits_nothing(fake_job, spec_path, capsys):
  assert runner.main(VERTEX_FLAGS + ['--output_file', spec_path, '--dry_run']) == 0
  assert fake_job.calls == []
  out = capsys.readouterr().out
  assert out.startswith(f'Compiled {spec_path}.\nDry run: nothing was submitted to Vertex AI.')
  assert "pipeline_root='gs://bucket/ran/pipeline/ran-dev'," in out
  assert ".submit(\n    service_account=None,\n    network=None,\n)" in out
  with open(spec_path) as f:
    assert '"pipelineSpec"' in f.read()


def test_the_real_pipeline_job_takes_the_request_offline(spec_path):
  """aiplatform's own PipelineJob loads the compiled file and applies root, labels, caching
  (its constructor only builds the request; submit() would send it)."""
  assert runner.main(VERTEX_FLAGS + ['--output_file', spec_path, '--dry_run']) == 0
  config = flags.config_from_flags(runner.parse_args(VERTEX_FLAGS))
  job_args = vertex.pipeline_job_args(config, vertex.SubmitOptions(output_file=spec_path,
                                                                   enable_caching=False))
  job = aiplatform.PipelineJob(**job_args, credentials=auth_credentials.AnonymousCredentials())
  resource = job._gca_resource  # pylint: disable=protected-access (the request it would send)
  assert resource.display_name == 'ran-dev'
  assert resource.runtime_config.gcs_output_directory == 'gs://bucket/ran/pipeline/ran-dev'
  assert dict(resource.labels) == job_args['labels']
  tasks = resource.pipeline_spec['root']['dag']['tasks']
  assert 'Trainer' in tasks and 'ExampleGen' in tasks
  assert not any(task['cachingOptions']['enableCache'] for task in tasks.values())
  assert job.job_id.startswith('ran-dev-')


@pytest.mark.parametrize('flags, message', [
    (['--vertex_project', ''], '--runner=vertex needs --vertex_project'),
    (['--vertex_region', ''], '--runner=vertex needs --vertex_region'),
    (['--container_image', 'ran-tfx:latest'],
     '--container_image in a registry Vertex AI can pull from'),
    (['--output_dir', 'outputs'], '--pipeline_root outputs/pipeline/ran-dev'),
])
def test_missing_vertex_settings_are_clear_errors(flags, message, fake_job, spec_path, capsys):
  assert runner.main(VERTEX_FLAGS + ['--output_file', spec_path] + flags) == 2
  assert message in capsys.readouterr().err
  assert fake_job.calls == []


@pytest.mark.parametrize('labels', ['Team=adas', 'team', 'team=A B', 'x=' + 'a' * 64])
def test_bad_labels_are_flag_errors(labels, capsys):
  with pytest.raises(SystemExit) as exit_info:
    runner.parse_args(VERTEX_FLAGS + ['--labels', labels])
  assert exit_info.value.code == 2
  assert 'is not a label KEY=VALUE' in capsys.readouterr().err
