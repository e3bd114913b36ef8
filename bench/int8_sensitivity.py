"""Where int8 loses the float model's answers: each part of the network alone in int8.

On a finished run's pushed model, the edge export's int8 conversion (components/edge/
converter.py: batch-mean ranges from `--representative_examples` seeded training images, the
classifier head in float) scored as the edge gate scores it (components/edge/export.py:
against the float32 network on the eval split's pixels, per scenario slice), and then the
same calibrated model with only one part of the network quantized and the rest left in float:
each stage, then each kind of part across the stages (the attention modules' mask branches,
trunks, pre/post units and (1 + mask) x trunk outputs; the residual units outside modules).
Beside them, other roundings: the float16 TFLite model, the network in bfloat16 (how the
SavedModel serves on CPUs with bfloat16 instructions) and TFLite's 16x8 mode (int16
activations, int8 weights), each TFLite model's batch-1 latency with one thread beside it.

`--qat_steps N ...` adds quantization-aware training (tensorflow-model-optimization's 8-bit
scheme): a copy of the network with fake-quantized weights and activations, its activation
ranges started at the same batch-mean ranges, batch norms frozen, fine-tuned to the float32
network's probabilities on training images (distillation: the gate's reference is the float
model, not the labels), converted to int8 after each N steps.

Printed per variant: agreement of its top-1 with the float32 network, accuracy, answers lost
and gained against it, the scenario slices failing the 1-point gate, and ms per image. Usage
(the artifact folders of a local run that pushed its model, as for bench/int8_calibration.py):
  python bench/int8_sensitivity.py --registry_version outputs/registry/ran-dev/1 \\
      --model outputs/pipeline/ran-dev/Trainer/model/<id> \\
      --examples outputs/pipeline/ran-dev/ExampleGen/examples/<id> \\
      --evaluation outputs/pipeline/ran-dev/Evaluator/evaluation/<id> [--qat_steps 50 150]
Writes `--output_csv` (default bench/results/int8_sensitivity.csv).
"""
import argparse
import os
import re
import time
from typing import Dict, Iterator, List, Sequence, Tuple

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')  # one Keras (Keras 2) before TF loads
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position
import tf_keras as keras  # pylint: disable=g-import-not-at-top,wrong-import-position

from bench import pushed_model  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import report  # pylint: disable=g-import-not-at-top,wrong-import-position
from components import evaluation_results  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge import converter  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge import export  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge import interpreter  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge import pixels  # pylint: disable=g-import-not-at-top,wrong-import-position
from ran_model import layers as ran_layers  # pylint: disable=g-import-not-at-top,wrong-import-position

# The kinds of part, by the Keras layer an op comes from (ran_model's layer names).
PARTS = (('mask branches', r'stage\d_attn\d+_mask'), ('trunks', r'stage\d_attn\d+_trunk'),
         ('(1 + mask) x trunk', r'stage\d_attn\d+_(attended|out)\b'),
         ('pre/post units', r'stage\d_attn\d+_(pre|post)'),
         ('units outside modules', r'stage\d_res'), ('stem', r'stem_'),
         ('head', r'final_|avg_pool|logits'))
WHOLE_STAGES = ('stem', 'head')  # parts that are also stages
QAT_BATCH = 32
LATENCY_RUNS = 20  # batch-1 calls timed per model, one interpreter thread


def layer_name(op_output: str) -> str:
  """The Keras layer of a TFLite op, from its output tensor's name: the last of the fused
  names ('.../stage1_res1_preact_relu/Relu;.../stem_conv/Conv2D' is the stem's conv)."""
  parts = op_output.split(';')[-1].split('/')
  return parts[1] if len(parts) > 2 else parts[0]


def part(layer: str) -> str:
  """The kind of part (PARTS) Keras layer `layer` belongs to; 'outside' for the ops around
  the network (the pixels' normalisation before it, the function's output after it)."""
  return next((name for name, pattern in PARTS if re.match(pattern, layer)), 'outside')


def stage(layer: str) -> str:
  """'stage1'..'stage4', or the part for the layers outside the stages."""
  found = re.match(r'stage\d', layer)
  return found.group(0) if found else part(layer)


