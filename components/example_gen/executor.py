"""ExampleGen components whose Beam executor runs the shared ingestion transforms.

`image_example_gen` reads a dataset's published layout; `import_example_gen` imports TFRecords
that were ingested before (by the standalone job, or TF/TPU-style ImageNet shards with 1-based
labels). Both quarantine and count bad input the same way: the Examples artifact holds
`quarantine/rejected.jsonl` and `ingest_counts.json` beside its `Split-*` folders and carries
the counts as custom properties (`found`, `written`, `quarantined`, `skipped`,
`written_<split>`).

Each execution ingests one span of the data root (spans.py: its span-<N>/ folders, or the
root itself as span 0) into its own Examples artifact, which carries TFX's `span` property. The
span comes from TFX's RangeConfig: a rolling range of one span (the default: the newest span,
found by the driver when the step runs) or a static range (a named span). Their driver
fingerprints the span from its layout's label files and folders (`Layout.fingerprint_paths`)
instead of TFX's default stat of every file under the input base, so an unchanged span is a
cache hit.
"""
import functools
import json
from typing import Any, Callable, Dict, Mapping, Optional, Sequence

from google.protobuf import json_format
from google.protobuf import struct_pb2
from tfx.components.example_gen import base_example_gen_executor
from tfx.components.example_gen import driver as example_gen_driver
from tfx.components.example_gen import input_processor
from tfx.components.example_gen import utils as example_gen_utils
from tfx.components.example_gen.component import FileBasedExampleGen
from tfx.components.example_gen.import_example_gen.component import ImportExampleGen
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2
from tfx.proto import range_config_pb2
from tfx.types import artifact_utils
from tfx.types import standard_component_specs
from tfx.utils import proto_utils

from components.example_gen import formats
from components.example_gen import ingest
from components.example_gen import spans
from components.example_gen.formats import tfrecords
from components.example_gen.layout import Layout


def _custom_config(values: Mapping[str, Any]) -> example_gen_pb2.CustomConfig:
  config = example_gen_pb2.CustomConfig()
  config.custom_config.Pack(struct_pb2.Struct(fields={
      key: struct_pb2.Value(string_value=json.dumps(value)) for key, value in values.items()}))
  return config


def config_of(exec_properties: Mapping[str, Any]) -> Dict[str, Any]:
  """The component's custom config: dataset, options, max_quarantined_fraction, code_version."""
  config = example_gen_pb2.CustomConfig()
  json_format.Parse(exec_properties[standard_component_specs.CUSTOM_CONFIG_KEY], config)
  struct = struct_pb2.Struct()
  config.custom_config.Unpack(struct)
  return {key: json.loads(value.string_value) for key, value in struct.fields.items()}


def _layout(exec_properties: Mapping[str, Any], span: int) -> Layout:
  """The layout of span `span` of the component's data root (its input base)."""
  config = config_of(exec_properties)
  data_root = spans.span_root(exec_properties[standard_component_specs.INPUT_BASE_KEY], span)
  return formats.make_layout(config['dataset'], data_root, config['options'])


def _span_range(span: Optional[int]) -> range_config_pb2.RangeConfig:
  """TFX's RangeConfig of one span: `span` (a static range), or the newest one when None (a
  rolling range, resolved by the driver when the step runs)."""
  if span is None:
    return range_config_pb2.RangeConfig(
        rolling_range=range_config_pb2.RollingRange(num_spans=1))
  return range_config_pb2.RangeConfig(
      static_range=range_config_pb2.StaticRange(start_span_number=span, end_span_number=span))


def _resolved_span(exec_properties: Mapping[str, Any]) -> int:
  """The span the driver resolved, from the static range it leaves in the range config (on
  Kubeflow and Vertex the executor gets the step's declared parameters, not `span`)."""
  config = range_config_pb2.RangeConfig()
  proto_utils.json_to_proto(exec_properties[standard_component_specs.RANGE_CONFIG_KEY], config)
  if not config.HasField('static_range'):
    raise RuntimeError('ExampleGen ran without its driver (executor.Driver, or '
                       'kubeflow_driver on Kubeflow and Vertex): no span was resolved')
  return config.static_range.start_span_number


class _LayoutInputProcessor(input_processor.InputProcessor):
  """Spans are the data root's span folders; split "patterns" are split names; a span's
  fingerprint comes from its layout (`layout_of(span)`, which also checks the layout)."""

  def __init__(self, splits, range_config, data_root: str, layout_of: Callable[[int], Layout]):
    super().__init__(splits, range_config)
    self._data_root, self._layout_of = data_root, layout_of

  def get_pattern_for_span_version(self, pattern, span, version):
    return pattern

  def get_latest_span(self) -> int:
    return spans.spans_of(self._data_root)[-1]

  def get_input_fingerprint(self, span, version) -> str:
    return ingest.fingerprint(self._layout_of(span))


class Driver(example_gen_driver.Driver):
  """Resolves the span (TFX's RangeConfig) and its fingerprint from the layout.

  The resolved span replaces a rolling range in the execution's properties by its static
  range, which the executor reads, so a span's cache key is the same whether the run asked for
  the newest span or named it (`span=N`). Kubeflow and Vertex run it through kubeflow_driver.
  """

  def resolve_exec_properties(self, exec_properties, pipeline_info, component_info):
    self._layout_of = functools.partial(_layout, dict(exec_properties))
    exec_properties = super().resolve_exec_properties(exec_properties, pipeline_info,
                                                      component_info)
    exec_properties[standard_component_specs.RANGE_CONFIG_KEY] = proto_utils.proto_to_json(
        _span_range(exec_properties[example_gen_utils.SPAN_PROPERTY_NAME]))
    return exec_properties

  def get_input_processor(self, splits, range_config=None, input_base_uri=None):
    return _LayoutInputProcessor(splits, range_config, input_base_uri, self._layout_of)


