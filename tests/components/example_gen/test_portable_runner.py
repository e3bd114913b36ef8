"""The standalone ingestion job under Beam's PortableRunner (embedded job service, LOOPBACK
worker: every transform pickled and shipped as on Dataflow) writes the same bytes as under the
DirectRunner, for every dataset format, quarantine and lost files included. The format tests
run the SDK worker in a process of its own, so a reader relying on state that the launching
process set up (a module global, a cache filled at launch) fails here as it would on Dataflow."""
import functools
import json
import logging
import os
import sys

import pytest

from components import beam_runners
from components import example_gen
from components.example_gen import __main__ as cli
from components.example_gen import ingest
from components.example_gen import job
from components.example_gen import sample
from components.example_gen.formats import bdd100k_fixture
from components.example_gen.formats import cifar
from components.example_gen.formats import gtsrb_fixture
from components.example_gen.formats import imagenet_fixture
from components.example_gen.formats import manifest
from example_util import file_tree


def _cure_tsr(root):
  """The sample with an undecodable and an empty image, and a stray file: three rejected."""
  sample.render_sample(root, seed=2, train_per_class=1, test_per_class=1,
                       challenges=('snow',), levels=(2,), sequences=('unreal',))
  for relative, content in (('Unreal_Test/Snow-2/02_03_11_02_0003.bmp', b'BM truncated'),
                            ('Unreal_Test/Snow-2/02_04_11_02_0004.bmp', b''),
                            ('Unreal_Train/ChallengeFree/notes.txt', b'hello')):
    with open(os.path.join(root, relative), 'wb') as f:
      f.write(content)


def _tfrecord(root):
  """The cure_tsr fixture's shards as the DirectRunner job writes them, plus a torn copy of
  one (a lost file)."""
  source = os.path.join(os.path.dirname(root), 'tfrecord_source')
  _cure_tsr(source)
  job.run(example_gen.make_layout('cure_tsr', source), root, num_shards=2,
          beam_pipeline_args=beam_runners.DIRECT_RUNNER_ARGS)
  with open(os.path.join(root, 'train', 'train-00000-of-00002.tfrecord.gz'), 'rb') as f:
    whole = f.read()
  with open(os.path.join(root, 'train', 'train-torn.tfrecord.gz'), 'wb') as f:
    f.write(whole[:len(whole) // 2])


# dataset -> (writes a small fixture of its layout under a root, the reader's options); one
# dataset per format module (cifar100 is read by cifar10's code)
FIXTURES = {
    'imagenet': (imagenet_fixture.write_fixture, {}),
    'gtsrb': (gtsrb_fixture.write_fixture, {'crop_to_roi': True}),
    'cure_tsr': (_cure_tsr, {}),
    'bdd100k': (functools.partial(bdd100k_fixture.write_fixture, frames_per_split=4,
                                  image_size=(160, 90)), {}),
    'cifar10': (functools.partial(cifar.write_fixture, rows_per_batch=3), {}),
    'manifest': (functools.partial(manifest.write_fixture, per_class=5), {}),
    'tfrecord': (_tfrecord, {'classes_of': 'cure_tsr', 'allow_lost_files': True}),
}


def test_every_dataset_format_has_a_fixture_here():
  modules = {cls.__module__ for cls in example_gen.LAYOUT_CLASSES.values()}
  assert {example_gen.layout_class(name).__module__ for name in FIXTURES} == modules
  assert len(FIXTURES) == len(modules)


def _outputs(out_dir):
  """What the job wrote: shard bytes by path, counts (without the output dir) and the
  quarantine's and lost files' lines (their order is the runner's)."""
  files = file_tree(out_dir)
  counts = json.loads(files.pop(ingest.COUNTS_FILE))
  assert counts.pop('quarantine_file') == ingest.quarantine_file(out_dir)
  lines = {path: sorted(files.pop(path).splitlines())
           for path in list(files) if path.startswith('quarantine/')}
  return files, counts, lines


@pytest.mark.parametrize('dataset', sorted(FIXTURES))
def test_portable_runner_writes_the_direct_runners_bytes(dataset, tmp_path, monkeypatch):
  data_root = str(tmp_path / dataset)
  write_fixture, options = FIXTURES[dataset]
  write_fixture(data_root)
  layout = example_gen.make_layout(dataset, data_root, options)
  monkeypatch.setenv('PATH', os.pathsep.join([os.path.dirname(sys.executable),
                                              os.environ.get('PATH', '')]))
  outputs = {}
  portable = beam_runners.PORTABLE_RUNNER_ARGS + beam_runners.PROCESS_WORKER_ARGS
  for runner, args in (('DirectRunner', beam_runners.DIRECT_RUNNER_ARGS),
                       ('PortableRunner', portable)):
    out_dir = str(tmp_path / runner)
    counts = job.run(layout, out_dir, num_shards=2, beam_pipeline_args=args)
    assert counts.found == counts.written + sum(counts.quarantined.values()) > 0
    outputs[runner] = _outputs(out_dir)
  shards, counts, quarantine = outputs['PortableRunner']
  assert (shards, counts, quarantine) == outputs['DirectRunner']
  assert {path for path in shards if not path.endswith('.tfrecord.gz')} == {
      'outcome_tally.json'}
  if dataset in ('cure_tsr', 'tfrecord'):  # the fixtures with bad input
    assert counts['quarantined'] or counts['lost_files']
    assert any(quarantine.values())


def test_the_cli_takes_the_portable_runner(tmp_path, capsys, caplog):
  data_root = str(tmp_path / 'manifest')
  manifest.write_fixture(data_root)
  out_dir = str(tmp_path / 'out')
  caplog.set_level(logging.INFO, logger='apache_beam.runners.portability')
  assert cli.main(['--dataset', 'manifest', '--data_root', data_root, '--output_dir', out_dir,
                   '--num_shards', '1', '--beam_runner', 'PortableRunner']) == 0
  counts = json.loads(capsys.readouterr().out)
  assert counts['found'] == counts['written'] == 12
  assert any(record.name.startswith('apache_beam.runners.portability.portable_runner')
             for record in caplog.records)  # the job went through the portable runner
  with pytest.raises(SystemExit) as error:
    cli.parse_args(['--dataset', 'manifest', '--data_root', data_root, '--output_dir', out_dir,
                    '--beam_runner', 'FlinkRunner'])
  assert error.value.code == 2
  assert "invalid choice: 'FlinkRunner'" in capsys.readouterr().err
