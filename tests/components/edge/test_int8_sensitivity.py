"""bench/int8_sensitivity.py on the edge tests' narrow network: its grouping of the TFLite
ops by part of the network, and its quantization-aware training's int8 model."""
import numpy as np
import tensorflow as tf

from bench import int8_sensitivity
from components.edge import converter
from components.edge import interpreter
from components.edge import pixels
import edge_data


def test_every_op_of_the_network_falls_in_a_stage_and_a_part(classifier, calibration):
  names = converter.op_output_names(converter.calibrate(classifier, calibration))
  layers = [int8_sensitivity.layer_name(name) for name in names]
  assert {int8_sensitivity.stage(layer) for layer in layers} == {
      'outside', 'stem', 'stage1', 'stage2', 'stage3', 'stage4', 'head'}
  parts = [int8_sensitivity.part(layer) for layer in layers]
  assert set(parts) == {name for name, _ in int8_sensitivity.PARTS} | {'outside'}
  # Outside the network only: the pixels' cast, scale, subtraction and division before it,
  # the function's output (the softmax's) after it.
  outside = [name for name, found in zip(names, parts) if found == 'outside']
  assert outside == ['Cast', 'truediv', 'sub', 'truediv_1;Const_1', 'Identity']
  # The fused stem convolution is the stem's, though the first unit's batch norm is in it.
  assert int8_sensitivity.layer_name(
      f'{edge_data.MODEL_NAME}/stage1_res1_preact_relu/Relu;'
      f'{edge_data.MODEL_NAME}/stem_conv/Conv2D') == 'stem_conv'
  masks = [name for name, found in zip(names, parts) if found == 'mask branches']
  assert sum(name.endswith('_mask/Sigmoid') for name in masks) == 3


def test_quantization_aware_training_gives_an_int8_model_that_agrees(
    workspace, classifier, calibration, eval_pixels):
  train = pixels.model_inputs(pixels.sample_encoded(workspace.train_files, 64, 1),
                              edge_data.IMAGE_SIZE, edge_data.RECIPE)
  (steps, seconds, model), = int8_sensitivity.qat_int8(
      classifier, calibration, train, steps=[2], learning_rate=1e-5, seed=0)
  assert steps == 2 and seconds > 0
  details = tf.lite.Interpreter(model_content=model).get_tensor_details()
  assert details[0]['dtype'] == np.uint8
  assert sum(d['dtype'] == np.int8 for d in details) > 0.5 * len(details)
  expected = np.argmax(classifier.probabilities(eval_pixels), -1)
  found = np.argmax(interpreter.TfliteClassifier(model).probabilities(eval_pixels), -1)
  assert np.mean(found == expected) >= 0.9
