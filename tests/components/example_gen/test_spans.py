"""Spans: a data root's span-<N>/ deliveries, found and checked; one span per ExampleGen
execution with TFX's `span` property, the newest by default; an unchanged span from the cache;
the standalone job's --span."""
import json
import os
import shutil

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2
import pytest
from tfx import v1 as tfx

from components import example_gen
from components.example_gen import __main__ as cli
from components.example_gen import sample
from components.example_gen.formats import gtsrb_fixture

# One sequence, one challenge level per span: 14 classes x 1 base x (1 + challenges) per split.
_SPAN_SAMPLES = {1: dict(seed=1, challenges=('snow',)),             # 28 train, 28 eval
                 2: dict(seed=2, challenges=('snow', 'rain'))}      # 42 train, 42 eval
_SPLITS = {1: {'train': 28, 'eval': 28}, 2: {'train': 42, 'eval': 42}}


@pytest.fixture(name='spanned_root', scope='module')
def fixture_spanned_root(tmp_path_factory):
  """A CURE-TSR data root with two deliveries, span-1/ and span-2/."""
  root = tmp_path_factory.mktemp('spanned')
  for span, args in _SPAN_SAMPLES.items():
    sample.render_sample(str(root / f'span-{span}'), train_per_class=1, test_per_class=1,
                         levels=(2,), sequences=('unreal',), **args)
  return str(root)


def _folders(root, names):
  for name in names:
    os.makedirs(os.path.join(root, name))
  return str(root)


def test_spans_are_the_span_folders_or_the_root_itself(tmp_path):
  spanned = _folders(tmp_path / 'spanned', ['span-10', 'span-2', 'span-1', '.snapshots'])
  open(os.path.join(spanned, '.DS_Store'), 'w').close()
  assert example_gen.spans_of(spanned) == [1, 2, 10]
  assert example_gen.span_root(spanned, 2) == os.path.join(spanned, 'span-2')
  assert example_gen.span_root(spanned) == os.path.join(spanned, 'span-10')  # the newest
  plain = _folders(tmp_path / 'plain', ['Real_Train', 'Real_Test'])
  assert example_gen.spans_of(plain) == [0]
  assert example_gen.span_root(plain, 0) == example_gen.span_root(plain) == plain


def test_missing_spans_and_mixed_roots_are_errors_naming_the_root(tmp_path):
  spanned = _folders(tmp_path / 'spanned', ['span-1', 'span-3'])
  with pytest.raises(example_gen.LayoutError, match=rf'{spanned}: has no span 2 \(no span-2/ '
                     r'folder\); its spans: \[1, 3\]'):
    example_gen.span_root(spanned, 2)
  plain = _folders(tmp_path / 'plain', ['Real_Train'])
  with pytest.raises(example_gen.LayoutError, match=rf'{plain}: has no span folders .* one span '
                     r'is 0; there is no span 1'):
    example_gen.span_root(plain, 1)
  with pytest.raises(example_gen.LayoutError, match='data root does not exist'):
    example_gen.spans_of(str(tmp_path / 'nowhere'))
  # Near-misses of span-<N> (span-0, span-01, a span-2 file) are layout content, not spans.
  for others in (['span-0'], ['span-01', 'Real_Train']):
    mixed = _folders(tmp_path / others[0], ['span-1'] + others)
    with pytest.raises(example_gen.LayoutError, match=rf'{mixed}: holds span folders \(span-1\) '
                       rf'beside other entries \({", ".join(sorted(others))}\)'):
      example_gen.spans_of(mixed)
  open(os.path.join(spanned, 'span-2'), 'w').close()
  with pytest.raises(example_gen.LayoutError, match=r'\(span-1, span-3\) beside other entries '
                     r'\(span-2\)'):
    example_gen.spans_of(spanned)


def _run(tmp_path, component):
  """Runs `component` as ExampleGen of a one-step pipeline 'spans' (one store and root for
  every call of a test); returns its execution's state and its Examples artifact."""
  metadata = tfx.orchestration.metadata.sqlite_metadata_connection_config(
      str(tmp_path / 'metadata.sqlite'))
  tfx.orchestration.LocalDagRunner().run(tfx.dsl.Pipeline(
      pipeline_name='spans', pipeline_root=str(tmp_path / 'root'),
      components=[component.with_id('ExampleGen')], enable_cache=True,
      metadata_connection_config=metadata,
      beam_pipeline_args=['--direct_running_mode=in_memory', '--direct_num_workers=1']))
  store = mlmd.MetadataStore(metadata)
  node = store.get_context_by_type_and_name('node', 'spans.ExampleGen')
  execution = max(store.get_executions_by_context(node.id), key=lambda e: e.id)
  [event] = [e for e in store.get_events_by_execution_ids([execution.id])
             if e.type == metadata_store_pb2.Event.OUTPUT]
  [examples] = store.get_artifacts_by_id([event.artifact_id])
  return metadata_store_pb2.Execution.State.Name(execution.last_known_state), examples


def _span_and_splits(examples):
  properties = examples.custom_properties
  return (properties['span'].int_value,
          {split: properties[f'written_{split}'].int_value for split in ('train', 'eval')})


