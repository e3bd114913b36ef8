"""tf.data input for training and evaluation: canonical tf.Examples -> (pixels, label) batches.

Training augments each image as its recipe's row of `preprocessing.RECIPES` says (`augment`);
evaluation uses the recipe's `eval_image`, the function Transform and serving use too.

Randomness is stateless: element i of the shuffled, repeated stream of input pipeline p is
augmented with seeds derived from (seed, p, i). With `deterministic=True` the read order is
fixed too, so datasets built with the same arguments yield identical batches.
"""
import dataclasses
from typing import Optional, Sequence, Tuple

from absl import logging
import tensorflow as tf

from components import example_files
from components import features
from components import image_codec_graph
from components import pixel_rules
from components import preprocessing

DETERMINISTIC_CYCLE_LENGTH = 8     # files read at once when `deterministic`

_PARSE_SPEC = {
    features.IMAGE_ENCODED: tf.io.FixedLenFeature([], tf.string),
    features.LABEL: tf.io.FixedLenFeature([], tf.int64),
}


def pad_and_crop(pixels: tf.Tensor, padding: int, fill, seed: tf.Tensor) -> tf.Tensor:
  """The CIFAR recipe's translation: pad by `padding` px of the colour `fill`, crop back at
  random.

  `pixels`: float32 [height, width, channels] (static shape); `fill`: per-channel
  [channels]; `seed`: int [2].
  """
  height, width, channels = pixels.shape
  fill = tf.constant(fill, tf.float32)
  padded = tf.stack([tf.pad(pixels[..., c], [[padding, padding], [padding, padding]],
                            constant_values=fill[c]) for c in range(channels)], axis=-1)
  return tf.image.stateless_random_crop(padded, [height, width, channels], seed)


def random_crop_window(image_shape: tf.Tensor, crop: preprocessing.RandomResizedCrop,
                       seed: tf.Tensor):
  """`image_shape`: int32 [3] (height, width, channels); `seed`: int [2].

  Returns (begin, size), int32 [3] each, for `tf.slice`: a window of `crop.area` of the image
  area with width / height in `crop.aspect_ratio`; the whole image when 10 tries fail.
  """
  begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
      image_shape, bounding_boxes=tf.constant([[[0.0, 0.0, 1.0, 1.0]]]), seed=seed,
      min_object_covered=0.0, aspect_ratio_range=crop.aspect_ratio, area_range=crop.area,
      max_attempts=10, use_image_if_no_bounding_boxes=True)
  return begin, size


def random_resized_crop(encoded: tf.Tensor, image_size: int,
                        crop: preprocessing.RandomResizedCrop, seed: tf.Tensor) -> tf.Tensor:
  """`encoded`: scalar string, JPEG or PNG bytes; returns float32 [size, size, 3] in [0, 1]:
  a `random_crop_window` resized to size x size. JPEGs decode only the window (canonical
  JPEGs carry no EXIF turn: components/image_codec.py), as image_codec_graph.decode_rgb would."""

  def jpeg_window():
    begin, size = random_crop_window(tf.image.extract_jpeg_shape(encoded), crop, seed)
    return tf.image.decode_and_crop_jpeg(encoded, tf.stack([begin[0], begin[1], size[0], size[1]]),
                                         channels=3, dct_method=pixel_rules.JPEG_DCT_METHOD)

  def decoded_window():
    image = image_codec_graph.decode_rgb(encoded)
    return tf.slice(image, *random_crop_window(tf.shape(image), crop, seed))

  window = tf.cond(tf.io.is_jpeg(encoded), jpeg_window, decoded_window)
  return preprocessing.resize_to_unit_range(window, [image_size, image_size])


def colour_jitter(pixels: tf.Tensor, strength: float, seed: tf.Tensor) -> tf.Tensor:
  """`pixels`: float32 [height, width, 3] in [0, 1]; `seed`: int [2]. Scales brightness,
  contrast (around each channel's mean) and saturation, in that order, each by a factor
  uniform in 1 +- `strength` (as torchvision's ColorJitter(0.4, 0.4, 0.4) in a fixed order
  for 0.4), clipping to [0, 1] after each."""
  brightness_seed, contrast_seed, saturation_seed = tf.unstack(
      tf.random.experimental.stateless_split(seed, 3))
  lower, upper = 1.0 - strength, 1.0 + strength
  pixels = pixels * tf.random.stateless_uniform([], brightness_seed, lower, upper)
  pixels = tf.image.stateless_random_contrast(
      tf.clip_by_value(pixels, 0.0, 1.0), lower, upper, contrast_seed)
  pixels = tf.image.stateless_random_saturation(
      tf.clip_by_value(pixels, 0.0, 1.0), lower, upper, saturation_seed)
  return tf.clip_by_value(pixels, 0.0, 1.0)


def augment(encoded: tf.Tensor, seed: tf.Tensor, *, image_size: int, mean, std,
            spec: preprocessing.RecipeSpec) -> tf.Tensor:
  """Training preprocessing of one image, `spec`'s fields in order. `encoded`: scalar
  string, JPEG or PNG bytes; `seed`: int [2]; returns normalised float32 [size, size, 3]."""
  crop_seed, flip_seed, jitter_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
  if spec.random_resized_crop:
    pixels = random_resized_crop(encoded, image_size, spec.random_resized_crop, crop_seed)
  else:
    pixels = spec.eval_image(encoded, image_size)
  if spec.pad_px:
    pixels = pad_and_crop(pixels, spec.pad_px, mean, crop_seed)
  if spec.flip:
    pixels = tf.image.stateless_random_flip_left_right(pixels, flip_seed)
  if spec.colour_jitter:
    pixels = colour_jitter(pixels, spec.colour_jitter, jitter_seed)
  return preprocessing.normalize(pixels, mean, std)


