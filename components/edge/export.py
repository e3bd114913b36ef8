"""The edge export of one blessed SavedModel: convert, evaluate per slice, gate, time.

`export_edge_models` returns the EdgeReport and the files for the registry version's tflite/
folder: the float16 model, the int8 model when it passes the gate, and the labels.

The gate's float model is the trained network in float32 arithmetic on the same pixels, not
the Evaluator's figures: the SavedModel computes in the Trainer's precision policy, bfloat16 on
a CPU with bfloat16 instructions, whose rounding alone changes a few answers (against one dev
model's served figures, the float16 model, float32 arithmetic, failed the 1-point gate on two
slices; bench/int8_calibration.py). The report keeps the Evaluator's accuracy beside it.
"""
import dataclasses
import os
import time
from typing import Dict, Sequence, Tuple

from absl import logging
import numpy as np
import tensorflow as tf

from components import evaluation_results
from components.edge import converter
from components.edge import interpreter
from components.edge import pixels
from components.edge import scoring
from components.edge.report import (EdgeModel, EdgeReport, FLOAT16, INT8, LABELS_FILE,
                                    MODEL_FILES, SliceAccuracy, model_path)

CHECK_IMAGES = 8  # eval images on which the rebuilt network must answer as the SavedModel


@dataclasses.dataclass(frozen=True)
class ExportSettings:
  """`representative_examples`: training images calibrating the int8 activations (seeded by
  `seed`) into activation ranges by `ranges` (converter.to_int8); `max_drop`: the int8 gate
  (scoring.gate_failures); `latency_runs`: timed batch-1 invocations per model (0: not
  timed); `threads`: the interpreter's threads when timing at batch 1 (one: on 2 shared
  cores, two threads measured 3-8x slower). Evaluation, in batches, uses every core (two
  threads halved it here)."""
  recipe: str
  max_drop: float = 0.01
  representative_examples: int = 200
  seed: int = 0
  ranges: str = converter.BATCH_MEAN
  latency_runs: int = 30
  threads: int = 1


def _slice_features(specs) -> Tuple[str, ...]:
  return tuple(sorted({key for spec in specs
                       for key in (*spec.feature_keys, *spec.feature_values)}))


@dataclasses.dataclass(frozen=True)
class GateData:
  """The eval split as the int8 gate sees it: `encoded` images, their model inputs `pixels`
  (uint8 [n, size, size, 3]), `labels`, each example's slice `keys` (the Evaluator's slicing
  specs), and `float_top1`, the float32 network's answers on the same pixels: the reference."""
  evaluated: evaluation_results.Evaluation
  encoded: Sequence[bytes]
  pixels: np.ndarray
  labels: np.ndarray
  keys: Sequence[Tuple[evaluation_results.SliceKey, ...]]
  float_top1: np.ndarray
  min_slice_size: int

  def tflite_top1(self, model: bytes) -> np.ndarray:
    """The class ids the TFLite `model` answers on `pixels` (every core)."""
    found = interpreter.TfliteClassifier(model, threads=os.cpu_count())
    return np.argmax(found.probabilities(self.pixels), -1)

  def slices(self, top1: np.ndarray) -> Dict[str, SliceAccuracy]:
    """Per slice, the accuracy of class ids `top1` (int [n]) beside the float model's."""
    return scoring.slice_accuracy(top1, self.float_top1, self.labels, self.keys,
                                  self.evaluated)

  def failures(self, slices: Dict[str, SliceAccuracy], max_drop: float) -> Tuple[str, ...]:
    """The gate's reasons against `slices` (scoring.gate_failures); () when it passes."""
    return scoring.gate_failures(slices, max_drop=max_drop, min_slice_size=self.min_slice_size)