def score(name: str, top1: np.ndarray, data: export.GateData, max_drop: float) -> Dict:
  slices = data.slices(top1)
  failing = data.failures(slices, max_drop)
  float_right, right = data.float_top1 == data.labels, top1 == data.labels
  return {'variant': name, 'agreement': float(np.mean(top1 == data.float_top1)),
          'accuracy': float(np.mean(right)), 'lost': int(np.sum(float_right & ~right)),
          'gained': int(np.sum(right & ~float_right)), 'failing': len(failing),
          'failing_slices': ' '.join(reason.split(':')[0].split('/')[-1] for reason in failing)}


def bfloat16_top1(classifier: converter.PixelClassifier, data: export.GateData) -> np.ndarray:
  """The network in mixed_bfloat16, the float32 network's weights, on the gate's pixels."""
  model = classifier.network_in('mixed_bfloat16')
  return np.concatenate([
      np.argmax(model(classifier.network_input(data.pixels[i:i + 256]), training=False), -1)
      for i in range(0, len(data.pixels), 256)])


def to_16x8(classifier: converter.PixelClassifier, calibration: np.ndarray) -> bytes:
  """TFLite's 16x8 mode: int16 activations (ranges: TFLite's calibrator on `calibration`),
  int8 weights; uint8 pixels in, float32 probabilities out."""
  tflite = tf.lite.TFLiteConverter.from_concrete_functions([classifier.uint8_function()],
                                                           classifier.model)
  tflite.experimental_lower_to_saved_model = False
  tflite.optimizations = [tf.lite.Optimize.DEFAULT]
  tflite.representative_dataset = lambda: iter([[calibration]])
  tflite.target_spec.supported_ops = [
      tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
      tf.lite.OpsSet.TFLITE_BUILTINS]
  tflite.inference_output_type = tf.float32
  return tflite.convert()


def _annotated_copy(model: keras.Model, output_config) -> keras.Model:
  """`model` with every layer annotated for quantization: the layers tfmot's 8-bit registry
  does not know (Multiply, a batch norm after an add, ran_model's two layers) quantize their
  output; a batch norm after a conv folds into it."""
  import tensorflow_model_optimization as tfmot  # pylint: disable=g-import-not-at-top
  annotate = tfmot.quantization.keras.quantize_annotate_layer

  def clone(layer):
    copy = layer.__class__.from_config(layer.get_config())
    if isinstance(layer, keras.layers.InputLayer):
      return copy
    after_conv = isinstance(layer, keras.layers.BatchNormalization) and isinstance(
        layer.inbound_nodes[0].inbound_layers, keras.layers.Conv2D)
    own = (keras.layers.Multiply, keras.layers.BatchNormalization, ran_layers.ResizeToMatch,
           ran_layers.AttentionActivation)
    return annotate(copy, output_config() if isinstance(layer, own) and not after_conv else None)

  annotated = keras.models.clone_model(model, clone_function=clone)
  annotated.set_weights(model.get_weights())
  return annotated


def _set_batch_mean_ranges(qat: keras.Model, model: keras.Model, inputs: tf.Tensor) -> None:
  """Starts each fake-quantized activation of `qat` at the mean over batches of
  converter.RANGE_BATCH `inputs` of the float `model`'s extremes there (as the PTQ export)."""
  ranges = {}
  for wrapper in qat.layers:
    variables = {v.name.split('/')[-1].split(':')[0]: v for v in wrapper.non_trainable_variables}
    for low, high in (('output_min', 'output_max'), ('post_activation_min',
                                                     'post_activation_max')):
      if low in variables:
        ranges[model.get_layer(wrapper.name[len('quant_'):]).output.ref()] = (
            variables[low], variables[high])
    if 'quantize_layer_min' in variables:
      ranges[model.input.ref()] = (variables['quantize_layer_min'],
                                   variables['quantize_layer_max'])
  tensors = [ref.deref() for ref in ranges]
  probe = keras.Model(model.input, tensors)
  extremes = []
  for start in range(0, len(inputs), converter.RANGE_BATCH):
    values = probe(inputs[start:start + converter.RANGE_BATCH], training=False)
    extremes.append([(float(tf.reduce_min(v)), float(tf.reduce_max(v))) for v in values])
  for (low, high), (mean_low, mean_high) in zip(ranges.values(), np.mean(extremes, axis=0)):
    low.assign(min(mean_low, 0.0))
    high.assign(max(mean_high, 0.0))