def test_each_execution_ingests_one_span_and_reuses_an_unchanged_one(spanned_root, tmp_path):
  root = str(tmp_path / 'data')
  shutil.copytree(spanned_root, root)

  def ingest(span=None):
    return _run(tmp_path, example_gen.image_example_gen('cure_tsr', root, span=span))

  state, newest = ingest()
  assert state == 'COMPLETE' and _span_and_splits(newest) == (2, _SPLITS[2])
  with open(os.path.join(newest.uri, 'ingest_counts.json')) as f:
    counts = json.load(f)
  assert (counts['span'], counts['data_root']) == (2, os.path.join(root, 'span-2'))
  state, again = ingest()
  assert (state, again.id) == ('CACHED', newest.id)  # unchanged: not read again
  state, named = ingest(span=2)  # the same span, named: the same cache key
  assert (state, named.id) == ('CACHED', newest.id)
  state, older = ingest(span=1)
  assert state == 'COMPLETE' and _span_and_splits(older) == (1, _SPLITS[1])
  os.remove(os.path.join(root, 'span-1', 'Unreal_Train', 'ChallengeFree', '02_01_00_00_0001.bmp'))
  state, changed = ingest(span=1)
  assert state == 'COMPLETE' and changed.id != older.id
  assert _span_and_splits(changed) == (1, {'train': 27, 'eval': 28})
  os.makedirs(os.path.join(root, 'span-3'))
  shutil.copytree(os.path.join(root, 'span-1', 'Unreal_Test'),
                  os.path.join(root, 'span-3', 'Unreal_Test'))
  shutil.copytree(os.path.join(root, 'span-2', 'Unreal_Train'),
                  os.path.join(root, 'span-3', 'Unreal_Train'))
  state, delivered = ingest()  # a new delivery: the same component picks it up
  assert state == 'COMPLETE' and _span_and_splits(delivered) == (
      3, {'train': 42, 'eval': 28})


def test_a_missing_span_or_a_mixed_root_fails_the_step_by_name(spanned_root, tmp_path):
  with pytest.raises(example_gen.LayoutError, match=r'has no span 5 .* its spans: \[1, 2\]'):
    _run(tmp_path, example_gen.image_example_gen('cure_tsr', spanned_root, span=5))
  mixed = str(tmp_path / 'mixed')
  shutil.copytree(os.path.join(spanned_root, 'span-1'), mixed)
  os.makedirs(os.path.join(mixed, 'span-1'))
  with pytest.raises(example_gen.LayoutError, match=rf'{mixed}: holds span folders'):
    _run(tmp_path, example_gen.image_example_gen('cure_tsr', mixed))
  with pytest.raises(ValueError, match='span=-1: must be >= 0'):
    example_gen.image_example_gen('cure_tsr', spanned_root, span=-1)


def test_the_job_reads_one_span_and_its_shards_import_by_span(spanned_root, tmp_path, capsys):
  shards = tmp_path / 'shards'
  for span in (1, None):  # then the newest, span 2
    out = shards / f'span-{span or 2}'
    args = ['--dataset', 'cure_tsr', '--data_root', spanned_root, '--output_dir', str(out),
            '--num_shards', '1'] + (['--span', str(span)] if span else [])
    assert cli.main(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed['span'], printed['splits']) == (span or 2, _SPLITS[span or 2])
    with open(out / 'ingest_counts.json') as f:
      assert json.load(f) == printed
  assert sorted(os.listdir(shards / 'span-1')) == ['eval', 'ingest_counts.json',
                                                   'outcome_tally.json', 'quarantine', 'train']
  assert cli.main(['--dataset', 'cure_tsr', '--data_root', spanned_root, '--output_dir',
                   str(tmp_path / 'x'), '--span', '7']) == 2
  assert 'has no span 7' in capsys.readouterr().err
  # ImportExampleGen over the job's output, one span-<N>/ per delivery.
  state, newest = _run(tmp_path, example_gen.import_example_gen(str(shards), classes_of='cure_tsr'))
  assert state == 'COMPLETE' and _span_and_splits(newest) == (2, _SPLITS[2])
  state, older = _run(tmp_path, example_gen.import_example_gen(
      str(shards), classes_of='cure_tsr', span=1))
  assert state == 'COMPLETE' and _span_and_splits(older) == (1, _SPLITS[1])


def test_spans_work_the_same_for_another_format(tmp_path, capsys):
  root = tmp_path / 'gtsrb'
  for span, classes in ((1, (0, 1)), (2, (0, 1, 14))):
    gtsrb_fixture.write_fixture(str(root / f'span-{span}'), classes=classes,
                                tracks_per_class=1, frames_per_track=1, test_per_class=1)
  for span, written in ((None, 6), (1, 4)):
    args = ['--dataset', 'gtsrb', '--data_root', str(root), '--num_shards', '1',
            '--output_dir', str(tmp_path / f'out{span}')] + (['--span', '1'] if span else [])
    assert cli.main(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed['span'], printed['written']) == (span or 2, written)
