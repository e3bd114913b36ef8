"""EvaluationDashboard: the last step of every run writes the evaluation's dashboard.

It renders components/dashboard over the Evaluator's output (verdict and reasons, slices,
charts with thresholds, confusion matrix, calibration, attention maps of the evaluated model on
the evaluation split, and the accuracy on the dataset's published test split beside the
evaluation split's when that split was evaluated too), the DataGate's verdict on the newest
span (the Data section) and every registry version of the model (the History section) as
`index.html` in its output artifact, so a Kubeflow or Vertex run leaves one next to its other
artifacts, on gs:// like them. Class names come from the pipeline's schema; the page names the
run and where the RegistryPusher put the model. When the data gate blocked training there is
no evaluation and no push: the page then says so, with the gate's reasons, the Data and the
History sections.

The output is a `File` artifact (tfx.types.experimental.simple_artifacts): KubeflowV2DagRunner
compiles only TFX's own artifact types reliably, and a folder with one HTML file is all this is.
"""
import os
from typing import Any, Dict, List, Optional

from tfx import types
from tfx.dsl.components.base import base_component
from tfx.dsl.components.base import base_executor
from tfx.dsl.components.base import executor_spec
from tfx.types import artifact_utils
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter
from tfx.types.component_spec import ExecutionParameter
from tfx.types.experimental import simple_artifacts
from tfx.utils import io_utils

from components.dashboard import evaluation_page

PAGE = 'index.html'


class EvaluationDashboardSpec(types.ComponentSpec):
  """Inputs: the evaluation, the examples it ran on, the schema, the push that followed, the
  data gate's verdict, the evaluation of the published test split (optional) and the edge
  export's report (optional); evaluation and push are absent when the gate blocked
  training."""
  PARAMETERS = {'model_name': ExecutionParameter(type=str),
                'code_version': ExecutionParameter(type=str, optional=True),
                'registry_root': ExecutionParameter(type=str, optional=True),
                'registered_model_name': ExecutionParameter(type=str, optional=True)}
  INPUTS = {
      'evaluation': ChannelParameter(type=standard_artifacts.ModelEvaluation, optional=True),
      'examples': ChannelParameter(type=standard_artifacts.Examples),
      'schema': ChannelParameter(type=standard_artifacts.Schema),
      'pushed_model': ChannelParameter(type=standard_artifacts.PushedModel, optional=True),
      'data_gate': ChannelParameter(type=standard_artifacts.ExampleAnomalies, optional=True),
      'test_evaluation': ChannelParameter(type=standard_artifacts.ModelEvaluation, optional=True),
      'edge_report': ChannelParameter(type=simple_artifacts.File, optional=True),
  }
  OUTPUTS = {'dashboard': ChannelParameter(type=simple_artifacts.File)}


def page_path(dashboard) -> str:
  """The HTML file inside a dashboard artifact (TFX's, or ML Metadata's record of one)."""
  return os.path.join(dashboard.uri, PAGE)


def empty_test_split(examples) -> bool:
  """Whether ExampleGen wrote a test split, and none of its examples (its `written_test`:
  present for every layout with a test split, 0 included)."""
  return (examples.has_custom_property('written_test')
          and examples.get_int_custom_property('written_test') == 0)


class Executor(base_executor.BaseExecutor):
  """Writes the dashboard; see the module doc."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    self._log_startup(input_dict, output_dict, exec_properties)
    evaluation = _single_uri(input_dict, 'evaluation')
    pushed = input_dict.get('pushed_model') or []
    pushed = pushed[0] if pushed and pushed[0].get_int_custom_property('pushed') else None
    info = self._context and self._context.pipeline_info
    title, details = evaluation_page.run_heading(
        pipeline=info and info.id, run_id=self._context and self._context.pipeline_run_id,
        model_name=exec_properties['model_name'],
        pushed_to=pushed and pushed.get_string_custom_property('pushed_destination'),
        trained=evaluation is not None)
    registry = (exec_properties.get('registry_root'),
                exec_properties.get('registered_model_name'))
    examples = artifact_utils.get_single_instance(input_dict['examples'])
    evaluation_page.write_evaluation_page(
        evaluation, page_path(artifact_utils.get_single_instance(output_dict['dashboard'])),
        schema_path=io_utils.get_only_uri_in_dir(
            artifact_utils.get_single_uri(input_dict['schema'])),
        examples_uri=examples.uri,
        test_evaluation_uri=_single_uri(input_dict, 'test_evaluation'),
        empty_test_split=empty_test_split(examples),
        data_gate_uri=_single_uri(input_dict, 'data_gate'),
        edge_report_uri=_single_uri(input_dict, 'edge_report'),
        registry=registry if all(registry) else None, title=title, details=details)


def _single_uri(input_dict: Dict[str, List[types.Artifact]], key: str) -> Optional[str]:
  """The uri of an optional input's one artifact, None when the input is absent."""
  artifacts = input_dict.get(key) or []
  return artifact_utils.get_single_uri(artifacts) if artifacts else None


class EvaluationDashboard(base_component.BaseComponent):
  """Writes the evaluation's dashboard (see the module doc).

  Args:
    evaluation: the Evaluator's evaluation; None or an empty channel when the data gate
      blocked training.
    examples: the examples it evaluated (attention maps are drawn from their eval split).
    schema: the pipeline's schema (class names).
    pushed_model: the RegistryPusher's output (where the model went, if anywhere).
    data_gate: the DataGate's output (components/data_gate/result.py), for the Data section.
    test_evaluation: the evaluation of the published test split, if there was one.
    edge_report: the EdgeExport's output (components/edge), if the pushed model was exported.
    model_name: the model's name, for the title.
    code_version: the key of this step's code (pipeline/code_versions.py), so that new
      dashboard code renders again instead of reusing a cached page.
    registry_root, registered_model_name: the filesystem registry and the model's name in it,
      for the History section (none without them).
  """
  SPEC_CLASS = EvaluationDashboardSpec
  EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

  def __init__(self, *, examples: types.BaseChannel, schema: types.BaseChannel,
               model_name: str, evaluation: Optional[types.BaseChannel] = None,
               pushed_model: Optional[types.BaseChannel] = None,
               data_gate: Optional[types.BaseChannel] = None,
               test_evaluation: Optional[types.BaseChannel] = None,
               edge_report: Optional[types.BaseChannel] = None, code_version: str = '',
               registry_root: str = '', registered_model_name: str = ''):
    super().__init__(spec=EvaluationDashboardSpec(
        evaluation=evaluation, examples=examples, schema=schema, pushed_model=pushed_model,
        data_gate=data_gate, test_evaluation=test_evaluation, edge_report=edge_report,
        model_name=model_name,
        code_version=code_version,
        registry_root=registry_root, registered_model_name=registered_model_name,
        dashboard=types.Channel(type=simple_artifacts.File)))
