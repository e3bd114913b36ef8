"""Ingestion as a whole: the standalone job, quarantine and counts, determinism, the TFX
components and their artifacts, TFRecord import, and the input fingerprint."""
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys

import ml_metadata as mlmd
import pytest
import tensorflow as tf
from PIL import Image
from tfx import v1 as tfx

from components import example_gen
from components import features
from components.example_gen import __main__ as cli
from components.example_gen import ingest
from components.example_gen import job
from components.example_gen import layout
from components.example_gen import sample
from components.example_gen.formats import cifar
from components.example_gen.formats import cure_tsr
from components.example_gen.formats import imagenet
from components.example_gen.formats import imagenet_fixture
from example_util import read_examples
from example_util import read_quarantine

_BAD = {  # relative path -> bytes; each one quarantined for its own reason
    'Unreal_Test/Snow-2/02_03_11_02_0003.bmp': b'BM truncated',
    'Unreal_Test/Snow-2/02_04_11_02_0004.bmp': b'',
    'Unreal_Train/ChallengeFree/notes.txt': b'hello',
}


@pytest.fixture(name='clean_root', scope='module')
def fixture_clean_root(tmp_path_factory):
  root = str(tmp_path_factory.mktemp('cure_tsr'))
  sample.render_sample(root, seed=1, train_per_class=1, test_per_class=1,
                        challenges=('snow',), levels=(2,), sequences=('unreal',))
  return root


@pytest.fixture(name='dirty_root', scope='module')
def fixture_dirty_root(clean_root, tmp_path_factory):
  root = str(tmp_path_factory.mktemp('dirty') / 'cure_tsr')
  shutil.copytree(clean_root, root)
  for relative, content in _BAD.items():
    with open(os.path.join(root, relative), 'wb') as f:
      f.write(content)
  return root


def _ingest(root, out, **kwargs):
  return job.run(example_gen.make_layout('cure_tsr', root), str(out), num_shards=2, **kwargs)


def test_counts_reconcile_and_quarantine_names_file_and_reason(dirty_root, tmp_path):
  counts = _ingest(dirty_root, tmp_path, max_quarantined_fraction=0.5)
  # The sample: 14 classes x 1 base x 2 variants (challenge-free, snow-2) per split; the two
  # broken eval files replaced good ones, the stray text file is one more item.
  assert counts.splits == {'train': 28, 'eval': 26}
  assert counts.quarantined == {'bad_file_name': 1, 'empty_file': 1, 'undecodable_image': 1}
  assert counts.found == 57 == counts.written + sum(counts.quarantined.values())
  assert (counts.dataset, counts.data_root, counts.skipped) == ('cure_tsr', dirty_root, {})
  assert counts.quarantined_fraction == 3 / 57
  assert counts.quarantine_file == str(tmp_path / 'quarantine' / 'rejected.jsonl')
  with open(tmp_path / 'ingest_counts.json') as f:
    assert ingest.IngestCounts(**json.load(f)) == counts
  rejected = {os.path.relpath(r.source, dirty_root): r for r in read_quarantine(tmp_path)}
  assert set(rejected) == set(_BAD)
  assert rejected['Unreal_Test/Snow-2/02_04_11_02_0004.bmp'].reason == 'empty_file'
  assert 'not a CURE-TSR file name' in rejected['Unreal_Train/ChallengeFree/notes.txt'].detail
  written = {e.features.feature[features.IMAGE_FILENAME].bytes_list.value[0].decode()
             for split in ('train', 'eval') for e in read_examples(tmp_path, split)}
  assert len(written) == 54 and not written & set(_BAD)


def test_output_is_deterministic(clean_root, tmp_path):
  for run in ('a', 'b'):
    _ingest(clean_root, tmp_path / run)
  for split in ('train', 'eval'):
    names = sorted(os.listdir(tmp_path / 'a' / split))
    assert names == [f'{split}-0000{i}-of-00002.tfrecord.gz' for i in range(2)]
    for name in names:
      with gzip.open(tmp_path / 'a' / split / name) as a, gzip.open(
          tmp_path / 'b' / split / name) as b:
        assert a.read() == b.read()


def test_too_much_quarantined_fails_after_writing_the_counts(dirty_root, tmp_path):
  with pytest.raises(ingest.QuarantineLimitError,
                     match=r'3 of 57 items \(5.26%\) were quarantined, over the limit of 1.00%'):
    _ingest(dirty_root, tmp_path, max_quarantined_fraction=0.01)
  assert os.path.exists(tmp_path / 'ingest_counts.json')


