"""The exported signatures: serving sees exactly the trained-on pixels, refuses what ingestion
refuses; attention maps."""
import os

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras
from tensorflow.core.protobuf import saved_model_pb2

from components import features
from components import image_codec
from components import pixel_rules
from components import preprocessing
from components import signatures
from components.trainer import input_pipeline
from components.trainer import serving
import example_data
import ran_model
import stored_images

SIZE = 8
CLASSES = 4


@pytest.fixture(name='images', scope='module')
def fixture_images():
  rng = np.random.default_rng(0)
  return [rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8) for _ in range(6)]


@pytest.mark.parametrize('recipe', preprocessing.RECIPES)
def test_serving_signatures_equal_the_model_on_training_preprocessing(images, tmp_path, recipe):
  """No skew: served probabilities = model(the input pipeline's pixels for the same bytes)."""
  mean, std = np.array([0.5, 0.4, 0.3]), np.array([0.2, 0.25, 0.3])
  inputs = keras.Input((SIZE, SIZE, 3))
  model = keras.Model(inputs, keras.layers.Dense(
      4, activation='softmax')(keras.layers.Flatten()(inputs)))
  encoded = [example_data.encode(image) for image in images]
  example_file = example_data.write_examples(tmp_path / 'examples.tfrecord.gz', images,
                                             [label % 4 for label in range(len(images))])
  pixels, labels = next(iter(input_pipeline.make_dataset(
      [example_file], image_size=SIZE, batch_size=len(images), mean=mean, std=std,
      training=False, recipe=recipe)))
  np.testing.assert_array_equal(labels.numpy(), [0, 1, 2, 3, 0, 1])
  expected = model(pixels, training=False).numpy()

  export_dir = str(tmp_path / 'export')
  serving.export_serving_model(model, export_dir, image_size=SIZE, mean=mean, std=std,
                               class_names=['a', 'b', 'c', 'd'], recipe=recipe, top_k=3)
  served = tf.saved_model.load(export_dir)
  by_images = served.signatures[signatures.SERVE_IMAGES](images=tf.constant(encoded))
  examples = [features.make_example(
      encoded=data, image_format='png', height=SIZE, width=SIZE, filename='x', label=0,
      label_text='x', scenario={}).SerializeToString() for data in encoded]
  by_examples = served.signatures[signatures.SERVE_EXAMPLES](examples=tf.constant(examples))
  for outputs in (by_images, by_examples):
    np.testing.assert_allclose(outputs[signatures.PROBABILITIES].numpy(), expected, atol=1e-6)
    np.testing.assert_array_equal(outputs[signatures.CLASS_IDS].numpy(), expected.argmax(-1))
    assert [n.decode() for n in outputs[signatures.CLASS_NAMES].numpy()] == [
        'abcd'[i] for i in expected.argmax(-1)]
    top3 = np.argsort(-expected, axis=-1)[:, :3]
    np.testing.assert_array_equal(outputs[signatures.TOP_K_CLASS_IDS].numpy(), top3)
    np.testing.assert_allclose(outputs[signatures.TOP_K_PROBABILITIES].numpy(),
                               np.take_along_axis(expected, top3, -1), atol=1e-6)
    assert outputs[signatures.TOP_K_CLASS_NAMES].numpy().tolist() == [
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
  encoded = tf.constant([example_data.encode(image) for image in images])
  with_maps = served.signatures[signatures.ATTENTION_MAPS](images=encoded)
  by_images = served.signatures[signatures.SERVE_IMAGES](images=encoded)
  for key, value in by_images.items():
    if value.dtype.is_floating:
      np.testing.assert_allclose(with_maps[key].numpy(), value.numpy(), atol=1e-6)
    else:
      np.testing.assert_array_equal(with_maps[key].numpy(), value.numpy())

  pixels = preprocessing.eval_images(encoded, image_size, 'signs')
  model_input = with_maps[signatures.MODEL_INPUT].numpy()
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
    # The served graph's fused kernels round otherwise than eager ops: up to 3e-6 over six
    # initialisations, 1.1e-5 for one; a wrong module or resize differs by tenths.
    np.testing.assert_allclose(served_map, tf.image.resize(
        m.values[..., None], [image_size, image_size])[..., 0].numpy(), atol=1e-4)

  too_large = tf.constant([stored_images.black_png(7072, 7072)])  # over the ingestion limit
  for name in (signatures.ATTENTION_MAPS, signatures.SERVE_IMAGES):
    with pytest.raises(tf.errors.InvalidArgumentError, match=(
        f'7072x7072 pixels, over the limit of {image_codec.DEFAULT_MAX_PIXELS} pixels')):
      served.signatures[name](images=too_large)

  saved = [name for name, _ in tf.train.list_variables(
      os.path.join(export_dir, 'variables', 'variables'))]
  assert len(saved) == len(attention_network.variables) + 1  # + the object graph

  # The network is traced once for the three signatures: the saved graph holds each of its
  # convolutions once (a trace per signature held three copies).
  with open(os.path.join(export_dir, 'saved_model.pb'), 'rb') as f:
    proto = saved_model_pb2.SavedModel.FromString(f.read())
  graph = proto.meta_graphs[0].graph_def
  saved_convs = sum(node.op == 'Conv2D' for function in graph.library.function
                    for node in function.node_def)
  assert saved_convs == sum(isinstance(layer, keras.layers.Conv2D)
                            for layer in attention_network.layers)


def test_a_model_without_attention_modules_gets_no_attention_maps_signature(tmp_path):
  inputs = keras.Input((SIZE, SIZE, 3))
  model = keras.Model(inputs, keras.layers.Dense(
      CLASSES, activation='softmax')(keras.layers.Flatten()(inputs)))
  serving.export_serving_model(model, str(tmp_path), image_size=SIZE, mean=[0.5] * 3,
                               std=[0.25] * 3, class_names='abcd', recipe='signs')
  assert set(tf.saved_model.load(str(tmp_path)).signatures) == {
      signatures.SERVE_EXAMPLES, signatures.SERVE_IMAGES}


PARITY = stored_images.parity_cases(height=6, width=10)
LIMIT = 60  # pixels: the parity images' 6 x 10 pass


@pytest.fixture(name='pixel_echo', scope='module')
def fixture_pixel_echo(tmp_path_factory):
  """The signatures of a model whose 'probabilities' are its input pixels (mean 0, std 1:
  the preprocessed pixels in [0, 1]), exported with a pixel limit of LIMIT."""
  inputs = keras.Input((SIZE, SIZE, 3))
  model = keras.Model(inputs, keras.layers.Flatten()(inputs))
  export_dir = str(tmp_path_factory.mktemp('pixel_echo'))
  serving.export_serving_model(model, export_dir, image_size=SIZE, mean=[0.0] * 3,
                               std=[1.0] * 3, class_names=[str(i) for i in range(SIZE**2 * 3)],
                               recipe='signs', max_pixels=LIMIT)
  return tf.saved_model.load(export_dir).signatures


def _examples(encoded):
  return tf.constant([features.make_example(
      encoded=data, image_format='png', height=1, width=1, filename='x', label=0,
      label_text='x', scenario={}).SerializeToString() for data in encoded])


def _served_pixels(signatures_, encoded, by_examples=False):
  if by_examples:
    outputs = signatures_[signatures.SERVE_EXAMPLES](examples=_examples(encoded))
  else:
    outputs = signatures_[signatures.SERVE_IMAGES](images=tf.constant(encoded))
  return outputs[signatures.PROBABILITIES].numpy().reshape(-1, SIZE, SIZE, 3)


@pytest.mark.parametrize('by_examples', [False, True])
def test_served_raw_bytes_give_the_pixels_training_gets_from_ingestion(pixel_echo, by_examples):
  """For each stored kind (8-bit PNG, 16-bit grey and RGB PNG, JPEG with each EXIF
  orientation), serving the file as the user has it = serving (and so training on) what
  ingestion stored for it."""
  raw = [data for _, data in PARITY]
  ingested = [image_codec.canonical_image(data).encoded for data in raw]
  served = _served_pixels(pixel_echo, raw, by_examples)
  trained_on = _served_pixels(pixel_echo, ingested, by_examples)
  for (name, _), served_pixels, trained_pixels in zip(PARITY, served, trained_on):
    np.testing.assert_array_equal(served_pixels, trained_pixels, err_msg=name)
  names = [name for name, _ in PARITY]
  np.testing.assert_allclose(served[names.index('png_16_bit_grey_50_percent')], 128 / 255,
                             atol=1e-6)  # mid-grey, not white
  as_stored = served[names.index('jpeg_orientation_1')]
  for orientation, steps in pixel_rules.ORIENTATIONS.items():  # applied, not just agreed on
    turned = as_stored.transpose(1, 0, 2) if steps.transpose else as_stored
    turned = turned[:, ::-1] if steps.flip_left_right else turned
    turned = turned[::-1] if steps.flip_up_down else turned
    np.testing.assert_allclose(served[names.index(f'jpeg_orientation_{orientation}')], turned,
                               atol=1e-6, err_msg=orientation)


def test_images_over_the_pixel_limit_are_refused_before_decoding(pixel_echo):
  fits, too_large = (stored_images.png_16_bit(np.zeros((6, 10), np.uint16)),
                     stored_images.png_16_bit(np.zeros((7, 10), np.uint16)))
  assert _served_pixels(pixel_echo, [fits]).shape == (1, SIZE, SIZE, 3)
  message = 'image 1 of the batch is 10x7 pixels, over the limit of 60 pixels'
  for by_examples in (False, True):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
      _served_pixels(pixel_echo, [fits, too_large], by_examples)
  # Cut after the header, it would fail to decode with another message: none is attempted.
  with pytest.raises(tf.errors.InvalidArgumentError, match=message):
    _served_pixels(pixel_echo, [fits, too_large[:40]])


@pytest.mark.parametrize('serialized', [
    b'\xff\xfe not a protocol buffer \x80',
    b'',  # an empty tf.Example: no image feature
    tf.train.Example(features=tf.train.Features(feature={
        features.IMAGE_ENCODED: tf.train.Feature(int64_list=tf.train.Int64List(value=[7]))
    })).SerializeToString(),
], ids=['garbage', 'empty', 'wrong_type'])
def test_inputs_that_are_not_examples_are_invalid_argument(pixel_echo, serialized):
  good = _examples([PARITY[0][1]])[0]
  with pytest.raises(tf.errors.InvalidArgumentError, match=(
      'input 1 of the batch is not a serialized tf.Example with the bytes feature '
      f'{features.IMAGE_ENCODED}')):
    pixel_echo[signatures.SERVE_EXAMPLES](examples=tf.stack([good, tf.constant(serialized)]))


def test_bytes_that_are_not_jpeg_or_png_are_invalid_argument(pixel_echo):
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match='image 0 of the batch is neither JPEG nor PNG'):
    pixel_echo[signatures.SERVE_IMAGES](images=tf.constant([b'\xff\xfe garbage \x80']))
