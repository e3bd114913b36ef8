"""Backfill: each older span not yet ingested is ingested by ExampleGen alone, into the
pipeline's own ML Metadata; --span is checked and reaches ExampleGen."""
import dataclasses
import os
import shutil

import ml_metadata as mlmd
import pytest
from tfx import v1 as tfx
from tfx.proto import range_config_pb2
from tfx.utils import proto_utils

from components.example_gen import sample
from pipeline import configs
from pipeline import flags
from pipeline import local
from pipeline import spans
from pipeline.pipeline import create_pipeline


def _render(root, span, seed):
  """A tiny CURE-TSR delivery: 28 train and 28 eval images."""
  sample.render_sample(str(root / f'span-{span}'), seed=seed, train_per_class=1,
                       test_per_class=1, challenges=('snow',), levels=(2,), sequences=('unreal',))


def _config(tmp_path, **overrides):
  return dataclasses.replace(configs.DEV, output_dir=str(tmp_path / 'out'),
                             data_root=str(tmp_path / 'data'), **overrides)


def test_backfill_ingests_exactly_the_missing_older_spans(tmp_path, capsys):
  data = tmp_path / 'data'
  for span in (1, 2):
    _render(data, span, seed=span)
  config = _config(tmp_path)
  os.makedirs(config.output_dir)
  metadata = tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path)
  assert spans.ingested_spans(metadata, config.pipeline_name) == set()
  assert spans.backfill(config, metadata) == [1]  # span 2, the newest, is the main run's
  assert 'Backfilling span 1' in capsys.readouterr().out
  assert spans.ingested_spans(metadata, config.pipeline_name) == {1}
  for span in (3, 4):
    _render(data, span, seed=span)
  assert spans.backfill(config, metadata) == [2, 3]
  assert spans.ingested_spans(metadata, config.pipeline_name) == {1, 2, 3}
  assert spans.backfill(config, metadata) == []
  store = mlmd.MetadataStore(metadata)
  ran = {node.name for node in store.get_contexts_by_type('node')
         if store.get_executions_by_context(node.id)}
  assert ran == {f'{config.pipeline_name}.ExampleGen'}  # ExampleGen alone, in this pipeline
  examples = store.get_artifacts_by_type('Examples')
  assert sorted(a.custom_properties['span'].int_value for a in examples) == [1, 2, 3]
  assert {a.custom_properties['written_train'].int_value for a in examples} == {28}
  # A span that fails to ingest (everything quarantined) leaves no LIVE artifact: not ingested.
  for folder, _, names in os.walk(data / 'span-4'):
    for name in names:
      open(os.path.join(folder, name), 'w').close()
  _render(data, 5, seed=5)
  with pytest.raises(Exception, match='56 of 56 items'):
    spans.backfill(config, metadata)
  assert spans.ingested_spans(metadata, config.pipeline_name) == {1, 2, 3}
  assert spans.ingested_spans(metadata, 'another-pipeline') == set()


def _range(pipeline) -> range_config_pb2.RangeConfig:
  [example_gen] = [c for c in pipeline.components if c.id == 'ExampleGen']
  return proto_utils.json_to_proto(example_gen.exec_properties['range_config'],
                                   range_config_pb2.RangeConfig())


def test_the_span_flag_is_checked_and_reaches_example_gen(tmp_path):
  args = flags.ArgumentParser()
  flags.add_config_flags(args)
  assert flags.config_from_flags(args.parse_args(['--span', '3'])).span == 3
  assert flags.config_from_flags(args.parse_args([])).span is None
  with pytest.raises(configs.ConfigError, match='--span -1: must be at least 0'):
    dataclasses.replace(configs.DEV, span=-1)
  assert _range(create_pipeline(_config(tmp_path, span=3))).static_range.start_span_number == 3
  newest = _range(create_pipeline(_config(tmp_path)))
  assert newest.rolling_range.num_spans == 1  # resolved when the step runs


def test_check_inputs_names_a_missing_span_or_a_mixed_root(tmp_path):
  _render(tmp_path / 'data', 1, seed=1)
  local.check_inputs(_config(tmp_path))
  local.check_inputs(_config(tmp_path, span=1))
  with pytest.raises(configs.ConfigError, match=r'has no span 2 .* its spans: \[1\]'):
    local.check_inputs(_config(tmp_path, span=2))
  shutil.copytree(tmp_path / 'data' / 'span-1' / 'Unreal_Test', tmp_path / 'data' / 'Unreal_Test')
  with pytest.raises(configs.ConfigError, match=r'data: holds span folders \(span-1\) beside '
                     r'other entries \(Unreal_Test\)'):
    local.check_inputs(_config(tmp_path))
