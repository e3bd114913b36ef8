"""RegistryPusher: publishes a blessed model into the model registry, with its model card.

It replaces TFX's stock Pusher. A model the Evaluator did not bless leaves the registry as it
was and is recorded as not pushed (`pushed` = 0). A blessed one becomes the next version of
the registry entry `registered_model_name` in the filesystem registry at `registry_root`
(local or gs://), its card filled from the evaluation: metrics overall and per slice, the eval
config, the blessing and its reasons, the metrics overall and per slice on the published test
split when that was evaluated too, the examples' fingerprint, the pipeline run, the baseline's
registry version and the code version. Optionally it then moves an alias (`promote_to`) to
that version and uploads it to the Vertex AI Model Registry.

Running again on the same model (a retry after a crash, a cache miss) finds the version already
published from that model and does not publish it twice.

The PushedModel artifact carries what the stock Pusher's does (`pushed`, `pushed_destination`,
`pushed_version`) plus `registry_root`, `registered_model_name`, `registry_version` and, after
an upload, `vertex_model`; its folder holds `push_record.json`.
"""
import json
import math
import os
from typing import Any, Dict, List, Optional

from absl import logging
import tensorflow as tf
from tfx import types
from tfx.components.example_gen import utils as example_gen_utils
from tfx.dsl.components.base import base_component
from tfx.dsl.components.base import base_executor
from tfx.dsl.components.base import executor_spec
from tfx.types import artifact_utils
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter
from tfx.types.component_spec import ExecutionParameter
from tfx.utils import path_utils

from components import evaluation_results
from components import model_files
from components.data_gate.result import read_result
from components.registry import FilesystemRegistry
from components.registry import ModelCard
from components.registry import names
from components.registry import vertex

PUSH_RECORD = 'push_record.json'


class RegistryPusherSpec(types.ComponentSpec):
  """Inputs: the trained model, its blessing and evaluation, the evaluation of the published
  test split (optional), the examples, the baseline."""
  PARAMETERS = {
      'registry_root': ExecutionParameter(type=str),
      'registered_model_name': ExecutionParameter(type=str),
      'code_version': ExecutionParameter(type=str, optional=True),
      'model_code_version': ExecutionParameter(type=str, optional=True),
      'promote_to': ExecutionParameter(type=str, optional=True),
      'vertex_upload': ExecutionParameter(type=str, optional=True),  # JSON, see the component
  }
  INPUTS = {
      'model': ChannelParameter(type=standard_artifacts.Model),
      'model_blessing': ChannelParameter(type=standard_artifacts.ModelBlessing),
      'evaluation': ChannelParameter(type=standard_artifacts.ModelEvaluation),
      'test_evaluation': ChannelParameter(type=standard_artifacts.ModelEvaluation, optional=True),
      'examples': ChannelParameter(type=standard_artifacts.Examples, optional=True),
      'baseline_model': ChannelParameter(type=standard_artifacts.Model, optional=True),
      'train_examples': ChannelParameter(type=standard_artifacts.Examples, optional=True),
      'data_gate': ChannelParameter(type=standard_artifacts.ExampleAnomalies, optional=True),
  }
  OUTPUTS = {'pushed_model': ChannelParameter(type=standard_artifacts.PushedModel)}


def _finite(values: Dict[str, float]) -> Dict[str, Optional[float]]:
  """Scalar metrics for JSON: per-class values left out (they stay in the evaluation),
  NaN (e.g. precision of a class never predicted) as None."""
  return {name: (value if math.isfinite(value) else None)
          for name, value in sorted(values.items()) if '[' not in name}


def _slice_metrics(evaluated: evaluation_results.Evaluation) -> Dict[str, Dict[str, float]]:
  """{slice name: its scalar metrics} of every slice but the overall one."""
  return {s.name: _finite(s.metrics) for s in evaluated.slices[1:]}


