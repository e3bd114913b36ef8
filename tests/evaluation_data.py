"""A tiny evaluation with known outputs: eight examples, a candidate and a baseline whose
probabilities are read from the examples themselves, and TFMA run on them as the Evaluator runs
it. Shared by the evaluation, registry-pusher, dashboard and report tests (tests/conftest.py)."""
import numpy as np
import tensorflow as tf
import tensorflow_model_analysis as tfma

from components import evaluation
from components import features

CLASSES = 6
WEATHER = features.scenario_key('weather')
LEVEL = features.scenario_key('level')
# label, weather, level, candidate probabilities, baseline probabilities (None: as candidate).
EXAMPLES = (
    (0, 'sun', '1', (0.85, 0.03, 0.03, 0.03, 0.03, 0.03), None),
    (0, 'sun', '1', (0.62, 0.18, 0.05, 0.05, 0.05, 0.05), None),
    (1, 'sun', '5', (0.10, 0.45, 0.15, 0.10, 0.10, 0.10), None),
    (1, 'rain', '5', (0.05, 0.20, 0.55, 0.10, 0.05, 0.05), (0.05, 0.55, 0.20, 0.10, 0.05, 0.05)),
    (2, 'rain', '1', (0.05, 0.05, 0.75, 0.05, 0.05, 0.05), None),
    # The label is the least probable class: a top-5 miss.
    (3, 'rain', '5', (0.30, 0.25, 0.20, 0.01, 0.12, 0.12), (0.10, 0.10, 0.10, 0.50, 0.10, 0.10)),
    (3, 'rain', '1', (0.05, 0.05, 0.05, 0.65, 0.15, 0.05), None),
    # Class 4 is never predicted by the candidate; class 5 never occurs.
    (4, 'fog', '1', (0.05, 0.05, 0.05, 0.05, 0.35, 0.45), (0.05, 0.05, 0.05, 0.05, 0.60, 0.20)),
)
LABELS = np.array([e[0] for e in EXAMPLES])
CANDIDATE = np.array([e[3] for e in EXAMPLES], np.float32)
MODEL_FEATURE = {'candidate': 'test/candidate_probabilities',
                 'baseline': 'test/baseline_probabilities'}
CONFIG = dict(num_classes=CLASSES, slice_features=(WEATHER, LEVEL),
              slice_crosses=((WEATHER, LEVEL),), accuracy_floor=0.7,
              slice_floors={LEVEL: 0.5, WEATHER: 0.4, features.LABEL: 0.6},
              regression_tolerance=0.3, regression_significance=0.3, min_slice_size=2)
CALIBRATION_BINS = 10
# The published test split's examples: the first four (accuracy 3/4: sun 3/3, rain 0/1).
TEST_SPLIT_EXAMPLES = EXAMPLES[:4]


def write_examples(path, examples=EXAMPLES):
  with tf.io.TFRecordWriter(path) as writer:
    for label, weather, level, candidate, baseline in examples:
      example = features.make_example(
          encoded=b'', image_format='png', height=1, width=1, filename='x.png', label=label,
          label_text=str(label), scenario={'weather': weather, 'level': level})
      for name, probabilities in (('candidate', candidate), ('baseline', baseline or candidate)):
        example.features.feature[MODEL_FEATURE[name]].float_list.value[:] = probabilities
      writer.write(example.SerializeToString())


def save_model(path, probabilities_feature):
  """A serving-like export whose probabilities are read from the example itself."""

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name='examples')])
  def serve(serialized):
    parsed = tf.io.parse_example(
        serialized, {probabilities_feature: tf.io.FixedLenFeature([CLASSES], tf.float32)})
    return {'probabilities': parsed[probabilities_feature]}

  tf.saved_model.save(tf.Module(), path, signatures={'serving_default': serve})


def evaluate(root, name, config, *, has_baseline, examples='examples.tfrecord'):
  """Runs TFMA on `config` and the examples file `examples` under `root` as
  tfx.components.Evaluator does; returns its output directory."""
  config = tfma.utils.update_eval_config_with_defaults(
      config, has_baseline=has_baseline, rubber_stamp=True)
  models = [tfma.default_eval_shared_model(  # a lone candidate is named ''
      eval_saved_model_path=str(root / (spec.name or 'candidate')), model_name=spec.name,
      eval_config=config) for spec in config.model_specs]
  output = str(root / name)
  tfma.run_model_analysis(eval_shared_model=models if has_baseline else models[0],
                          eval_config=config, data_location=str(root / examples),
                          output_path=output)
  return output


def make_workspace(root):
  """A directory with examples.tfrecord, test_examples.tfrecord (TEST_SPLIT_EXAMPLES) and the
  candidate and baseline models."""
  write_examples(str(root / 'examples.tfrecord'))
  write_examples(str(root / 'test_examples.tfrecord'), TEST_SPLIT_EXAMPLES)
  for name, probabilities_feature in MODEL_FEATURE.items():
    save_model(str(root / name), probabilities_feature)
  return root


def evaluate_both_ways(root):
  """(candidate alone, candidate against the baseline) output directories under `root`."""
  return tuple(evaluate(root, f'evaluation_{has_baseline}', evaluation.eval_config(**CONFIG),
                        has_baseline=has_baseline)
               for has_baseline in (False, True))


def evaluate_test_split(root):
  """The candidate alone on TEST_SPLIT_EXAMPLES as the published test split's Evaluator runs
  it: the same slices, no gates, no baseline. Returns its output directory."""
  return evaluate(root, 'test_split_evaluation', evaluation.eval_config(**CONFIG, gates=False),
                  has_baseline=False, examples='test_examples.tfrecord')
