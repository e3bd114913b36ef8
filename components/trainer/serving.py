"""The exported model's signatures (components/signatures.py): the same decode/normalise path
the Trainer trained on."""
import os
from typing import Sequence

import tensorflow as tf
import tf_keras as keras

from components import features
from components import preprocessing
from components import signatures
from ran_model import attention_maps


def export_serving_model(model: keras.Model, export_dir: str, *, image_size: int,
                         mean, std, class_names: Sequence[str], recipe: str,
                         top_k: int = 5) -> None:
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
  The export is a plain tf.Module holding the model's variables once (every signature calls
  the same layers) and the signatures, not a Keras SavedModel: Keras would trace every layer
  (hundreds here) for revival, which made saving and TFMA's loading several times slower,
  and serving needs only signatures.
  """
  names = tf.constant(list(class_names))

  def input_pixels(encoded):
    """`encoded` string [batch] -> float32 [batch, image_size, image_size, 3] in [0, 1]."""
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
    pixels = preprocessing.normalize(input_pixels(encoded), mean, std)
    return classification(model(pixels, training=False))

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name='examples')])
  def serve_tf_examples(serialized):
    parsed = tf.io.parse_example(
        serialized, {features.IMAGE_ENCODED: tf.io.FixedLenFeature([], tf.string)})
    return predict(parsed[features.IMAGE_ENCODED])

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name='images')])
  def serve_images(encoded):
    return predict(encoded)

  exported = {signatures.SERVE_EXAMPLES: serve_tf_examples,
              signatures.SERVE_IMAGES: serve_images}
  if attention_maps.attention_mask_layers(model):
    attention_model = attention_maps.AttentionMapModel(model)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name='images')])
    def serve_attention_maps(encoded):
      pixels = input_pixels(encoded)
      outputs, maps = attention_model(
          preprocessing.normalize(pixels, mean, std), training=False)
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


def restore_model_variables(model: keras.Model, export_dir: str) -> None:
  """Sets every variable of `model` to its value in the SavedModel `export_serving_model`
  wrote to `export_dir` from the same network (variables matched by position, shapes
  checked); an error when the export lacks one of them."""
  checkpoint = tf.train.Checkpoint(model_variables=list(model.variables))
  checkpoint.read(os.path.join(export_dir, tf.saved_model.VARIABLES_DIRECTORY,
                               tf.saved_model.VARIABLES_FILENAME)
                  ).assert_existing_objects_matched().expect_partial()