def test_an_unknown_quarantine_reason_fails_the_run(clean_root, tmp_path, monkeypatch):
  def misspelt(self, item):
    raise layout.BadInput('undecodeable_image', 'a typo in a reader')

  monkeypatch.setattr(cure_tsr.CureTsr, 'read', misspelt)
  with pytest.raises(Exception, match="Unknown quarantine reason 'undecodeable_image'"):
    _ingest(clean_root, tmp_path)


def test_cli_writes_the_layout_and_exits_by_outcome(dirty_root, tmp_path, capsys):
  args = ['--dataset', 'cure_tsr', '--data_root', dirty_root, '--num_shards', '3']
  assert cli.main(args + ['--output_dir', str(tmp_path / 'ok'),
                          '--max_quarantined_fraction', '0.1']) == 0
  assert json.loads(capsys.readouterr().out)['found'] == 57
  assert sorted(os.listdir(tmp_path / 'ok')) == ['eval', 'ingest_counts.json',
                                                 'outcome_tally.json', 'quarantine', 'train']
  assert len(os.listdir(tmp_path / 'ok' / 'train')) == 3
  assert cli.main(args + ['--output_dir', str(tmp_path / 'strict')]) == 1
  assert 'over the limit of 1.00%' in capsys.readouterr().err
  assert cli.main(['--dataset', 'cure_tsr', '--data_root', str(tmp_path / 'nowhere'),
                   '--output_dir', str(tmp_path / 'x')]) == 2
  assert 'data root does not exist' in capsys.readouterr().err
  assert cli.main(args + ['--output_dir', str(tmp_path / 'y'), '--option', 'crop=1']) == 2
  assert "Unknown option(s) ['crop'] for dataset 'cure_tsr'" in capsys.readouterr().err


def test_fingerprint_stats_folders_not_images(clean_root, tmp_path, monkeypatch):
  root = str(tmp_path / 'copy')
  shutil.copytree(clean_root, root)
  cure = example_gen.make_layout('cure_tsr', root)
  stat_calls = []
  real_stat = tf.io.gfile.stat
  monkeypatch.setattr(tf.io.gfile, 'stat', lambda p: stat_calls.append(p) or real_stat(p))
  before = ingest.fingerprint(cure)
  assert len(stat_calls) == 4  # {Unreal_Train, Unreal_Test} x {ChallengeFree, Snow-2}
  assert ingest.fingerprint(cure) == before
  os.remove(os.path.join(root, 'Unreal_Test', 'Snow-2', '02_03_11_02_0003.bmp'))
  assert ingest.fingerprint(cure) != before


def test_paths_escaping_the_root_are_rejected(clean_root):
  cure = example_gen.make_layout('cure_tsr', clean_root)
  for relative in ('../x.png', 'a/../../x.png', '/etc/passwd'):
    with pytest.raises(layout.BadInput) as error:
      cure.path(relative)
    assert error.value.reason == layout.PATH_ESCAPES_ROOT
  assert cure.path('a/../b.png') == os.path.join(clean_root, 'b.png')


def test_symlinks_out_of_the_data_root_are_quarantined(clean_root, tmp_path):
  root = tmp_path / 'data'
  shutil.copytree(clean_root, root)
  folder = root / 'Unreal_Train' / 'Snow-2'
  outside, inside = sorted(folder.iterdir())[:2]
  os.rename(outside, tmp_path / 'elsewhere.bmp')
  os.symlink(tmp_path / 'elsewhere.bmp', outside)  # a link to a file outside the root
  os.rename(inside, root / 'moved.bmp')
  os.symlink(root / 'moved.bmp', inside)  # a link that stays inside is read
  os.symlink(root, tmp_path / 'linked_root')  # so is a root reached through a link
  counts = _ingest(str(tmp_path / 'linked_root'), tmp_path / 'out', max_quarantined_fraction=1)
  [rejected] = read_quarantine(tmp_path / 'out')
  assert rejected.source == str(tmp_path / 'linked_root' / outside.relative_to(root))
  assert rejected.reason == layout.PATH_ESCAPES_ROOT
  assert f'is a link to {tmp_path / "elsewhere.bmp"}, outside the data root' in rejected.detail
  assert counts.quarantined == {layout.PATH_ESCAPES_ROOT: 1}
  assert counts.found == 56 == counts.written + 1


