"""Profiles: named, documented sets of pipeline choices, one frozen dataclass each.

A field keeps its name from the profile through to the component or builder argument that
consumes it (e.g. `width_multiplier` -> `ran_model.build_model(width_multiplier=...)`).
Variants are made with `dataclasses.replace(DEV, train_steps=10)` or runner flags.
"""
import dataclasses
import json
import os
import posixpath
import re
from typing import Any, Dict, Optional, Tuple

from components import beam_runners

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEAM_RUNNERS = (*beam_runners.LOCAL_RUNNER_ARGS, 'DataflowRunner')
_DATAFLOW_FIELDS = ('dataflow_project', 'dataflow_region', 'dataflow_temp_location',
                    'dataflow_machine_type', 'dataflow_max_workers',
                    'dataflow_sdk_container_image')


class ConfigError(ValueError):
  """A profile or flag value that cannot work (e.g. a data root that does not exist)."""


def _field(default, help_text: str, *, aliases=()):
  """A field with its flag's help text and any shorter flag names (e.g. '--project')."""
  return dataclasses.field(default=default, metadata={'help': help_text, 'aliases': aliases})


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
  """Everything one pipeline run needs; runner flags override fields by name."""
  pipeline_name: str = _field('ran-dev', 'Pipeline name in ML Metadata.')
  registered_model_name: Optional[str] = _field(
      None, 'The registry entry blessed models become versions of (letters, digits, ".", "_", '
      '"-"). Default: the pipeline name. Not the network: that is --model_name.')
  dataset: str = _field(
      'cure_tsr', 'Dataset: its layout reader (components/example_gen/formats/) and its '
      'schema (data_schemas/<dataset>.pbtxt).')
  data_root: Optional[str] = _field(
      None, 'Dataset root in its published layout. Default: <output_dir>/data/<dataset>, '
      'where the embedded synthetic sample is rendered on first use.')
  ingest_options: str = _field(
      '{}', 'The layout reader\'s options as a JSON object, e.g. \'{"crop_to_roi": true}\' for '
      'gtsrb (python -m components.example_gen --help lists them per dataset).')
  span: Optional[int] = _field(
      None, 'Ingest and evaluate span N (the data root\'s span-<N>/ folder) instead of the newest '
      '(a backfill). Default: the newest span when the pipeline runs.')
  max_quarantined_fraction: float = _field(
      0.01, 'ExampleGen fails when more of the input than this is quarantined.')
  allow_lost_files: bool = _field(
      False, 'Go on when a whole input file cannot be read (a missing or corrupt CIFAR batch or '
      'TFRecord shard, a label file that is not UTF-8); ExampleGen\'s ingest_counts.json then '
      'lists the lost files and the records unaccounted for. Default: such a file fails the run.')
  examples_dir: Optional[str] = _field(
      None, 'Import TFRecords from here (ImportExampleGen) instead of reading --data_root: the '
      'standalone ingestion job\'s output, or TF/TPU-style shards (--import_format).')
  import_format: str = _field(
      'job', 'Layout of --examples_dir: job (<split>/*.tfrecord.gz) or tf_tpu '
      '(train-*, validation-*).')
  label_offset: int = _field(
      0, 'Added to imported labels: -1 for TF/TPU ImageNet shards (labels 1..1000).')
  output_dir: str = _field('outputs', 'Root of pipeline artifacts, ML Metadata and the registry.')
  pipeline_root: Optional[str] = _field(
      None, 'Root of every artifact the pipeline writes; Kubeflow and Vertex runs need a remote '
      'one (gs://...). Default: <output_dir>/pipeline/<pipeline_name>.')
  project_root: Optional[str] = _field(
      None, 'Where the running steps find this project\'s files (data_schemas/). Default: this '
      'checkout; Kubeflow and Vertex runs default to the container image\'s copy (/ran-tfx).')
  sample_train_per_class: int = _field(
      20, 'Embedded sample: base sign images per class and sequence type in the train split.')
  sample_test_per_class: int = _field(
      4, 'Embedded sample: base sign images per class and sequence type in the test split.')
  sample_span: int = _field(
      1, 'Embedded sample: render its deliveries span-1 .. span-N into the default data root '
      '(those absent); span 2 is a winter delivery, more snow, haze and darkening at higher '
      'levels.')
  train_spans: int = _field(
      3, 'The Trainer and Transform use the newest this many ingested spans.')
  drift_threshold: float = _field(
      0.1, 'Largest L-infinity distance between the newest span\'s and the previous span\'s '
      'value distribution of the label or a scenario feature (train splits) that does not '
      'block training.')
  drift_thresholds: Tuple[Tuple[str, float], ...] = _field(
      (), 'Per-feature drift thresholds overriding drift_threshold; as a flag, a JSON object: '
      '\'{"scenario/challenge": 0.3}\'.')
  accept_drift: Tuple[str, ...] = _field(
      (), 'Features whose drift a person accepts for this run (comma-separated, or all): '
      'shown, recorded in the model card, not blocking.')
  model_name: str = _field('attention_56_cifar', 'ran_model variant (ran_model.MODEL_NAMES).')
  width_multiplier: float = _field(1.0, 'Scales every width of the model (tests shrink it).')
  image_size: int = _field(32, 'Training and serving resolution, pixels (square).')
  strategy: str = _field(
      'auto', 'tf.distribute strategy: auto (TPU if configured, multi_worker if TF_CONFIG has '
      'several tasks, mirrored on several GPUs, else one device), one_device, mirrored, '
      'multi_worker or tpu.')
  batch_size: int = _field(64, 'Training batch per replica; the global batch is this x replicas.')
  train_steps: int = _field(300, 'Training steps (batches).')
  eval_steps: int = _field(
      0, 'Trainer-side validation steps per epoch; 0 skips it (TFMA evaluates the whole split).')
  learning_rate: float = _field(
      0.1, 'Peak learning rate of Nesterov SGD at a global batch of lr_reference_batch; it '
      'scales linearly with the global batch.')
  lr_reference_batch: int = _field(64, 'The global batch learning_rate is given for.')
  lr_schedule: str = _field(
      'cosine', 'cosine, or step (the paper\'s: drops 10x at lr_decay_fractions). On the dev '
      'sample 300 cosine steps train as well as 400 step-schedule steps (README).')
  warmup_steps: int = _field(50, 'Linear learning-rate warm-up, steps.')
  lr_decay_fractions: Tuple[float, ...] = _field(
      (0.4, 0.6), 'Fractions of train_steps where the rate drops 10x (paper: 64k, 96k of 160k).')
  weight_decay: float = _field(1e-4, 'Weight decay on conv and dense kernels.')
  label_smoothing: float = _field(0.0, 'Label smoothing of the cross-entropy.')
  class_weighting: str = _field(
      'none', 'none, or balanced: weigh each class by total / (classes x its count), from '
      'the class counts Transform computes.')
  recipe: str = _field(
      'signs', 'Augmentation: signs (pad 4 + random crop, no flip: a mirrored sign is another '
      'sign), cifar (the paper\'s: pad 4 + crop + flip), imagenet (random-resized crop, flip, '
      'colour jitter; eval: shorter side + centre crop).')
  deterministic_input: bool = _field(
      False, 'Seeded, reproducible input order and augmentation (slower).')
  mixed_precision: str = _field(
      'auto', 'Keras precision policy: float32, mixed_bfloat16, mixed_float16, or auto '
      '(bfloat16 on TPU, float16 with loss scaling on GPU, bfloat16 on CPUs with native bf16 '
      'instructions, else float32).')
  xla: bool = _field(False, 'Compile the training step with XLA (jit_compile).')
  checkpoint_every: int = _field(
      100, 'Steps between checkpoints in the model run directory; a restarted Trainer resumes '
      'from the last one.')
  bn_recalibration_batches: int = _field(
      30, 'After training, batches of training data run forward in training mode, the weights '
      'fixed, to set every BatchNorm\'s moving mean and variance to the mean of its batch '
      'statistics at the final weights (components/trainer/batch_norm.py); 0 skips it.')
  warm_start: bool = _field(
      True, 'Start training from the latest blessed model\'s weights when its network '
      '(model_name, width_multiplier, image_size) and its classes match this run\'s; '
      'otherwise, or with false, from a random initialisation.')
  warm_start_steps: Optional[int] = _field(
      40, 'Training steps of a warm-started run (unset in a profile: train_steps).')
  warm_start_lr_scale: float = _field(
      0.03, 'Peak learning rate of a warm-started run, as a fraction of a run from scratch\'s '
      '(learning_rate scaled to the batch); no warm-up, then the profile\'s schedule.')
  seed: int = _field(0, 'Seed for the sample, shuffling and initialisation.')
  slice_features: Tuple[str, ...] = _field(
      (), 'Feature keys TFMA slices by; empty: every scenario/* feature of the schema.')
  slice_crosses: Tuple[Tuple[str, ...], ...] = _field(
      (), 'Crossed slices, each a tuple of feature keys; as a flag, JSON: '
      '\'[["scenario/weather", "scenario/timeofday"]]\'.')
  class_slices: bool = _field(True, 'Slice by class (the label) too.')
  accuracy_floor: float = _field(0.5, 'Blessing needs overall accuracy at least this.')
  slice_floors: Tuple[Tuple[str, float], ...] = _field(
      (), 'Blessing needs accuracy at least the floor on every slice of the feature (one of '
      'slice_features, or image/class/label); as a flag, a JSON object: '
      '\'{"scenario/level": 0.8}\'.')
  regression_tolerance: float = _field(
      0.01, 'Blessing needs accuracy at most this below the baseline\'s overall, and on every '
      'slice of slice_features no larger drop that is significant (regression_significance).')
  regression_significance: float = _field(
      0.05, 'A slice\'s drop over regression_tolerance blocks blessing only when McNemar\'s exact '
      'test on the examples one model gets right and the other wrong gives p below this (the '
      'drop is not chance); 1.0: every drop over the tolerance blocks. The overall slice is '
      'always held to the tolerance alone.')
  min_slice_size: int = _field(
      30, 'Slices with fewer examples are reported but not gated (the overall slice always is).')
  edge_export: bool = _field(
      True, 'Convert each pushed model to TFLite float16 and int8 (uint8 pixels in), evaluate '
      'both on the eval split\'s slices and write them into its registry version\'s tflite/ '
      'folder (components/edge).')
  edge_max_drop: float = _field(
      0.01, 'The int8 TFLite model is written only when its accuracy is at most this below the '
      'float model\'s, overall and on every scenario slice of at least min_slice_size examples.')
  promote_to: Optional[str] = _field(
      None, 'Registry alias (e.g. staging) moved to each newly pushed version; none: aliases '
      'move only by `python -m components.registry promote`.')
  vertex_model_registry: bool = _field(
      False, 'Also upload each pushed version to the Vertex AI Model Registry (the registry '
      'under --output_dir must then be on gs://).')
  vertex_parent_model: Optional[str] = _field(
      None, 'Vertex model the uploads become versions of (resource name or ID); none: the '
      'first upload creates it.')
  vertex_serving_image: str = _field(
      'us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-16:latest',
      'Prediction container of the models uploaded to Vertex.')
  vertex_training: bool = _field(
      False, 'Run the Trainer as a Vertex AI custom job (pipeline/vertex_training.py).')
  vertex_project: Optional[str] = _field(None, 'Google Cloud project of Vertex jobs.',
                                         aliases=('--project',))
  vertex_region: Optional[str] = _field(None, 'Region of Vertex jobs, e.g. us-central1.',
                                        aliases=('--region',))
  vertex_machine_type: str = _field('a2-highgpu-8g', 'Machine of each training worker.')
  vertex_accelerator_type: str = _field(
      'NVIDIA_TESLA_A100', 'Accelerator per worker: a Vertex GPU type, TPU_V2 / TPU_V3 (a TPU '
      'machine), or empty for CPU only.')
  vertex_accelerator_count: int = _field(8, 'Accelerators (GPUs or TPU cores) per worker.')
  vertex_worker_count: int = _field(
      0, 'Workers besides the chief (multi-worker training); 0 trains on one machine.')
  vertex_scheduling_strategy: str = _field(
      'STANDARD', 'How Vertex provisions training machines: STANDARD (on demand), SPOT '
      '(preemptible and much cheaper: a preempted job restarts and the Trainer resumes from its '
      'last checkpoint) or FLEX_START (queues for scarce accelerators).')
  container_image: str = _field(
      'ran-tfx:latest', 'Container image with this project installed, run by every Vertex '
      'and Kubeflow step.')
  beam_runner: str = _field(
      'DirectRunner', 'Runner of the Beam-powered steps (ExampleGen, StatisticsGen, Transform, '
      'Evaluator): DirectRunner (inside the step\'s own process), PortableRunner '
      '(Beam\'s portability framework on this machine: transforms pickled and run by an SDK '
      'worker, as on Dataflow; components/beam_runners.py) or DataflowRunner.')
  dataflow_project: Optional[str] = _field(
      None, 'Google Cloud project of Dataflow jobs. Default: --vertex_project.')
  dataflow_region: Optional[str] = _field(
      None, 'Region of Dataflow jobs. Default: --vertex_region.')
  dataflow_temp_location: Optional[str] = _field(
      None, 'gs:// folder for Dataflow\'s temporary and staged files (needed by DataflowRunner).')
  dataflow_machine_type: Optional[str] = _field(
      None, 'Dataflow worker machine, e.g. n2-standard-8. Default: Dataflow\'s.')
  dataflow_max_workers: int = _field(
      0, 'Most workers Dataflow\'s autoscaling may start per job; 0: Dataflow\'s own limit.')
  dataflow_sdk_container_image: Optional[str] = _field(
      None, 'Dataflow worker container, with this project installed. Default: --container_image.')
  beam_pipeline_args: Tuple[str, ...] = _field(
      (), 'More Apache Beam options for every Beam-powered step, after those beam_runner and the '
      'dataflow_* fields give (a repeated option wins), e.g. --flexrs_goal=COST_OPTIMIZED.')

  def __post_init__(self):
    for name, least in _LEAST_VALUES.items():
      if getattr(self, name) < least:
        raise ConfigError(f'--{name} {getattr(self, name)}: must be at least {least}')
    if self.span is not None and self.span < 0:
      raise ConfigError(f'--span {self.span}: must be at least 0')
    if not 0.0 <= self.max_quarantined_fraction <= 1.0:
      raise ConfigError(f'--max_quarantined_fraction {self.max_quarantined_fraction}: must '
                        'lie in [0, 1]')
    if not 0.0 < self.regression_significance <= 1.0:
      raise ConfigError(f'--regression_significance {self.regression_significance}: must lie in '
                        '(0, 1]')
    if not 0.0 <= self.edge_max_drop <= 1.0:
      raise ConfigError(f'--edge_max_drop {self.edge_max_drop}: must lie in [0, 1]')
    if self.warm_start_steps is not None and self.warm_start_steps < 1:
      raise ConfigError(f'--warm_start_steps {self.warm_start_steps}: must be at least 1')
    if not 0.0 < self.warm_start_lr_scale <= 1.0:
      raise ConfigError(f'--warm_start_lr_scale {self.warm_start_lr_scale}: must lie in (0, 1]')
    if self.width_multiplier <= 0:
      raise ConfigError(f'--width_multiplier {self.width_multiplier}: must be above 0')
    for flag, example in (('slice_floors', '{"scenario/level": 0.8}'),
                          ('drift_thresholds', '{"scenario/challenge": 0.3}')):
      for entry in getattr(self, flag):
        if not (len(entry) == 2 and isinstance(entry[0], str) and
                isinstance(entry[1], (int, float)) and not isinstance(entry[1], bool)):
          raise ConfigError(f'--{flag}: {list(entry)} is not a feature and a number, as in '
                            f"'{example}'")
    for cross in self.slice_crosses:
      if len(cross) < 2 or not all(isinstance(key, str) for key in cross):
        raise ConfigError(f'--slice_crosses: {list(cross)} is not two or more feature keys, as '
                          'in \'[["scenario/weather", "scenario/timeofday"]]\'')

  @property
  def resolved_pipeline_root(self) -> str:
    return self.pipeline_root or os.path.join(self.output_dir, 'pipeline', self.pipeline_name)

  @property
  def resolved_registered_model_name(self) -> str:
    return self.registered_model_name or self.pipeline_name

  @property
  def metadata_path(self) -> str:
    return os.path.join(self.output_dir, 'metadata.sqlite')

  @property
  def registry_dir(self) -> str:
    return os.path.join(self.output_dir, 'registry')

  @property
  def resolved_data_root(self) -> str:
    return self.data_root or os.path.join(self.output_dir, 'data', self.dataset)

  @property
  def layout_options(self) -> Dict[str, Any]:
    """`ingest_options` parsed, with the pipeline's seed and allow_lost_files unless it names
    its own."""
    try:
      options = json.loads(self.ingest_options)
    except json.JSONDecodeError as error:
      raise ConfigError(f'--ingest_options {self.ingest_options!r} is not JSON ({error})') from None
    if not isinstance(options, dict):
      raise ConfigError(f'--ingest_options {self.ingest_options!r} is not a JSON object')
    return {'seed': self.seed, 'allow_lost_files': self.allow_lost_files, **options}

  @property
  def resolved_beam_pipeline_args(self) -> Tuple[str, ...]:
    """The Beam options of every Beam-powered step: those of `beam_runner` and the dataflow_*
    fields (translated here, and only here), then `beam_pipeline_args`."""
    if self.beam_runner not in BEAM_RUNNERS:
      raise ConfigError(f'--beam_runner {self.beam_runner!r}: choose from {list(BEAM_RUNNERS)}')
    if self.beam_runner == 'DataflowRunner':
      return _dataflow_args(self) + self.beam_pipeline_args
    given = [f'--{name}' for name in _DATAFLOW_FIELDS if getattr(self, name) != _DEFAULTS[name]]
    if given:
      raise ConfigError(f'{", ".join(given)} {"applies" if len(given) == 1 else "apply"} to '
                        f'--beam_runner DataflowRunner, not {self.beam_runner}')
    return beam_runners.LOCAL_RUNNER_ARGS[self.beam_runner] + self.beam_pipeline_args

  def project_path(self, path: str) -> str:
    """`path`, a file of this checkout, as the running steps see it: under `project_root` when
    that is set (e.g. the container image's copy of the project); other paths are unchanged."""
    if self.project_root is None or is_remote(path):
      return path
    relative = os.path.relpath(path, PROJECT_ROOT)
    if relative.startswith(os.pardir):
      return path
    return posixpath.join(self.project_root, *relative.split(os.sep))


