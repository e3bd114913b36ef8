"""The filesystem registry: TF Serving's layout, atomic never-overwriting publishes, aliases."""
import concurrent.futures
import dataclasses
import datetime
import json
import os
import re
import threading
import time

import numpy as np
import pytest
import tensorflow as tf

from components.registry import FilesystemRegistry, ModelCard, NotFoundError, Version
from components.registry import filesystem
import fake_models


@pytest.fixture(name='registry')
def fixture_registry(tmp_path):
  return FilesystemRegistry(str(tmp_path / 'registry'))


@pytest.fixture(name='model_dir')
def fixture_model_dir(registry):
  return os.path.join(registry.root, 'ran')


def _export(tmp_path, tag):
  """A fake SavedModel under tmp_path/tag: (its directory, relative path -> bytes)."""
  files = fake_models.write_saved_model(tmp_path / tag, tag)
  return str(tmp_path / tag), files


def _stored(version_uri):
  """(the SavedModel files of a version, its model card as a dict)."""
  files = fake_models.read_tree(version_uri)
  return files, json.loads(files.pop('model_card.json'))


def test_versions_are_numbered_dirs_holding_the_saved_model_and_its_card(registry, model_dir,
                                                                         tmp_path):
  (first_dir, first_files), (second_dir, second_files) = (_export(tmp_path, 'a'),
                                                          _export(tmp_path, 'b'))
  before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
  first = registry.publish('ran', first_dir, fake_models.card('run-1'))
  second = registry.publish('ran', second_dir, fake_models.card('run-2', baseline_version=1))

  assert first == Version('ran', 1, os.path.join(model_dir, '1'))
  assert second == Version('ran', 2, os.path.join(model_dir, '2'))
  assert sorted(os.listdir(model_dir)) == ['1', '2']  # nothing else TF Serving could trip on
  files, card = _stored(first.uri)
  assert files == first_files and 'saved_model.pb' in files and 'variables/variables.index' in files
  created = datetime.datetime.fromisoformat(card['created_at'])
  assert created.utcoffset() == datetime.timedelta(0) and before <= created
  assert card == {**dataclasses.asdict(fake_models.card('run-1')), 'source_uri': first_dir,
                  'created_at': card['created_at']}
  assert _stored(second.uri) == (second_files, {
      **dataclasses.asdict(fake_models.card('run-2', baseline_version=1)),
      'source_uri': second_dir, 'created_at': registry.show('ran', 2).created_at})
  assert registry.show('ran', 1) == ModelCard(**card)
  assert registry.list_versions('ran') == [first, second]
  assert registry.models() == ['ran']


def test_a_published_saved_model_loads_and_serves_from_its_version_dir(registry, tmp_path):
  module = tf.Module()
  module.scale = tf.Variable(3.0)
  module.serve = tf.function(lambda x: {'scaled': x * module.scale},
                             input_signature=[tf.TensorSpec([None], tf.float32, name='x')])
  tf.saved_model.save(module, str(tmp_path / 'export'), signatures={'serving_default':
                                                                     module.serve})
  version = registry.publish('ran', str(tmp_path / 'export'), ModelCard())
  served = tf.saved_model.load(version.uri).signatures['serving_default']
  np.testing.assert_allclose(served(x=tf.constant([1.0, 2.0]))['scaled'], [3.0, 6.0])
  assert registry.show('ran', 1).source_uri == str(tmp_path / 'export')


