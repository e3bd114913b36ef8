"""The DAG, defined once: every runner (local, Kubeflow, Vertex) compiles `create_pipeline`."""
import hashlib
import os
from typing import Any, Dict, Optional

from ml_metadata.proto import metadata_store_pb2
from tfx import v1 as tfx

from components import evaluation
from components import evaluation_dashboard
from components import example_gen
from components import registry_pusher
from components import schemas
from pipeline.configs import ConfigError
from pipeline.configs import PROJECT_ROOT
from pipeline import vertex_training
from pipeline.configs import PipelineConfig

IMPORT_SPLIT_PATTERNS = {'job': example_gen.JOB_SPLIT_PATTERNS,
                         'tf_tpu': example_gen.TPU_SPLIT_PATTERNS}
_CODE_PACKAGES = ('components', 'ran_model')
_TRAINER_FIELDS = ('model_name', 'width_multiplier', 'image_size', 'strategy', 'batch_size',
                   'learning_rate', 'lr_reference_batch', 'lr_schedule', 'warmup_steps',
                   'lr_decay_fractions', 'weight_decay', 'label_smoothing', 'class_weighting',
                   'recipe', 'deterministic_input', 'mixed_precision', 'xla',
                   'checkpoint_every', 'seed')


def code_version() -> str:
  """A digest of the component and model code: part of each custom component's config, so
  editing that code invalidates cached outputs (code named by a module path is not hashed
  by TFX itself)."""
  digest = hashlib.sha256()
  for package in _CODE_PACKAGES:
    for folder, _, files in sorted(os.walk(os.path.join(PROJECT_ROOT, package))):
      for name in sorted(f for f in files if f.endswith('.py')):
        path = os.path.join(folder, name)
        digest.update(os.path.relpath(path, PROJECT_ROOT).encode())
        with open(path, 'rb') as f:
          digest.update(f.read())
  return digest.hexdigest()[:16]


def _schema_file(config: PipelineConfig) -> str:
  """The dataset's schema file (Layout.schema_file): data_schemas/<dataset>.pbtxt, or one its
  layout builds from the data (a manifest's classes), written under the pipeline root."""
  return example_gen.layout_class(config.dataset).schema_file(
      config.resolved_data_root, config.layout_options,
      output_dir=os.path.join(config.resolved_pipeline_root, 'schema'))


def _example_gen(config: PipelineConfig, version: str):
  """Reads `config.dataset`'s layout at the data root, or imports `config.examples_dir`."""
  if config.examples_dir is None:
    component = example_gen.image_example_gen(
        config.dataset, config.resolved_data_root, options=config.layout_options,
        max_quarantined_fraction=config.max_quarantined_fraction, code_version=version)
  else:
    if config.import_format not in IMPORT_SPLIT_PATTERNS:
      raise ConfigError(f'--import_format {config.import_format!r}: choose from '
                        f'{sorted(IMPORT_SPLIT_PATTERNS)}')
    component = example_gen.import_example_gen(
        config.examples_dir, classes_of=config.dataset, label_offset=config.label_offset,
        split_patterns=IMPORT_SPLIT_PATTERNS[config.import_format],
        max_quarantined_fraction=config.max_quarantined_fraction, code_version=version)
  return component.with_id('ExampleGen')


def _vertex_upload(config: PipelineConfig) -> Optional[Dict[str, Any]]:
  """The RegistryPusher's Vertex Model Registry settings, if it uploads there."""
  if not config.vertex_model_registry:
    return None
  return {'serving_container_image_uri': config.vertex_serving_image,
          'parent_model': config.vertex_parent_model,
          'version_aliases': [config.promote_to] if config.promote_to else [],
          'project': config.vertex_project, 'location': config.vertex_region}


def create_pipeline(
    config: PipelineConfig, *,
    metadata_connection_config: Optional[metadata_store_pb2.ConnectionConfig] = None,
) -> tfx.dsl.Pipeline:
  """ExampleGen -> statistics, schema, validation -> Transform -> Trainer -> Evaluator
  (against the latest blessed model) -> RegistryPusher (blessed models only) ->
  EvaluationDashboard (the evaluation as one HTML page).

  `metadata_connection_config` is the runner's choice (sqlite locally, none on Kubeflow).
  """
  version = code_version()
  example_gen_component = _example_gen(config, version)
  examples = example_gen_component.outputs['examples']
  statistics_gen = tfx.components.StatisticsGen(examples=examples)
  schema_file = _schema_file(config)
  schema = schemas.load_schema(schema_file)
  num_classes = len(schemas.class_names(schema))
  schema_gen = tfx.components.ImportSchemaGen(schema_file=config.project_path(schema_file))
  example_validator = tfx.components.ExampleValidator(
      statistics=statistics_gen.outputs['statistics'], schema=schema_gen.outputs['schema'])
  transform = tfx.components.Transform(
      examples=examples, schema=schema_gen.outputs['schema'],
      preprocessing_fn='components.transform.preprocessing_fn', materialize=False,
      custom_config={'image_size': config.image_size, 'recipe': config.recipe,
                     'code_version': version,
                     'num_classes': num_classes})
  trainer_class = tfx.components.Trainer
  trainer_config = {name: getattr(config, name) for name in _TRAINER_FIELDS}
  trainer_config['code_version'] = version
  if config.vertex_training:
    trainer_class = tfx.extensions.google_cloud_ai_platform.Trainer
    trainer_config.update(vertex_training.trainer_custom_config(config))
  trainer = trainer_class(
      run_fn='components.trainer.run_fn', examples=examples,
      transform_graph=transform.outputs['transform_graph'],
      schema=schema_gen.outputs['schema'],
      train_args=tfx.proto.TrainArgs(num_steps=config.train_steps),
      eval_args=tfx.proto.EvalArgs(num_steps=config.eval_steps),
      custom_config=trainer_config)
  latest_blessed_model = tfx.dsl.Resolver(
      strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
      model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
      model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
  ).with_id('latest_blessed_model')
  evaluator = tfx.components.Evaluator(
      examples=examples, model=trainer.outputs['model'],
      baseline_model=latest_blessed_model.outputs['model'],
      eval_config=evaluation.eval_config(
          num_classes=num_classes,
          slice_features=config.slice_features or schemas.scenario_features(schema),
          slice_crosses=config.slice_crosses, class_slices=config.class_slices,
          accuracy_floor=config.accuracy_floor, slice_floors=dict(config.slice_floors),
          regression_tolerance=config.regression_tolerance,
          min_slice_size=config.min_slice_size))
  pusher = registry_pusher.RegistryPusher(
      model=trainer.outputs['model'], model_blessing=evaluator.outputs['blessing'],
      evaluation=evaluator.outputs['evaluation'], examples=examples,
      baseline_model=latest_blessed_model.outputs['model'],
      registry_root=config.registry_dir, model_name=config.model_name, code_version=version,
      promote_to=config.promote_to, vertex_upload=_vertex_upload(config))
  dashboard = evaluation_dashboard.EvaluationDashboard(
      evaluation=evaluator.outputs['evaluation'], examples=examples,
      schema=schema_gen.outputs['schema'], pushed_model=pusher.outputs['pushed_model'],
      model_name=config.model_name)
  return tfx.dsl.Pipeline(
      pipeline_name=config.pipeline_name,
      pipeline_root=config.resolved_pipeline_root,
      components=[example_gen_component, statistics_gen, schema_gen, example_validator,
                  transform, trainer, latest_blessed_model, evaluator, pusher, dashboard],
      enable_cache=True,
      metadata_connection_config=metadata_connection_config,
      beam_pipeline_args=list(config.resolved_beam_pipeline_args))
