"""The standalone ingestion job: one span of a dataset's layout -> gzipped TFRecord shards per
split.

  <output_dir>/<split>/<split>-SSSSS-of-NNNNN.tfrecord.gz   (components/example_gen/shards.py)
  <output_dir>/quarantine/rejected.jsonl
  <output_dir>/ingest_counts.json

A pipeline then imports the shards with `import_example_gen` (ImportExampleGen).
"""
from typing import Optional, Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from components.example_gen import ingest
from components.example_gen.layout import Layout


def run(layout: Layout, output_dir: str, *, span: int = 0, num_shards: int = 16,
        beam_pipeline_args: Optional[Sequence[str]] = None,
        max_quarantined_fraction: float = 1.0) -> ingest.IngestCounts:
  """Ingests `layout` (span `span` of a data root, recorded in the counts) into `output_dir`;
  returns the counts (also written as JSON).

  Raises ingest.QuarantineLimitError after writing everything when more than
  `max_quarantined_fraction` of the items were quarantined, or none were found.
  """
  options = PipelineOptions(list(beam_pipeline_args or []))
  with beam.Pipeline(options=options) as pipeline:
    outcomes = ingest.write_dataset(pipeline, layout, output_dir, num_shards)
    ingest.write_outcomes(outcomes, output_dir)
  counts = ingest.write_counts(layout, output_dir, span=span)
  ingest.check_quarantine(counts, max_quarantined_fraction)
  return counts