def read_gate_data(classifier: converter.PixelClassifier, eval_files: Sequence[str],
                   evaluated: evaluation_results.Evaluation, recipe: str) -> GateData:
  """The GateData of `eval_files`, the split `evaluated` is the Evaluator's output of, through
  `recipe`'s preprocessing, its reference answers from `classifier`'s float32 network."""
  specs = scoring.slicing_specs(evaluated)
  examples = pixels.read_labelled(eval_files, _slice_features(specs))
  model_inputs = pixels.model_inputs(examples.encoded, classifier.network.image_size, recipe)
  return GateData(evaluated=evaluated, encoded=examples.encoded, pixels=model_inputs,
                  labels=examples.labels, keys=scoring.slice_keys(examples.features, specs),
                  float_top1=np.argmax(classifier.probabilities(model_inputs), -1),
                  min_slice_size=evaluation_results.min_slice_size(evaluated))


SAVED_MODEL_ENTRIES = ('saved_model.pb', 'fingerprint.pb', 'variables', 'assets')


def _saved_model_bytes(saved_model_dir: str) -> int:
  """The bytes of the SavedModel in `saved_model_dir` (not of other files beside it)."""
  total = 0
  for entry in SAVED_MODEL_ENTRIES:
    path = os.path.join(saved_model_dir, entry)
    if tf.io.gfile.isdir(path):
      total += sum(tf.io.gfile.stat(os.path.join(directory, name)).length
                   for directory, _, names in tf.io.gfile.walk(path) for name in names)
    elif tf.io.gfile.exists(path):
      total += tf.io.gfile.stat(path).length
  return total


def export_edge_models(saved_model_dir: str, network: converter.Network, *,
                       train_files: Sequence[str], eval_files: Sequence[str],
                       evaluated: evaluation_results.Evaluation, settings: ExportSettings,
                       code_version: str = '') -> Tuple[EdgeReport, Dict[str, bytes]]:
  """Converts the SavedModel at `saved_model_dir` (exported from `network`) to TFLite float16
  and int8, evaluates both on `eval_files` (the eval split `evaluated` is the Evaluator's
  output of) with the Evaluator's slices, against the float32 network on the same pixels,
  gates the int8 model, times both; returns the report (recording `settings` and
  `code_version`, the step's code key) and {file name: bytes} of the tflite/ folder."""
  started = time.perf_counter()
  classifier = converter.PixelClassifier(saved_model_dir, network)
  size = network.image_size
  data = read_gate_data(classifier, eval_files, evaluated, settings.recipe)
  classifier.check_against_saved_model(data.encoded[:CHECK_IMAGES], settings.recipe)
  calibration = pixels.model_inputs(
      pixels.sample_encoded(train_files, settings.representative_examples, settings.seed),
      size, settings.recipe)
  converted = {FLOAT16: converter.to_float16(classifier),
               INT8: converter.to_int8(classifier, calibration, ranges=settings.ranges)}
  logging.info('Converted in %.1f s', time.perf_counter() - started)
  models = {}
  for kind, model in converted.items():
    top1 = data.tflite_top1(model)
    slices = data.slices(top1)
    reasons = data.failures(slices, settings.max_drop) if kind == INT8 else ()
    latency = interpreter.tflite_latency(
        model, data.pixels[:1], threads=settings.threads,
        runs=settings.latency_runs) if settings.latency_runs else None
    models[kind] = EdgeModel(kind=kind, path=model_path(kind), written=not reasons,
                             size_bytes=len(model), slices=slices,
                             agreement=float(np.mean(top1 == data.float_top1)),
                             latency=latency, reasons=reasons)
  float_latency = interpreter.saved_model_latency(
      classifier.serve_images, data.encoded[0],
      runs=settings.latency_runs) if settings.latency_runs else None
  report = EdgeReport(
      models=models, input_shape=(1, size, size, 3), recipe=settings.recipe,
      representative_examples=len(calibration), eval_examples=len(data.labels),
      max_drop=settings.max_drop, min_slice_size=data.min_slice_size,
      saved_model_bytes=_saved_model_bytes(saved_model_dir), float_latency=float_latency,
      served_policy=classifier.policy,
      float_ops=tuple(converter.FLOAT_OPS), settings=dataclasses.asdict(settings),
      code_version=code_version)
  files = {MODEL_FILES[kind]: converted[kind] for kind, m in models.items() if m.written}
  files[LABELS_FILE] = ''.join(f'{name}\n' for name in network.class_names).encode('utf-8')
  logging.info('Edge export took %.1f s', time.perf_counter() - started)
  return report, files
