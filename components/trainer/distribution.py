"""Which `tf.distribute` strategy trains, and what that changes: global batch, learning rate,
and who writes files.

Strategies: 'one_device' (TF's default strategy: the first GPU, else the CPU), 'mirrored'
(every local GPU), 'multi_worker' (MultiWorkerMirroredStrategy over the TF_CONFIG cluster),
'tpu', and 'auto', which picks one from what is known without a network call
(`choose_strategy`).

Multi-worker writing follows the Keras multi-worker guide: every worker must take part in a
save (saving reads distributed variables, which runs collective ops), so each saves, but
only the chief into the real directory; the others save into a temporary directory that they
delete afterwards (`write_dir`, then `clean_up`).
"""
import json
import os
import tempfile
from typing import Mapping, Optional, Union

import tensorflow as tf

STRATEGIES = ('auto', 'one_device', 'mirrored', 'multi_worker', 'tpu')


def _training_tasks(tf_config: Optional[Mapping]) -> int:
  """Tasks that train (chief and workers) in a TF_CONFIG's cluster; evaluators do not."""
  cluster = (tf_config or {}).get('cluster', {})
  return len(cluster.get('chief', ())) + len(cluster.get('worker', ()))


def choose_strategy(name: str, *, tf_config: Optional[Mapping], gpus: int,
                    tpu: Optional[str]) -> str:
  """The strategy `make_strategy` builds for `name`: `name` itself, or for 'auto': 'tpu' if
  `tpu` (a TPU name or address) is set, else 'multi_worker' if `tf_config` (the parsed
  TF_CONFIG) has more than one training task, else 'mirrored' for more than one GPU, else
  'one_device'. A one-task TF_CONFIG (Vertex AI sets one for single-replica jobs) is not
  multi-worker."""
  if name not in STRATEGIES:
    raise ValueError(f'strategy must be one of {STRATEGIES}. Received strategy={name!r}')
  if name != 'auto':
    return name
  if tpu:
    return 'tpu'
  if _training_tasks(tf_config) > 1:
    return 'multi_worker'
  return 'mirrored' if gpus > 1 else 'one_device'


def tpu_cluster_resolver(tpu: Optional[str]) -> tf.distribute.cluster_resolver.TPUClusterResolver:
  """Resolver for `tpu`: a Cloud TPU name (looked up through the Cloud TPU API), a
  'grpc://host:port' address, 'local' (a TPU VM's own chips), or None (the resolver's own
  discovery: TPU_NAME, GKE's endpoints variable, the VM's metadata)."""
  return tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)


def _tpu_strategy(tpu: Optional[str]) -> tf.distribute.TPUStrategy:
  resolver = tpu_cluster_resolver(tpu)
  tf.config.experimental_connect_to_cluster(resolver)
  tf.tpu.experimental.initialize_tpu_system(resolver)
  return tf.distribute.TPUStrategy(resolver)


def make_strategy(name: str, *, tpu_address: Optional[str] = None) -> tf.distribute.Strategy:
  """Builds the strategy `choose_strategy` picks for `name` on this machine. `tpu_address`
  defaults to the TPU_NAME environment variable; TF_CONFIG is read from the environment."""
  tpu = tpu_address or os.environ.get('TPU_NAME')
  gpus = tf.config.list_physical_devices('GPU')
  chosen = choose_strategy(name, tf_config=json.loads(os.environ.get('TF_CONFIG') or '{}'),
                           gpus=len(gpus), tpu=tpu)
  if chosen == 'tpu':
    return _tpu_strategy(tpu)
  if chosen == 'multi_worker':
    return tf.distribute.MultiWorkerMirroredStrategy()
  if chosen == 'mirrored':
    return tf.distribute.MirroredStrategy()
  # TF's default strategy: one replica on the first GPU, else the CPU. (OneDeviceStrategy
  # would do the same, but Keras' BackupAndRestore refuses it.)
  return tf.distribute.get_strategy()


def global_batch_size(per_replica: int, strategy: tf.distribute.Strategy) -> int:
  """Examples per training step over all replicas."""
  return per_replica * strategy.num_replicas_in_sync


def scaled_learning_rate(base_lr: float, global_batch: int, reference_batch: int) -> float:
  """Linear scaling rule (Goyal et al. 2017): `base_lr` is right for `reference_batch`
  examples per step, and the rate grows with the batch. The paper's recipes: CIFAR 0.1 at
  batch 64; ImageNet 0.1 with the batch unstated, taken as 256 (the ResNet convention)."""
  return base_lr * global_batch / reference_batch


def _is_chief_task(cluster: Mapping, task_type: Optional[str], task_id: Optional[int]) -> bool:
  if task_type is None or task_type == 'chief':
    return True
  return task_type == 'worker' and task_id == 0 and not cluster.get('chief')


def is_chief(source: Union[tf.distribute.Strategy, Mapping]) -> bool:
  """Whether this process writes the real files: `source` is a strategy or a parsed
  TF_CONFIG. The chief is the 'chief' task, or worker 0 when the cluster has no chief; a
  process with no task, and every single-client strategy (one device, mirrored, TPU), is."""
  if isinstance(source, tf.distribute.Strategy):
    if not isinstance(source, tf.distribute.MultiWorkerMirroredStrategy):
      return True
    resolver = source.cluster_resolver
    return _is_chief_task(resolver.cluster_spec().as_dict(), resolver.task_type,
                          resolver.task_id)
  task = source.get('task', {})
  return _is_chief_task(source.get('cluster', {}), task.get('type'), task.get('index'))


def write_dir(final_dir: str, strategy: tf.distribute.Strategy) -> str:
  """Where this process writes what belongs in `final_dir`: `final_dir` on the chief, a new
  local temporary directory on other workers. Pass the result to `clean_up` afterwards."""
  if is_chief(strategy):
    return final_dir
  return tempfile.mkdtemp(prefix=f'worker{strategy.cluster_resolver.task_id}_')


def clean_up(written_dir: str, final_dir: str) -> None:
  """Deletes a non-chief's temporary `written_dir`; the chief's `final_dir` stays."""
  if written_dir != final_dir:
    tf.io.gfile.rmtree(written_dir)
