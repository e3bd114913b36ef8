"""The DAG, defined once: every runner (local, Kubeflow, Vertex) compiles `create_pipeline`."""
import os
from typing import Any, Dict, Optional

from ml_metadata.proto import metadata_store_pb2
from tfx.components import Evaluator, StatisticsGen, Trainer
from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen
from tfx.dsl.components.common.resolver import Resolver
from tfx.dsl.experimental.conditionals.conditional import Cond
from tfx.dsl.input_resolution import canned_resolver_functions
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
    LatestBlessedModelStrategy)
from tfx.orchestration.pipeline import Pipeline
from tfx.proto import trainer_pb2
from tfx.types import standard_artifacts
from tfx.types.channel import Channel

from components import evaluation
from components.data_gate import component as data_gate_step
from components import features
from components import evaluation_dashboard
from components.edge import component as edge_step
from components import example_gen
from components import registry_pusher
from components import schemas
from components import trainer as trainer_step
from components import transform as transform_step
import ran_model
from pipeline import code_versions
from pipeline.configs import ConfigError
from pipeline import vertex_training
from pipeline.configs import PipelineConfig

# Where the DataGate keeps each span's statistics without span resolvers, under the root.
STATISTICS_STORE = ('DataGate', 'span_statistics')
# Where the Transform records its latest analyzer cache (components/transform.py), under the root.
ANALYZER_CACHE_STORE = ('Transform', 'analyzer_cache_store')
IMPORT_SPLIT_PATTERNS = {'job': example_gen.JOB_SPLIT_PATTERNS,
                         'tf_tpu': example_gen.TPU_SPLIT_PATTERNS}


def _schema_file(config: PipelineConfig) -> str:
  """The dataset's schema file (Layout.schema_file): data_schemas/<dataset>.pbtxt, or one its
  layout builds from the data (a manifest's classes), written under the pipeline root."""
  return example_gen.layout_class(config.dataset).schema_file(
      config.resolved_data_root, config.layout_options,
      output_dir=os.path.join(config.resolved_pipeline_root, 'schema'))


def _example_gen(config: PipelineConfig, version: str):
  """Reads one span (`config.span`, or the newest) of `config.dataset`'s layout at the data
  root, or imports one of `config.examples_dir`."""
  if config.examples_dir is None:
    component = example_gen.image_example_gen(
        config.dataset, config.resolved_data_root, options=config.layout_options,
        span=config.span, max_quarantined_fraction=config.max_quarantined_fraction,
        code_version=version)
  else:
    if config.import_format not in IMPORT_SPLIT_PATTERNS:
      raise ConfigError(f'--import_format {config.import_format!r}: choose from '
                        f'{sorted(IMPORT_SPLIT_PATTERNS)}')
    component = example_gen.import_example_gen(
        config.examples_dir, classes_of=config.dataset, label_offset=config.label_offset,
        split_patterns=IMPORT_SPLIT_PATTERNS[config.import_format], span=config.span,
        max_quarantined_fraction=config.max_quarantined_fraction,
        allow_lost_files=config.allow_lost_files, code_version=version)
  return component.with_id('ExampleGen')


def _check_model_and_slices(config: PipelineConfig, schema) -> None:
  """ConfigError for a network ran_model does not know, or a slice feature (in slice_features,
  slice_crosses or slice_floors) the dataset's schema does not have."""
  if config.model_name not in ran_model.MODEL_NAMES:
    raise ConfigError(f'--model_name {config.model_name!r}: choose from '
                      f'{list(ran_model.MODEL_NAMES)}')
  known = {feature.name for feature in schema.feature}
  for flag, keys in (('slice_features', config.slice_features),
                     ('slice_crosses', [key for cross in config.slice_crosses for key in cross]),
                     ('slice_floors', [key for key, _ in config.slice_floors])):
    unknown = sorted(set(keys) - known)
    if unknown:
      raise ConfigError(
          f'--{flag}: {", ".join(unknown)} {"is" if len(unknown) == 1 else "are"} not a '
          f'feature of the {config.dataset} schema; its scenario features: '
          f'{list(schemas.scenario_features(schema))}, and {features.LABEL}')


def _eval_config(config: PipelineConfig, schema, num_classes: int, code_version: str, *,
                 gates: bool = True):
  """The Evaluator's config from the profile's slices and gates (none without `gates`);
  ConfigError for slices that do not fit together (e.g. a floor on a feature not sliced by)."""
  try:
    return evaluation.eval_config(
        num_classes=num_classes,
        slice_features=config.slice_features or schemas.scenario_features(schema),
        slice_crosses=config.slice_crosses, class_slices=config.class_slices,
        accuracy_floor=config.accuracy_floor, slice_floors=dict(config.slice_floors),
        regression_tolerance=config.regression_tolerance,
        regression_significance=config.regression_significance,
        min_slice_size=config.min_slice_size, gates=gates, code_version=code_version)
  except ValueError as error:
    raise ConfigError(str(error)) from None


