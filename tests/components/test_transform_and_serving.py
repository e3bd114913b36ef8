"""Transform's pixel statistics are right, and serving sees exactly the trained-on pixels."""

import os

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from components import features
from components import input_pipeline
from components import preprocessing
from components import serving
from components import transform
import ran_model
import training_data

SIZE = 8
CLASSES = 4
LABELS = (0, 2, 2, 1, 2, 0)  # class 3 never occurs


@pytest.fixture(name='images', scope='module')
def fixture_images():
  rng = np.random.default_rng(0)
  return [rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8) for _ in range(6)]


@pytest.fixture(name='transform_output', scope='module')
def fixture_transform_output(images, tmp_path_factory):
  return training_data.analyze(images, LABELS, str(tmp_path_factory.mktemp('transform')),
                               image_size=SIZE, num_classes=CLASSES)


def test_statistics_equal_numpy_over_all_pixels_and_labels(images, transform_output):
  stats = transform.training_statistics(transform_output, training_data.png(images[0]))
  pixels = np.stack(images).reshape(-1, 3) / 255.0
  np.testing.assert_allclose(stats.mean, pixels.mean(axis=0), atol=1e-5)
  np.testing.assert_allclose(stats.std, pixels.std(axis=0), atol=1e-5)
  np.testing.assert_array_equal(stats.class_counts, [2, 1, 3, 0])


def test_balanced_class_weights_equalise_each_class_total():
  weights = transform.balanced_class_weights(np.array([2.0, 1.0, 3.0, 0.0]))
  assert weights == pytest.approx({0: 0.75, 1: 1.5, 2: 0.5, 3: 0.0})
  assert 2 * weights[0] == 1 * weights[1] == 3 * weights[2]


def test_decode_image_resizes_to_unit_range():
  image = np.full((20, 30, 3), 255, np.uint8)
  image[..., 1] = 0
  decoded = preprocessing.decode_image(tf.constant(training_data.png(image)), 16).numpy()
  assert decoded.shape == (16, 16, 3)
  np.testing.assert_allclose(decoded[..., 0], 1.0, atol=1e-6)
  np.testing.assert_allclose(decoded[..., 1], 0.0, atol=1e-6)


@pytest.mark.parametrize('recipe', preprocessing.RECIPES)
def test_serving_signatures_equal_the_model_on_training_preprocessing(images, tmp_path, recipe):
  """No skew: served probabilities = model(the input pipeline's pixels for the same bytes)."""
  mean, std = np.array([0.5, 0.4, 0.3]), np.array([0.2, 0.25, 0.3])
  inputs = keras.Input((SIZE, SIZE, 3))
  model = keras.Model(inputs, keras.layers.Dense(
      4, activation='softmax')(keras.layers.Flatten()(inputs)))
  encoded = [training_data.png(image) for image in images]
  example_file = str(tmp_path / 'examples.tfrecord.gz')
  with tf.io.TFRecordWriter(example_file, options='GZIP') as writer:
    for label, data in enumerate(encoded):
      writer.write(features.make_example(
          encoded=data, image_format='png', height=SIZE, width=SIZE, filename=f'{label}.png',
          label=label % 4, label_text='x', scenario={}).SerializeToString())
  pixels, labels = next(iter(input_pipeline.make_dataset(
      [example_file], image_size=SIZE, batch_size=len(images), mean=mean, std=std,
      training=False, recipe=recipe)))
  np.testing.assert_array_equal(labels.numpy(), [0, 1, 2, 3, 0, 1])
  expected = model(pixels, training=False).numpy()

  export_dir = str(tmp_path / 'export')
  serving.export_serving_model(model, export_dir, image_size=SIZE, mean=mean, std=std,
                               class_names=['a', 'b', 'c', 'd'], recipe=recipe, top_k=3)
  served = tf.saved_model.load(export_dir)
  by_images = served.signatures['serve_images'](images=tf.constant(encoded))
  examples = [features.make_example(
      encoded=data, image_format='png', height=SIZE, width=SIZE, filename='x', label=0,
      label_text='x', scenario={}).SerializeToString() for data in encoded]
  by_examples = served.signatures['serving_default'](examples=tf.constant(examples))
  for outputs in (by_images, by_examples):
    np.testing.assert_allclose(outputs[serving.PROBABILITIES].numpy(), expected, atol=1e-6)
    np.testing.assert_array_equal(outputs[serving.CLASS_IDS].numpy(), expected.argmax(-1))
    assert [n.decode() for n in outputs[serving.CLASS_NAMES].numpy()] == [
        'abcd'[i] for i in expected.argmax(-1)]
    top3 = np.argsort(-expected, axis=-1)[:, :3]
    np.testing.assert_array_equal(outputs[serving.TOP_K_CLASS_IDS].numpy(), top3)
    np.testing.assert_allclose(outputs[serving.TOP_K_PROBABILITIES].numpy(),
                               np.take_along_axis(expected, top3, -1), atol=1e-6)
    assert outputs[serving.TOP_K_CLASS_NAMES].numpy().tolist() == [
        ['abcd'[i].encode() for i in row] for row in top3]


