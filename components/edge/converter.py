"""The blessed SavedModel as a function of pixels, and its TFLite conversions.

The exported SavedModel (components/trainer/serving.py) takes encoded images; an edge device
has pixels. `PixelClassifier` rebuilds the network (ran_model, from the Model artifact's
network.json) with the SavedModel's variables and its input normalisation (the per-channel
mean and std constants of its serving graph), and checks that it answers as the SavedModel's
serve_images signature does on the same images before anything is converted.
"""
import dataclasses
import functools
import json
import os
from typing import List, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tf_keras as keras
from tensorflow.lite.python import convert  # pylint: disable=no-name-in-module
from tensorflow.lite.tools import flatbuffer_utils
from tensorflow.python.framework import tensor_util  # pylint: disable=no-name-in-module

from components import model_files
from components import preprocessing
from components import signatures
import ran_model

# The largest |probability difference| of the rebuilt network against the SavedModel, by the
# policy both compute in. In a mixed policy the SavedModel's graph (fused kernels) rounds
# otherwise than the rebuilt network: on 512 dev eval images, bfloat16 differed by up to 0.031
# (99th percentile 0.005); float16 keeps 3 more bits. A wrong recipe, image size or
# normalisation moves probabilities by tenths.
AGREEMENT_TOLERANCE = {'float32': 1e-3, 'mixed_float16': 0.02, 'mixed_bfloat16': 0.1}
# The Keras policies a serving graph computes in, by the type its layers cast their inputs to.
MIXED_POLICIES = {tf.bfloat16: 'mixed_bfloat16', tf.float16: 'mixed_float16'}
RANGE_BATCH = 10  # calibration images per measured activation range (batch_mean_ranges)
BATCH_MEAN, MIN_MAX = 'batch_mean', 'min_max'  # calibrate's activation ranges


@dataclasses.dataclass(frozen=True)
class Network:
  """What the Trainer recorded of the network (model_files.NETWORK_FILE)."""
  model_name: str
  width_multiplier: float
  image_size: int
  class_names: Tuple[str, ...]


def read_network(model_uri: str) -> Network:
  """The Network of the Model artifact at `model_uri`; ValueError naming it when it has none."""
  path = os.path.join(model_uri, model_files.NETWORK_FILE)
  if not tf.io.gfile.exists(path):
    raise ValueError(f'the model {model_uri} records no {model_files.NETWORK_FILE}: its '
                     'network cannot be rebuilt for conversion')
  with tf.io.gfile.GFile(path) as f:
    values = json.load(f)
  return Network(values['model_name'], values['width_multiplier'], values['image_size'],
                 tuple(values['class_names']))


def _constants(graph_def: tf.compat.v1.GraphDef):
  """Per function body (and the top graph): {node name: node}."""
  yield {node.name: node for node in graph_def.node}
  for function in graph_def.library.function:
    yield {node.name: node for node in function.node_def}


def _channel_constant(nodes, input_name: str):
  """The float [3] value of the Const node `input_name` names, or None."""
  node = nodes.get(input_name.split(':')[0].lstrip('^'))
  if node is None or node.op != 'Const':
    return None
  value = tensor_util.MakeNdarray(node.attr['value'].tensor)
  return value if value.shape == (3,) and value.dtype == np.float32 else None


def normalization(graph_def: tf.compat.v1.GraphDef) -> Tuple[np.ndarray, np.ndarray]:
  """(mean, std), float32 [3] each, of preprocessing.normalize in a serving graph: the one
  RealDiv of a Sub by a [3] constant by a [3] constant. ValueError when there is not exactly
  one."""
  found = []
  for nodes in _constants(graph_def):
    for node in nodes.values():
      if node.op != 'RealDiv':
        continue
      std = _channel_constant(nodes, node.input[1])
      sub = nodes.get(node.input[0].split(':')[0])
      if std is None or sub is None or sub.op != 'Sub':
        continue
      mean = _channel_constant(nodes, sub.input[1])
      if mean is not None:
        found.append((mean, std))
  if len(found) != 1:
    raise ValueError(f'found {len(found)} per-channel normalisations in the serving graph, '
                     'expected one (preprocessing.normalize)')
  return found[0]