_DEFAULTS = {field.name: field.default for field in dataclasses.fields(PipelineConfig)}
# The least value of each count (a smaller one is a user's mistake, caught at the start).
_LEAST_VALUES = {'train_steps': 1, 'batch_size': 1, 'eval_steps': 0, 'image_size': 1,
                 'lr_reference_batch': 1, 'warmup_steps': 0, 'checkpoint_every': 1,
                 'bn_recalibration_batches': 0,
                 'min_slice_size': 1, 'sample_train_per_class': 1, 'sample_test_per_class': 1,
                 'sample_span': 1, 'vertex_worker_count': 0, 'dataflow_max_workers': 0,
                 'train_spans': 1, 'drift_threshold': 0.0}


def is_remote(path: str) -> bool:
  """Whether `path` is a URL such as gs://bucket/folder, not a path on this machine."""
  return re.match(r'[a-z][a-z0-9+.-]*://', path) is not None


def names_registry(image: str) -> bool:
  """Whether a container image name starts with a registry host (europe-docker.pkg.dev/...),
  Docker's rule: a first path part with a dot or a port, or localhost."""
  host = image.split('/', 1)[0]
  return '/' in image and ('.' in host or ':' in host or host == 'localhost')


def _dataflow_args(config: PipelineConfig) -> Tuple[str, ...]:
  """DataflowRunner options from the dataflow_* fields; ConfigError naming what is missing."""
  project = config.dataflow_project or config.vertex_project
  region = config.dataflow_region or config.vertex_region
  image = config.dataflow_sdk_container_image or config.container_image
  problems = []
  if not project:
    problems.append('--dataflow_project (or --vertex_project)')
  if not region:
    problems.append('--dataflow_region (or --vertex_region)')
  if not config.dataflow_temp_location:
    problems.append('--dataflow_temp_location (a gs:// folder)')
  elif not is_remote(config.dataflow_temp_location):
    problems.append(f'--dataflow_temp_location as a gs:// folder, not '
                    f'{config.dataflow_temp_location}')
  if not names_registry(image):
    problems.append(f'--dataflow_sdk_container_image or --container_image in a registry Dataflow '
                    f'can pull from, e.g. europe-docker.pkg.dev/PROJECT/REPO/ran-tfx (got {image})')
  if problems:
    raise ConfigError(f'--beam_runner DataflowRunner needs {"; ".join(problems)}')
  args = ('--runner=DataflowRunner', f'--project={project}', f'--region={region}',
          f'--temp_location={config.dataflow_temp_location}', f'--sdk_container_image={image}',
          '--sdk_location=container', '--experiments=use_runner_v2')
  if config.dataflow_machine_type:
    args += (f'--machine_type={config.dataflow_machine_type}',)
  if config.dataflow_max_workers:
    args += (f'--max_num_workers={config.dataflow_max_workers}',)
  return args


