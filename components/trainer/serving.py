"""The exported model's signatures (components/signatures.py): the same decode/normalise path
the Trainer trained on, behind the checks ingestion makes (image_codec_graph, the graph twin
of ingestion's image codec)."""
import os
from typing import Sequence

import tensorflow as tf
import tf_keras as keras

from components import features
from components import image_codec
from components import image_codec_graph
from components import preprocessing
from components import signatures
from ran_model import attention_maps


def export_serving_model(model: keras.Model, export_dir: str, *, image_size: int,
                         mean, std, class_names: Sequence[str], recipe: str,
                         top_k: int = 5,
                         max_pixels: int = image_codec.DEFAULT_MAX_PIXELS) -> None:
  """Saves a SavedModel with SERVE_EXAMPLES (serialized tf.Examples) and SERVE_IMAGES, plus
  ATTENTION_MAPS when `model` has attention modules (a ran_model network); the names are
  components/signatures.py's.

  Each takes a string [batch] input (`examples`: serialized canonical tf.Examples; `images`:
  JPEG or PNG bytes) and returns PROBABILITIES, CLASS_IDS, CLASS_NAMES and the TOP_K_*
  outputs (k = min(top_k, classes)).
  ATTENTION_MAPS returns the same from the same forward pass, plus one float32
  [batch, image_size, image_size] output per attention module, named by its address
  (`stage1_attn1`, ...): the soft mask's mean over channels (ran_model.attention_maps),
  bilinearly resized from the module's resolution to the model input's size, so it lies on
  MODEL_INPUT, the preprocessed pixels (before mean/std), which it also returns.
  All signatures share one path: `recipe`'s evaluation preprocessing
  (preprocessing.eval_images), the input pipeline's own, then `normalize(mean, std)`.
  Images decode as ingestion decodes them, and bad inputs are refused before anything is
  decoded, as components/signatures.py states: `example_images` for SERVE_EXAMPLES, then
  image_codec_graph.within_pixel_limit (`max_pixels`, by the header) for every signature.
  The signatures are traced without AutoGraph (their code has no Python control flow on
  tensors; converting it took a third of the export's time).
  The export is a plain tf.Module holding the model's variables once (every signature calls
  the same layers) and the signatures, not a Keras SavedModel: Keras would trace every layer
  (hundreds here) for revival, which made saving and TFMA's loading several times slower,
  and serving needs only signatures.
  """
  names = tf.constant(list(class_names))
  attention_model = (attention_maps.AttentionMapModel(model)
                     if attention_maps.attention_mask_layers(model) else None)

  @tf.function(autograph=False)
  def network(pixels):
    """The network on normalised pixels: (outputs, {module address: map}), traced once for
    every signature (a trace per signature saved three copies of the network, and made the
    export and every load slower)."""
    if attention_model is None:
      return model(pixels, training=False), {}
    return attention_model(pixels, training=False)

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
  def input_pixels(encoded):
    """`encoded` string [batch] -> float32 [batch, image_size, image_size, 3] in [0, 1];
    traced once for every signature, as `network`."""
    encoded = image_codec_graph.within_pixel_limit(encoded, max_pixels)
    return preprocessing.eval_images(encoded, image_size, recipe)

  def classification(outputs):
    probabilities = tf.cast(outputs, tf.float32)
    class_ids = tf.argmax(probabilities, axis=-1)
    top = tf.math.top_k(probabilities, k=min(top_k, len(class_names)))
    return {signatures.PROBABILITIES: probabilities, signatures.CLASS_IDS: class_ids,
            signatures.CLASS_NAMES: tf.gather(names, class_ids),
            signatures.TOP_K_CLASS_IDS: top.indices,
            signatures.TOP_K_PROBABILITIES: top.values,
            signatures.TOP_K_CLASS_NAMES: tf.gather(names, top.indices)}

  def predict(encoded):
    outputs, _ = network(preprocessing.normalize(input_pixels(encoded), mean, std))
    return classification(outputs)

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name='examples')],
               autograph=False)
  def serve_tf_examples(serialized):
    return predict(example_images(serialized))

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name='images')],
               autograph=False)
  def serve_images(encoded):
    return predict(encoded)

  exported = {signatures.SERVE_EXAMPLES: serve_tf_examples,
              signatures.SERVE_IMAGES: serve_images}
  if attention_model is not None:

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name='images')],
                 autograph=False)
    def serve_attention_maps(encoded):
      pixels = input_pixels(encoded)
      outputs, maps = network(preprocessing.normalize(pixels, mean, std))
      served = classification(outputs)
      for address, values in maps.items():
        served[address] = tf.image.resize(
            values[..., None], [image_size, image_size], method='bilinear')[..., 0]
      served[signatures.MODEL_INPUT] = tf.cast(tf.round(pixels * 255.0), tf.uint8)
      return served

    exported[signatures.ATTENTION_MAPS] = serve_attention_maps
  module = tf.Module()
  module.model_variables = list(model.variables)
  tf.saved_model.save(module, export_dir, signatures=exported)


