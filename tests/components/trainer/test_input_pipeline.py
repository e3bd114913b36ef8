"""The tf.data pipeline: each recipe's augmentation, evaluation views, determinism, and the
shares of input pipelines (workers): disjoint, complete, no example twice in an epoch."""
import json
import logging
import os
import re

import numpy as np
import pytest
import tensorflow as tf

from components import image_codec_graph
from components import preprocessing
from components.trainer import input_pipeline
import example_data
import training_data

SIZE = 16
MEAN, STD = np.array([0.5, 0.4, 0.3]), np.array([0.2, 0.25, 0.3])
IMAGENET_CROP = preprocessing.RECIPES['imagenet'].random_resized_crop
_SHARES_WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              'input_shares_worker.py')


def _noise(rng, height, width) -> np.ndarray:
  return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.fixture(name='shards', scope='module')
def fixture_shards(tmp_path_factory):
  """Four shards: labels 10k..10k+3 in shard k; PNG and JPEG, non-square, of several sizes."""
  rng = np.random.default_rng(0)
  root = tmp_path_factory.mktemp('shards')
  return [example_data.write_examples(
      root / f'train-{k}.tfrecord.gz', [_noise(rng, 30 + 4 * i, 40 - 2 * i) for i in range(4)],
      [10 * k + i for i in range(4)], image_format=('png', 'jpeg')[k % 2]) for k in range(4)]


def _dataset(files, **kwargs):
  args = dict(image_size=SIZE, batch_size=4, mean=MEAN, std=STD, training=True,
              deterministic=True)
  return input_pipeline.make_dataset(files, **dict(args, **kwargs))


def _batches(dataset, count):
  return [(p.numpy(), l.numpy()) for p, l in dataset.take(count)]


@pytest.mark.parametrize('recipe', preprocessing.RECIPES)
@pytest.mark.parametrize('training', [True, False])
def test_batches_are_normalised_pixels_and_labels(shards, recipe, training):
  (pixels, labels), = _batches(_dataset(shards, recipe=recipe, training=training), 1)
  assert pixels.shape == (4, SIZE, SIZE, 3) and pixels.dtype == np.float32
  assert labels.shape == (4,) and labels.dtype == np.int64
  unit = pixels * STD + MEAN
  assert unit.min() >= -1e-5 and unit.max() <= 1 + 1e-5


def _placements(outputs, image):
  """(dy, dx, flipped) of each output: image normalised, zero-padded by 4, shifted, maybe
  mirrored; AssertionError when no shift within 4 px, mirrored or not, reproduces it."""
  pad = preprocessing.PAD_PX
  padded = np.pad((image / 255.0 - MEAN) / STD, [(pad, pad), (pad, pad), (0, 0)])
  candidates = {}
  for top in range(2 * pad + 1):
    for left in range(2 * pad + 1):
      crop = padded[top:top + SIZE, left:left + SIZE]
      candidates[top - pad, left - pad, False] = crop
      candidates[top - pad, left - pad, True] = crop[:, ::-1]
  found = []
  for output in outputs:
    matches = [key for key, crop in candidates.items() if np.allclose(output, crop, atol=1e-5)]
    assert len(matches) == 1, matches
    found.append(matches[0])
  return found


@pytest.mark.parametrize('recipe, flips', [('cifar', {False, True}), ('signs', {False})])
def test_cifar_flips_signs_never_and_both_shift_within_4_px(tmp_path, recipe, flips):
  image = _noise(np.random.default_rng(1), SIZE, SIZE)  # asymmetric: a mirror is detectable
  shard = example_data.write_examples(tmp_path / 'one.tfrecord.gz', [image] * 8, range(8))
  (pixels, _), = _batches(_dataset([shard], recipe=recipe, batch_size=32), 1)
  placements = _placements(pixels, image)
  assert {flipped for _, _, flipped in placements} == flips
  assert len({(dy, dx) for dy, dx, _ in placements}) > 10


