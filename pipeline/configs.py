"""Profiles: named, documented sets of pipeline choices, one frozen dataclass each.

A field keeps its name from the profile through to the component or builder argument that
consumes it (e.g. `width_multiplier` -> `ran_model.build_model(width_multiplier=...)`).
Variants are made with `dataclasses.replace(DEV, train_steps=10)` or runner flags.
"""
import dataclasses
import json
import os
from typing import Any, Dict, Optional, Tuple


class ConfigError(ValueError):
  """A profile or flag value that cannot work (e.g. a data root that does not exist)."""


def _field(default, help_text: str):
  return dataclasses.field(default=default, metadata={'help': help_text})


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
  """Everything one pipeline run needs; runner flags override fields by name."""
  pipeline_name: str = _field('ran-dev', 'Pipeline name in ML Metadata and the registry.')
  dataset: str = _field(
      'cure_tsr', 'Dataset: its layout reader (components/example_gen/formats.py) and its '
      'schema (data_schemas/<dataset>.pbtxt).')
  data_root: Optional[str] = _field(
      None, 'Dataset root in its published layout. Default: <output_dir>/data/<dataset>, '
      'where the embedded synthetic sample is rendered on first use.')
  ingest_options: str = _field(
      '{}', 'The layout reader\'s options as a JSON object, e.g. \'{"crop_to_roi": true}\' for '
      'gtsrb (python -m components.example_gen --help lists them per dataset).')
  max_quarantined_fraction: float = _field(
      0.01, 'ExampleGen fails when more of the input than this is quarantined.')
  examples_dir: Optional[str] = _field(
      None, 'Import TFRecords from here (ImportExampleGen) instead of reading --data_root: the '
      'standalone ingestion job\'s output, or TF/TPU-style shards (--import_format).')
  import_format: str = _field(
      'job', 'Layout of --examples_dir: job (<split>/*.tfrecord.gz) or tf_tpu '
      '(train-*, validation-*).')
  label_offset: int = _field(
      0, 'Added to imported labels: -1 for TF/TPU ImageNet shards (labels 1..1000).')
  output_dir: str = _field('outputs', 'Root of pipeline artifacts, ML Metadata and the registry.')
  sample_train_per_class: int = _field(
      20, 'Embedded sample: base sign images per class and sequence type in the train split.')
  sample_test_per_class: int = _field(
      4, 'Embedded sample: base sign images per class and sequence type in the test split.')
  model_name: str = _field('attention_56_cifar', 'ran_model variant (ran_model.MODEL_NAMES).')
  width_multiplier: float = _field(1.0, 'Scales every width of the model (tests shrink it).')
  image_size: int = _field(32, 'Training and serving resolution, pixels (square).')
  batch_size: int = _field(64, 'Global training batch, examples.')
  train_steps: int = _field(400, 'Training steps (batches).')
  eval_steps: int = _field(
      0, 'Trainer-side validation steps per epoch; 0 skips it (TFMA evaluates the whole split).')
  learning_rate: float = _field(0.1, 'Peak learning rate of Nesterov SGD.')
  warmup_steps: int = _field(50, 'Linear learning-rate warm-up, steps.')
  lr_decay_fractions: Tuple[float, ...] = _field(
      (0.4, 0.6), 'Fractions of train_steps where the rate drops 10x (paper: 64k, 96k of 160k).')
  weight_decay: float = _field(1e-4, 'Weight decay on conv and dense kernels.')
  class_weighting: str = _field(
      'none', 'none, or balanced: weigh each class by total / (classes x its count), from '
      'the class counts Transform computes.')
  mixed_precision: str = _field(
      'auto', 'Keras precision policy: float32, mixed_bfloat16, mixed_float16, or auto '
      '(float16 on GPU, bfloat16 on CPUs with native bf16 instructions, else float32).')
  seed: int = _field(0, 'Seed for the sample, shuffling and initialisation.')
  slice_features: Tuple[str, ...] = _field(
      (), 'Feature keys TFMA slices accuracy by; empty: every scenario/* feature of the schema.')
  eval_accuracy_threshold: float = _field(0.5, 'Blessing needs overall accuracy at least this.')
  regression_tolerance: float = _field(
      0.01, 'Blessing needs overall accuracy no lower than the baseline minus this.')
  beam_pipeline_args: Tuple[str, ...] = _field(
      ('--direct_running_mode=in_memory', '--direct_num_workers=1'),
      'Apache Beam options for every Beam-powered component.')

  @property
  def pipeline_root(self) -> str:
    return os.path.join(self.output_dir, 'pipeline', self.pipeline_name)

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
    """`ingest_options` parsed, with the pipeline's seed unless it names its own."""
    try:
      options = json.loads(self.ingest_options)
    except json.JSONDecodeError as error:
      raise ConfigError(f'--ingest_options {self.ingest_options!r} is not JSON ({error})') from None
    if not isinstance(options, dict):
      raise ConfigError(f'--ingest_options {self.ingest_options!r} is not a JSON object')
    return {'seed': self.seed, **options}


DEV = PipelineConfig()

PROFILES = {'dev': DEV}
