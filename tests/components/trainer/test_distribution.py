"""Strategy choice, batch and learning-rate scaling, the chief rule, and real distributed runs:
MirroredStrategy over two logical CPUs and MultiWorkerMirroredStrategy over two processes."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

import ran_model
from components.trainer import distribution
import training_data

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(os.path.dirname(HERE))
ROOT = os.path.dirname(TESTS)
ENV = dict(os.environ, TF_USE_LEGACY_KERAS='1', TF_CPP_MIN_LOG_LEVEL='3',
           PYTHONWARNINGS='ignore', CUDA_VISIBLE_DEVICES='', PYTHONPATH=os.pathsep.join(
               filter(None, [ROOT, HERE, TESTS, os.environ.get('PYTHONPATH')])))
SIZE = 32
CLASSES = 4
LEARNING_RATE = 0.1
REPLICAS = 2
GLOBAL_BATCH = 16
STEPS = 8
RAN_STEPS = 2  # see test_mirrored_batchnorm_normalises_each_replicas_share


def _tf_config(cluster, task_type, index):
  return {'cluster': cluster, 'task': {'type': task_type, 'index': index}}


TWO_WORKERS = {'worker': ['a:1', 'b:1']}
CHIEF_AND_WORKER = {'chief': ['a:1'], 'worker': ['b:1']}


@pytest.mark.parametrize('tf_config, gpus, tpu, expected', [
    (None, 0, None, 'one_device'),
    (None, 1, None, 'one_device'),
    (None, 2, None, 'mirrored'),
    (_tf_config({'chief': ['a:1']}, 'chief', 0), 2, None, 'mirrored'),  # Vertex, one replica
    (_tf_config({'chief': ['a:1'], 'evaluator': ['e:1']}, 'chief', 0), 0, None, 'one_device'),
    (_tf_config(TWO_WORKERS, 'worker', 1), 0, None, 'multi_worker'),
    (_tf_config(CHIEF_AND_WORKER, 'chief', 0), 4, None, 'multi_worker'),
    (_tf_config(CHIEF_AND_WORKER, 'chief', 0), 0, 'my-tpu', 'tpu'),
    (None, 0, 'grpc://10.0.0.2:8470', 'tpu'),
])
def test_auto_picks_tpu_then_multi_worker_then_mirrored_then_one_device(tf_config, gpus, tpu,
                                                                         expected):
  assert distribution.choose_strategy('auto', tf_config=tf_config, gpus=gpus,
                                      tpu=tpu) == expected


@pytest.mark.parametrize('name', ['one_device', 'mirrored', 'multi_worker', 'tpu'])
def test_an_explicit_strategy_is_kept(name):
  assert distribution.choose_strategy(name, tf_config=None, gpus=8, tpu='my-tpu') == name


@pytest.mark.parametrize('name', ['Mirrored', 'parameter_server', ''])
def test_unknown_strategy_names_fail_with_the_value(name):
  with pytest.raises(ValueError, match=f'Received strategy={name!r}'):
    distribution.make_strategy(name)


@pytest.mark.skipif(bool(tf.config.list_physical_devices('GPU')), reason='CPU-only case')
def test_auto_builds_one_cpu_device_without_gpus(monkeypatch):
  monkeypatch.delenv('TF_CONFIG', raising=False)
  monkeypatch.delenv('TPU_NAME', raising=False)
  strategy = distribution.make_strategy('auto')
  assert strategy is tf.distribute.get_strategy()  # the default strategy: one replica
  assert strategy.num_replicas_in_sync == 1
  assert distribution.global_batch_size(64, strategy) == 64


def test_tpu_resolver_targets_the_given_address_without_a_network_call():
  """As far as a TPU can be tested without one: no TPU strategy is built here."""
  resolver = distribution.tpu_cluster_resolver('grpc://10.0.0.2:8470')
  assert resolver.master() == 'grpc://10.0.0.2:8470'
  assert resolver.cluster_spec().as_dict() == {'worker': ['10.0.0.2:8470']}
  assert distribution.tpu_cluster_resolver('local').master() == ''


def test_auto_connects_to_the_tpu_named_by_the_argument_else_tpu_name(monkeypatch):
  monkeypatch.setattr(distribution, '_tpu_strategy', lambda tpu: ('tpu strategy', tpu))
  monkeypatch.setenv('TPU_NAME', 'grpc://10.0.0.2:8470')
  assert distribution.make_strategy('auto') == ('tpu strategy', 'grpc://10.0.0.2:8470')
  assert distribution.make_strategy('auto', tpu_address='local') == ('tpu strategy', 'local')


@pytest.mark.parametrize('base_lr, global_batch, reference_batch, expected', [
    (0.1, 64, 64, 0.1),     # the paper's CIFAR recipe as published
    (0.1, 512, 64, 0.8),    # 8 GPUs x 64
    (0.1, 256, 256, 0.1),   # ImageNet convention
    (0.1, 1024, 256, 0.4),  # 32 TPU cores x 32
    (0.1, 32, 64, 0.05),
])
def test_learning_rate_scales_linearly_with_the_global_batch(base_lr, global_batch,
                                                              reference_batch, expected):
  assert distribution.scaled_learning_rate(base_lr, global_batch, reference_batch) == (
      pytest.approx(expected))


@pytest.mark.parametrize('tf_config, chief', [
    ({}, True),
    (_tf_config(TWO_WORKERS, 'worker', 0), True),
    (_tf_config(TWO_WORKERS, 'worker', 1), False),
    (_tf_config(CHIEF_AND_WORKER, 'chief', 0), True),
    (_tf_config(CHIEF_AND_WORKER, 'worker', 0), False),
    (_tf_config(dict(CHIEF_AND_WORKER, evaluator=['e:1']), 'evaluator', 0), False),
])
def test_chief_is_the_chief_task_else_worker_0(tf_config, chief):
  assert distribution.is_chief(tf_config) is chief


def test_a_single_client_strategy_is_chief_and_writes_the_real_directory(tmp_path):
  strategy = tf.distribute.OneDeviceStrategy('/cpu:0')
  assert distribution.is_chief(strategy)
  final_dir = tmp_path / 'export'
  assert distribution.write_dir(str(final_dir), strategy) == str(final_dir)
  final_dir.mkdir()
  (final_dir / 'saved_model.pb').write_bytes(b'model')
  distribution.clean_up(str(final_dir), str(final_dir))
  assert (final_dir / 'saved_model.pb').read_bytes() == b'model'


def _last_json_line(returncode, stdout, stderr):
  assert returncode == 0, stderr[-3000:]
  return json.loads(stdout.strip().splitlines()[-1])


def _plain_cnn():
  return keras.Sequential([
      keras.Input((SIZE, SIZE, 3)),
      keras.layers.Conv2D(8, 3, activation='relu'),
      keras.layers.Conv2D(8, 3, strides=2, activation='relu'),
      keras.layers.GlobalAveragePooling2D(),
      keras.layers.Dense(CLASSES, activation='softmax'),
  ])


def _tiny_ran():
  return ran_model.build_model('attention_56_cifar', input_shape=(SIZE, SIZE, 3),
                               classes=CLASSES, width_multiplier=0.125)


def _batches(steps):
  """`steps` (images [16, 32, 32, 3], labels [16]) pairs: noise plus a colour per class."""
  rng = np.random.default_rng(0)
  colours = rng.normal(size=(CLASSES, 3))
  labels = rng.integers(0, CLASSES, size=(steps, GLOBAL_BATCH))
  return [((rng.normal(size=(GLOBAL_BATCH, SIZE, SIZE, 3)) + colours[y][:, None, None]
           ).astype('float32'), y) for y in labels]


def _keras_losses(build, initial_weights, strategy, batches):
  """Per-step training losses of `train_on_batch` under `strategy`."""
  with strategy.scope():
    model = build()
    model.set_weights(initial_weights)
    model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE),
                  loss=keras.losses.SparseCategoricalCrossentropy())
  return [float(model.train_on_batch(images, labels)) for images, labels in batches]


def _ghost_batch_losses(build, initial_weights, batches):
  """One device, but BatchNorm statistics taken over each replica's share of the batch, as
  under MirroredStrategy without synchronised BatchNorm: loss = mean over the shares."""
  model = build()
  model.set_weights(initial_weights)
  optimizer = keras.optimizers.SGD(LEARNING_RATE)
  loss_fn = keras.losses.SparseCategoricalCrossentropy()
  losses = []
  for images, labels in batches:
    with tf.GradientTape() as tape:
      loss = tf.reduce_mean([loss_fn(y, model(x, training=True)) for x, y in zip(
          np.split(images, REPLICAS), np.split(labels, REPLICAS))])
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                  model.trainable_variables))
    losses.append(float(loss))
  return losses


def print_loss_trajectories():
  """Run in a fresh process: splits the CPU into two logical devices, then prints the loss
  trajectories of the same data and initial weights on one device and mirrored on both."""
  cpu = tf.config.list_physical_devices('CPU')[0]
  tf.config.set_logical_device_configuration(
      cpu, [tf.config.LogicalDeviceConfiguration()] * REPLICAS)
  one_device = tf.distribute.OneDeviceStrategy('/cpu:0')
  mirrored = tf.distribute.MirroredStrategy([f'/cpu:{i}' for i in range(REPLICAS)])
  keras.utils.set_random_seed(0)
  cnn, ran = _plain_cnn().get_weights(), _tiny_ran().get_weights()
  print(json.dumps({
      'replicas': mirrored.num_replicas_in_sync,
      'cnn_one_device': _keras_losses(_plain_cnn, cnn, one_device, _batches(STEPS)),
      'cnn_mirrored': _keras_losses(_plain_cnn, cnn, mirrored, _batches(STEPS)),
      'ran_one_device': _keras_losses(_tiny_ran, ran, one_device, _batches(RAN_STEPS)),
      'ran_mirrored': _keras_losses(_tiny_ran, ran, mirrored, _batches(RAN_STEPS)),
      'ran_ghost_batch': _ghost_batch_losses(_tiny_ran, ran, _batches(RAN_STEPS)),
  }))


@pytest.fixture(name='trajectories', scope='module')
def fixture_trajectories():
  script = 'import test_distribution; test_distribution.print_loss_trajectories()'
  result = subprocess.run([sys.executable, '-c', script], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=300, check=False)
  return _last_json_line(result.returncode, result.stdout, result.stderr)


def test_mirrored_over_two_devices_follows_the_one_device_trajectory(trajectories):
  """No BatchNorm: the same global batch gives the same gradients, split or not."""
  assert trajectories['replicas'] == REPLICAS
  one_device, mirrored = trajectories['cnn_one_device'], trajectories['cnn_mirrored']
  assert one_device[-1] < 0.9 * one_device[0]  # it learns
  np.testing.assert_allclose(mirrored, one_device, rtol=1e-5)


def test_mirrored_batchnorm_normalises_each_replicas_share(trajectories):
  """ran_model's BatchNorm is not synchronised: mirrored equals one device normalising each
  half batch on its own, and differs from normalising the whole batch. Only RAN_STEPS losses
  are compared, those whose gradients are taken at identical weights: the tiny RAN's
  gradient jumps with rounding-sized weight changes (max-pool and ReLU switch branches; a
  1e-6 relative change of the initial weights moves the second loss by 0.4%), so rounding
  that differs between the two computations decides the later steps."""
  np.testing.assert_allclose(trajectories['ran_mirrored'], trajectories['ran_ghost_batch'],
                             rtol=1e-5)
  assert abs(trajectories['ran_mirrored'][0] - trajectories['ran_one_device'][0]) > 1e-3


def test_two_workers_train_in_step_and_only_the_chief_exports(tmp_path):
  export_dir = tmp_path / 'export'
  workers = [subprocess.Popen(
      [sys.executable, os.path.join(HERE, 'multi_worker_train.py'), str(export_dir)], cwd=ROOT,
      env=dict(ENV, TF_CONFIG=tf_config), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
      text=True) for tf_config in training_data.worker_tf_configs(2)]
  try:
    outputs = [worker.communicate(timeout=120) for worker in workers]
  finally:
    for worker in workers:
      worker.kill()  # a worker left waiting for a crashed peer; no-op once exited
  reports = [_last_json_line(worker.returncode, *output)
             for worker, output in zip(workers, outputs)]
  chief, other = reports
  assert [r['strategy'] for r in reports] == ['CollectiveAllReduceStrategy'] * 2
  assert [(r['replicas'], r['global_batch']) for r in reports] == [(2, 8)] * 2
  assert (chief['chief'], other['chief']) == (True, False)
  assert chief['written'] == str(export_dir)
  assert other['written'] != str(export_dir) and not os.path.exists(other['written'])
  assert os.listdir(tmp_path) == ['export']
  assert (export_dir / 'saved_model.pb').exists()
  assert chief['weights_sha256'] == other['weights_sha256']
  exported = tf.saved_model.load(str(export_dir))
  assert sum(float(tf.reduce_sum(tf.cast(v, tf.float64))) for v in exported.model_variables) == (
      pytest.approx(chief['weights_sum'], rel=1e-6))
