"""Running a converted model: TFLite's interpreter (XNNPACK, its default delegate) on uint8
pixels, batched for evaluation, at batch 1 for latency."""
import statistics
import time
from typing import Callable, Optional

import numpy as np
import tensorflow as tf

from components.edge.report import Latency

EVAL_BATCH = 64  # images per invocation when evaluating


class TfliteClassifier:
  """A TFLite classifier: uint8 [batch, size, size, 3] pixels in, probabilities out.

  `model`: the .tflite file's bytes; `threads`: the interpreter's CPU threads."""

  def __init__(self, model: bytes, *, threads: Optional[int] = None):
    self._interpreter = tf.lite.Interpreter(model_content=model, num_threads=threads)
    self._interpreter.allocate_tensors()
    [self._input] = self._interpreter.get_input_details()
    [self._output] = self._interpreter.get_output_details()
    self._batch = int(self._input['shape'][0])

  @property
  def input_shape(self) -> tuple:
    """The model's input shape at batch 1, e.g. (1, 32, 32, 3)."""
    return (1, *(int(d) for d in self._input['shape'][1:]))

  @property
  def input_dtype(self) -> np.dtype:
    return self._input['dtype']

  @property
  def classes(self) -> int:
    return int(self._output['shape'][-1])

  def _resize(self, batch: int) -> None:
    if batch != self._batch:
      self._interpreter.resize_tensor_input(self._input['index'], [batch, *self.input_shape[1:]])
      self._interpreter.allocate_tensors()
      self._output = self._interpreter.get_output_details()[0]
      self._batch = batch

  def _invoke(self, pixels: np.ndarray) -> np.ndarray:
    self._resize(len(pixels))
    self._interpreter.set_tensor(self._input['index'], pixels)
    self._interpreter.invoke()
    raw = self._interpreter.get_tensor(self._output['index'])
    scale, zero_point = self._output['quantization']
    if raw.dtype == np.float32:
      return raw
    return (raw.astype(np.float32) - zero_point) * scale  # a quantized output

  def probabilities(self, pixels: np.ndarray, batch: int = EVAL_BATCH) -> np.ndarray:
    """`pixels`: uint8 [n, size, size, 3]; returns float32 [n, classes]."""
    if pixels.dtype != self.input_dtype or pixels.shape[1:] != self.input_shape[1:]:
      raise ValueError(f'pixels {pixels.dtype} {list(pixels.shape)}: the model takes '
                       f'{np.dtype(self.input_dtype).name} [n, {", ".join(map(str, self.input_shape[1:]))}]')
    return np.concatenate([self._invoke(pixels[i:i + batch])
                           for i in range(0, len(pixels), batch)]) if len(pixels) else (
                               np.zeros((0, self.classes), np.float32))

  def timed_call(self, image: np.ndarray) -> Callable[[], object]:
    """A call running the model once on `image` (uint8 [1, size, size, 3]), for timing."""
    self._resize(1)
    self._interpreter.set_tensor(self._input['index'], image)
    return self._interpreter.invoke


def time_call(call: Callable[[], object], *, runs: int, threads: int) -> Latency:
  """Median and 90th percentile of `runs` timed calls of `call`, after one untimed call."""
  call()
  times = []
  for _ in range(runs):
    start = time.perf_counter()
    call()
    times.append((time.perf_counter() - start) * 1e3)
  return Latency(median_ms=statistics.median(times),
                 p90_ms=float(np.percentile(times, 90)), threads=threads, runs=runs)


def tflite_latency(model: bytes, image: np.ndarray, *, threads: int, runs: int) -> Latency:
  """ms per image of the TFLite `model` at batch 1 on `image`, with `threads` threads."""
  classifier = TfliteClassifier(model, threads=threads)
  return time_call(classifier.timed_call(image), runs=runs, threads=threads)


def saved_model_latency(serve_images, encoded: bytes, *, runs: int) -> Latency:
  """ms per image of a SavedModel's serve_images signature at batch 1 on `encoded` (JPEG or
  PNG bytes; decoding and preprocessing included), TensorFlow's own thread pools."""
  images = tf.constant([encoded])
  return time_call(lambda: serve_images(images=images), runs=runs,
                   threads=tf.config.threading.get_intra_op_parallelism_threads())