# The paper's step schedules as fractions of the run (Wang et al. 2017, section 4).
CIFAR_DECAY_FRACTIONS = (64 / 160, 96 / 160)                # /10 at 64k, 96k of 160k
IMAGENET_DECAY_FRACTIONS = (200 / 530, 400 / 530, 500 / 530)  # at 200k, 400k, 500k of 530k

# The embedded CURE-TSR-layout sample, small and fast on a CPU laptop.
DEV = PipelineConfig()

# A real CURE-TSR download (--data_root), the paper's CIFAR depth-92 network.
CURE_TSR = dataclasses.replace(
    DEV, pipeline_name='ran-cure-tsr', model_name='attention_92_cifar', train_steps=20_000,
    lr_schedule='step', warmup_steps=500, checkpoint_every=1000, accuracy_floor=0.9,
    warm_start_steps=5000)

# GTSRB (--data_root), signs cropped to their ROI, sliced by ROI size.
GTSRB = dataclasses.replace(
    CURE_TSR, pipeline_name='ran-gtsrb', dataset='gtsrb', ingest_options='{"crop_to_roi": true}')

# The paper's CIFAR recipe: Attention-92, batch 64, lr 0.1 /10 at 64k and 96k of 160k.
CIFAR10 = dataclasses.replace(
    DEV, pipeline_name='ran-cifar10', dataset='cifar10', model_name='attention_92_cifar',
    recipe='cifar', batch_size=64, learning_rate=0.1, lr_reference_batch=64, warmup_steps=0,
    lr_schedule='step', train_steps=160_000, lr_decay_fractions=CIFAR_DECAY_FRACTIONS,
    checkpoint_every=2000, accuracy_floor=0.9,
    warm_start=False, warm_start_steps=None)  # the paper trains from scratch
CIFAR100 = dataclasses.replace(
    CIFAR10, pipeline_name='ran-cifar100', dataset='cifar100', accuracy_floor=0.7)

# The paper's ImageNet recipe: Attention-92 at 224, lr 0.1 /10 at 200k, 400k and 500k of 530k.
# The paper states no batch size; 32 per replica x 8 GPUs = 256 is the reference for the rate.
IMAGENET = dataclasses.replace(
    DEV, pipeline_name='ran-imagenet', dataset='imagenet', model_name='attention_92',
    image_size=224, recipe='imagenet', batch_size=32, learning_rate=0.1,
    lr_reference_batch=256, warmup_steps=0, lr_schedule='step', train_steps=530_000,
    lr_decay_fractions=IMAGENET_DECAY_FRACTIONS, checkpoint_every=5000,
    accuracy_floor=0.7, class_slices=False, warm_start=False, warm_start_steps=None)

PROFILES = {'dev': DEV, 'cure_tsr': CURE_TSR, 'gtsrb': GTSRB, 'cifar10': CIFAR10,
            'cifar100': CIFAR100, 'imagenet': IMAGENET}