def compute_policy(graph_def: tf.compat.v1.GraphDef) -> str:
  """The Keras precision policy a serving graph computes in: the mixed policy whose compute
  type some Cast produces ('mixed_bfloat16', 'mixed_float16'), else 'float32'."""
  cast_to = {node.attr['DstT'].type for nodes in _constants(graph_def)
             for node in nodes.values() if node.op == 'Cast'}
  for dtype, policy in MIXED_POLICIES.items():
    if dtype.as_datatype_enum in cast_to:
      return policy
  return 'float32'


def build_network(network: Network, policy: str) -> keras.Model:
  """`network` built under the Keras precision `policy` (the global policy is restored)."""
  previous = keras.mixed_precision.global_policy()
  keras.mixed_precision.set_global_policy(policy)
  try:
    size = network.image_size
    return ran_model.build_model(
        network.model_name, input_shape=(size, size, 3), classes=len(network.class_names),
        width_multiplier=network.width_multiplier)
  finally:
    keras.mixed_precision.set_global_policy(previous)


class PixelClassifier:
  """The SavedModel at `saved_model_dir`, exported from `network`, on pixels.

  `model`: the network in float32 with the SavedModel's variables; `network_input(pixels)`:
  uint8 [n, size, size, 3] (0..255) -> its normalised float32 input; `uint8_function`: a
  tf.function of uint8 pixels -> probabilities float32 [n, classes], what the TFLite models
  are converted from; `policy`: the precision policy the SavedModel computes in
  (compute_policy)."""

  def __init__(self, saved_model_dir: str, network: Network):
    self.network = network
    served = tf.saved_model.load(saved_model_dir)
    self.serve_images = served.signatures[signatures.SERVE_IMAGES]
    graph_def = self.serve_images.graph.as_graph_def()
    self.mean, self.std = normalization(graph_def)
    self.policy = compute_policy(graph_def)
    self.model = build_network(network, 'float32')
    stored = list(served.model_variables)
    if [v.shape for v in stored] != [v.shape for v in self.model.variables]:
      raise ValueError(f'the SavedModel at {saved_model_dir} does not hold the variables of '
                       f'{network.model_name} (width {network.width_multiplier}, '
                       f'{len(network.class_names)} classes)')
    for target, value in zip(self.model.variables, stored):
      target.assign(value)

  def network_input(self, uint8_pixels) -> tf.Tensor:
    """uint8 [n, size, size, 3] pixels (0..255) -> the network's input: scaled to [0, 1] and
    normalised by the serving graph's mean and std."""
    return preprocessing.normalize(tf.cast(uint8_pixels, tf.float32) / 255.0, self.mean,
                                   self.std)

  def network_in(self, policy: str) -> keras.Model:
    """`model` (the same variables' values) built under the Keras precision `policy`."""
    if policy == 'float32':
      return self.model
    model = build_network(self.network, policy)
    for target, value in zip(model.variables, self.model.variables):
      target.assign(value)
    return model

  @functools.lru_cache(maxsize=None)  # traced once (about 1 s): converted twice, evaluated
  def uint8_function(self):
    """The concrete function the TFLite models are converted from: uint8 [n, size, size, 3]
    pixels (0..255) -> float32 probabilities [n, classes]. TFLite gives its input the shape
    [1, size, size, 3], resizable to any batch."""
    size = self.network.image_size

    @tf.function(input_signature=[tf.TensorSpec([None, size, size, 3], tf.uint8,
                                                 name='pixels')])
    def classify(uint8_pixels):
      return self.model(self.network_input(uint8_pixels), training=False)

    return classify.get_concrete_function()

  def probabilities(self, uint8_pixels: np.ndarray, batch: int = 256) -> np.ndarray:
    """The float model on uint8 [n, size, size, 3] pixels: float32 [n, classes]."""
    classify = self.uint8_function()
    return np.concatenate([classify(tf.constant(uint8_pixels[i:i + batch])).numpy()
                           for i in range(0, len(uint8_pixels), batch)])

  def check_against_saved_model(self, encoded: Sequence[bytes], recipe: str) -> float:
    """The largest |probability difference| of the rebuilt network and the SavedModel's
    serve_images on `encoded` (preprocessed by `recipe`), both computing in the SavedModel's
    precision; ValueError when over its AGREEMENT_TOLERANCE (a wrong recipe, image size,
    normalisation or network). In its own precision: bfloat16 rounding moves a barely trained
    network's saturated probabilities by up to 0.08 against float32 (measured)."""
    policy = self.policy
    model = self.network_in(policy)
    expected = self.serve_images(images=tf.constant(list(encoded)))[signatures.PROBABILITIES]
    unit = preprocessing.eval_images(tf.constant(list(encoded)), self.network.image_size, recipe)
    rebuilt = model(preprocessing.normalize(unit, self.mean, self.std), training=False)
    difference = float(tf.reduce_max(tf.abs(tf.cast(rebuilt, tf.float32) - expected)))
    if difference > AGREEMENT_TOLERANCE[policy]:
      raise ValueError(f'the rebuilt {self.network.model_name} differs from the SavedModel by '
                       f'up to {difference:.2g} in probability on the same images (recipe '
                       f'{recipe!r}, {self.network.image_size} px, {policy}; at most '
                       f'{AGREEMENT_TOLERANCE[policy]:.2g} allowed): not the served model')
    return difference


