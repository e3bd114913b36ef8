"""The dashboard's "Where the model looks" section: for every scenario slice, worst first, a
few evaluation images, correct and misclassified, with each stage's soft mask overlaid.

Images come from the evaluation split, chosen by a seeded hash of their file name (the same
seed and data give the same images), and are run through the evaluated model's
`attention_maps` signature (components/signatures.py). Counts and bytes are bounded: at most
`per_slice` images a slice and `max_bytes` of embedded JPEGs in all; the slices past the byte
bound are named, with their accuracy, and left undrawn (and unclassified).
"""
import base64
import dataclasses
import heapq
import os
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import tensorflow as tf

from components import evaluation_results
from components import example_files
from components import features
from components import stable_hash
from components.attention_maps import served
from components.dashboard.formatting import escape, percent, size
from components.dashboard.section import Section
from ran_model import attention_maps

TITLE = 'Where the model looks'
_BATCH = 32  # images per call of the signature
EVAL_SPLIT = 'Split-eval'


@dataclasses.dataclass(frozen=True)
class _Example:
  filename: str
  label_text: str  # the true class's name
  encoded: bytes


def _scenario_slices(evaluated: evaluation_results.Evaluation):
  """Single-feature scenario slices, lowest accuracy first (then by name)."""
  scenario = [s for s in evaluated.slices if len(s.key) == 1
              and s.key[0][0].startswith(features.SCENARIO_PREFIX)]
  return sorted(scenario, key=lambda s: (s.accuracy, s.name))


def _read_examples(examples_uri: str) -> Iterator[Tuple[Dict[str, str], _Example]]:
  """(scenario values, example) of every record of the evaluation split."""
  for path in example_files.tfrecord_files([os.path.join(examples_uri, EVAL_SPLIT, '*')]):
    compression = 'GZIP' if path.endswith('.gz') else ''
    for record in tf.data.TFRecordDataset(path, compression_type=compression):
      example = tf.train.Example.FromString(record.numpy())
      values = example.features.feature
      scenario = {key: values[key].bytes_list.value[0].decode('utf-8')
                  for key in values if key.startswith(features.SCENARIO_PREFIX)}
      yield scenario, _Example(
          values[features.IMAGE_FILENAME].bytes_list.value[0].decode('utf-8'),
          values[features.LABEL_TEXT].bytes_list.value[0].decode('utf-8'),
          values[features.IMAGE_ENCODED].bytes_list.value[0])


def _candidates(examples_uri: str, chosen, count: int, seed: int) -> Dict[str, List[_Example]]:
  """Per slice name, its `count` examples of lowest seeded hash of the file name, lowest
  first, in one pass over the split (a bounded max-heap per slice)."""
  heaps: Dict[str, List] = {s.name: [] for s in chosen}
  for scenario, example in _read_examples(examples_uri):
    rank = stable_hash.stable_fraction(example.filename, seed)
    for result in chosen:
      (feature, value), = result.key
      if scenario.get(feature) == str(value):
        heap = heaps[result.name]
        item = (-rank, example.filename, example)  # heapq's smallest: the highest rank
        if len(heap) < count:
          heapq.heappush(heap, item)
        elif -rank > heap[0][0]:
          heapq.heapreplace(heap, item)
  return {name: [item[2] for item in sorted(heap, reverse=True)]
          for name, heap in heaps.items()}


def _one_map_per_stage(explanation: served.Explanation) -> served.Explanation:
  """Keeps the last module's map of each stage (the mask nearest the stage's output)."""
  last = {}
  for address, values in explanation.maps:
    stage, _ = attention_maps.parse_module_address(address)
    last[stage] = (address, values)
  return dataclasses.replace(explanation, maps=tuple(last[s] for s in sorted(last)))


def _explain_new(signature, examples: Sequence[_Example],
                 known: Dict[str, served.Explanation]) -> None:
  """Adds to `known` (file name -> explanation, one map per stage) the `examples` not in it
  yet, `_BATCH` images per call of the signature."""
  new = [example for example in examples if example.filename not in known]
  for start in range(0, len(new), _BATCH):
    batch = new[start:start + _BATCH]
    explanations = served.explain_all(signature, [example.encoded for example in batch])
    for example, explanation in zip(batch, explanations):
      known[example.filename] = _one_map_per_stage(explanation)


