"""prepare_data: the embedded sample's spans rendered into the default data root on first use,
the missing ones only, each complete or not at all; the local run's filter of TFX's false
warning; and what a local run leaves unimported."""
import collections
import dataclasses
import logging
import os
import subprocess
import sys

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2
import pytest
from tfx.orchestration.portable.input_resolution import channel_resolver
from tfx.proto.orchestration import pipeline_pb2

import runner
from components.example_gen.formats import cure_tsr
from pipeline import configs
from pipeline import local

TINY = dict(sample_train_per_class=1, sample_test_per_class=1)  # 14 x 2 x 2 x 13 = 728 a span


def _config(tmp_path, **fields):
  return dataclasses.replace(configs.DEV, output_dir=str(tmp_path), **TINY, **fields)


def _snapshot(folder):
  """Relative path -> (bytes, modification time in ns) of every file under `folder`."""
  files = {}
  for parent, _, names in os.walk(folder):
    for name in names:
      path = os.path.join(parent, name)
      with open(path, 'rb') as f:
        files[os.path.relpath(path, folder)] = (f.read(), os.stat(path).st_mtime_ns)
  return files


def _challenge_counts(span_folder):
  return collections.Counter(cure_tsr.parse_filename(name).scenario['challenge']
                             for _, _, names in os.walk(span_folder) for name in names)


def test_sample_span_renders_the_missing_spans_only(tmp_path, capsys):
  data_root = tmp_path / 'data' / 'cure_tsr'
  local.prepare_data(_config(tmp_path))
  out = capsys.readouterr().out
  assert out == (f'Rendering span 1 of the embedded cure_tsr sample into {data_root}/span-1 '
                 '...\n  728 images written.\n')
  span_1 = _snapshot(data_root / 'span-1')
  # A render of span 2 that died half-way left its partial folder: it is started afresh.
  (data_root / '.span-2.partial' / 'span-2' / 'Real_Train').mkdir(parents=True)
  (data_root / '.span-2.partial' / 'span-2' / 'Real_Train' / 'junk.bmp').write_bytes(b'x')

  local.prepare_data(_config(tmp_path, sample_span=3))
  out = capsys.readouterr().out
  assert 'span 1' not in out
  assert out.count('Rendering span 2 ') == out.count('Rendering span 3 ') == 1
  assert out.count('728 images written.') == 2
  assert sorted(os.listdir(data_root)) == ['span-1', 'span-2', 'span-3']
  assert _snapshot(data_root / 'span-1') == span_1  # untouched
  assert sum(_challenge_counts(data_root / 'span-2').values()) == 728
  # Span 2 is the winter delivery, span 3 the standard one again.
  assert _challenge_counts(data_root / 'span-2').most_common(1)[0][0] == 'snow'
  assert _challenge_counts(data_root / 'span-3')['snow'] < 112

  local.prepare_data(_config(tmp_path, sample_span=3))  # every span there: nothing to do
  assert capsys.readouterr().out == ''


def test_sample_span_is_for_the_embedded_sample_only(tmp_path):
  for fields in ({'data_root': str(tmp_path)}, {'examples_dir': str(tmp_path)}):
    with pytest.raises(configs.ConfigError, match='--sample_span renders the embedded sample'):
      local.prepare_data(_config(tmp_path, sample_span=2, **fields))
  assert not os.listdir(tmp_path)


def test_a_sample_rendered_before_spans_is_one_span(tmp_path):
  data_root = tmp_path / 'data' / 'cure_tsr'
  (data_root / 'Real_Train' / 'ChallengeFree').mkdir(parents=True)
  local.prepare_data(_config(tmp_path))
  assert os.listdir(data_root) == ['Real_Train']
  with pytest.raises(configs.ConfigError,
                     match=f'{data_root} holds a sample rendered before spans: delete it to '
                     'render --sample_span 2'):
    local.prepare_data(_config(tmp_path, sample_span=2))
  assert os.listdir(data_root) == ['Real_Train']


def test_sample_span_flag(tmp_path, capsys):
  args = runner.parse_args(['--sample_span', '2'])
  assert args.sample_span == 2
  code = runner.main(['--sample_span', '0', '--output_dir', str(tmp_path / 'out')])
  assert code == 2
  assert capsys.readouterr().err.strip() == 'error: --sample_span 0: must be at least 1'


def _resolve_examples_query():
  """TFX's own filtering of artifacts by an ArtifactQuery with no property predicate."""
  store = metadata_store.MetadataStore(metadata_store_pb2.ConnectionConfig(
      fake_database=metadata_store_pb2.FakeDatabaseConfig()))
  store.put_artifact_type(metadata_store_pb2.ArtifactType(name='Examples'))
  query = pipeline_pb2.InputSpec.Channel.ArtifactQuery()
  query.type.name = 'Examples'
  channel_resolver._filter_by_artifact_query(store, [], query)  # pylint: disable=protected-access


def test_the_false_tfx_warning_is_dropped_during_a_local_run_only(caplog):
  _resolve_examples_query()
  assert caplog.messages == [local.FALSE_TFX_WARNING]  # TFX warns with no predicate set
  with local.without_false_tfx_warning():
    _resolve_examples_query()
    logging.getLogger('absl').warning('another warning')
  assert caplog.messages == [local.FALSE_TFX_WARNING, 'another warning']
  _resolve_examples_query()
  assert caplog.messages[-1] == local.FALSE_TFX_WARNING  # the filter is gone afterwards


# What a local run imports: the runner, the pipeline and every step's executor it runs.
_LOCAL_RUN_IMPORTS = '''
import sys
import runner
from pipeline import configs, local, pipeline
from components.trainer import training
from components.edge import component as edge_component
from components import evaluation_dashboard
from tfx.components.evaluator import executor as evaluator_executor
from tfx.components.statistics_gen import executor as statistics_executor
pipeline.create_pipeline(configs.DEV)
print(sorted(name for name in ('google.cloud.aiplatform', 'kfp', 'tfx.v1') if name in sys.modules))
'''


def test_a_local_run_does_not_import_the_cloud_sdks():
  """TFX's `v1` API imports the Vertex SDK and KFP (about 3 s at every start); a local run
  needs neither, a Vertex-training pipeline imports its Trainer alone."""
  imported = subprocess.run(
      [sys.executable, '-c', _LOCAL_RUN_IMPORTS], capture_output=True, text=True, timeout=300,
      cwd=configs.PROJECT_ROOT,
      env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2', 'PYTHONWARNINGS': 'ignore'})
  assert imported.returncode == 0, imported.stderr[-2000:]
  assert imported.stdout.splitlines()[-1] == '[]'