def qat_int8(classifier: converter.PixelClassifier, calibration: np.ndarray,
             train_pixels: np.ndarray, steps: Sequence[int], learning_rate: float,
             seed: int) -> Iterator[Tuple[int, float, bytes]]:
  """Quantization-aware fine-tuning of `classifier`'s network toward its own float32
  probabilities on `train_pixels` (uint8), in batches of QAT_BATCH; yields (steps done,
  seconds trained, the int8 TFLite model) after each of `steps`."""
  import tensorflow_model_optimization as tfmot  # pylint: disable=g-import-not-at-top
  from tensorflow_model_optimization.python.core.quantization.keras import default_8bit  # pylint: disable=g-import-not-at-top
  output_config = default_8bit.default_8bit_quantize_configs.Default8BitOutputQuantizeConfig
  model = classifier.model
  with tfmot.quantization.keras.quantize_scope({
      'Default8BitOutputQuantizeConfig': output_config,
      'ResizeToMatch': ran_layers.ResizeToMatch,
      'AttentionActivation': ran_layers.AttentionActivation}):
    qat = tfmot.quantization.keras.quantize_apply(_annotated_copy(model, output_config))
  for wrapper in qat.layers:
    if isinstance(getattr(wrapper, 'layer', None), keras.layers.BatchNormalization):
      wrapper.layer.trainable = False  # inference statistics, as the float model's
  # One training-mode call sets the weights' ranges; the activations' are set after it.
  qat(classifier.network_input(calibration[:converter.RANGE_BATCH]), training=True)
  _set_batch_mean_ranges(qat, model, classifier.network_input(calibration))
  teacher = classifier.probabilities(train_pixels)
  optimizer = keras.optimizers.Adam(learning_rate)
  divergence = keras.losses.KLDivergence()

  @tf.function
  def train_step(batch, target):
    with tf.GradientTape() as tape:
      loss = divergence(target, qat(classifier.network_input(batch), training=True))
    optimizer.apply_gradients(zip(tape.gradient(loss, qat.trainable_variables),
                                  qat.trainable_variables))

  size = classifier.network.image_size

  @tf.function(input_signature=[tf.TensorSpec([None, size, size, 3], tf.uint8)])
  def classify(uint8_pixels):
    return qat(classifier.network_input(uint8_pixels), training=False)

  rng = np.random.default_rng(seed)
  done, seconds = 0, 0.0
  for target_steps in steps:
    started = time.perf_counter()
    for _ in range(target_steps - done):
      chosen = rng.choice(len(train_pixels), QAT_BATCH, replace=False)
      train_step(tf.constant(train_pixels[chosen]), tf.constant(teacher[chosen]))
    seconds += time.perf_counter() - started
    done = target_steps
    tflite = tf.lite.TFLiteConverter.from_concrete_functions([classify.get_concrete_function()],
                                                             qat)
    tflite.experimental_lower_to_saved_model = False
    tflite.optimizations = [tf.lite.Optimize.DEFAULT]
    tflite.representative_dataset = lambda: iter([[calibration[i:i + 1]] for i in range(100)])
    tflite.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
                                        tf.lite.OpsSet.TFLITE_BUILTINS]
    tflite.inference_output_type = tf.float32
    yield done, seconds, tflite.convert()


