"""components/edge/pixels.py: the seeded sample of training images the int8 model is
calibrated on."""
import tensorflow as tf

from components import features
from components.edge import pixels


def _write(path, names):
  with tf.io.TFRecordWriter(str(path), options='GZIP') as writer:
    for name in names:
      example = tf.train.Example(features=tf.train.Features(feature={
          features.IMAGE_ENCODED: tf.train.Feature(
              bytes_list=tf.train.BytesList(value=[name.encode()]))}))
      writer.write(example.SerializeToString())
  return str(path)


def test_the_sample_depends_on_its_seed_and_not_on_the_global_seed(tmp_path):
  names = [f'image-{i}' for i in range(60)]
  files = [_write(tmp_path / f'part-{part}.gz', names[part::3]) for part in range(3)]
  tf.random.set_seed(1)
  first = pixels.sample_encoded(files, 5, seed=0)
  tf.random.set_seed(2)  # as the Trainer does in a local run's process
  assert pixels.sample_encoded(files, 5, seed=0) == first
  assert len(set(first)) == 5 and {name.decode() for name in first} <= set(names)
  assert pixels.sample_encoded(files, 5, seed=1) != first


def test_fewer_records_than_asked_are_all_taken_once(tmp_path):
  names = [f'image-{i}' for i in range(7)]
  files = [_write(tmp_path / 'part-0.gz', names)]
  assert sorted(name.decode() for name in pixels.sample_encoded(files, 10, seed=0)) == names