def example_images(serialized: tf.Tensor) -> tf.Tensor:
  """`serialized`: string [batch], serialized tf.Examples; returns their features.IMAGE_ENCODED
  bytes, string [batch].

  InvalidArgumentError naming the first input that is not a tf.Example with that bytes
  feature. tf.io.parse_example's own error quotes the raw bytes, which Python then fails to
  read as text (a UnicodeDecodeError instead of InvalidArgumentError), so the batch is parsed
  first where an error can be ignored, in tf.data, and only a batch that fails there is tried
  input by input to find the first that does not parse.
  """
  spec = {features.IMAGE_ENCODED: tf.io.FixedLenFeature([], tf.string)}
  parses = tf.data.Dataset.from_tensors(serialized).map(
      lambda batch: tf.io.parse_example(batch, spec)).ignore_errors().with_options(
          _per_call_options()).reduce(False, lambda ok, parsed: True)
  message = tf.cond(parses, lambda: tf.constant(''),
                    lambda: _first_unparsed_input(serialized, spec))
  with tf.control_dependencies([tf.debugging.Assert(parses, [message])]):
    return tf.io.parse_example(serialized, spec)[features.IMAGE_ENCODED]


def _first_unparsed_input(serialized: tf.Tensor, spec) -> tf.Tensor:
  """The error message naming the first of `serialized` that `spec` does not parse."""
  parsed = tf.data.Dataset.from_tensor_slices(serialized).enumerate().map(
      lambda index, example: (index, tf.io.parse_single_example(example, spec))).ignore_errors()
  parses = parsed.with_options(_per_call_options()).reduce(
      tf.zeros_like(serialized, tf.bool),
      lambda ok, element: tf.tensor_scatter_nd_update(ok, [[element[0]]], [True]))
  return tf.strings.format(
      f'input {{}} of the batch is not a serialized tf.Example with the bytes feature '
      f'{features.IMAGE_ENCODED}', (tf.argmin(tf.cast(parses, tf.int32)),))


def _per_call_options() -> tf.data.Options:
  """For a dataset made at every call of a signature: without tf.data's graph rewrites and
  autotuning, which cost more than they save on a few elements (about 7 ms a call)."""
  options = tf.data.Options()
  options.experimental_optimization.apply_default_optimizations = False
  options.autotune.enabled = False
  return options


def restore_model_variables(model: keras.Model, export_dir: str) -> None:
  """Sets every variable of `model` to its value in the SavedModel `export_serving_model`
  wrote to `export_dir` from the same network (variables matched by position, shapes
  checked); an error when the export lacks one of them."""
  checkpoint = tf.train.Checkpoint(model_variables=list(model.variables))
  checkpoint.read(os.path.join(export_dir, tf.saved_model.VARIABLES_DIRECTORY,
                               tf.saved_model.VARIABLES_FILENAME)
                  ).assert_existing_objects_matched().expect_partial()