def _test_evaluator(config: PipelineConfig, example_gen_component, model, eval_config):
  """An Evaluator of the dataset's published test split (its layout's split 'test', e.g.
  GTSRB's Final_Test): `eval_config` without gates, no baseline. It runs only when ExampleGen
  wrote test examples (its `written_test`). None for a layout without a test split, or
  imported examples (their splits are train and eval)."""
  if (config.examples_dir is not None
      or 'test' not in example_gen.layout_class(config.dataset).splits):
    return None
  examples = example_gen_component.outputs['examples']
  with Cond(examples.future()[0].custom_property('written_test') > 0):
    return Evaluator(
        examples=examples, model=model, eval_config=eval_config,
        example_splits=['test']).with_id('TestEvaluator')


def _step_config(config_class, config: PipelineConfig, **given) -> Dict[str, Any]:
  """A step's typed config (components/step_config.py) built from the profile, as its
  custom_config; ConfigError for a value the step cannot use (e.g. an unknown recipe)."""
  try:
    return config_class.from_fields(config, **given).to_custom_config()
  except ValueError as error:  # StepConfigError, or a value its checks refuse
    raise ConfigError(str(error)) from None


def _every_run(output, producer) -> Channel:
  """The artifacts `producer` wrote to `output` in every run of the pipeline: a resolver over
  a step's own output channel sees only this run's."""
  return Channel(type=output.type, producer_component_id=producer.id,
                 output_key=output.output_key)


def _data_gate(config: PipelineConfig, schema, example_gen, statistics_gen, schema_gen,
               code_version: str, span_resolvers: bool) -> data_gate_step.DataGate:
  """The DataGate of the newest span against the span before it (none for the first
  delivery): resolved by TFX's span resolver, or without `span_resolvers` taken from the
  statistics the gate keeps under the pipeline root (STATISTICS_STORE). ConfigError for
  thresholds or accepted drift on unknown features."""
  try:
    thresholds = data_gate_step.checked_thresholds(
        schema, config.drift_threshold, dict(config.drift_thresholds), config.accept_drift)
  except ValueError as error:
    raise ConfigError(str(error)) from None
  examples = example_gen.outputs['examples']
  previous_span = canned_resolver_functions.rolling_range(
      _every_run(examples, example_gen), num_spans=1, skip_num_recent_spans=1, min_spans=0
  ) if span_resolvers else None
  return data_gate_step.DataGate(
      examples=examples, statistics=statistics_gen.outputs['statistics'],
      schema=schema_gen.outputs['schema'], baseline_examples=previous_span,
      drift_thresholds=thresholds, accepted_drift=config.accept_drift,
      statistics_store=None if span_resolvers else os.path.join(
          config.resolved_pipeline_root, *STATISTICS_STORE),
      code_version=code_version)


