"""The Beam transforms of ingestion, shared by the pipeline's ExampleGen and the standalone job.

  sources (a short list) -> items (expanded on the workers) -> Reshuffle -> read -> examples
                                                                                 -> rejected

Every item ends as examples of one split, as a quarantine record, or (left out on purpose by
the layout's options) as skipped, and all three are counted; the counts (`IngestCounts`,
written as `ingest_counts.json`) reconcile: found = written + quarantined (skipped counted
apart).
"""
import dataclasses
import hashlib
import json
import os
from typing import Any, Dict, NamedTuple, Tuple

import apache_beam as beam
import tensorflow as tf

from components.example_gen import shards
from components.example_gen.layout import BadInput, Item, Layout, REASONS, Rejected, Skipped
from components.stable_hash import stable_fraction

REJECTED = 'rejected'
SKIPPED = 'skipped'
COUNTS_FILE = 'ingest_counts.json'
_TALLY_FILE = 'outcome_tally.json'  # Beam's count per key, which write_counts reconciles
_SPLIT, _REASON, _SKIP = 'split:', 'reason:', 'skip:'


class QuarantineLimitError(RuntimeError):
  """More of the input was quarantined than the run allows."""


def _tagged(outcome, tag: str):
  if isinstance(outcome, Rejected):
    if outcome.reason not in REASONS:
      raise ValueError(f'Unknown quarantine reason {outcome.reason!r}; known: {REASONS}')
    return beam.pvalue.TaggedOutput(REJECTED, outcome)
  if isinstance(outcome, Skipped):
    return beam.pvalue.TaggedOutput(SKIPPED, outcome)
  return beam.pvalue.TaggedOutput(tag, outcome)


class _Expand(beam.DoFn):

  def process(self, source: Any, layout: Layout):
    for entry in layout.items(source):
      yield _tagged(entry, 'items')


def _outcomes(item: Item, layout: Layout):
  """`layout.read(item)`, with an item-wide BadInput turned into its Rejected."""
  try:
    yield from layout.read(item)
  except BadInput as error:
    yield Rejected.of(item.source, error)


class _Read(beam.DoFn):

  def process(self, item: Item, layout: Layout):
    for outcome in _outcomes(item, layout):
      yield _tagged(outcome, item.split)


class Outcomes(NamedTuple):
  written: beam.PCollection   # the split of every example written
  rejected: beam.PCollection  # Rejected
  skipped: beam.PCollection   # Skipped


def _items(pipeline: beam.Pipeline, layout: Layout):
  return (pipeline
          | 'Sources' >> beam.Create(layout.sources())
          | 'SpreadSources' >> beam.Reshuffle()
          | 'Items' >> beam.ParDo(_Expand(), layout).with_outputs(REJECTED, SKIPPED, 'items'))


def read_dataset(pipeline: beam.Pipeline, layout: Layout
                 ) -> Tuple[Dict[str, beam.PCollection], Outcomes]:
  """Applies ingestion to `pipeline`: ({split: tf.train.Example}, outcomes to account)."""
  items = _items(pipeline, layout)
  read = (items['items']
          | 'SpreadItems' >> beam.Reshuffle()
          | 'Read' >> beam.ParDo(_Read(), layout).with_outputs(REJECTED, SKIPPED, *layout.splits))
  examples = {split: read[split] for split in layout.splits}
  written = [pcoll | f'Written[{split}]' >> beam.Map(lambda _, split: split, split)
             for split, pcoll in examples.items()]
  return examples, Outcomes(
      written=written | 'AllWritten' >> beam.Flatten(),
      rejected=(items[REJECTED], read[REJECTED]) | 'AllRejected' >> beam.Flatten(),
      skipped=(items[SKIPPED], read[SKIPPED]) | 'AllSkipped' >> beam.Flatten())


class _WriteShard(beam.DoFn):
  """Reads one shard's items and writes its file; image bytes never cross a shuffle."""

  def process(self, shard_items, layout: Layout, directory: str, num_shards: int):
    (split, shard), items = shard_items
    items = sorted((i for i in items if i is not None),
                   key=lambda i: stable_fraction(i.source, layout.seed))
    path = shards.shard_path(directory, split, shard, num_shards)
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.TFRecordWriter(path + '.partial', options='GZIP') as writer:
      for item in items:
        for outcome in _outcomes(item, layout):
          if isinstance(outcome, tf.train.Example):
            writer.write(outcome.SerializeToString(deterministic=True))
            outcome = split
          yield _tagged(outcome, 'written')
    tf.io.gfile.rename(path + '.partial', path, overwrite=True)


def write_dataset(pipeline: beam.Pipeline, layout: Layout, directory: str,
                  num_shards: int) -> Outcomes:
  """Writes the `shards` layout under `directory` deterministically: an
  item's shard and its place in the shard come from a seeded hash of its source, and each
  shard is read and written by one worker, so the same input and seed give the same files on
  any runner (only item paths are shuffled, never image bytes)."""
  if num_shards < 1:
    raise ValueError(f'num_shards={num_shards}: must be >= 1')
  items = _items(pipeline, layout)
  every_shard = pipeline | 'EveryShard' >> beam.Create(
      [((split, shard), None) for split in layout.splits for shard in range(num_shards)])
  written = ((items['items'] | 'ToShard' >> beam.Map(
      lambda i: ((i.split, int(stable_fraction(i.source, layout.seed) * num_shards)), i)),
              every_shard)
             | 'WithEmptyShards' >> beam.Flatten()
             | 'GroupShards' >> beam.GroupByKey()
             | 'WriteShards' >> beam.ParDo(_WriteShard(), layout, directory, num_shards)
             .with_outputs(REJECTED, SKIPPED, 'written'))
  return Outcomes(
      written=written['written'],
      rejected=(items[REJECTED], written[REJECTED]) | 'AllRejected' >> beam.Flatten(),
      skipped=(items[SKIPPED], written[SKIPPED]) | 'AllSkipped' >> beam.Flatten())


