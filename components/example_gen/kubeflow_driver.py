"""ExampleGen's driver on Kubeflow Pipelines 2 and Vertex AI Pipelines.

KubeflowV2DagRunner gives every FileBasedExampleGen a pre-cache-check hook that runs TFX's own
file-based driver (TFX_DRIVER_MODULE): it globs the split patterns under the input base and
knows neither layouts nor span folders. `use_layout_driver` points a compiled pipeline's hooks
at this module instead, which resolves the span and its fingerprint with the local runner's
driver (`executor.Driver`), so a compiled pipeline ingests the newest span when it runs and an
unchanged span is a cache hit there too.

  python -m components.example_gen.kubeflow_driver --json_serialized_invocation_args JSON
      [--json_serialized_inputs_spec_args JSON] [other flags (Beam's), ignored]
"""
import argparse
import os
import sys
from typing import Any, Dict, List, Optional

from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx.components.example_gen import driver as example_gen_driver
from tfx.components.example_gen import utils as example_gen_utils
from tfx.dsl.io import fileio
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils
from tfx.types import artifact_utils
from tfx.types import standard_component_specs

from components.example_gen import executor

TFX_DRIVER_MODULE = 'tfx.orchestration.kubeflow.v2.file_based_example_gen.driver'
LAYOUT_DRIVER_MODULE = 'components.example_gen.kubeflow_driver'
_RESOLVED_STRINGS = (example_gen_utils.FINGERPRINT_PROPERTY_NAME,
                     standard_component_specs.INPUT_CONFIG_KEY,
                     standard_component_specs.RANGE_CONFIG_KEY)


def resolve(executor_input: pipeline_spec_pb2.ExecutorInput,
            inputs_spec: Optional[pipeline_spec_pb2.ComponentInputsSpec] = None
            ) -> pipeline_spec_pb2.ExecutorOutput:
  """The step's resolved parameters (span, fingerprint, input and range config) and its
  Examples artifact with the span, as the pipeline service takes them before its cache check."""
  exec_properties = kubeflow_v2_entrypoint_utils.parse_execution_properties(
      executor_input.inputs.parameter_values, executor_input.inputs.parameters, inputs_spec)
  exec_properties = executor.Driver(None).resolve_exec_properties(exec_properties, None, None)
  name_from_id = {}
  outputs = kubeflow_v2_entrypoint_utils.parse_raw_artifact_dict(
      executor_input.outputs.artifacts, name_from_id)
  examples = artifact_utils.get_single_instance(outputs[standard_component_specs.EXAMPLES_KEY])
  example_gen_driver.update_output_artifact(exec_properties, examples.mlmd_artifact)
  output = pipeline_spec_pb2.ExecutorOutput()
  output.parameter_values[example_gen_utils.SPAN_PROPERTY_NAME].number_value = (
      exec_properties[example_gen_utils.SPAN_PROPERTY_NAME])
  for key in _RESOLVED_STRINGS:
    output.parameter_values[key].string_value = exec_properties[key]
  output.artifacts[standard_component_specs.EXAMPLES_KEY].artifacts.add().CopyFrom(
      kubeflow_v2_entrypoint_utils.to_runtime_artifact(examples, name_from_id))
  return output


def use_layout_driver(pipeline_spec: Dict[str, Any]) -> None:
  """Points the pre-cache-check hooks of a compiled pipeline spec (the JSON of
  KubeflowV2DagRunner's `job['pipelineSpec']`) that run TFX's file-based driver at this
  module."""
  for spec in pipeline_spec['deploymentSpec']['executors'].values():
    hook = spec.get('container', {}).get('lifecycle', {}).get('preCacheCheck', {})
    command = hook.get('command', [])
    if command[-1:] == [TFX_DRIVER_MODULE]:
      hook['command'] = command[:-1] + [LAYOUT_DRIVER_MODULE]


def main(argv: Optional[List[str]] = None) -> int:
  parser = argparse.ArgumentParser(prog=f'python -m {LAYOUT_DRIVER_MODULE}')
  parser.add_argument('--json_serialized_invocation_args', required=True,
                      help='The ExecutorInput the pipeline service fills in.')
  parser.add_argument('--json_serialized_inputs_spec_args', default=None,
                      help='The component\'s ComponentInputsSpec (pipeline spec 2.1).')
  args, _ = parser.parse_known_args(argv)
  executor_input = json_format.Parse(args.json_serialized_invocation_args,
                                     pipeline_spec_pb2.ExecutorInput(),
                                     ignore_unknown_fields=True)
  inputs_spec = None
  if args.json_serialized_inputs_spec_args:
    inputs_spec = json_format.Parse(args.json_serialized_inputs_spec_args,
                                    pipeline_spec_pb2.ComponentInputsSpec(),
                                    ignore_unknown_fields=True)
  output = resolve(executor_input, inputs_spec)
  fileio.makedirs(os.path.dirname(executor_input.outputs.output_file))
  with fileio.open(executor_input.outputs.output_file, 'w') as f:
    f.write(json_format.MessageToJson(output, sort_keys=True))
  return 0


if __name__ == '__main__':
  sys.exit(main())
