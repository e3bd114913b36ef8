"""Fixtures shared by the component tests."""
import pytest

import evaluation_data


@pytest.fixture(scope='session')
def evaluation_workspace(tmp_path_factory):
  """evaluation_data's examples, candidate and baseline models, in a directory."""
  return evaluation_data.make_workspace(tmp_path_factory.mktemp('evaluation'))


@pytest.fixture(scope='session')
def evaluations(evaluation_workspace):
  """(candidate alone, candidate against the baseline) TFMA output directories."""
  return evaluation_data.evaluate_both_ways(evaluation_workspace)