@pytest.mark.parametrize('recipe', preprocessing.RECIPES)
def test_evaluation_normalises_eval_image_with_mean_and_std(tmp_path, recipe):
  images = [example_data.gradient_image(SIZE, SIZE),
            _noise(np.random.default_rng(2), SIZE, SIZE)]
  shard = example_data.write_examples(tmp_path / 'eval.tfrecord.gz', images, [0, 1])
  (pixels, _), = _batches(_dataset([shard], recipe=recipe, training=False, batch_size=2), 1)
  expected = [(preprocessing.eval_image(tf.constant(example_data.encode(image)), SIZE, recipe)
               - MEAN) / STD for image in images]
  np.testing.assert_allclose(pixels, expected, atol=1e-5)
  if recipe != 'imagenet':  # SIZE x SIZE images: the resize is the identity
    np.testing.assert_allclose(pixels, (np.stack(images) / 255.0 - MEAN) / STD, atol=1e-5)


def test_imagenet_crop_windows_vary_and_stay_inside_the_image():
  height, width = 375, 500
  windows = set()
  for seed in range(200):
    begin, size = (t.numpy() for t in input_pipeline.random_crop_window(
        tf.constant([height, width, 3]), IMAGENET_CROP, tf.constant([seed, 7])))
    assert begin.min() >= 0 and size[0] > 0 and size[1] > 0
    assert begin[0] + size[0] <= height and begin[1] + size[1] <= width
    area = size[0] * size[1] / (height * width)
    assert 0.08 * 0.95 <= area <= 1.0
    assert 0.75 * 0.95 <= size[1] / size[0] <= 4 / 3 * 1.05
    windows.add((*begin[:2], *size[:2]))
  assert len(windows) > 150


@pytest.mark.parametrize('image_format, tolerance', [('png', 1e-6), ('jpeg', 4 / 255)])
def test_random_resized_crop_resizes_the_window_of_the_decoded_image(image_format, tolerance):
  """JPEGs decode only the window, which may differ from the full decode by a few levels."""
  encoded = tf.constant(example_data.encode(_noise(np.random.default_rng(3), 60, 80),
                                            image_format))
  seed = tf.constant([4, 5])
  decoded = image_codec_graph.decode_rgb(encoded)
  window = tf.slice(decoded, *input_pipeline.random_crop_window(tf.shape(decoded),
                                                                IMAGENET_CROP, seed))
  assert window.shape[0] * window.shape[1] < 60 * 80  # a real crop, not the fallback
  np.testing.assert_allclose(
      input_pipeline.random_resized_crop(encoded, SIZE, IMAGENET_CROP, seed).numpy(),
      preprocessing.resize_to_unit_range(window, [SIZE, SIZE]).numpy(), atol=tolerance)


@pytest.mark.parametrize('recipe', preprocessing.RECIPES)
def test_same_seed_gives_the_same_batches_another_seed_others(shards, recipe):
  first, again, other = (_batches(_dataset(shards, recipe=recipe, seed=seed), 3)
                         for seed in (1, 1, 2))
  for (pixels, labels), (pixels_again, labels_again) in zip(first, again):
    np.testing.assert_array_equal(pixels, pixels_again)
    np.testing.assert_array_equal(labels, labels_again)
  assert not np.allclose(np.stack([p for p, _ in first]), np.stack([p for p, _ in other]))


def test_each_input_pipeline_reads_its_own_files_at_the_per_replica_batch(shards):
  labels = []
  for pipeline_id in (0, 1):
    context = tf.distribute.InputContext(
        num_input_pipelines=2, input_pipeline_id=pipeline_id, num_replicas_in_sync=4)
    batches = _batches(_dataset(shards, training=False, batch_size=8, input_context=context), -1)
    assert [len(l) for _, l in batches] == [2] * 4
    labels.append({int(x) for _, l in batches for x in l})
    (train_pixels, train_labels), = _batches(
        _dataset(shards, batch_size=8, input_context=context), 1)
    assert train_pixels.shape[0] == 2 and set(train_labels) <= labels[-1]
  assert not labels[0] & labels[1]
  assert labels[0] | labels[1] == {10 * k + i for k in range(4) for i in range(4)}


def test_evaluation_is_one_pass_in_file_and_record_order(shards):
  dataset = _dataset(shards[::-1], training=False, batch_size=3)
  for _ in range(2):
    labels = np.concatenate([l for _, l in _batches(dataset, -1)])
    np.testing.assert_array_equal(labels, [10 * k + i for k in range(4) for i in range(4)])


def test_bad_arguments_fail_with_their_values(shards):
  with pytest.raises(ValueError, match="'mnist'"):
    _dataset(shards, recipe='mnist')