class Executor(base_example_gen_executor.BaseExampleGenExecutor):
  """Reads the whole layout once and partitions it into its splits.

  `Do` builds the layout (label files read at launch) once, and names the output artifact's
  folder for the quarantine and counts; `GenerateExamplesByBeam`, which the base `Do` calls,
  uses both.
  """

  def GetInputSourceToExamplePTransform(self):
    raise NotImplementedError('GenerateExamplesByBeam reads every split at once')

  def GenerateExamplesByBeam(self, pipeline, exec_properties):
    examples, outcomes = ingest.read_dataset(pipeline, self._layout)
    ingest.write_outcomes(outcomes, self._output_uri)
    return examples

  def Do(self, input_dict, output_dict, exec_properties):
    examples = artifact_utils.get_single_instance(
        output_dict[standard_component_specs.EXAMPLES_KEY])
    span = _resolved_span(exec_properties)
    self._layout, self._output_uri = _layout(exec_properties, span), examples.uri
    super().Do(input_dict, output_dict, exec_properties)
    counts = ingest.write_counts(self._layout, examples.uri, span=span)
    # TFX's driver records the span as a custom property; the `span` property is what
    # StatisticsGen copies to its statistics and what resolver ops (rolling_range) read.
    examples.span = span
    examples.set_int_custom_property('found', counts.found)
    examples.set_int_custom_property('written', counts.written)
    examples.set_int_custom_property('quarantined', counts.found - counts.written)
    examples.set_int_custom_property('skipped', sum(counts.skipped.values()))
    for split, count in counts.splits.items():
      examples.set_int_custom_property(f'written_{split}', count)
    ingest.check_quarantine(counts, config_of(exec_properties)['max_quarantined_fraction'])


class ImageExampleGen(FileBasedExampleGen):
  """FileBasedExampleGen with the layout-aware driver (see the module docstring)."""
  DRIVER_CLASS = Driver


class ImportImageExampleGen(ImportExampleGen):
  """ImportExampleGen with the same driver and executor, for TFRecords made before.

  TFX's ImportExampleGen.__init__ takes no custom_config or executor, so this one calls
  FileBasedExampleGen's (ImportExampleGen adds nothing else).
  """
  DRIVER_CLASS = Driver

  def __init__(self, **kwargs):
    FileBasedExampleGen.__init__(self, **kwargs)  # pylint: disable=non-parent-init-called


def _component(cls, dataset: str, data_root: str, options: Mapping[str, Any],
               splits: Sequence[str], span: Optional[int], max_quarantined_fraction: float,
               code_version: str):
  formats.check_options(dataset, options)
  if span is not None and span < 0:
    raise ValueError(f'span={span}: must be >= 0')
  return cls(
      input_base=data_root,
      input_config=example_gen_pb2.Input(splits=[
          example_gen_pb2.Input.Split(name=name, pattern=name) for name in splits]),
      range_config=_span_range(span),
      custom_config=_custom_config({
          'dataset': dataset, 'options': dict(options),
          'max_quarantined_fraction': max_quarantined_fraction,
          'code_version': code_version}),
      custom_executor_spec=executor_spec.BeamExecutorSpec(Executor))


def image_example_gen(dataset: str, data_root: str, *, options: Mapping[str, Any] = None,
                      span: Optional[int] = None, max_quarantined_fraction: float = 0.01,
                      code_version: str = '') -> ImageExampleGen:
  """ExampleGen for one span of `dataset`'s published layout at `data_root`, with the
  layout's splits: span `span`, or the newest span when the step runs (None).

  `options` are the layout's reader options (formats.option_names); more than
  `max_quarantined_fraction` of the items quarantined fails the run. `code_version` only takes
  part in TFX's cache key: new reader code, new examples.
  """
  return _component(ImageExampleGen, dataset, data_root, options or {},
                    formats.layout_class(dataset).splits, span, max_quarantined_fraction,
                    code_version)


def import_example_gen(examples_root: str, *, classes_of: str, label_offset: int = 0,
                       split_patterns: Optional[Mapping[str, str]] = None,
                       span: Optional[int] = None, max_quarantined_fraction: float = 0.01,
                       allow_lost_files: bool = False,
                       code_version: str = '') -> ImportImageExampleGen:
  """ImportExampleGen for TFRecords under `examples_root` (or under its span folders: span
  `span`, or the newest when the step runs) whose labels index the classes of dataset
  `classes_of` (its data_schemas/ file).

  Records are checked and brought to the canonical keys (tfrecords.TfRecords): `label_offset`
  is added to every label (-1 for TF/TPU ImageNet shards, whose labels are 1-based).
  `split_patterns` (split -> glob under the root) default to the standalone job's shards.
  `allow_lost_files`: a corrupt or truncated shard is reported instead of failing the run.
  """
  split_patterns = dict(split_patterns or tfrecords.JOB_SPLIT_PATTERNS)
  options = {'classes_of': classes_of, 'label_offset': label_offset,
             'split_patterns': split_patterns, 'allow_lost_files': allow_lost_files}
  return _component(ImportImageExampleGen, tfrecords.TfRecords.dataset, examples_root, options,
                    list(split_patterns), span, max_quarantined_fraction, code_version)