def _converter(function, classifier: PixelClassifier) -> tf.lite.TFLiteConverter:
  """A converter of `function`, its variables frozen into constants. By default the converter
  saves the function and what holds its variables as a SavedModel first and converts that:
  the Keras model's save traces every layer (measured 2.5 min for attention_56_cifar), and
  even a plain tf.Module's save took half a minute."""
  converter = tf.lite.TFLiteConverter.from_concrete_functions([function], classifier.model)
  converter.experimental_lower_to_saved_model = False
  return converter


def to_float16(classifier: PixelClassifier) -> bytes:
  """float16 weights, float32 computation (the weights widened when loaded); uint8 pixels
  in, float32 probabilities out."""
  converter = _converter(classifier.uint8_function(), classifier)
  converter.optimizations = [tf.lite.Optimize.DEFAULT]
  converter.target_spec.supported_types = [tf.float16]
  return converter.convert()


# Ops the int8 model keeps in float: the classifier head. A quantized SOFTMAX has fixed steps
# of 1/256, so close top-2 classes tie and the argmax takes the lower id (34 of the 1,456 dev
# eval images); the float head costs one small matmul. Keeping the sigmoid masks (LOGISTIC),
# the mask branches or the layers of worst quantization noise in float did not help (README).
FLOAT_OPS = ('FULLY_CONNECTED', 'SOFTMAX')


def calibrated_model(classifier: PixelClassifier, images: np.ndarray) -> bytes:
  """TFLite's calibrate-only conversion for int8: the float model, every tensor to quantize
  carrying the min and max it took on `images` (uint8 [n, size, size, 3])."""
  converter = _converter(classifier.uint8_function(), classifier)
  converter.optimizations = [tf.lite.Optimize.DEFAULT]
  converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
                                         tf.lite.OpsSet.TFLITE_BUILTINS]
  converter.inference_output_type = tf.float32
  converter.representative_dataset = lambda: iter([[images]])
  converter.experimental_mlir_quantizer = True
  converter._experimental_calibrate_only = True  # pylint: disable=protected-access
  return converter.convert()