@pytest.fixture(name='attention_network', scope='module')
def fixture_attention_network():
  """A narrow attention_56_cifar taking any input size."""
  return ran_model.build_model('attention_56_cifar', input_shape=(None, None, 3),
                               classes=CLASSES, width_multiplier=1 / 16)


@pytest.mark.parametrize('image_size', [32, 48])
def test_attention_maps_signature(images, tmp_path, attention_network, image_size):
  """One map per module at the input size, in [0, 1] ('mixed'), from the same forward pass
  and preprocessing as serve_images, and no second copy of the variables."""
  mean, std = np.array([0.5, 0.4, 0.3]), np.array([0.2, 0.25, 0.3])
  export_dir = str(tmp_path / 'export')
  serving.export_serving_model(attention_network, export_dir, image_size=image_size,
                               mean=mean, std=std, class_names=['a', 'b', 'c', 'd'],
                               recipe='signs', top_k=3)
  served = tf.saved_model.load(export_dir)
  encoded = tf.constant([training_data.png(image) for image in images])
  with_maps = served.signatures[serving.ATTENTION_MAPS](images=encoded)
  by_images = served.signatures['serve_images'](images=encoded)
  for key, value in by_images.items():
    if value.dtype.is_floating:
      np.testing.assert_allclose(with_maps[key].numpy(), value.numpy(), atol=1e-6)
    else:
      np.testing.assert_array_equal(with_maps[key].numpy(), value.numpy())

  pixels = preprocessing.eval_images(encoded, image_size, 'signs')
  model_input = with_maps[serving.MODEL_INPUT].numpy()
  assert model_input.dtype == np.uint8  # the float pixels rounded (halves either way)
  np.testing.assert_allclose(model_input, pixels.numpy() * 255, atol=0.5 + 1e-4)
  _, expected = ran_model.compute_attention_maps(
      attention_network, preprocessing.normalize(pixels, mean, std))
  assert sorted(k for k in with_maps if k.startswith('stage')) == [
      'stage1_attn1', 'stage2_attn1', 'stage3_attn1']
  assert [m.resolution for m in expected] == [(image_size, image_size),
                                              (image_size // 2, image_size // 2),
                                              (image_size // 4, image_size // 4)]
  for m in expected:
    served_map = with_maps[m.address].numpy()
    assert served_map.shape == (len(images), image_size, image_size)
    assert served_map.dtype == np.float32
    assert 0.0 <= served_map.min() < served_map.max() <= 1.0
    np.testing.assert_allclose(served_map, tf.image.resize(
        m.values[..., None], [image_size, image_size])[..., 0].numpy(), atol=1e-5)

  saved = [name for name, _ in tf.train.list_variables(
      os.path.join(export_dir, 'variables', 'variables'))]
  assert len(saved) == len(attention_network.variables) + 1  # + the object graph


def test_a_model_without_attention_modules_gets_no_attention_maps_signature(tmp_path):
  inputs = keras.Input((SIZE, SIZE, 3))
  model = keras.Model(inputs, keras.layers.Dense(
      CLASSES, activation='softmax')(keras.layers.Flatten()(inputs)))
  serving.export_serving_model(model, str(tmp_path), image_size=SIZE, mean=[0.5] * 3,
                               std=[0.25] * 3, class_names='abcd', recipe='signs')
  assert set(tf.saved_model.load(str(tmp_path)).signatures) == {
      'serving_default', 'serve_images'}
