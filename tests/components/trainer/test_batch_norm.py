"""Batch-norm recalibration: the moving statistics become the mean of the batch statistics."""
import numpy as np
import tensorflow as tf
import tf_keras as keras

from components.trainer import batch_norm

BATCHES = 4


def _model():
  inputs = keras.Input((4, 4, 3))
  convolved = keras.layers.Conv2D(5, 3, padding='same')(inputs)
  normalised = keras.layers.BatchNormalization()(convolved)
  return keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(normalised)))


def _batches():
  """Batches of different scale and offset, so the running mean differs from any one."""
  return [tf.random.stateless_normal((8, 4, 4, 3), seed=(k, 0)) * (k + 1) + k
          for k in range(BATCHES + 2)]


def test_the_moving_statistics_become_the_mean_of_the_batch_statistics():
  keras.utils.set_random_seed(0)
  model = _model()
  layer = batch_norm.batch_norm_layers(model)[0]
  convolution = keras.Model(model.input, model.layers[1].output)
  batches = _batches()
  convolved = [convolution(batch) for batch in batches[:BATCHES]]
  expected_mean = np.mean([tf.reduce_mean(c, axis=(0, 1, 2)) for c in convolved], axis=0)
  # Keras keeps the batch variance with Bessel's correction, as TensorFlow's fused kernel gives it
  expected_variance = np.mean([np.var(c, axis=(0, 1, 2), ddof=1) for c in convolved], axis=0)
  weights = [w.numpy() for w in model.trainable_weights]
  dataset = tf.data.Dataset.from_tensor_slices((tf.stack(batches), tf.zeros(len(batches))))

  batch_norm.recalibrate(model, dataset, tf.distribute.get_strategy(), BATCHES)

  np.testing.assert_allclose(layer.moving_mean.numpy(), expected_mean, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(layer.moving_variance.numpy(), expected_variance, rtol=1e-4)
  for before, after in zip(weights, model.trainable_weights):
    np.testing.assert_array_equal(before, after.numpy())
  assert layer.momentum == 0.99  # the layer's own, for training that follows


def test_zero_batches_leave_the_moving_statistics_alone():
  model = _model()
  layer = batch_norm.batch_norm_layers(model)[0]
  dataset = tf.data.Dataset.from_tensor_slices((tf.stack(_batches()), tf.zeros(BATCHES + 2)))
  batch_norm.recalibrate(model, dataset, tf.distribute.get_strategy(), 0)
  np.testing.assert_array_equal(layer.moving_mean.numpy(), np.zeros(5))
  np.testing.assert_array_equal(layer.moving_variance.numpy(), np.ones(5))
