"""A FileBasedExampleGen whose Beam executor reads any registered dataset format.

Reading is parallel across files (Beam matches the split's glob, reshuffles the file list and
converts each file on whichever worker holds it), so the same code runs on the DirectRunner
and on Dataflow.
"""
import os
from typing import Any, Dict

import apache_beam as beam
from apache_beam.io import fileio
from google.protobuf import json_format
from google.protobuf import struct_pb2
import tensorflow as tf
from tfx.components.example_gen import base_example_gen_executor
from tfx.components.example_gen.component import FileBasedExampleGen
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2
from tfx.types import standard_component_specs

from components.example_gen import formats


def _custom_config(**values: str) -> example_gen_pb2.CustomConfig:
  config = example_gen_pb2.CustomConfig()
  config.custom_config.Pack(struct_pb2.Struct(fields={
      key: struct_pb2.Value(string_value=value) for key, value in values.items()}))
  return config


def _dataset_of(exec_properties: Dict[str, Any]) -> str:
  config = example_gen_pb2.CustomConfig()
  json_format.Parse(exec_properties[standard_component_specs.CUSTOM_CONFIG_KEY], config)
  struct = struct_pb2.Struct()
  config.custom_config.Unpack(struct)
  return struct['dataset']


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
@beam.typehints.with_output_types(tf.train.Example)
def ReadImageDataset(pipeline: beam.Pipeline, exec_properties: Dict[str, Any],
                     split_pattern: str) -> beam.PCollection:
  """Every file matching `split_pattern` under the input base, as canonical tf.Examples."""
  data_root = exec_properties[standard_component_specs.INPUT_BASE_KEY]
  dataset_format = formats.get_format(_dataset_of(exec_properties))
  return (pipeline
          | 'MatchFiles' >> fileio.MatchFiles(os.path.join(data_root, split_pattern))
          | 'Paths' >> beam.Map(lambda metadata: metadata.path)
          | 'Distribute' >> beam.Reshuffle()
          | 'ToExample' >> beam.Map(dataset_format.example_from_file, data_root))


class Executor(base_example_gen_executor.BaseExampleGenExecutor):

  def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
    return ReadImageDataset


def image_example_gen(dataset: str, data_root: str, *,
                      code_version: str = '') -> FileBasedExampleGen:
  """ExampleGen for `dataset` at `data_root`, with the layout's own splits.

  `code_version` only takes part in TFX's cache key: new reader code, new examples.
  """
  dataset_format = formats.get_format(dataset)
  splits = [example_gen_pb2.Input.Split(name=name, pattern=pattern)
            for name, pattern in dataset_format.SPLIT_PATTERNS.items()]
  return FileBasedExampleGen(
      input_base=data_root,
      input_config=example_gen_pb2.Input(splits=splits),
      custom_config=_custom_config(dataset=dataset, code_version=code_version),
      custom_executor_spec=executor_spec.BeamExecutorSpec(Executor))
