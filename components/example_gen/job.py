"""The standalone ingestion job: a dataset's layout -> gzipped TFRecord shards per split.

  <output_dir>/<split>/<split>-SSSSS-of-NNNNN.tfrecord.gz
  <output_dir>/quarantine/rejected.jsonl
  <output_dir>/ingest_report.json

A pipeline then imports the shards with `executor.import_example_gen` (ImportExampleGen).
"""
import json
import os
from typing import Any, Dict, List, Optional, Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
import tensorflow as tf

from components.example_gen import ingest
from components.example_gen.layout import Layout, Rejected

TFRECORD_PATTERN = '{split}/*.tfrecord.gz'  # relative to the output dir, per split


def run(layout: Layout, output_dir: str, *, num_shards: int = 16,
        beam_pipeline_args: Optional[Sequence[str]] = None,
        max_quarantined_fraction: float = 1.0) -> Dict[str, Any]:
  """Ingests `layout` into `output_dir`; returns the report (also written as JSON).

  Raises ingest.QuarantineLimitError after writing everything when more than
  `max_quarantined_fraction` of the items were quarantined, or none were found.
  """
  options = PipelineOptions(list(beam_pipeline_args or []))
  with beam.Pipeline(options=options) as pipeline:
    outcomes = ingest.write_dataset(pipeline, layout, output_dir, num_shards)
    ingest.write_accounting(outcomes, output_dir)
  report = ingest.make_report(layout, output_dir)
  ingest.check_quarantine(report, max_quarantined_fraction)
  return report


def read_examples(output_dir: str, split: str) -> List[tf.train.Example]:
  """Every example of `split` that `run` wrote, in shard order (for tests and inspection)."""
  paths = sorted(tf.io.gfile.glob(os.path.join(output_dir, TFRECORD_PATTERN.format(split=split))))
  return [tf.train.Example.FromString(record.numpy())
          for record in tf.data.TFRecordDataset(paths, compression_type='GZIP')]


def read_quarantine(output_dir: str) -> List[Rejected]:
  with tf.io.gfile.GFile(ingest.quarantine_file(output_dir)) as f:
    return [Rejected(**json.loads(line)) for line in f if line.strip()]
