"""Where a training keeps its resumable state (Keras BackupAndRestore checkpoints), so that a
rerun of the same training finds it: a killed local run that is started again is a new TFX
execution with new output folders, and still resumes.

The folder is keyed by what determines the training: the train and eval files, the Transform
output, the schema, the base model, the step counts and the whole custom_config (the
Trainer's settings and its code version). It lies beside the executions' folders: TFX gives
the Trainer `<node dir>/model_run/<execution id>` as its model run directory (locally
`<pipeline_root>/Trainer/model_run/<id>`), and the state lives in
`<node dir>/resume/<key>`. Keras deletes it when training finishes.
"""
import hashlib
import json
import os

from tfx.components.trainer.fn_args_utils import FnArgs

RESUME_DIR = 'resume'  # under the Trainer's node directory
_DETERMINING = ('train_files', 'eval_files', 'transform_output', 'schema_path', 'base_model',
                'train_steps', 'eval_steps', 'custom_config')


def training_key(fn_args: FnArgs) -> str:
  """16 hex digits of a digest of what determines the training (the _DETERMINING FnArgs)."""
  determining = {name: getattr(fn_args, name) for name in _DETERMINING}
  text = json.dumps(determining, sort_keys=True, default=str)
  return hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


def resume_dir(fn_args: FnArgs) -> str:
  """`<node dir>/resume/<training_key>`, the node directory being two levels above
  `fn_args.model_run_dir`."""
  node_dir = os.path.dirname(os.path.dirname(fn_args.model_run_dir.rstrip('/')))
  return os.path.join(node_dir, RESUME_DIR, training_key(fn_args))