def model_card(evaluated: evaluation_results.Evaluation,
               test_evaluated: Optional[evaluation_results.Evaluation] = None,
               **lineage: Any) -> ModelCard:
  """The card of a model evaluated as `evaluated` (the eval split, gated) and, when given, as
  `test_evaluated` (the published test split); `lineage` fills ModelCard's other fields."""
  return ModelCard(
      metrics=_finite(evaluated.overall.metrics),
      slice_metrics=_slice_metrics(evaluated),
      test_metrics=_finite(test_evaluated.overall.metrics) if test_evaluated else {},
      test_slice_metrics=_slice_metrics(test_evaluated) if test_evaluated else {},
      eval_config=evaluated.eval_config,
      blessed=evaluated.blessed,
      blessing_reasons=list(evaluated.reasons) or ['every threshold passed'],
      evaluation_uri=evaluated.uri,
      **lineage)


class Executor(base_executor.BaseExecutor):
  """Publishes the model when blessed; see the module doc."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    self._log_startup(input_dict, output_dict, exec_properties)
    pushed = artifact_utils.get_single_instance(output_dict['pushed_model'])
    blessing = artifact_utils.get_single_instance(input_dict['model_blessing'])
    name = exec_properties['registered_model_name']
    registry = FilesystemRegistry(exec_properties['registry_root'])
    pushed.set_string_custom_property('registry_root', registry.root)
    pushed.set_string_custom_property('registered_model_name', name)
    if not blessing.get_int_custom_property('blessed'):
      logging.info('Model not blessed: the registry at %s is left unchanged.', registry.root)
      pushed.set_int_custom_property('pushed', 0)
      _write_record(pushed.uri, {'pushed': False, 'registered_model_name': name,
                                 'registry_root': registry.root})
      return
    source = path_utils.serving_model_path(
        artifact_utils.get_single_uri(input_dict['model']))
    version = registry.find_by_source(name, source)
    if version is None:
      evaluated = evaluation_results.load_evaluation(
          artifact_utils.get_single_uri(input_dict['evaluation']))
      test_evaluations = input_dict.get('test_evaluation', [])
      card = model_card(
          evaluated,
          evaluation_results.load_evaluation(test_evaluations[0].uri) if test_evaluations
          else None,
          examples_fingerprint=_fingerprint(input_dict.get('examples', [])),
          pipeline_run_id=(self._context and self._context.pipeline_run_id) or '',
          baseline_version=_baseline_version(registry, name,
                                             input_dict.get('baseline_model', [])),
          code_version=exec_properties.get('model_code_version') or '',
          source_uri=source,
          **_span_lineage(registry, name, input_dict))
      version = registry.publish(name, source, card)
      logging.info('Published %s version %d at %s', name, version.number, version.uri)
    else:
      logging.info('%s was already published as version %d; not publishing it again.',
                   source, version.number)
    if exec_properties.get('promote_to'):
      registry.promote(name, exec_properties['promote_to'], version.number)
    record = {'pushed': True, 'registered_model_name': name, 'registry_root': registry.root,
              'version': version.number, 'uri': version.uri}
    pushed.set_int_custom_property('pushed', 1)
    pushed.set_string_custom_property('pushed_destination', version.uri)
    pushed.set_string_custom_property('pushed_version', str(version.number))
    pushed.set_int_custom_property('registry_version', version.number)
    if exec_properties.get('vertex_upload'):
      settings = json.loads(exec_properties['vertex_upload'])
      uploaded = vertex.upload(vertex.build_upload_request(
          name, registry.show(name, version.number), artifact_uri=version.uri,
          **settings))
      record['vertex_model'] = uploaded.resource_name  # only once the upload has returned
      pushed.set_string_custom_property('vertex_model', uploaded.resource_name)
    _write_record(pushed.uri, record)


def _fingerprint(examples: List[types.Artifact]) -> str:
  """ExampleGen's input fingerprint, else the examples' URI (imported examples have none)."""
  if not examples:
    return ''
  artifact = examples[0]
  return (artifact.get_string_custom_property(example_gen_utils.FINGERPRINT_PROPERTY_NAME)
          or artifact.uri)


def _baseline_version(registry: FilesystemRegistry, name: str,
                      baseline: List[types.Artifact]) -> Optional[int]:
  """The registry version published from the baseline model, if it was published here."""
  if not baseline:
    return None
  version = registry.find_by_source(name, path_utils.serving_model_path(baseline[0].uri))
  return version.number if version else None


def _span_lineage(registry: FilesystemRegistry, name: str,
                  input_dict: Dict[str, List[types.Artifact]]) -> Dict[str, Any]:
  """The card's continuous-training fields: the spans trained on, the span evaluated on, the
  registry version the Trainer warm-started from and the drift a person accepted."""
  model_uri = artifact_utils.get_single_uri(input_dict['model'])
  parent = None
  path = os.path.join(model_uri, model_files.WARM_START_FILE)
  if tf.io.gfile.exists(path):
    with tf.io.gfile.GFile(path) as f:
      parent_uri = json.load(f)['warm_started_from']
    version = parent_uri and registry.find_by_source(
        name, path_utils.serving_model_path(parent_uri))
    parent = {'model': name, 'version': version.number} if version else None
  gates = input_dict.get('data_gate') or []
  evaluated = input_dict.get('examples') or []
  return {
      'trained_on_spans': sorted({a.span for a in input_dict.get('train_examples') or []}),
      'evaluated_on_span': evaluated[0].span if evaluated else None,
      'warm_started_from': parent,
      'accepted_drift': read_result(gates[0].uri).accepted_drift if gates else []}


def _write_record(uri: str, record: Dict[str, Any]) -> None:
  tf.io.gfile.makedirs(uri)
  with tf.io.gfile.GFile(os.path.join(uri, PUSH_RECORD), 'w') as f:
    f.write(json.dumps(record, indent=2, sort_keys=True))


class RegistryPusher(base_component.BaseComponent):
  """Pushes a blessed model into the registry (see the module doc).

  Args:
    model, model_blessing, evaluation: the Trainer's model and the Evaluator's outputs.
    test_evaluation: the evaluation of the published test split (its metrics go in the card),
      if there was one.
    registry_root: the filesystem registry's root (a local path or gs://).
    registered_model_name: the registry entry the model becomes a version of (letters,
      digits, '.', '_', '-'), e.g. the pipeline's name: not the network variant.
    examples: the examples it was trained and evaluated on (their fingerprint goes in the card).
    baseline_model: the model it was compared with (the latest blessed model), if any.
    train_examples: the spans it was trained on (the card's `trained_on_spans`).
    data_gate: the DataGate's result (the card's `accepted_drift`).
    code_version: the key of this step's code (pipeline/code_versions.py), so that new code
      pushes again instead of reusing a cached push.
    model_code_version: the key of the code that trained the model, recorded in the card.
    promote_to: an alias (e.g. 'staging') to move to the new version; None leaves aliases.
    vertex_upload: keyword arguments of `vertex.build_upload_request` besides the model name,
      card and artifact URI (serving_container_image_uri, parent_model, version_aliases,
      project, location): also upload each pushed version to the Vertex AI Model Registry
      (`registry_root` must then be on gs://).
  """
  SPEC_CLASS = RegistryPusherSpec
  EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

  def __init__(self, *, model: types.BaseChannel, model_blessing: types.BaseChannel,
               evaluation: types.BaseChannel, registry_root: str, registered_model_name: str,
               test_evaluation: Optional[types.BaseChannel] = None,
               examples: Optional[types.BaseChannel] = None,
               baseline_model: Optional[types.BaseChannel] = None,
               train_examples: Optional[types.BaseChannel] = None,
               data_gate: Optional[types.BaseChannel] = None, code_version: str = '',
               model_code_version: str = '',
               promote_to: Optional[str] = None,
               vertex_upload: Optional[Dict[str, Any]] = None):
    names.check_name(registered_model_name)  # fail when the pipeline is built, not at its end
    if promote_to is not None:
      names.check_alias(promote_to)
    if vertex_upload and not registry_root.startswith('gs://'):
      raise ValueError(f'registry_root {registry_root!r}: uploading to Vertex AI needs a gs:// '
                       'registry root (Vertex reads models from Cloud Storage)')
    super().__init__(spec=RegistryPusherSpec(
        model=model, model_blessing=model_blessing, evaluation=evaluation,
        test_evaluation=test_evaluation, examples=examples,
        train_examples=train_examples, data_gate=data_gate,
        baseline_model=baseline_model, registry_root=registry_root,
        registered_model_name=registered_model_name,
        code_version=code_version, model_code_version=model_code_version, promote_to=promote_to,
        vertex_upload=json.dumps(vertex_upload, sort_keys=True) if vertex_upload else None,
        pushed_model=types.Channel(type=standard_artifacts.PushedModel)))
