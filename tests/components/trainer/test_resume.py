"""The resume folder: the same for every execution of one training, another for any change in
what determines the training, beside the executions' folders."""
import os

import pytest
from tfx import v1 as tfx

from components.trainer import resume

_FN_ARGS = dict(
    train_files=['/root/ExampleGen/examples/1/Split-train/*'],
    eval_files=['/root/ExampleGen/examples/1/Split-eval/*'],
    transform_output='/root/Transform/transform_graph/4',
    schema_path='/root/ImportSchemaGen/schema/2/schema.pbtxt', base_model=None,
    train_steps=400, eval_steps=0, custom_config={'trainer_config': {'seed': 0}})


def _fn_args(execution_id: int, **changes) -> tfx.components.FnArgs:
  return tfx.components.FnArgs(
      **{**_FN_ARGS, **changes},
      serving_model_dir=f'/root/Trainer/model/{execution_id}/Format-Serving',
      model_run_dir=f'/root/Trainer/model_run/{execution_id}')


def test_every_execution_of_one_training_shares_its_resume_folder():
  folder = resume.resume_dir(_fn_args(5))
  assert folder == resume.resume_dir(_fn_args(9))
  assert os.path.dirname(folder) == '/root/Trainer/resume'
  assert len(os.path.basename(folder)) == 16


@pytest.mark.parametrize('changes', [
    dict(train_files=['/root/ExampleGen/examples/6/Split-train/*']),
    dict(eval_files=[]), dict(transform_output='/root/Transform/transform_graph/8'),
    dict(schema_path='/root/ImportSchemaGen/schema/3/schema.pbtxt'),
    dict(base_model='/root/Trainer/model/3/Format-Serving'), dict(train_steps=401),
    dict(eval_steps=2), dict(custom_config={'trainer_config': {'seed': 1}}),
])
def test_another_training_gets_another_resume_folder(changes):
  assert resume.resume_dir(_fn_args(5, **changes)) != resume.resume_dir(_fn_args(5))