def batch_mean_ranges(calibrated: bytes, images: np.ndarray, batch: int = RANGE_BATCH) -> bytes:
  """`calibrated` (a TFLite model from a calibrate-only conversion, whose tensors to quantize
  carry a min and max) with each such range replaced by the mean, over the batches of
  `batch` of `images` (uint8 [n, size, size, 3]; all of them when fewer), of the batch's
  min and max of the tensor, widened to hold 0. TFLite's calibrator keeps the extremes of
  every image it sees, so one outlying image sets a range for all and the more images, the
  coarser the steps; averaged batch extremes (as moving-average observers do) clip the rare
  outlier instead."""
  model = flatbuffer_utils.convert_bytearray_to_object(bytearray(calibrated))
  ranged = {index for index, tensor in enumerate(model.subgraphs[0].tensors)
            if tensor.quantization is not None and tensor.quantization.min is not None
            and len(tensor.quantization.min) == 1}
  interpreter = tf.lite.Interpreter(model_content=calibrated,
                                    experimental_preserve_all_tensors=True)
  pixels_index = interpreter.get_input_details()[0]['index']
  batch = min(batch, len(images))
  extremes = {index: [] for index in ranged}
  for start in range(0, len(images) - batch + 1, batch):
    interpreter.resize_tensor_input(pixels_index, [batch, *images.shape[1:]])
    interpreter.allocate_tensors()
    interpreter.set_tensor(pixels_index, images[start:start + batch])
    interpreter.invoke()
    for index in ranged:
      values = interpreter.get_tensor(index)
      extremes[index].append((float(values.min()), float(values.max())))
  for index in ranged:
    low, high = np.mean(extremes[index], axis=0)
    quantization = model.subgraphs[0].tensors[index].quantization
    quantization.min = np.array([min(low, 0.0)], np.float32)
    quantization.max = np.array([max(high, 0.0)], np.float32)
  return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def calibrate(classifier: PixelClassifier, calibration: np.ndarray,
              ranges: str = BATCH_MEAN) -> bytes:
  """The float model of `classifier`, every tensor to quantize carrying its activation range
  from `calibration`, uint8 [n, size, size, 3]: batch_mean_ranges, or MIN_MAX (TFLite's own,
  every image's extremes; the baseline of bench/int8_calibration.py). What `quantize` takes."""
  # What TFLite's QuantizationDebugger does for selective quantization: a calibrate-only
  # conversion, then the quantizer (with ops denied). For BATCH_MEAN the conversion sees one
  # batch: it marks the tensors to quantize, batch_mean_ranges sets their ranges.
  if ranges == MIN_MAX:
    return calibrated_model(classifier, calibration)
  if ranges == BATCH_MEAN:
    return batch_mean_ranges(calibrated_model(classifier, calibration[:RANGE_BATCH]),
                             calibration)
  raise ValueError(f'unknown activation ranges {ranges!r}: {BATCH_MEAN} or {MIN_MAX}')


def to_int8(classifier: PixelClassifier, calibration: np.ndarray, *,
            float_ops: Sequence[str] = FLOAT_OPS, ranges: str = BATCH_MEAN) -> bytes:
  """int8 weights and activations, integer kernels for every op but `float_ops` (TFLite op
  names) and the cast of the uint8 pixels (taken as they are, no rescaling) to the first
  quantized tensor; float32 probabilities out. Activation ranges from `calibration` by
  `ranges` (calibrate)."""
  return quantize(calibrate(classifier, calibration, ranges), float_ops=float_ops)


def quantize(calibrated: bytes, *, float_ops: Sequence[str] = FLOAT_OPS,
             float_nodes: Sequence[str] = ()) -> bytes:
  """The int8 model of `calibrated` (calibrate), per-channel weights, every op quantized at
  its tensors' ranges but the ops of types `float_ops` and those whose output tensor is named
  in `float_nodes` (bench/int8_sensitivity.py)."""
  return convert.mlir_quantize(calibrated, disable_per_channel=False, fully_quantize=False,
                               denylisted_ops=list(float_ops),
                               denylisted_nodes=list(float_nodes) or None)


def op_output_names(model: bytes) -> List[str]:
  """The name of each op's (first) output tensor in a TFLite model, in execution order: how
  `quantize`'s `float_nodes` name ops."""
  found = tf.lite.Interpreter(model_content=model)
  names = {tensor['index']: tensor['name'] for tensor in found.get_tensor_details()}
  return [names[op['outputs'][0]]
          for op in found._get_ops_details()]  # pylint: disable=protected-access