def test_files_added_to_a_version_sit_in_their_folder_beside_the_saved_model(registry,
                                                                           tmp_path):
  source, saved_files = _export(tmp_path, 'a')
  version = registry.publish('ran', source, fake_models.card('run-1'))
  card = dataclasses.replace(registry.show('ran', 1), edge={'models': {'int8': {}}})
  written = registry.add_files('ran', 1, 'tflite', {'model.tflite': b'tf', 'labels.txt': b'a\n'},
                               card)
  assert written == ['tflite/labels.txt', 'tflite/model.tflite']
  files, stored_card = _stored(version.uri)
  assert files == {**saved_files, 'tflite/model.tflite': b'tf', 'tflite/labels.txt': b'a\n'}
  assert ModelCard(**stored_card) == card and registry.show('ran', 1) == card
  assert registry.added_files('ran', 1) == {'tflite/labels.txt': 2, 'tflite/model.tflite': 2}
  # Again: the folder is replaced whole; nothing staged is left behind.
  registry.add_files('ran', 1, 'tflite', {'model.tflite': b'new'}, card)
  assert registry.added_files('ran', 1) == {'tflite/model.tflite': 3}
  assert sorted(os.listdir(version.uri)) == sorted(
      ['assets', 'fingerprint.pb', 'model_card.json', 'saved_model.pb', 'tflite', 'variables'])
  for folder, name in (('variables', 'x'), ('../up', 'x'), ('tflite', '../x')):
    with pytest.raises(ValueError):
      registry.add_files('ran', 1, folder, {name: b''}, card)
  with pytest.raises(NotFoundError):
    registry.add_files('ran', 2, 'tflite', {}, card)


def test_a_source_without_a_saved_model_is_refused(registry, tmp_path):
  (tmp_path / 'empty').mkdir()
  with pytest.raises(ValueError, match='holds no SavedModel'):
    registry.publish('ran', str(tmp_path / 'empty'), ModelCard())
  assert not os.path.exists(os.path.join(registry.root, 'ran', '1'))


@pytest.mark.parametrize('os_refuses', [False, True], ids=['gfile_refuses', 'rename2_refuses'])
def test_a_number_taken_meanwhile_is_never_overwritten(registry, tmp_path, monkeypatch,
                                                       os_refuses):
  """Another publisher claims version 1 between our listing and our rename; with
  os_refuses, TF's own existence check is skipped too, so rename(2) itself must refuse."""
  (ours_dir, ours_files), (racer_dir, racer_files) = _export(tmp_path, 'ours'), _export(
      tmp_path, 'racer')
  real_rename, racer = tf.io.gfile.rename, []

  def rename_after_a_racer(source, target, overwrite=False):
    monkeypatch.setattr(tf.io.gfile, 'rename', real_rename)
    racer.append(registry.publish('ran', racer_dir, fake_models.card('racer')))
    real_rename(source, target, overwrite=os_refuses or overwrite)

  monkeypatch.setattr(tf.io.gfile, 'rename', rename_after_a_racer)
  ours = registry.publish('ran', ours_dir, fake_models.card('ours'))
  assert (racer[0].number, ours.number) == (1, 2)
  assert _stored(racer[0].uri)[0] == racer_files and _stored(ours.uri)[0] == ours_files
  assert [registry.show('ran', n).pipeline_run_id for n in (1, 2)] == ['racer', 'ours']


def test_concurrent_threads_publish_distinct_complete_versions(registry, model_dir, tmp_path,
                                                              monkeypatch):
  clashes = []
  monkeypatch.setattr(tf.io.gfile, 'rename',
                      fake_models.racing_rename(tf.io.gfile.rename, clashes))
  exports = [_export(tmp_path, f't{i}') for i in range(6)]
  start = threading.Barrier(len(exports))

  def publish_three(i):
    start.wait()
    return [(registry.publish('ran', exports[i][0], fake_models.card(f't{i}-{k}')).number,
             i, f't{i}-{k}') for k in range(3)]

  with concurrent.futures.ThreadPoolExecutor(len(exports)) as pool:
    published = [p for ps in pool.map(publish_three, range(len(exports))) for p in ps]
  assert sorted(number for number, _, _ in published) == list(range(1, 19))
  assert clashes  # the publishers did race for numbers
  for number, i, run_id in published:
    assert _stored(os.path.join(model_dir, str(number)))[0] == exports[i][1]
    assert registry.show('ran', number).pipeline_run_id == run_id
  assert sorted(os.listdir(model_dir)) == sorted(str(n) for n in range(1, 19))  # no staging left