def test_cli_fails_on_a_lost_file_unless_allowed(tmp_path, capsys):
  cifar.write_fixture(str(tmp_path / 'data'), rows_per_batch=2)
  os.remove(tmp_path / 'data' / 'cifar-10-batches-py' / 'data_batch_4')
  args = ['--dataset', 'cifar10', '--data_root', str(tmp_path / 'data'), '--num_shards', '1']
  assert cli.main(args + ['--output_dir', str(tmp_path / 'strict')]) == 1
  err = capsys.readouterr().err
  assert err.startswith('error: 1 whole file(s) could not be read, so 10000 records are '
                        f'unaccounted for: {tmp_path}/data/cifar-10-batches-py/data_batch_4')
  assert cli.main(args + ['--output_dir', str(tmp_path / 'ok'), '--allow_lost_files']) == 0
  counts = json.loads(capsys.readouterr().out)
  assert (counts['unaccounted_records'], counts['found'], counts['allow_lost_files']) == (
      10000, 10, True)
  assert [entry['reason'] for entry in counts['lost_files']] == ['missing_file']


def test_unknown_dataset_and_option_are_rejected_by_name(clean_root):
  with pytest.raises(ValueError, match=r"Unknown dataset 'mnist'; known: \["):
    example_gen.make_layout('mnist', clean_root)
  with pytest.raises(ValueError, match=r"Unknown option\(s\) \['crop'\] .* takes "
                     r"\['allow_lost_files', 'max_pixels', 'seed'\]"):
    example_gen.make_layout('cure_tsr', clean_root, {'crop': True})


def _jpeg(color, size=(12, 10)) -> bytes:
  out = io.BytesIO()
  Image.new('RGB', size, color).save(out, format='JPEG')
  return out.getvalue()


def _tpu_record(label, synset, encoded=None, **extra) -> bytes:
  """A record as the TF/TPU ImageNet converters write it (1-based label, 'JPEG', synset)."""
  feature = {
      'image/encoded': tf.train.Feature(bytes_list=tf.train.BytesList(
          value=[encoded if encoded is not None else _jpeg((200, 30, 30))])),
      'image/format': tf.train.Feature(bytes_list=tf.train.BytesList(value=[b'JPEG'])),
      'image/class/label': tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
      'image/class/synset': tf.train.Feature(bytes_list=tf.train.BytesList(
          value=[synset.encode()])),
      'image/class/text': tf.train.Feature(bytes_list=tf.train.BytesList(value=[b'a sign'])),
      'image/filename': tf.train.Feature(bytes_list=tf.train.BytesList(
          value=[f'{synset}_{label}.JPEG'.encode()])),
      **extra,
  }
  return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def test_tpu_style_records_import_with_a_label_offset(tmp_path):
  names = cure_tsr.CLASS_NAMES
  root = tmp_path / 'tpu'
  root.mkdir()
  with tf.io.TFRecordWriter(str(root / 'train-00000-of-00001')) as writer:
    writer.write(_tpu_record(1, names[0]))
    writer.write(_tpu_record(14, names[13]))
    writer.write(_tpu_record(6, names[4]))     # synset disagrees with label
    writer.write(_tpu_record(15, 'nope'))      # 15 - 1 = 14: beyond the 14 classes
    writer.write(_tpu_record(3, names[2], encoded=b'\xff\xd8\xff truncated'))
    writer.write(b'not a proto at all')
  with tf.io.TFRecordWriter(str(root / 'validation-00000-of-00001')) as writer:
    writer.write(_tpu_record(2, names[1]))
  with open(root / 'validation-00000-of-00001', 'rb') as f:
    whole = f.read()
  with open(root / 'validation-00000-of-00001', 'ab') as f:
    f.write(whole[:40])  # a torn copy of the record: header and CRC, then it stops
  options = {'classes_of': 'cure_tsr', 'label_offset': -1,
             'split_patterns': example_gen.TPU_SPLIT_PATTERNS}
  torn = str(root / 'validation-00000-of-00001')
  with pytest.raises(ingest.LostFilesError, match=f'so an unknown number of records are '
                     f'unaccounted for: {torn}: corrupt_record_file \\(records from #1 on'):
    job.run(example_gen.make_layout('tfrecord', str(root), options), str(tmp_path / 'strict'),
            num_shards=1, max_quarantined_fraction=1)
  imports = example_gen.make_layout('tfrecord', str(root), {**options, 'allow_lost_files': True})
  counts = job.run(imports, str(tmp_path / 'out'), num_shards=1, max_quarantined_fraction=1)
  assert counts.splits == {'train': 2, 'eval': 1}  # the record before the tear is kept
  assert counts.quarantined == {'label_mismatch': 1, 'label_out_of_range': 1,
                                'malformed_row': 1, 'undecodable_image': 1}
  [lost] = counts.lost_files
  assert (lost['source'], lost['reason'], lost['records']) == (torn, 'corrupt_record_file', None)
  assert counts.unaccounted_records == 'unknown'
  train = read_examples(str(tmp_path / 'out'), 'train')
  got = sorted((e.features.feature[features.LABEL].int64_list.value[0],
                e.features.feature[features.LABEL_TEXT].bytes_list.value[0].decode(),
                e.features.feature[features.IMAGE_FORMAT].bytes_list.value[0])
               for e in train)
  assert got == [(0, names[0], b'jpeg'), (13, names[13], b'jpeg')]
  assert {key for e in train for key in e.features.feature} == {
      features.IMAGE_ENCODED, features.IMAGE_FORMAT, features.IMAGE_HEIGHT,
      features.IMAGE_WIDTH, features.IMAGE_FILENAME, features.LABEL, features.LABEL_TEXT}


