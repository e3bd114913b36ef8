"""Every run ingests the spans not yet ingested: ExampleGen alone, once per older span.

A pipeline run ingests one span (the newest, or --span N). Spans delivered while no run was
made, or all at once, are ingested before the main run by a partial run of the same pipeline
(same name, node id 'ExampleGen'): each lands in the pipeline's ML Metadata as its own Examples
artifact, with the same cache key a full run would give it, so a later run finds it there
(the Trainer's rolling range, the DataGate's previous span).
"""
import dataclasses
from typing import List, Set

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tfx.orchestration import pipeline as tfx_pipeline
from tfx.orchestration.local.local_dag_runner import LocalDagRunner

from components import example_gen
from pipeline.configs import PipelineConfig
from pipeline.pipeline import create_pipeline

EXAMPLE_GEN = 'ExampleGen'  # the node id create_pipeline gives the ExampleGen step
_SPAN = 'span'              # the Examples artifact's span property (TFX's)


def ingested_spans(connection_config: metadata_store_pb2.ConnectionConfig,
                   pipeline_name: str) -> Set[int]:
  """The spans of the LIVE Examples artifacts node ExampleGen of `pipeline_name` produced."""
  store = metadata_store.MetadataStore(connection_config)
  node = store.get_context_by_type_and_name('node', f'{pipeline_name}.{EXAMPLE_GEN}')
  if node is None:
    return set()
  executions = store.get_executions_by_context(node.id)
  outputs = [event.artifact_id for event in store.get_events_by_execution_ids(
      [execution.id for execution in executions])
             if event.type == metadata_store_pb2.Event.OUTPUT]
  return {artifact.custom_properties[_SPAN].int_value
          for artifact in store.get_artifacts_by_id(outputs)
          if artifact.type == 'Examples' and _SPAN in artifact.custom_properties
          and artifact.state == metadata_store_pb2.Artifact.LIVE}


def input_root(config: PipelineConfig) -> str:
  """The folder ExampleGen reads: the TFRecords to import, or the dataset's data root."""
  return config.examples_dir if config.examples_dir is not None else config.resolved_data_root


def backfill(config: PipelineConfig,
             connection_config: metadata_store_pb2.ConnectionConfig) -> List[int]:
  """Ingests each span of the input root older than the newest that ExampleGen of
  `config.pipeline_name` has not ingested yet, each by a partial run of the pipeline (ExampleGen
  only) with `span` set. Returns those spans, ascending (printed as they go)."""
  older = example_gen.spans_of(input_root(config))[:-1]
  missing = sorted(set(older) - ingested_spans(connection_config, config.pipeline_name))
  for span in missing:
    print(f'Backfilling span {span} (ingesting it alone) ...', flush=True)
    pipeline = create_pipeline(dataclasses.replace(config, span=span),
                               metadata_connection_config=connection_config)
    LocalDagRunner().run(
        pipeline, run_options=tfx_pipeline.RunOptions(
            from_nodes=[EXAMPLE_GEN], to_nodes=[EXAMPLE_GEN]))
  return missing
