"""The Trainer's settings, typed: built from the profile by field name when the pipeline is
compiled, carried in the Trainer's custom_config, read back in `run_fn`
(components/step_config.py). Each field means what the PipelineConfig field of the same name
documents (pipeline/configs.py)."""
import dataclasses
from typing import Optional, Tuple

from components import preprocessing
from components import step_config
from components.trainer import distribution
from components.trainer import schedules

CLASS_WEIGHTINGS = ('none', 'balanced')
PRECISIONS = ('auto', 'float32', 'mixed_bfloat16', 'mixed_float16')


@dataclasses.dataclass(frozen=True)
class TrainerConfig(step_config.StepConfig):
  """Everything `run_fn` reads besides TFX's own arguments (steps, files, directories)."""
  CUSTOM_CONFIG_KEY = 'trainer_config'

  model_name: str                         # ran_model variant
  width_multiplier: float
  image_size: int                         # px, square
  strategy: str                           # distribution.STRATEGIES
  batch_size: int                         # examples per replica and step
  learning_rate: float                    # peak, at a global batch of lr_reference_batch
  lr_reference_batch: int
  lr_schedule: str                        # schedules.SCHEDULES
  warmup_steps: int
  lr_decay_fractions: Tuple[float, ...]   # of the training steps
  weight_decay: float
  label_smoothing: float
  class_weighting: str                    # CLASS_WEIGHTINGS
  recipe: str                             # preprocessing.RECIPES
  deterministic_input: bool
  mixed_precision: str                    # PRECISIONS
  xla: bool
  checkpoint_every: int                   # steps
  bn_recalibration_batches: int           # after training (batch_norm.recalibrate)
  warm_start: bool                        # start from the base model's weights if they fit
  warm_start_steps: Optional[int]         # steps of a warm-started run; None: train_steps
  warm_start_lr_scale: float              # its peak rate, as a fraction of learning_rate's
  seed: int
  code_version: str                       # the step's cache key

  def __post_init__(self):
    choices = {'strategy': distribution.STRATEGIES, 'lr_schedule': schedules.SCHEDULES,
               'class_weighting': CLASS_WEIGHTINGS, 'recipe': tuple(preprocessing.RECIPES),
               'mixed_precision': PRECISIONS}
    for name, allowed in choices.items():
      if getattr(self, name) not in allowed:
        raise step_config.StepConfigError(
            f'{name} must be one of {allowed}. Received {name}={getattr(self, name)!r}')
    if self.warm_start_steps is not None and self.warm_start_steps < 1:
      raise step_config.StepConfigError(
          f'warm_start_steps must be at least 1 or None. Received {self.warm_start_steps}')
    if not 0.0 < self.warm_start_lr_scale <= 1.0:
      raise step_config.StepConfigError(
          f'warm_start_lr_scale must lie in (0, 1]. Received {self.warm_start_lr_scale}')