def seed_rows(classifier: converter.PixelClassifier, data: export.GateData,
              train_files: Sequence[str], seed: int, args: argparse.Namespace) -> List[Dict]:
  """The int8 variants calibrated on training sample `seed`, scored."""
  size = classifier.network.image_size
  calibration = pixels.model_inputs(
      pixels.sample_encoded(train_files, args.representative_examples, seed), size,
      args.recipe)
  calibrated = converter.calibrate(classifier, calibration)
  outputs = converter.op_output_names(calibrated)
  variants = [('int8 (the export)', converter.quantize(calibrated))]
  if seed == args.seeds[0]:  # the one full conversion that keeps every answer; its latency
    variants.append(('int16 activations (16x8)', to_16x8(classifier, calibration)))
  stages = sorted({stage(layer_name(o)) for o in outputs} - {'outside', 'head'})
  for group, name in ([(stage, s) for s in stages] +
                      [(part, p) for p, _ in PARTS if p not in WHOLE_STAGES]):
    floats = [o for o in outputs if group(layer_name(o)) != name]
    variants.append((f'only {name} in int8',
                     converter.quantize(calibrated, float_nodes=floats)))
  rows = []
  for name, model in variants:
    latency = interpreter.tflite_latency(model, data.pixels[:1], threads=1, runs=LATENCY_RUNS)
    rows.append({'seed': seed, **score(name, data.tflite_top1(model), data,
                                       args.edge_max_drop), 'ms': latency.median_ms})
  if args.qat_steps:
    train_pixels = pixels.model_inputs(
        pixels.sample_encoded(train_files, args.qat_examples, seed + 1), size, args.recipe)
    for steps, seconds, model in qat_int8(classifier, calibration, train_pixels,
                                          sorted(args.qat_steps), args.qat_learning_rate, seed):
      latency = interpreter.tflite_latency(model, data.pixels[:1], threads=1,
                                           runs=LATENCY_RUNS)
      rows.append({'seed': seed, **score(f'QAT int8, {steps} steps ({seconds:.0f} s to train)',
                                         data.tflite_top1(model), data, args.edge_max_drop),
                   'ms': latency.median_ms})
  return rows


def main() -> None:
  parser = pushed_model.parser(__doc__.split('\n\n')[0])
  parser.add_argument('--seeds', type=int, nargs='+', default=[0],
                      help='Calibration samples (and fine-tuning draws) to run it for.')
  parser.add_argument('--qat_steps', type=int, nargs='*', default=[],
                      help='Quantization-aware training: convert after each of these steps.')
  parser.add_argument('--qat_learning_rate', type=float, default=3e-5)
  parser.add_argument('--qat_examples', type=int, default=2048,
                      help='Training images the fine-tuning draws its batches from.')
  parser.add_argument('--output_csv', default=os.path.join(
      os.path.dirname(os.path.abspath(__file__)), 'results', 'int8_sensitivity.csv'))
  args = parser.parse_args()
  classifier = converter.PixelClassifier(args.registry_version,
                                         converter.read_network(args.model))
  data = export.read_gate_data(classifier, pixels.split_files(args.examples, 'eval'),
                               evaluation_results.load_evaluation(args.evaluation), args.recipe)
  train_files = pixels.split_files(args.examples, 'train')
  float16 = converter.to_float16(classifier)
  rows = [{'seed': '', **score('float16 TFLite', data.tflite_top1(float16), data,
                               args.edge_max_drop),
           'ms': interpreter.tflite_latency(float16, data.pixels[:1], threads=1,
                                            runs=LATENCY_RUNS).median_ms},
          {'seed': '', **score('bfloat16 network', bfloat16_top1(classifier, data), data,
                               args.edge_max_drop), 'ms': None}]
  for seed in args.seeds:
    rows.extend(seed_rows(classifier, data, train_files, seed, args))
  report.print_table([('seed', 'seed', '{}'), ('variant', 'variant', '{}'),
                      ('agreement', '= float32', '{:.4f}'),
                      ('accuracy', 'accuracy', '{:.4f}'), ('lost', 'lost', '{}'),
                      ('gained', 'gained', '{}'), ('failing', 'failing slices', '{}'),
                      ('ms', 'ms (batch 1)', '{:.2f}'), ('failing_slices', 'which', '{}')],
                     rows, left_aligned=2)
  print(f'float32 network: accuracy {np.mean(data.float_top1 == data.labels):.4f} on '
        f'{len(data.labels)} eval images; gate: {args.edge_max_drop} on slices of at least '
        f'{data.min_slice_size}')
  report.write_csv(args.output_csv, rows)


if __name__ == '__main__':
  main()
