"""The edge tests' shared work, done once: the trained, exported model (edge_data), its
rebuilt pixel classifier, its TFLite conversions and an evaluation of its float model in the
Evaluator's form."""
import numpy as np
import pytest
from google.protobuf import json_format

from components import evaluation
from components import evaluation_results
from components import features
from components.edge import converter
from components.edge import pixels
import edge_data

MIN_SLICE_SIZE = 20
CALIBRATION_IMAGES = 100


@pytest.fixture(scope='session')
def workspace(tmp_path_factory):
  return edge_data.make_workspace(str(tmp_path_factory.mktemp('edge')))


@pytest.fixture(scope='session')
def classifier(workspace):
  return converter.PixelClassifier(workspace.saved_model_dir,
                                   converter.read_network(workspace.model_uri))


@pytest.fixture(scope='session')
def eval_pixels(workspace):
  """uint8 [96, 32, 32, 3]: the eval images as the edge models take them."""
  return pixels.model_inputs(workspace.eval_encoded, edge_data.IMAGE_SIZE, edge_data.RECIPE)


@pytest.fixture(scope='session')
def calibration(workspace):
  return pixels.model_inputs(pixels.sample_encoded(workspace.train_files, CALIBRATION_IMAGES, 0),
                             edge_data.IMAGE_SIZE, edge_data.RECIPE)


@pytest.fixture(scope='session')
def float16_model(classifier):
  return converter.to_float16(classifier)


@pytest.fixture(scope='session')
def int8_model(classifier, calibration):
  return converter.to_int8(classifier, calibration)


def _slice(key, hits: np.ndarray) -> evaluation_results.SliceResult:
  return evaluation_results.SliceResult(
      key, {evaluation.EXAMPLE_COUNT: float(len(hits)),
            evaluation.ACCURACY: float(np.mean(hits))}, {}, {})


@pytest.fixture(scope='session')
def float_evaluation(workspace, classifier, eval_pixels):
  """The float model's evaluation of the eval split as the Evaluator reports it (its slices:
  overall, per weather, per class; its eval config, min_slice_size MIN_SLICE_SIZE), built
  from the rebuilt model's top-1 classes, not by running TFMA."""
  hits = np.argmax(classifier.probabilities(eval_pixels), axis=-1) == workspace.eval_labels
  weather = np.array(workspace.eval_weather)
  slices = [_slice((), hits)]
  slices += [_slice(((features.LABEL, label),), hits[workspace.eval_labels == label])
             for label in range(len(edge_data.CLASS_NAMES))]
  slices += [_slice(((edge_data.WEATHER, value),), hits[weather == value])
             for value in ('rain', 'sun')]
  config = evaluation.eval_config(
      num_classes=len(edge_data.CLASS_NAMES), slice_features=[edge_data.WEATHER],
      accuracy_floor=0.0, regression_tolerance=1.0, min_slice_size=MIN_SLICE_SIZE)
  return evaluation_results.Evaluation(
      uri='float-evaluation', slices=tuple(slices), failures=(), missing_slices=(),
      blessed=True, has_baseline=False, calibration=(), confusion=np.zeros((3, 3)),
      eval_config={'evalConfig': json_format.MessageToDict(config)})
