"""`python -m components.registry`: list, show, promote, rollback and gc, as JSON and text."""
import dataclasses
import json
import os
import time

import pytest

from components.registry import FilesystemRegistry
from components.registry import filesystem
from components.registry.__main__ import main
import fake_models


@pytest.fixture(name='registry')
def fixture_registry(tmp_path):
  registry = FilesystemRegistry(str(tmp_path / 'registry'))
  fake_models.write_saved_model(tmp_path / 'export')
  for run, accuracy in (('run-1', 0.5), ('run-2', 0.75), ('run-3', 0.875)):
    registry.publish('ran', str(tmp_path / 'export'),
                     fake_models.card(run, metrics={'accuracy': accuracy}, blessed=run != 'run-3'))
  registry.promote('ran', 'production', 1)
  registry.promote('ran', 'production', 2)
  registry.promote('ran', 'staging', 3)
  return registry


def _json(capsys, *argv):
  assert main(list(argv) + ['--json']) == 0
  return json.loads(capsys.readouterr().out)


def _text(capsys, *argv):
  assert main(list(argv)) == 0
  return capsys.readouterr().out.splitlines()


def test_list_shows_models_or_one_models_versions(registry, capsys):
  root = ['--registry', registry.root]
  assert _json(capsys, 'list', *root) == {
      'models': [{'model': 'ran', 'versions': [1, 2, 3],
                  'aliases': {'production': 2, 'staging': 3}}]}
  assert _text(capsys, 'list', *root) == [
      'ran  versions: 3  latest: 3  aliases: production=2 staging=3']
  listed = _json(capsys, 'list', *root, '--model', 'ran')
  assert listed['aliases'] == {'production': 2, 'staging': 3}
  assert [(v['version'], v['uri'], v['blessed'], v['metrics'], v['aliases'])
          for v in listed['versions']] == [
              (1, os.path.join(registry.root, 'ran', '1'), True, {'accuracy': 0.5}, []),
              (2, os.path.join(registry.root, 'ran', '2'), True, {'accuracy': 0.75},
               ['production']),
              (3, os.path.join(registry.root, 'ran', '3'), False, {'accuracy': 0.875},
               ['staging'])]
  lines = _text(capsys, 'list', *root, '--model', 'ran')
  created = registry.show('ran', 2).created_at
  assert lines[1] == f'2  {created}  blessed  accuracy=0.75  [production]'
  assert lines[2].endswith('not blessed  accuracy=0.875  [staging]')


def test_show_prints_the_card_of_a_version_or_an_alias(registry, capsys):
  shown = _json(capsys, 'show', '--registry', registry.root, '--model', 'ran', '--alias',
                'production')
  assert shown == {'model': 'ran', 'version': 2, 'uri': os.path.join(registry.root, 'ran', '2'),
                   'aliases': ['production'], 'files': {},
                   'card': dataclasses.asdict(registry.show('ran', 2))}
  lines = _text(capsys, 'show', '--registry', registry.root, '--model', 'ran', '--version', '1')
  assert lines[0] == f"ran version 1 at {os.path.join(registry.root, 'ran', '1')}  aliases: -"
  assert json.loads('\n'.join(lines[1:]))['pipeline_run_id'] == 'run-1'


def test_show_lists_the_files_added_beside_the_saved_model(registry, capsys):
  card = dataclasses.replace(registry.show('ran', 1), edge={'models': {}})
  registry.add_files('ran', 1, 'tflite', {'model_int8.tflite': b'x' * 1500,
                                          'labels.txt': b'stop\n'}, card)
  lines = _text(capsys, 'show', '--registry', registry.root, '--model', 'ran', '--version', '1')
  assert lines[1:3] == ['  tflite/labels.txt  5 bytes', '  tflite/model_int8.tflite  1,500 bytes']
  assert json.loads('\n'.join(lines[3:]))['edge'] == {'models': {}}
  shown = _json(capsys, 'show', '--registry', registry.root, '--model', 'ran', '--version', '1')
  assert shown['files'] == {'tflite/labels.txt': 5, 'tflite/model_int8.tflite': 1500}


def test_promote_and_rollback_move_the_alias(registry, capsys):
  root = ['--registry', registry.root, '--model', 'ran']
  assert _json(capsys, 'promote', *root, '--alias', 'production', '--version', '3') == {
      'model': 'ran', 'alias': 'production', 'version': 3,
      'uri': os.path.join(registry.root, 'ran', '3')}
  assert _text(capsys, 'rollback', *root, '--alias', 'production') == [
      f"ran production -> 2 ({os.path.join(registry.root, 'ran', '2')})"]
  assert _json(capsys, 'rollback', *root, '--alias', 'production')['version'] == 1
  assert registry.resolve('ran', 'production').number == 1


def test_gc_removes_old_staging_dirs(registry, capsys):
  started = int(time.time()) - 7200
  stale = os.path.join(registry.root, 'ran', f'{filesystem.STAGING_PREFIX}{started}-ab')
  os.makedirs(stale)
  assert _json(capsys, 'gc', '--registry', registry.root, '--older_than_hours', '3') == {
      'removed': []}
  assert _text(capsys, 'gc', '--registry', registry.root, '--older_than_hours', '1') == [
      f'removed {stale}']
  assert not os.path.exists(stale)


@pytest.mark.parametrize('argv, message', [
    (['list', '--model', 'nope'], "error: model 'nope' is not in the registry"),
    (['show', '--model', 'ran', '--version', '9'], "error: model 'ran' has no version 9"),
    (['show', '--model', 'ran', '--alias', 'canary'], "error: model 'ran' has no alias 'canary'"),
    (['list', '--model', '../ran'], "error: model name '../ran' is not a simple name"),
    (['promote', '--model', 'ran', '--alias', 'a/b', '--version', '1'],
     "error: alias 'a/b' is not a simple name"),
    (['rollback', '--model', 'ran', '--alias', 'staging'],
     "error: alias 'staging' of model 'ran' has no earlier version"),
])
def test_registry_errors_exit_2_with_the_reason(registry, capsys, argv, message):
  assert main(argv + ['--registry', registry.root]) == 2
  captured = capsys.readouterr()
  assert captured.err.startswith(message) and captured.out == ''


def test_a_missing_registry_exits_2(tmp_path, capsys):
  assert main(['list', '--registry', str(tmp_path / 'nowhere')]) == 2
  assert capsys.readouterr().err == f"error: no registry at {str(tmp_path / 'nowhere')!r}\n"


@pytest.mark.parametrize('argv, message', [
    (['show', '--model', 'ran', '--version', '1a'], "version '1a' is not an integer >= 1"),
    (['show', '--model', 'ran'], 'one of the arguments --version --alias is required'),
    (['promote', '--model', 'ran', '--alias', 'production'], 'the following arguments are '
                                                             'required: --version'),
    (['list'], 'the following arguments are required: --registry'),
])
def test_bad_arguments_exit_2_with_usage(registry, capsys, argv, message):
  with pytest.raises(SystemExit) as exited:
    main(argv + (['--registry', registry.root] if argv != ['list'] else []))
  assert exited.value.code == 2 and message in capsys.readouterr().err
