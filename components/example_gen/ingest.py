"""The Beam transforms of ingestion, shared by the pipeline's ExampleGen and the standalone job.

  sources (a short list) -> items (expanded on the workers) -> Reshuffle -> read -> examples
                                                                                 -> rejected

Every item ends as examples of one split, as a quarantine record, or (left out on purpose by
the layout's options) as skipped, and all three are counted; the counts (`IngestCounts`,
written as `ingest_counts.json`) reconcile: found = written + quarantined (skipped counted
apart). A whole file that could not be read (a LostFile) is listed apart with the number of
records it held, where known, and fails the run unless the layout allows lost files.
"""
import dataclasses
import hashlib
import json
import logging
import os
from typing import Any, Dict, List, NamedTuple, Tuple, Union

import apache_beam as beam
import tensorflow as tf

from components.example_gen import shards
from components.example_gen.layout import (BadInput, Item, Layout, LostFile, REASONS, Rejected,
                                           Skipped)
from components.stable_hash import stable_fraction

REJECTED = 'rejected'
SKIPPED = 'skipped'
LOST = 'lost'
UNKNOWN = 'unknown'  # unaccounted_records when a lost file's record count is not known
COUNTS_FILE = 'ingest_counts.json'
_TALLY_FILE = 'outcome_tally.json'  # Beam's count per key, which write_counts reconciles
_SPLIT, _REASON, _SKIP = 'split:', 'reason:', 'skip:'


class QuarantineLimitError(RuntimeError):
  """More of the input was quarantined than the run allows."""


class LostFilesError(QuarantineLimitError):
  """Whole input files could not be read, and the run does not allow lost files."""


def _tagged(outcome, tag: str):
  if isinstance(outcome, (Rejected, LostFile)):
    if outcome.reason not in REASONS:
      raise ValueError(f'Unknown quarantine reason {outcome.reason!r}; known: {REASONS}')
    return beam.pvalue.TaggedOutput(REJECTED if isinstance(outcome, Rejected) else LOST, outcome)
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
  lost: beam.PCollection      # LostFile


def _items(pipeline: beam.Pipeline, layout: Layout):
  return (pipeline
          | 'Sources' >> beam.Create(layout.sources())
          | 'SpreadSources' >> beam.Reshuffle()
          | 'Items' >> beam.ParDo(_Expand(), layout).with_outputs(
              REJECTED, SKIPPED, LOST, 'items'))


def _outcomes_of(items, done, written: beam.PCollection) -> Outcomes:
  """Outcomes of listing (`items`) and of reading (`done`), each tagged by `_tagged`."""
  return Outcomes(
      written=written,
      rejected=(items[REJECTED], done[REJECTED]) | 'AllRejected' >> beam.Flatten(),
      skipped=(items[SKIPPED], done[SKIPPED]) | 'AllSkipped' >> beam.Flatten(),
      lost=(items[LOST], done[LOST]) | 'AllLost' >> beam.Flatten())


def read_dataset(pipeline: beam.Pipeline, layout: Layout
                 ) -> Tuple[Dict[str, beam.PCollection], Outcomes]:
  """Applies ingestion to `pipeline`: ({split: tf.train.Example}, outcomes to account)."""
  items = _items(pipeline, layout)
  read = (items['items']
          | 'SpreadItems' >> beam.Reshuffle()
          | 'Read' >> beam.ParDo(_Read(), layout).with_outputs(
              REJECTED, SKIPPED, LOST, *layout.splits))
  examples = {split: read[split] for split in layout.splits}
  written = [pcoll | f'Written[{split}]' >> beam.Map(lambda _, split: split, split)
             for split, pcoll in examples.items()]
  return examples, _outcomes_of(items, read, written | 'AllWritten' >> beam.Flatten())


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
             .with_outputs(REJECTED, SKIPPED, LOST, 'written'))
  return _outcomes_of(items, written, written['written'])


def quarantine_file(output_dir: str) -> str:
  """Where the quarantine's JSON lines go under an output dir."""
  return os.path.join(output_dir, 'quarantine', 'rejected.jsonl')


def _lost_files_file(output_dir: str) -> str:
  return os.path.join(output_dir, 'quarantine', 'lost_files.jsonl')


def write_outcomes(outcomes: Outcomes, output_dir: str):
  """Writes the quarantine `quarantine/rejected.jsonl`, the lost files
  `quarantine/lost_files.jsonl` and the tally of every outcome (by split, quarantine reason and
  skip reason) under output_dir, for `write_counts`."""
  for name, pcoll, path in (('Quarantine', outcomes.rejected, quarantine_file(output_dir)),
                            ('LostFiles', outcomes.lost, _lost_files_file(output_dir))):
    _ = (pcoll
         | f'{name}Lines' >> beam.Map(lambda r: json.dumps(r._asdict(), sort_keys=True))
         | f'Write{name}' >> beam.io.WriteToText(path, num_shards=1, shard_name_template=''))
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
  lost_files: List[Dict[str, Any]]  # whole files not read: source, reason, detail, records
  unaccounted_records: Union[int, str]  # the lost files' records: a sum, or UNKNOWN
  allow_lost_files: bool         # whether lost files let the run go on
  absent_classes: Dict[str, int]  # per split: classes without a folder there (a subset)
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
  with tf.io.gfile.GFile(_lost_files_file(output_dir)) as f:
    lost = sorted((json.loads(line) for line in f if line.strip()), key=lambda l: l['source'])
  records = [entry['records'] for entry in lost]
  counts = IngestCounts(
      dataset=layout.dataset, data_root=layout.data_root, found=written + rejected,
      written=written, splits=splits, quarantined=quarantined,
      quarantined_fraction=rejected / max(written + rejected, 1), skipped=skipped,
      quarantine_file=quarantine_file(output_dir), lost_files=lost,
      unaccounted_records=UNKNOWN if None in records else sum(records),
      allow_lost_files=layout.allow_lost_files,
      absent_classes={split: len(names) for split, names in layout.absent_classes().items()},
      span=span)
  with tf.io.gfile.GFile(os.path.join(output_dir, COUNTS_FILE), 'w') as f:
    f.write(counts.to_json())
  return counts


def check_quarantine(counts: IngestCounts, max_fraction: float):
  """Raises LostFilesError when whole files were lost and the counts do not allow it, else
  QuarantineLimitError when more than `max_fraction` of the items were quarantined, or when
  nothing at all was found. Logs a warning for allowed lost files and absent classes."""
  if counts.lost_files:
    files = '; '.join(f"{entry['source']}: {entry['reason']} ({entry['detail']})"
                      for entry in counts.lost_files[:5])
    more = len(counts.lost_files) - 5
    records = (f'{counts.unaccounted_records} records' if counts.unaccounted_records != UNKNOWN
               else 'an unknown number of records')
    summary = (f'{len(counts.lost_files)} whole file(s) could not be read, so {records} are '
               f'unaccounted for: {files}{f"; and {more} more" if more > 0 else ""} (all under '
               f'lost_files in {COUNTS_FILE})')
    if not counts.allow_lost_files:
      raise LostFilesError(f'{summary}. Fix or remove them, or allow lost files '
                           '(--allow_lost_files) to go on without their records')
    logging.warning('%s. Going on without them (allow_lost_files).', summary)
  for split, absent in counts.absent_classes.items():
    if absent:
      logging.warning('%s: %d classes have no %s folder (a subset of the dataset); their '
                      'labels stay in the full class list', counts.data_root, absent, split)
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