def test_mid_copy_a_reader_sees_only_the_complete_versions(registry, model_dir, tmp_path,
                                                           monkeypatch):
  registry.publish('ran', _export(tmp_path, 'a')[0], fake_models.card('run-1'))
  real_copy, seen = tf.io.gfile.copy, []

  def observed_copy(source, target, overwrite=False):
    real_copy(source, target, overwrite)
    seen.append((fake_models.version_dirs(model_dir),
                 [v.number for v in registry.list_versions('ran')]))

  monkeypatch.setattr(tf.io.gfile, 'copy', observed_copy)
  registry.publish('ran', _export(tmp_path, 'b')[0], fake_models.card('run-2'))
  assert seen == [([1], [1])] * 5  # five files copied, version 2 invisible throughout
  assert fake_models.version_dirs(model_dir) == [1, 2]


def test_a_publish_failing_mid_copy_leaves_no_version_and_no_staging(registry, model_dir,
                                                                     tmp_path, monkeypatch):
  source, files = _export(tmp_path, 'a')
  real_copy, copied = tf.io.gfile.copy, []

  def copy_then_fail(source, target, overwrite=False):
    if len(copied) == 3:
      raise tf.errors.UnavailableError(None, None, 'storage went away')
    real_copy(source, target, overwrite)
    copied.append(target)

  monkeypatch.setattr(tf.io.gfile, 'copy', copy_then_fail)
  with pytest.raises(tf.errors.UnavailableError, match='storage went away'):
    registry.publish('ran', source, fake_models.card())
  assert len(copied) == 3 and os.listdir(model_dir) == []
  monkeypatch.undo()
  assert registry.publish('ran', source, fake_models.card()).number == 1
  assert _stored(os.path.join(model_dir, '1'))[0] == files


def test_gc_removing_a_publish_in_progress_fails_it_instead_of_publishing_a_part(
    registry, model_dir, tmp_path, monkeypatch):
  real_copy, copied = tf.io.gfile.copy, []

  def copy_then_gc(source, target, overwrite=False):
    real_copy(source, target, overwrite)
    copied.append(target)
    if len(copied) == fake_models.TOP_LEVEL_FILES:  # later copies recreate the subdirectories
      assert len(registry.gc(older_than_s=-1)) == 1

  monkeypatch.setattr(tf.io.gfile, 'copy', copy_then_gc)
  with pytest.raises(IOError, match='incomplete'):
    registry.publish('ran', _export(tmp_path, 'a')[0], fake_models.card())
  assert len(copied) == 5 and os.listdir(model_dir) == []


def test_gc_removes_only_staging_dirs_older_than_asked(registry, model_dir, tmp_path):
  registry.publish('ran', _export(tmp_path, 'a')[0], fake_models.card())
  now = time.time()
  old, fresh = (os.path.join(model_dir, f'{filesystem.STAGING_PREFIX}{int(t)}-ab12')
                for t in (now - 7200, now - 60))
  for path in (old, fresh, os.path.join(model_dir, '.keep-me')):
    os.makedirs(os.path.join(path, 'variables'))
  assert registry.gc(older_than_s=3600, now=now) == [old]
  assert sorted(os.listdir(model_dir)) == sorted(['1', os.path.basename(fresh), '.keep-me'])
  assert registry.gc(older_than_s=30, model_name='ran', now=now) == [fresh]
  assert registry.list_versions('ran')[0].number == 1


def test_find_by_source_returns_the_newest_version_copied_from_it(registry, tmp_path):
  a_dir, b_dir = _export(tmp_path, 'a')[0], _export(tmp_path, 'b')[0]
  for source in (a_dir, b_dir, a_dir):
    registry.publish('ran', source, fake_models.card())
  assert registry.find_by_source('ran', a_dir).number == 3
  assert registry.find_by_source('ran', b_dir).number == 2
  assert registry.find_by_source('ran', str(tmp_path / 'c')) is None
  assert registry.find_by_source('other', a_dir) is None


@pytest.mark.parametrize('name', ['', '.', '..', '../x', 'a/b', '/abs', '.hidden', 'a b',
                                  'a\\b', 'x' * 129, None])
def test_names_that_are_not_simple_are_refused_naming_the_value(registry, tmp_path, name):
  source = _export(tmp_path, 'a')[0]
  with pytest.raises(ValueError, match=re.escape(f'model name {name!r}')):
    registry.publish(name, source, fake_models.card())
  with pytest.raises(ValueError, match=re.escape(f'alias {name!r}')):
    registry.promote('ran', name, 1)
  with pytest.raises(ValueError, match=re.escape(f'model name {name!r}')):
    registry.list_versions(name)
  assert sorted(os.listdir(tmp_path)) == ['a']  # nothing written, inside or outside the root