@pytest.fixture(name='one_shard', scope='module')
def fixture_one_shard(tmp_path_factory, shards):
  """The examples of `shards`, all in one file."""
  records = [record for shard in shards
             for record in tf.data.TFRecordDataset(shard, compression_type='GZIP')]
  path = tmp_path_factory.mktemp('one_shard') / 'train.tfrecord.gz'
  with tf.io.TFRecordWriter(str(path), options='GZIP') as writer:
    for record in records:
      writer.write(record.numpy())
  return str(path)


def _epochs(files, pipeline_id: int, epoch_size: int, epochs: int = 2):
  """The labels input pipeline `pipeline_id` of 2 trains on (shuffled, not deterministic, as
  the Trainer reads by default), epoch by epoch: lists of `epoch_size`."""
  context = tf.distribute.InputContext(
      num_input_pipelines=2, input_pipeline_id=pipeline_id, num_replicas_in_sync=2)
  dataset = _dataset(files, batch_size=4, deterministic=False, input_context=context)
  labels = [int(label) for label in dataset.map(lambda _, l: l).unbatch().take(
      epochs * epoch_size)]
  return [labels[e * epoch_size:(e + 1) * epoch_size] for e in range(epochs)]


@pytest.mark.parametrize('files, epoch_sizes', [
    ('4 files', (8, 8)),   # files 0, 2 and 1, 3
    ('3 files', (8, 4)),   # files 0, 2 and 1
    ('1 file', (8, 8)),    # records 0, 2, 4, ... and 1, 3, 5, ... of the file
])
def test_two_pipelines_read_disjoint_shares_and_no_example_twice_in_an_epoch(
    shards, one_shard, files, epoch_sizes, caplog):
  files = {'4 files': shards, '3 files': shards[:3], '1 file': [one_shard]}[files]
  expected = {int(label) for _, labels in _batches(_dataset(files, training=False), -1)
              for label in labels}
  with caplog.at_level(logging.WARNING):
    shares = [_epochs(files, pipeline_id, size) for pipeline_id, size in enumerate(epoch_sizes)]
  for first, second in shares:
    assert len(set(first)) == len(first) and set(second) == set(first)
  first_epochs = [set(first) for first, _ in shares]
  assert not first_epochs[0] & first_epochs[1]
  assert first_epochs[0] | first_epochs[1] == expected
  warnings = [r.getMessage() for r in caplog.records if 'input pipelines' in r.getMessage()]
  if len(files) >= 2:
    assert not warnings
  else:
    assert warnings == ['1 input files for 2 input pipelines: each pipeline reads every file '
                        'and keeps one record in 2. Write at least 2 files so that each '
                        'pipeline reads only its own.'] * 2


def test_two_workers_of_the_trainer_read_disjoint_shares(tmp_path, shards, one_shard):
  """The Trainer's training dataset under a real two-worker MultiWorkerMirroredStrategy
  (input_shares_worker.py): 16 examples, 4 per replica and step, so 2 steps are one epoch of
  a worker's 8; each worker takes two epochs."""
  cases = {'4 files': shards, '1 file': [one_shard]}
  request = tmp_path / 'cases.json'
  request.write_text(json.dumps({'classes': 40, 'steps': 4, 'cases': cases}))
  workers = [training_data.start_process(_SHARES_WORKER, request, TF_CONFIG=tf_config)
             for tf_config in training_data.worker_tf_configs(2)]
  try:
    outputs = [worker.communicate(timeout=300)[0] for worker in workers]
  finally:
    for worker in workers:
      worker.kill()  # a worker left waiting for a crashed peer; no-op once exited
  reports = []
  for worker, output in zip(workers, outputs):
    assert worker.returncode == 0, output[-3000:]
    reports.append(json.loads([l for l in output.splitlines() if l.startswith('{')][-1]))
    assert re.findall(r'(\d+) input files for 2 input pipelines', output) == ['1']
  for case in cases:
    epochs = [(labels[:8], labels[8:]) for labels in (report[case] for report in reports)]
    for first, second in epochs:
      assert len(set(first)) == 8 and set(second) == set(first)
    assert not set(epochs[0][0]) & set(epochs[1][0])
    assert set(epochs[0][0]) | set(epochs[1][0]) == {10 * k + i for k in range(4)
                                                      for i in range(4)}