def quarantine_file(output_dir: str) -> str:
  """Where the quarantine's JSON lines go under an output dir."""
  return os.path.join(output_dir, 'quarantine', 'rejected.jsonl')


def write_outcomes(outcomes: Outcomes, output_dir: str):
  """Writes the quarantine `quarantine/rejected.jsonl` and the tally of every outcome (by
  split, quarantine reason and skip reason) under output_dir, for `write_counts`."""
  _ = (outcomes.rejected
       | 'QuarantineLines' >> beam.Map(lambda r: json.dumps(r._asdict(), sort_keys=True))
       | 'WriteQuarantine' >> beam.io.WriteToText(
           quarantine_file(output_dir), num_shards=1, shard_name_template=''))
  _ = ((outcomes.written | 'KeyWritten' >> beam.Map(lambda split: _SPLIT + split),
        outcomes.rejected | 'KeyRejected' >> beam.Map(lambda r: _REASON + r.reason),
        outcomes.skipped | 'KeySkipped' >> beam.Map(lambda s: _SKIP + s.reason))
       | 'AllKeys' >> beam.Flatten()
       | 'Count' >> beam.combiners.Count.PerElement()
       | 'Collect' >> beam.combiners.ToDict()
       | 'TallyJson' >> beam.Map(json.dumps, sort_keys=True)
       | 'WriteTally' >> beam.io.WriteToText(os.path.join(output_dir, _TALLY_FILE),
                                             num_shards=1, shard_name_template=''))


@dataclasses.dataclass(frozen=True)
class IngestCounts:
  """What ingesting one layout found and did: found = written + sum(quarantined.values());
  skipped items (left out by the layout's options) are outside found."""
  dataset: str
  data_root: str
  found: int                     # items
  written: int                   # examples
  splits: Dict[str, int]         # examples written per split
  quarantined: Dict[str, int]    # items quarantined per reason
  quarantined_fraction: float    # of found
  skipped: Dict[str, int]        # items skipped per reason
  quarantine_file: str           # the quarantine's JSON lines
  span: int = 0                  # of the data root (components/example_gen/spans.py)

  def to_json(self) -> str:
    return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + '\n'


def write_counts(layout: Layout, output_dir: str, *, span: int = 0) -> IngestCounts:
  """Reconciles the tally that `write_outcomes` wrote for `layout`, span `span` of its data
  root; writes and returns the counts (`ingest_counts.json` under output_dir)."""
  with tf.io.gfile.GFile(os.path.join(output_dir, _TALLY_FILE)) as f:
    tally = json.loads(f.read() or '{}')
  splits = {split: tally.get(_SPLIT + split, 0) for split in layout.splits}
  quarantined, skipped = ({key[len(prefix):]: n for key, n in sorted(tally.items())
                           if key.startswith(prefix)} for prefix in (_REASON, _SKIP))
  written, rejected = sum(splits.values()), sum(quarantined.values())
  counts = IngestCounts(
      dataset=layout.dataset, data_root=layout.data_root, found=written + rejected,
      written=written, splits=splits, quarantined=quarantined,
      quarantined_fraction=rejected / max(written + rejected, 1), skipped=skipped,
      quarantine_file=quarantine_file(output_dir), span=span)
  with tf.io.gfile.GFile(os.path.join(output_dir, COUNTS_FILE), 'w') as f:
    f.write(counts.to_json())
  return counts


def check_quarantine(counts: IngestCounts, max_fraction: float):
  """Raises QuarantineLimitError when more than `max_fraction` of the items were quarantined,
  or when nothing at all was found."""
  if counts.found == 0:
    raise QuarantineLimitError(f'No items found under {counts.data_root} for dataset '
                               f'{counts.dataset!r}: is this the right layout?')
  if counts.quarantined_fraction > max_fraction:
    total = sum(counts.quarantined.values())
    raise QuarantineLimitError(
        f'{total} of {counts.found} items ({counts.quarantined_fraction:.2%}) were '
        f'quarantined, over the limit of {max_fraction:.2%} (max_quarantined_fraction); '
        f'reasons {counts.quarantined}; see {counts.quarantine_file}')


def fingerprint(layout: Layout) -> str:
  """A digest of the size and modification time of the layout's fingerprint paths (label
  files, class folders): a changed dataset gets a new fingerprint without a stat per image."""
  lines = [f'dataset:{layout.dataset}']
  for path in layout.fingerprint_paths():
    try:
      stat = tf.io.gfile.stat(path)
      lines.append(f'{path}:{stat.length}:{stat.mtime_nsec}')
    except tf.errors.NotFoundError:  # object stores have no folders to stat
      lines.append(f'{path}:-')
  return hashlib.sha256('\n'.join(lines).encode()).hexdigest()