def _run_pipeline(tmp_path, component, name):
  metadata = tfx.orchestration.metadata.sqlite_metadata_connection_config(
      str(tmp_path / f'{name}.sqlite'))
  tfx.orchestration.LocalDagRunner().run(tfx.dsl.Pipeline(
      pipeline_name=name, pipeline_root=str(tmp_path / name), components=[component],
      metadata_connection_config=metadata,
      beam_pipeline_args=['--direct_running_mode=in_memory', '--direct_num_workers=1']))
  store = mlmd.MetadataStore(metadata)
  [examples] = store.get_artifacts_by_type('Examples')
  return examples


def _int_properties(artifact):
  return {key: value.int_value for key, value in artifact.custom_properties.items()
          if key in ('found', 'written', 'quarantined', 'written_train', 'written_eval')}


def test_pipeline_components_count_into_the_artifact(dirty_root, tmp_path):
  image_gen = example_gen.image_example_gen('cure_tsr', dirty_root,
                                            max_quarantined_fraction=0.1)
  examples = _run_pipeline(tmp_path, image_gen, 'read')
  assert _int_properties(examples) == {'found': 57, 'written': 54, 'quarantined': 3,
                                       'written_train': 28, 'written_eval': 26}
  assert {'Split-train', 'Split-eval', 'quarantine', 'ingest_counts.json'} <= set(
      os.listdir(examples.uri))
  # The standalone job's output imports through ImportExampleGen with the same counts.
  _ingest(dirty_root, tmp_path / 'job', max_quarantined_fraction=0.1)
  import_gen = example_gen.import_example_gen(str(tmp_path / 'job'), classes_of='cure_tsr')
  assert isinstance(import_gen, tfx.components.ImportExampleGen)
  imported = _run_pipeline(tmp_path, import_gen, 'import')
  assert _int_properties(imported) == {'found': 54, 'written': 54, 'quarantined': 0,
                                       'written_train': 28, 'written_eval': 26}


def test_pipeline_component_fails_over_the_quarantine_limit(dirty_root, tmp_path):
  image_gen = example_gen.image_example_gen('cure_tsr', dirty_root,
                                            max_quarantined_fraction=0.01)
  with pytest.raises(Exception, match='3 of 57 items'):
    _run_pipeline(tmp_path, image_gen, 'strict')


def test_pipeline_component_names_a_label_file_that_is_not_utf8(tmp_path):
  """Ingestion ends and cleans up (no beam-temp folder is left behind) before the component
  fails, naming the file and the line."""
  data = tmp_path / 'imagenet'
  imagenet_fixture.write_fixture(str(data), val_labels='synsets', wnids=('n01440764',),
                                 train_per_class=1, val_per_class=3, image_size=(8, 8))
  labels = data / imagenet.SYNSET_LABELS
  labels.write_bytes(labels.read_bytes().replace(b'\n', b' \xe9t\xe9\n', 2))
  image_gen = example_gen.image_example_gen('imagenet', str(data))
  with pytest.raises(Exception, match=re.escape(f'{labels}:1: not UTF-8 text (byte 0xe9 at '
                                                'column 11)')):
    _run_pipeline(tmp_path, image_gen, 'latin1')
  assert not [folder for folder, _, _ in os.walk(tmp_path) if 'beam-temp' in folder]


def test_the_cli_runs_as_a_module_without_tfx():
  """`python -m components.example_gen` and the readers it imports need no TFX: the package
  loads it only for the component builders (about 4 s, else paid by every Beam worker)."""
  script = ('import runpy, sys\n'
            'sys.argv = ["-m", "--help"]\n'
            'try:\n'
            '  runpy.run_module("components.example_gen", run_name="__main__", alter_sys=True)\n'
            'except SystemExit as done:\n'
            '  assert done.code == 0, done.code\n'
            'assert not [m for m in sys.modules if m.split(".")[0] == "tfx"]\n')
  run = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                       check=False, env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '3'})
  assert run.returncode == 0, run.stderr[-2000:]
  assert run.stdout.startswith('usage: python -m components.example_gen [-h] --dataset')