@pytest.mark.parametrize('version', [0, -1, True, 1.0, '1', '../1'])
def test_versions_that_are_not_positive_integers_are_refused(registry, version):
  with pytest.raises(ValueError, match=re.escape(f'version {version!r} is not an integer >= 1')):
    registry.show('ran', version)


def test_an_alias_that_looks_like_a_version_is_refused(registry):
  with pytest.raises(ValueError, match="alias '3' is a number"):
    registry.promote('ran', '3', 1)


def test_unknown_models_versions_and_aliases_are_not_found(registry, tmp_path):
  with pytest.raises(NotFoundError, match="model 'ran' is not in the registry"):
    registry.list_versions('ran')
  registry.publish('ran', _export(tmp_path, 'a')[0], fake_models.card())
  with pytest.raises(NotFoundError, match="model 'ran' has no version 2"):
    registry.promote('ran', 'production', 2)
  with pytest.raises(NotFoundError, match="model 'ran' has no alias 'production'"):
    registry.resolve('ran', 'production')
  with pytest.raises(NotFoundError, match="no alias 'production'"):
    registry.rollback('ran', 'production')


@pytest.fixture(name='three_versions')
def fixture_three_versions(registry, tmp_path):
  for tag in 'abc':
    registry.publish('ran', _export(tmp_path, tag)[0], fake_models.card(f'run-{tag}'))
  return registry


def test_rollback_walks_back_through_the_promotions(three_versions):
  registry = three_versions
  for version in (1, 2, 3):
    assert registry.promote('ran', 'production', version).number == version
  assert registry.resolve('ran', 'production') == registry.version('ran', 3)
  assert registry.rollback('ran', 'production').number == 2
  assert registry.rollback('ran', 'production').number == 1
  with pytest.raises(ValueError, match="alias 'production' of model 'ran' has no earlier"):
    registry.rollback('ran', 'production')
  assert registry.resolve('ran', 'production').number == 1
  assert [(e['event'], e['action'], e['version']) for e in registry.alias_history(
      'ran', 'production')] == [(1, 'promote', 1), (2, 'promote', 2), (3, 'promote', 3),
                                (4, 'rollback', 2), (5, 'rollback', 1)]


def test_rollback_after_a_rollback_and_a_promotion_returns_to_the_version_before(three_versions):
  registry = three_versions
  registry.promote('ran', 'production', 1)
  registry.promote('ran', 'production', 2)
  registry.rollback('ran', 'production')
  registry.promote('ran', 'production', 3)
  assert registry.rollback('ran', 'production').number == 1


def test_aliases_are_independent_and_repeating_a_promotion_records_nothing(three_versions):
  registry = three_versions
  registry.promote('ran', 'production', 1)
  registry.promote('ran', 'staging', 3)
  registry.promote('ran', 'staging', 3)
  assert registry.aliases('ran') == {'production': 1, 'staging': 3}
  assert len(registry.alias_history('ran', 'staging')) == 1
  assert fake_models.version_dirs(os.path.join(registry.root, 'ran')) == [1, 2, 3]


def test_concurrent_promotions_are_all_kept_in_the_history(registry, tmp_path):
  source = _export(tmp_path, 'a')[0]
  for _ in range(6):
    registry.publish('ran', source, fake_models.card())
  start = threading.Barrier(6)

  def promote(version):
    start.wait()
    registry.promote('ran', 'production', version)

  with concurrent.futures.ThreadPoolExecutor(6) as pool:
    list(pool.map(promote, range(1, 7)))
  history = registry.alias_history('ran', 'production')
  assert sorted(e['version'] for e in history) == [1, 2, 3, 4, 5, 6]  # no lost update
  order = [e['version'] for e in history]
  assert registry.resolve('ran', 'production').number == order[-1]
  assert [registry.rollback('ran', 'production').number for _ in range(5)] == order[-2::-1]
