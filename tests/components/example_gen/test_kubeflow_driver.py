"""ExampleGen's driver on Kubeflow Pipelines 2 / Vertex AI: the compiled hook runs the layout
driver, which resolves the newest span and its fingerprint from the step's real parameters."""
import json
import os

from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx import v1 as tfx
from tfx.proto import range_config_pb2
from tfx.utils import proto_utils

from components import example_gen
from components.example_gen import ingest
from components.example_gen import kubeflow_driver
from components.example_gen import sample


def _compiled_example_gen(data_root, tmp_path):
  """The pipeline spec (JSON) of a pipeline holding only ExampleGen, as KubeflowV2DagRunner
  compiles it, with the layout driver in its hook."""
  runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
      config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
          default_image='ran-tfx:test', use_pipeline_spec_2_1=True))
  pipeline = tfx.dsl.Pipeline(
      pipeline_name='spans', pipeline_root=str(tmp_path / 'root'),
      components=[example_gen.image_example_gen('cure_tsr', data_root).with_id('ExampleGen')])
  spec = runner.run(pipeline, write_out=False)['pipelineSpec']
  kubeflow_driver.use_layout_driver(spec)
  return spec


def _executor_input(spec, output_file, examples_uri) -> pipeline_spec_pb2.ExecutorInput:
  """What the pipeline service hands the hook: the task's parameters, the output artifact."""
  task = spec['root']['dag']['tasks']['ExampleGen']
  parameters = {name: value['runtimeValue']['constant']
                for name, value in task['inputs']['parameters'].items()}
  return json_format.ParseDict({
      'inputs': {'parameterValues': parameters},
      'outputs': {'artifacts': {'examples': {'artifacts': [{
          'name': 'examples', 'type': {'schemaTitle': 'tfx.Examples'}, 'uri': examples_uri}]}},
                  'outputFile': output_file}}, pipeline_spec_pb2.ExecutorInput())


def test_the_compiled_hook_resolves_the_newest_span_by_layout(tmp_path):
  data_root = tmp_path / 'data'
  for span in (1, 2):
    sample.render_sample(str(data_root / f'span-{span}'), seed=span, train_per_class=1,
                         test_per_class=1, challenges=('snow',), levels=(2,),
                         sequences=('unreal',))
  spec = _compiled_example_gen(str(data_root), tmp_path)
  component = spec['components'][spec['root']['dag']['tasks']['ExampleGen']['componentRef']['name']]
  hook = spec['deploymentSpec']['executors'][component['executorLabel']]['container'][
      'lifecycle']['preCacheCheck']
  assert hook['command'] == ['python', '-m', 'components.example_gen.kubeflow_driver']
  output_file = str(tmp_path / 'driver' / 'output_metadata.json')
  executor_input = _executor_input(spec, output_file, str(tmp_path / 'examples'))
  assert kubeflow_driver.main([
      '--json_serialized_invocation_args', json_format.MessageToJson(executor_input),
      '--json_serialized_inputs_spec_args', json.dumps(component['inputDefinitions']),
      '--runner=DirectRunner']) == 0
  with open(output_file) as f:
    output = json_format.Parse(f.read(), pipeline_spec_pb2.ExecutorOutput())
  values = output.parameter_values
  assert values['span'].number_value == 2
  newest = example_gen.make_layout('cure_tsr', os.path.join(str(data_root), 'span-2'))
  assert values['input_fingerprint'].string_value == ingest.fingerprint(newest)
  static = proto_utils.json_to_proto(values['range_config'].string_value,
                                     range_config_pb2.RangeConfig())
  assert static.static_range.start_span_number == static.static_range.end_span_number == 2
  [examples] = output.artifacts['examples'].artifacts
  assert examples.metadata['custom:span'] == 2 and examples.uri == str(tmp_path / 'examples')
