"""What the edge export found: per TFLite model its file, size, accuracy per slice against the
float model, latency and, for int8, the gate's verdict. Stored as the model card's `edge`
section and as the EdgeExport artifact's `edge_report.json`; read by the dashboard and the
run summary."""
import dataclasses
import json
import os
from typing import Any, Dict, List, Optional, Tuple

import tensorflow as tf

REPORT_FILE = 'edge_report.json'
TFLITE_DIR = 'tflite'  # inside the registry version
FLOAT16 = 'float16'
INT8 = 'int8'
MODEL_FILES = {FLOAT16: 'model_float16.tflite', INT8: 'model_int8.tflite'}
LABELS_FILE = 'labels.txt'


def model_path(kind: str) -> str:
  """A TFLite model's path inside the registry version: 'tflite/model_int8.tflite'."""
  return f'{TFLITE_DIR}/{MODEL_FILES[kind]}'


@dataclasses.dataclass(frozen=True)
class SliceAccuracy:
  """Top-1 accuracy of one slice ('overall', 'scenario/level=5', ...) of the eval split.

  `float_accuracy`: the float model's, the reference of the int8 gate: the trained network in
  float32 arithmetic, on the same pixels (converter.PixelClassifier). `served_accuracy`: the
  SavedModel's as the Evaluator ran it, which computes in the Trainer's precision policy (on a
  CPU with bfloat16 instructions, bfloat16: its rounding alone changes a few answers)."""
  examples: int
  accuracy: float
  float_accuracy: float
  served_accuracy: float

  @property
  def delta(self) -> float:
    """accuracy - float_accuracy: negative when the TFLite model is worse."""
    return self.accuracy - self.float_accuracy

  @property
  def served_delta(self) -> float:
    """served_accuracy - float_accuracy: what the served precision changes."""
    return self.served_accuracy - self.float_accuracy


@dataclasses.dataclass(frozen=True)
class Latency:
  """ms per image at batch 1 over `runs` timed invocations (after one untimed); `threads`:
  the interpreter's, 0 for TensorFlow's own pools (all cores)."""
  median_ms: float
  p90_ms: float
  threads: int
  runs: int


@dataclasses.dataclass(frozen=True)
class EdgeModel:
  """One TFLite conversion of the blessed model.

  `slices`: slice name -> SliceAccuracy, 'overall' first. `written`: whether its file is in
  the registry version (`path`, relative to it); an int8 model failing the gate is not.
  `reasons`: why not written (the gate's failures), empty when written. `agreement`: the share
  of eval images whose top-1 class equals the float model's (float32, as the gate's)."""
  kind: str            # FLOAT16 or INT8
  path: str
  written: bool
  size_bytes: int
  slices: Dict[str, SliceAccuracy]
  agreement: float
  latency: Optional[Latency]
  reasons: Tuple[str, ...] = ()

  @property
  def overall(self) -> SliceAccuracy:
    return self.slices['overall']


@dataclasses.dataclass(frozen=True)
class EdgeReport:
  """The edge export of one registry version.

  `input_shape`: the TFLite models' input, uint8 [1, size, size, 3], RGB pixels after the
  serving preprocessing (`recipe`), before mean/std. `max_drop`: the int8 gate's largest drop
  of accuracy below the float model allowed, overall and on every scenario slice of at least
  `min_slice_size` examples. `float_latency`: the SavedModel's serve_images signature at
  batch 1 (decoding an encoded image included). `served_policy`: the Keras precision policy
  the SavedModel computes in (PixelClassifier.policy; SliceAccuracy's served_accuracy).
  `float_ops`: the TFLite ops the int8 model keeps in float (converter.FLOAT_OPS).
  `settings`: the ExportSettings it was made with and `code_version` the step's code key: a
  later run of the same model with both equal reuses it."""
  models: Dict[str, EdgeModel]
  input_shape: Tuple[int, ...]
  recipe: str
  representative_examples: int
  eval_examples: int
  max_drop: float
  min_slice_size: int
  saved_model_bytes: int
  float_latency: Optional[Latency]
  served_policy: str
  float_ops: Tuple[str, ...] = ()
  settings: Dict[str, Any] = dataclasses.field(default_factory=dict)
  code_version: str = ''

  def to_dict(self) -> Dict[str, Any]:
    return dataclasses.asdict(self)

  @classmethod
  def from_dict(cls, values: Dict[str, Any]) -> 'EdgeReport':
    def latency(entry):
      return Latency(**entry) if entry else None

    def slices(entry):  # the Evaluator's order, which JSON's sorted keys lose: overall first
      return {name: SliceAccuracy(**values) for name, values in sorted(
          entry['slices'].items(), key=lambda item: (item[0] != 'overall', item[0]))}

    models = {kind: EdgeModel(**{
        **entry, 'slices': slices(entry),
        'latency': latency(entry['latency']), 'reasons': tuple(entry['reasons'])})
              for kind, entry in values['models'].items()}
    return cls(**{**values, 'models': models, 'input_shape': tuple(values['input_shape']),
                  'float_latency': latency(values['float_latency']),
                  'float_ops': tuple(values['float_ops'])})

  @property
  def written_files(self) -> List[str]:
    """Paths in the registry version of the TFLite models written, then the labels."""
    return [m.path for m in self.models.values() if m.written] + [
        f'{TFLITE_DIR}/{LABELS_FILE}']


def write_report(report: EdgeReport, directory: str) -> str:
  """Writes `report` as REPORT_FILE into `directory`; returns the file's path."""
  tf.io.gfile.makedirs(directory)
  path = os.path.join(directory, REPORT_FILE)
  with tf.io.gfile.GFile(path, 'w') as f:
    f.write(json.dumps(report.to_dict(), indent=2, sort_keys=True))
  return path


def read_report(directory: str) -> EdgeReport:
  """The EdgeReport in `directory` (an EdgeExport output); ValueError naming it when absent."""
  path = os.path.join(directory, REPORT_FILE)
  if not tf.io.gfile.exists(path):
    raise ValueError(f'{directory} is not an EdgeExport output (no {REPORT_FILE} in it)')
  with tf.io.gfile.GFile(path) as f:
    return EdgeReport.from_dict(json.load(f))
