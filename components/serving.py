"""The exported model's signatures: the same decode/normalise path the Trainer trained on."""
from typing import Sequence

import tensorflow as tf
import tf_keras as keras

from components import features
from components import preprocessing

PROBABILITIES = 'probabilities'  # float32 [batch, classes]
CLASS_IDS = 'class_ids'          # int64 [batch]: the most probable class
CLASS_NAMES = 'class_names'      # string [batch]: its name
TOP_K_CLASS_IDS = 'top_k_class_ids'          # int32 [batch, k]: most probable first
TOP_K_PROBABILITIES = 'top_k_probabilities'  # float32 [batch, k]
TOP_K_CLASS_NAMES = 'top_k_class_names'      # string [batch, k]


def export_serving_model(model: keras.Model, export_dir: str, *, image_size: int,
                         mean, std, class_names: Sequence[str], recipe: str,
                         top_k: int = 5) -> None:
  """Saves a SavedModel with `serving_default` (serialized tf.Examples) and `serve_images`.

  Both take a string [batch] input and return PROBABILITIES, CLASS_IDS, CLASS_NAMES and the
  TOP_K_* outputs (k = min(top_k, classes)). Images go through `recipe`'s evaluation
  preprocessing (preprocessing.eval_images), the input pipeline's own.
  The export is a plain tf.Module holding the model's variables and the two signatures,
  not a Keras SavedModel: Keras would trace every layer (hundreds here) for revival, which
  made saving and TFMA's loading several times slower, and serving needs only signatures.
  """
  names = tf.constant(list(class_names))

  def predict(encoded):
    pixels = preprocessing.normalize(
        preprocessing.eval_images(encoded, image_size, recipe), mean, std)
    probabilities = tf.cast(model(pixels, training=False), tf.float32)
    class_ids = tf.argmax(probabilities, axis=-1)
    top = tf.math.top_k(probabilities, k=min(top_k, len(class_names)))
    return {PROBABILITIES: probabilities, CLASS_IDS: class_ids,
            CLASS_NAMES: tf.gather(names, class_ids),
            TOP_K_CLASS_IDS: top.indices, TOP_K_PROBABILITIES: top.values,
            TOP_K_CLASS_NAMES: tf.gather(names, top.indices)}

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name='examples')])
  def serve_tf_examples(serialized):
    parsed = tf.io.parse_example(
        serialized, {features.IMAGE_ENCODED: tf.io.FixedLenFeature([], tf.string)})
    return predict(parsed[features.IMAGE_ENCODED])

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name='images')])
  def serve_images(encoded):
    return predict(encoded)

  module = tf.Module()
  module.model_variables = list(model.variables)
  tf.saved_model.save(module, export_dir, signatures={
      'serving_default': serve_tf_examples, 'serve_images': serve_images})
