"""Shared test set-up: one Keras (Keras 2) and oneDNN kernels (as runner.py) before TensorFlow
loads, one random state at the start of every module and test, and the evaluation fixtures
(tests/evaluation_data.py) used by the evaluation, registry-pusher and dashboard tests."""
import os

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')

import pytest  # pylint: disable=g-import-not-at-top,wrong-import-position
import tf_keras as keras  # pylint: disable=g-import-not-at-top,wrong-import-position

from components import evaluation_results  # pylint: disable=g-import-not-at-top,wrong-import-position
import evaluation_data  # pylint: disable=g-import-not-at-top,wrong-import-position


@pytest.fixture(autouse=True, scope='module')
def _seeded_module():
  """Each module's fixtures start from one random state (Python, NumPy, TensorFlow),
  whatever ran before in this process: `make test`'s pytest-xdist workers take the files in
  an order of their own."""
  keras.utils.set_random_seed(0)


@pytest.fixture(autouse=True)
def _seeded_test():
  """Likewise each test, so that one test run alone draws what it drew in the suite."""
  keras.utils.set_random_seed(0)


@pytest.fixture(scope='session')
def evaluation_workspace(tmp_path_factory):
  """evaluation_data's examples, candidate and baseline models, in a directory."""
  return evaluation_data.make_workspace(tmp_path_factory.mktemp('evaluation'))


@pytest.fixture(scope='session')
def evaluations(evaluation_workspace):
  """(candidate alone, candidate against the baseline) TFMA output directories."""
  return evaluation_data.evaluate_both_ways(evaluation_workspace)


@pytest.fixture(scope='session')
def test_split_evaluation(evaluation_workspace):
  """The candidate on the published test split's examples, without gates (TFMA output)."""
  return evaluation_data.evaluate_test_split(evaluation_workspace)


@pytest.fixture(scope='session')
def alone(evaluations):
  """The candidate-alone evaluation, read back (components.evaluation_results)."""
  return evaluation_results.load_evaluation(evaluations[0])


@pytest.fixture(scope='session')
def against_baseline(evaluations):
  """The candidate-against-baseline evaluation, read back."""
  return evaluation_results.load_evaluation(evaluations[1])
