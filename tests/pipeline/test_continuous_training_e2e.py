"""The continuous-training loop of the README, end to end through `runner.main`, on a tiny
embedded sample and a narrow model: a first delivery (blessed, v1); the winter delivery
(blocked by drift: exit 3, registry unchanged); the same with the drift accepted (trained on
spans 1-2, warm-started from v1, evaluated on span 2)."""
import contextlib
import dataclasses
import io

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
import pytest

from components import registry
import runner

TINY = ['--width_multiplier', '0.25', '--batch_size', '16', '--train_steps', '12',
        '--warmup_steps', '2', '--accuracy_floor', '0', '--regression_tolerance', '1',
        '--sample_train_per_class', '1', '--sample_test_per_class', '1']
ACCEPTED = 'scenario/challenge,scenario/level'


@dataclasses.dataclass
class Run:
  status: int
  out: str
  versions: list  # the registry entry's version numbers after the run


@pytest.fixture(scope='module')
def loop(tmp_path_factory):
  output_dir = str(tmp_path_factory.mktemp('ct') / 'out')
  return output_dir, [_run(output_dir, extra) for extra in (
      [], ['--sample_span', '2'],
      ['--sample_span', '2', '--accept_drift', ACCEPTED, '--warm_start_steps', '6'])]


def _run(output_dir, extra) -> Run:
  out = io.StringIO()
  with contextlib.redirect_stdout(out):
    status = runner.main(['--runner=local', '--output_dir', output_dir] + TINY + extra)
  versions = registry.FilesystemRegistry(f'{output_dir}/registry').list_versions('ran-dev')
  return Run(status, out.getvalue(), [v.number for v in versions])


def _store(output_dir):
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = f'{output_dir}/metadata.sqlite'
  config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
  return metadata_store.MetadataStore(config)


@pytest.mark.e2e
def test_the_first_delivery_is_trained_and_registered(loop):
  output_dir, (first, *_) = loop
  assert first.status == 0, first.out
  assert 'Data: span 1 (the first delivery: no drift check)' in first.out
  card = registry.FilesystemRegistry(f'{output_dir}/registry').show('ran-dev', 1)
  assert card.trained_on_spans == [1] and card.evaluated_on_span == 1
  assert card.warm_started_from is None and card.accepted_drift == []


@pytest.mark.e2e
def test_the_winter_delivery_is_blocked_by_drift_with_exit_3(loop):
  _, (_, winter, _) = loop
  assert winter.status == runner.EXIT_NOT_TRAINED == 3, winter.out
  assert 'Data: span 2 (drift against span 1)' in winter.out
  assert 'Data gate: BLOCKED' in winter.out and 'Not trained' in winter.out
  assert '- drift on scenario/challenge: L-infinity distance' in winter.out
  assert '- drift on scenario/level: L-infinity distance' in winter.out
  assert winter.versions == [1]  # untouched
  # The blocked delivery still gets its dashboard: the verdict, the drift table, the history.
  [page_path] = [line.split(': ', 1)[1] for line in winter.out.splitlines()
                 if line.startswith('Dashboard: ')]
  with open(page_path, encoding='utf-8') as f:
    page = f.read()
  assert 'Not trained</strong>: the data gate blocked this delivery.' in page
  assert 'scenario/challenge' in page and 'History' in page


@pytest.mark.e2e
def test_accepted_drift_trains_on_both_spans_warm_started_from_v1(loop):
  output_dir, (*_, accepted) = loop
  assert accepted.status == 0, accepted.out
  assert 'Data gate: passed.' in accepted.out
  card = registry.FilesystemRegistry(f'{output_dir}/registry').show('ran-dev', 2)
  assert card.trained_on_spans == [1, 2] and card.evaluated_on_span == 2
  assert card.warm_started_from == {'model': 'ran-dev', 'version': 1}
  assert card.accepted_drift == sorted(ACCEPTED.split(','))


@pytest.mark.e2e
def test_each_span_is_ingested_once(loop):
  output_dir, _ = loop
  store = _store(output_dir)
  spans = [a.properties['span'].int_value for a in store.get_artifacts_by_type('Examples')]
  assert sorted(spans) == [1, 2]  # three runs, span 1 and span 2 each read once