@dataclasses.dataclass(frozen=True)
class Share:
  """What one input pipeline reads: `files`, and of their records in file order every
  `stride`-th from the `offset`-th (stride 1: all of them)."""
  files: Tuple[str, ...]
  stride: int = 1
  offset: int = 0


def pipeline_share(files: Sequence[str],
                   input_context: Optional[tf.distribute.InputContext]) -> Share:
  """Input pipeline i of n (one per worker under MultiWorkerMirroredStrategy) reads files
  i, i + n, i + 2n, ... of the sorted `files`. With fewer files than pipelines it reads every
  file and keeps records i, i + n, ... of their concatenation, and a warning says so: each
  worker then reads all the data. Either way the shares are disjoint and cover every record."""
  files = tuple(files)
  if input_context is None or input_context.num_input_pipelines == 1:
    return Share(files)
  count, index = input_context.num_input_pipelines, input_context.input_pipeline_id
  if len(files) >= count:
    return Share(files[index::count])
  logging.warning(
      '%d input files for %d input pipelines: each pipeline reads every file and keeps '
      'one record in %d. Write at least %d files so that each pipeline reads only its own.',
      len(files), count, count, count)
  return Share(files, stride=count, offset=index)


def _read(files) -> tf.data.Dataset:
  return tf.data.TFRecordDataset(files, compression_type='GZIP')


def _records(share: Share, *, shuffled: bool, seed: int,
             deterministic: bool) -> tf.data.Dataset:
  """One pass over `share`'s serialized records. In file order, unless `shuffled`: then the
  files of a file share come in random order, read `cycle_length` at a time (AUTOTUNE, or
  DETERMINISTIC_CYCLE_LENGTH when `deterministic`); a record share is read in file order,
  the order every pipeline must agree on."""
  if share.stride > 1:
    return _read(list(share.files)).shard(share.stride, share.offset)
  if not shuffled:
    return _read(list(share.files))
  files = tf.data.Dataset.from_tensor_slices(list(share.files)).shuffle(
      len(share.files), seed=seed)
  return files.interleave(
      _read, cycle_length=DETERMINISTIC_CYCLE_LENGTH if deterministic else tf.data.AUTOTUNE,
      num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)


def make_dataset(file_patterns: Sequence[str], *, image_size: int, batch_size: int,
                 mean, std, training: bool, recipe: str = 'signs', seed: int = 0,
                 deterministic: bool = False,
                 input_context: Optional[tf.distribute.InputContext] = None,
                 shuffle_buffer: int = 10_000, classes: Optional[int] = None
                 ) -> tf.data.Dataset:
  """Batches of (float32 [batch, size, size, 3] normalised pixels, labels): int64 [batch],
  or with `classes` float32 one-hot [batch, classes] (label smoothing needs them).

  Training: epoch after epoch, each a pass over the records (`_records`, files in random
  order) shuffled in a `shuffle_buffer`, so that no record comes twice in an epoch;
  `augment`ed in parallel; full batches only, which may span two epochs.
  `deterministic=False` lets reads and maps finish out of order (faster); `True` fixes the
  order, so the batches depend only on the arguments. Evaluation: the recipe's
  `eval_image`; one pass over the files in sorted order, each file's records in order.

  `mean`, `std`: per-channel [3] (Transform's statistics). `batch_size`: the global batch.
  With `input_context` (tf.distribute), pipeline i reads only its share of the records
  (`pipeline_share`) and batches `input_context.get_per_replica_batch_size(batch_size)`.
  """
  spec = preprocessing.recipe_spec(recipe)
  share = pipeline_share(example_files.tfrecord_files(file_patterns), input_context)
  records = _records(share, shuffled=training, seed=seed, deterministic=deterministic)
  pipeline_id = 0
  if input_context is not None:
    pipeline_id = input_context.input_pipeline_id
    batch_size = input_context.get_per_replica_batch_size(batch_size)

  def label(parsed):
    return parsed[features.LABEL] if classes is None else tf.one_hot(parsed[features.LABEL],
                                                                     classes)

  if not training:
    def evaluate(serialized):
      parsed = tf.io.parse_single_example(serialized, _PARSE_SPEC)
      pixels = spec.eval_image(parsed[features.IMAGE_ENCODED], image_size)
      return preprocessing.normalize(pixels, mean, std), label(parsed)

    dataset = records.map(evaluate, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)

  pipeline_seed = tf.constant([seed, pipeline_id], tf.int64)

  def train(index, serialized):
    parsed = tf.io.parse_single_example(serialized, _PARSE_SPEC)
    pixels = augment(parsed[features.IMAGE_ENCODED],
                     tf.random.experimental.stateless_fold_in(pipeline_seed, index),
                     image_size=image_size, mean=mean, std=std, spec=spec)
    return pixels, label(parsed)

  dataset = records.shuffle(shuffle_buffer, seed=seed).repeat().enumerate()
  dataset = dataset.map(train, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
  return dataset.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