def _edge_export(config: PipelineConfig, pusher, trainer, examples, train_examples, evaluator,
                 code_version: str) -> Optional[edge_step.EdgeExport]:
  """The EdgeExport of the pushed model, run only when the RegistryPusher pushed one (its
  `pushed` property); None with `edge_export` off."""
  if not config.edge_export:
    return None
  pushed_model = pusher.outputs['pushed_model']
  with Cond(pushed_model.future()[0].custom_property(edge_step.PUSHED) == 1):
    return edge_step.EdgeExport(
        pushed_model=pushed_model, model=trainer.outputs['model'], examples=examples,
        train_examples=train_examples, evaluation=evaluator.outputs['evaluation'],
        recipe=config.recipe, max_drop=config.edge_max_drop, seed=config.seed,
        code_version=code_version)


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
    span_resolvers: bool = True,
) -> Pipeline:
  """ExampleGen (the newest span) -> schema, statistics -> DataGate (anomalies, drift against
  the span before); only if it passes: Transform and Trainer on the newest `train_spans` spans
  (warm-started from the latest blessed model when `warm_start`) -> Evaluator on the newest
  span (against that model) and, for a dataset with a published test split, TestEvaluator
  (reported, not gated) -> RegistryPusher (blessed models only) -> EdgeExport (a pushed
  model as TFLite float16 and int8, gated; with `edge_export`) -> EvaluationDashboard (the
  evaluation as one HTML page).

  `metadata_connection_config` is the runner's choice (sqlite locally, none on Kubeflow).
  `span_resolvers` False is for Kubeflow Pipelines 2 / Vertex, whose TFX compiler knows only
  the latest-artifact and latest-blessed-model resolvers: there the Trainer trains on the
  newest span, and the DataGate measures drift against the statistics of the newest earlier
  span it checked, which it keeps under the pipeline root.
  """
  versions = code_versions.step_code_versions()
  example_gen_component = _example_gen(config, versions['ExampleGen'])
  examples = example_gen_component.outputs['examples']  # the newest span (or --span)
  schema_file = _schema_file(config)
  schema = schemas.load_schema(schema_file)
  _check_model_and_slices(config, schema)
  num_classes = len(schemas.class_names(schema))
  schema_gen = ImportSchemaGen(schema_file=config.project_path(schema_file))
  statistics_gen = StatisticsGen(  # the schema makes the label categorical
      examples=examples, schema=schema_gen.outputs['schema'])
  data_gate = _data_gate(config, schema, example_gen_component, statistics_gen, schema_gen,
                         versions['DataGate'], span_resolvers)
  train_examples = (canned_resolver_functions.rolling_range(  # the newest K spans
      _every_run(examples, example_gen_component), num_spans=config.train_spans, min_spans=1)
                    if span_resolvers else examples)
  latest_blessed_model = Resolver(
      strategy_class=LatestBlessedModelStrategy,
      model=Channel(type=standard_artifacts.Model),
      model_blessing=Channel(type=standard_artifacts.ModelBlessing),
  ).with_id('latest_blessed_model')
  with Cond(data_gate.outputs['result'].future()[0].custom_property(
      data_gate_step.PASSED) == 1):
    transform = transform_step.Transform(
        examples=train_examples, schema=schema_gen.outputs['schema'],
        preprocessing_fn=transform_step.PREPROCESSING_FN, materialize=False,
        disable_statistics=True,  # StatisticsGen's are read; Transform's own never were
        custom_config=_step_config(
            transform_step.TransformConfig, config, num_classes=num_classes,
            code_version=versions['Transform'], analyzer_cache_store=os.path.join(
                config.resolved_pipeline_root, *ANALYZER_CACHE_STORE)))
    trainer_class = Trainer
    trainer_custom_config = _step_config(trainer_step.TrainerConfig, config,
                                         code_version=versions['Trainer'])
    if config.vertex_training:
      trainer_class = vertex_training.trainer_class()
      trainer_custom_config.update(vertex_training.trainer_custom_config(config))
    trainer = trainer_class(
        run_fn=trainer_step.RUN_FN, examples=train_examples,
        transform_graph=transform.outputs['transform_graph'],
        schema=schema_gen.outputs['schema'],
        train_args=trainer_pb2.TrainArgs(num_steps=config.train_steps),
        eval_args=trainer_pb2.EvalArgs(num_steps=config.eval_steps),
        base_model=latest_blessed_model.outputs['model'] if config.warm_start else None,
        custom_config=trainer_custom_config)
    evaluator = Evaluator(  # on the newest span
        examples=examples, model=trainer.outputs['model'],
        baseline_model=latest_blessed_model.outputs['model'],
        eval_config=_eval_config(config, schema, num_classes, versions['Evaluator']))
    test_evaluator = _test_evaluator(
        config, example_gen_component, trainer.outputs['model'],
        _eval_config(config, schema, num_classes, versions['Evaluator'], gates=False))
    test_evaluation = test_evaluator.outputs['evaluation'] if test_evaluator else None
    pusher = registry_pusher.RegistryPusher(
        model=trainer.outputs['model'], model_blessing=evaluator.outputs['blessing'],
        evaluation=evaluator.outputs['evaluation'], test_evaluation=test_evaluation,
        examples=examples,
        train_examples=train_examples, data_gate=data_gate.outputs['result'],
        baseline_model=latest_blessed_model.outputs['model'],
        registry_root=config.registry_dir,
        registered_model_name=config.resolved_registered_model_name,
        code_version=versions['RegistryPusher'], model_code_version=versions['Trainer'],
        promote_to=config.promote_to, vertex_upload=_vertex_upload(config))
    edge_export = _edge_export(config, pusher, trainer, examples, train_examples, evaluator,
                               versions['EdgeExport'])
  edge_report = edge_export.outputs['edge_report'] if edge_export else None
  dashboard = evaluation_dashboard.EvaluationDashboard(  # also of a blocked delivery
      evaluation=evaluator.outputs['evaluation'], test_evaluation=test_evaluation,
      examples=examples, schema=schema_gen.outputs['schema'],
      pushed_model=pusher.outputs['pushed_model'], data_gate=data_gate.outputs['result'],
      edge_report=edge_report, model_name=config.model_name, code_version=versions['EvaluationDashboard'],
      registry_root=config.registry_dir,
      registered_model_name=config.resolved_registered_model_name)
  return Pipeline(
      pipeline_name=config.pipeline_name,
      pipeline_root=config.resolved_pipeline_root,
      components=[example_gen_component, schema_gen, statistics_gen, data_gate,
                  latest_blessed_model, transform, trainer, evaluator,
                  *([test_evaluator] if test_evaluator else []), pusher,
                  *([edge_export] if edge_export else []), dashboard],
      enable_cache=True,
      metadata_connection_config=metadata_connection_config,
      beam_pipeline_args=list(config.resolved_beam_pipeline_args))
