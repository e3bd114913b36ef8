"""The Trainer step: `run_fn` (TFX's entry point, named by RUN_FN) reads its TrainerConfig
and trains and exports a ran_model network.

Modules: config.py (TrainerConfig), training.py (run_fn: fitting, logging, precision),
input_pipeline.py (tf.data input and augmentation), distribution.py (tf.distribute
strategies), schedules.py (learning rates), serving.py (the exported signatures).
"""
from components.trainer.config import TrainerConfig
from components.trainer.training import run_fn

RUN_FN = f'{__name__}.run_fn'  # the module path TFX's Trainer imports run_fn by