def _pick(explained: Sequence[Tuple[_Example, served.Explanation]], count: int):
  """Up to `count`, half of them misclassified when there are that many, in hash order."""
  wrong = [i for i, (e, x) in enumerate(explained) if x.class_name != e.label_text]
  right = [i for i in range(len(explained)) if i not in wrong]
  take_wrong = min(len(wrong), max(count - len(right), count // 2))
  return [explained[i] for i in sorted(wrong[:take_wrong] + right[:count - take_wrong])]


def _stage_title(address: str) -> str:
  """'stage2_attn1' -> 'stage 2' (the section draws one map per stage)."""
  return f'stage {attention_maps.parse_module_address(address)[0]}'


def _figure(example: _Example, explanation: served.Explanation,
            display_size: int) -> Tuple[str, int]:
  """An embedded JPEG figure and its size in bytes."""
  status = 'correct' if explanation.class_name == example.label_text else 'misclassified'
  jpeg = served.render(explanation, title=_stage_title, size=display_size, image_format='JPEG')
  caption = (f'<span class="{status}">{status}</span>: {escape(example.label_text)} predicted '
             f'as {escape(explanation.class_name)} (p={explanation.probability:.2f})'
             f'<br><code>{escape(example.filename)}</code>')
  return (f'<figure class="attention-figure"><img alt="{escape(example.filename)}" '
          f'src="data:image/jpeg;base64,{base64.b64encode(jpeg).decode()}">'
          f'<figcaption>{caption}</figcaption></figure>'), len(jpeg)


def _heading(result: evaluation_results.SliceResult) -> str:
  return (f'<h3>{escape(result.name)}: accuracy {percent(result.accuracy)} on '
          f'{result.examples} examples</h3>')


def attention_section(evaluated: evaluation_results.Evaluation, *, model_dir: str,
                      examples_uri: str, seed: int = 0, per_slice: int = 4,
                      candidates: int = 64, display_size: int = 120,
                      max_bytes: int = 3 * 2**20) -> Optional[Section]:
  """The section, or None when the evaluation has no scenario slice.

  `model_dir`: the evaluated SavedModel (with the `attention_maps` signature);
  `examples_uri`: the Examples artifact it was evaluated on.
  Per slice, the `candidates` examples of lowest seeded hash are classified (in batches), and
  `per_slice` of them drawn: half misclassified when there are that many among them. Once a
  figure would take the embedded JPEGs past `max_bytes`, drawing stops: the remaining slices
  are listed without images.
  """
  chosen = _scenario_slices(evaluated)
  if not chosen:
    return None
  signature = served.load_attention_signature(model_dir)
  pools = _candidates(examples_uri, chosen, candidates, seed)
  known: Dict[str, served.Explanation] = {}  # an image is in several slices' pools
  parts, total, full = [], 0, False
  for result in chosen:
    if full:
      parts.append(_heading(result))
      continue
    pool = pools[result.name]
    _explain_new(signature, pool, known)
    explained = [(example, known[example.filename]) for example in pool]
    figures = []
    for example, explanation in _pick(explained, per_slice):
      html, jpeg_bytes = _figure(example, explanation, display_size)
      if total + jpeg_bytes > max_bytes:
        full = True
        break
      total += jpeg_bytes
      figures.append(html)
    parts.append(_heading(result) + f'<div class="attention-grid">{"".join(figures)}</div>')
  note = (f'<p>Every scenario slice, lowest accuracy first; per slice up to {per_slice} '
          f'evaluation images chosen by a hash of their file name seeded with {seed}, half of '
          f'them misclassified when the slice\'s {candidates} sampled images hold that many. '
          'Each figure shows the image as the model saw it and, per stage, the last attention '
          'module\'s soft mask (mean over channels; bright: amplified) over it.</p>')
  if full:
    note += (f'<p class="note">Images stop where they would take the page past '
             f'{size(max_bytes)} of embedded images; the slices after that point are listed '
             'without them.</p>')
  return Section(TITLE, note + ''.join(parts))
