"""EdgeExport: the pushed model as TFLite float16 and int8, in its registry version.

It runs after the RegistryPusher, only for a pushed (blessed) model: the pipeline puts it under
a `tfx.dsl.Cond` on the push's `pushed` property, and the executor writes nothing for a push
that did not happen. It converts the registry version's SavedModel (components/edge/export.py),
evaluates both TFLite models on the eval split the Evaluator evaluated, with its slices, gates
the int8 model against the float one, and writes into the version's `tflite/` folder
`model_float16.tflite`, `model_int8.tflite` (only when it passes) and `labels.txt`, and the
report into the version's model card (`edge`); a version already exported with the same
settings and code is not converted again (its card's report is reused). Its output, a `File` artifact, holds the same
report as `edge_report.json`, with the custom properties `int8_written` and `float16_written`
(1 or 0).
"""
import dataclasses
from typing import Any, Dict, List, Optional

from absl import logging
from tfx import types
from tfx.dsl.components.base import base_component
from tfx.dsl.components.base import base_executor
from tfx.dsl.components.base import executor_spec
from tfx.types import artifact_utils
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter
from tfx.types.component_spec import ExecutionParameter
from tfx.types.experimental import simple_artifacts

from components import evaluation_results
from components.edge import converter
from components.edge import pixels
from components.edge.export import ExportSettings, export_edge_models
from components.edge.report import EdgeReport, FLOAT16, INT8, TFLITE_DIR, write_report
from components.registry import FilesystemRegistry, ModelCard

PUSHED = 'pushed'  # the PushedModel's int custom property the Cond reads


class EdgeExportSpec(types.ComponentSpec):
  """Inputs: the push, the pushed Model artifact (its network.json), the examples evaluated,
  the spans trained on (the int8 calibration images) and the Evaluator's output."""
  PARAMETERS = {
      'recipe': ExecutionParameter(type=str),
      'max_drop': ExecutionParameter(type=float),
      'representative_examples': ExecutionParameter(type=int),
      'seed': ExecutionParameter(type=int),
      'latency_runs': ExecutionParameter(type=int),
      'code_version': ExecutionParameter(type=str, optional=True),
  }
  INPUTS = {
      'pushed_model': ChannelParameter(type=standard_artifacts.PushedModel),
      'model': ChannelParameter(type=standard_artifacts.Model),
      'examples': ChannelParameter(type=standard_artifacts.Examples),
      'train_examples': ChannelParameter(type=standard_artifacts.Examples),
      'evaluation': ChannelParameter(type=standard_artifacts.ModelEvaluation),
  }
  OUTPUTS = {'edge_report': ChannelParameter(type=simple_artifacts.File)}


class Executor(base_executor.BaseExecutor):
  """Exports the pushed model for the edge; see the module doc."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    self._log_startup(input_dict, output_dict, exec_properties)
    output = artifact_utils.get_single_instance(output_dict['edge_report'])
    pushed = artifact_utils.get_single_instance(input_dict['pushed_model'])
    if not pushed.get_int_custom_property(PUSHED):
      logging.info('The model was not pushed: nothing to export.')
      for kind in (FLOAT16, INT8):
        output.set_int_custom_property(f'{kind}_written', 0)
      return
    registry = FilesystemRegistry(pushed.get_string_custom_property('registry_root'))
    name = pushed.get_string_custom_property('registered_model_name')
    number = pushed.get_int_custom_property('registry_version')
    version = registry.version(name, number)
    settings = ExportSettings(
        recipe=exec_properties['recipe'], max_drop=exec_properties['max_drop'],
        representative_examples=exec_properties['representative_examples'],
        seed=exec_properties['seed'], latency_runs=exec_properties['latency_runs'])
    code_version = exec_properties.get('code_version') or ''
    card = registry.show(name, number)
    report = _earlier_export(card, registry.added_files(name, number), settings, code_version)
    if report is not None:
      logging.info('%s version %d was exported with these settings and code already; not '
                   'exporting it again.', name, number)
    else:
      report, files = export_edge_models(
          version.uri,
          converter.read_network(artifact_utils.get_single_uri(input_dict['model'])),
          train_files=[path for examples in input_dict['train_examples']
                       for path in pixels.split_files(examples.uri, 'train')],
          eval_files=pixels.split_files(
              artifact_utils.get_single_uri(input_dict['examples']), 'eval'),
          evaluated=evaluation_results.load_evaluation(
              artifact_utils.get_single_uri(input_dict['evaluation'])),
          settings=settings, code_version=code_version)
      written = registry.add_files(name, number, TFLITE_DIR, files,
                                   dataclasses.replace(card, edge=report.to_dict()))
      logging.info('Wrote %s into %s', ', '.join(written), version.uri)
    for model in report.models.values():
      output.set_int_custom_property(f'{model.kind}_written', int(model.written))
      if model.reasons:
        logging.warning('The %s model is not written: %s', model.kind, '; '.join(model.reasons))
    write_report(report, output.uri)


def _earlier_export(card: ModelCard, added_files: Dict[str, int], settings: ExportSettings,
                    code_version: str) -> Optional[EdgeReport]:
  """The report in `card` when its export used `settings` and `code_version` and its files
  are in the version (`added_files`), else None. A rerun of the pipeline on the same model
  (a new evaluation against itself as the baseline pushes it again) then converts nothing."""
  if (not card.edge or card.edge.get('settings') != dataclasses.asdict(settings)
      or card.edge.get('code_version') != code_version):
    return None  # (a report of other code may not parse)
  report = EdgeReport.from_dict(card.edge)
  return report if set(report.written_files) <= set(added_files) else None


class EdgeExport(base_component.BaseComponent):
  """Exports the pushed model for the edge (see the module doc).

  Args:
    pushed_model: the RegistryPusher's output; the step does nothing for a model not pushed.
    model: the Trainer's Model artifact (its network.json says which network to rebuild).
    examples: the examples the Evaluator evaluated (their eval split).
    train_examples: the spans the model was trained on (int8 calibration images).
    evaluation: the Evaluator's output (its slices and the float model's accuracy on each).
    recipe: the serving preprocessing's recipe (preprocessing.RECIPES), the profile's.
    max_drop: the int8 model is written only when its accuracy is at most this below the float
      model's, overall and on every scenario slice of at least min_slice_size examples.
    representative_examples, seed: the calibration images: this many, seeded.
    latency_runs: timed batch-1 invocations per model (0: no timing).
    code_version: the key of this step's code (pipeline/code_versions.py).
  """
  SPEC_CLASS = EdgeExportSpec
  EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

  def __init__(self, *, pushed_model: types.BaseChannel, model: types.BaseChannel,
               examples: types.BaseChannel, train_examples: types.BaseChannel,
               evaluation: types.BaseChannel, recipe: str, max_drop: float = 0.01,
               representative_examples: int = 200, seed: int = 0, latency_runs: int = 30,
               code_version: str = ''):
    super().__init__(spec=EdgeExportSpec(
        pushed_model=pushed_model, model=model, examples=examples,
        train_examples=train_examples, evaluation=evaluation, recipe=recipe,
        max_drop=max_drop, representative_examples=representative_examples, seed=seed,
        latency_runs=latency_runs, code_version=code_version,
        edge_report=types.Channel(type=simple_artifacts.File)))
