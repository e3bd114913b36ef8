"""End to end: the local pipeline with --beam_runner PortableRunner (every Beam step through
Beam's portability framework, its transforms pickled to an SDK worker in a process of its own,
as on Dataflow) counts what the DirectRunner run counts, on a tiny CURE-TSR-layout sample with
a narrow model."""
import dataclasses
import json
import os
import sys

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
import pytest
import tensorflow_data_validation as tfdv

from components import beam_runners
from components.example_gen import ingest
from components.example_gen import sample
from pipeline import configs
from pipeline import local


def _statistics_examples(metadata_path):
  """{split: num_examples} of the run's StatisticsGen output."""
  connection = metadata_store_pb2.ConnectionConfig()
  connection.sqlite.filename_uri = metadata_path
  connection.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
  [statistics] = [artifact for artifact in metadata_store.MetadataStore(
      connection).get_artifacts_by_type('ExampleStatistics')
                  if '/StatisticsGen/' in artifact.uri]  # not Transform's
  return {split: tfdv.load_stats_binary(os.path.join(
      statistics.uri, f'Split-{split}', 'FeatureStats.pb')).datasets[0].num_examples
          for split in json.loads(statistics.properties['split_names'].string_value)}


def _counts(config, run):
  """What each Beam step counted: ExampleGen's ingest counts (paths left out), StatisticsGen's
  examples per split, the examples of every Evaluator slice."""
  with open(os.path.join(run.examples_uri, ingest.COUNTS_FILE)) as f:
    ingested = json.load(f)
  for path_field in ('data_root', 'quarantine_file'):
    del ingested[path_field]
  return {'ingested': ingested, 'statistics': _statistics_examples(config.metadata_path),
          'evaluated': {s.name: s.examples for s in run.slices}}


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
  """{beam_runner: counts} of a run per local Beam runner on the same data."""
  root = tmp_path_factory.mktemp('portable')
  data_root = str(root / 'data')
  sample.render_sample(data_root, seed=5, train_per_class=1, test_per_class=1,
                       challenges=('rain',), levels=(3,))
  counts = {}
  for beam_runner, beam_args in (('DirectRunner', ()),
                                 ('PortableRunner', beam_runners.PROCESS_WORKER_ARGS)):
    config = dataclasses.replace(
        configs.DEV, output_dir=str(root / beam_runner), data_root=data_root,
        beam_runner=beam_runner, beam_pipeline_args=beam_args, width_multiplier=0.25,
        batch_size=8, train_steps=4, warmup_steps=1, accuracy_floor=0.0,
        regression_tolerance=1.0, warm_start=False, edge_export=False)
    with pytest.MonkeyPatch.context() as patch:
      patch.setenv('PATH', os.pathsep.join([os.path.dirname(sys.executable),
                                            os.environ.get('PATH', '')]))
      counts[beam_runner] = _counts(config, local.run_local(config))
  return counts


@pytest.mark.e2e
def test_beam_steps_count_the_same_under_the_portable_runner(runs):
  portable, direct = runs['PortableRunner'], runs['DirectRunner']
  per_split = 14 * 2 * 2  # classes x sequences x (challenge-free + rain-3)
  assert direct['ingested']['splits'] == {'train': per_split, 'eval': per_split}
  assert direct['statistics'] == {'train': per_split, 'eval': per_split}
  assert direct['evaluated']['overall'] == per_split
  assert portable == direct
