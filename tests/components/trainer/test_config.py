"""TrainerConfig: built from every profile by field name, carried through JSON whole, and a
field renamed on one side only fails when the pipeline is compiled."""
import dataclasses
import json

import pytest

from components import step_config
from components.trainer import TrainerConfig
from pipeline import configs
from pipeline import pipeline as pipeline_lib


@pytest.mark.parametrize('profile', sorted(configs.PROFILES))
def test_every_profile_builds_a_config_that_survives_json(profile):
  config = TrainerConfig.from_fields(configs.PROFILES[profile], code_version='abc')
  custom_config = json.loads(json.dumps(config.to_custom_config()))
  assert list(custom_config) == ['trainer_config']
  read = TrainerConfig.from_custom_config(custom_config)
  assert read == config
  assert read.lr_decay_fractions == configs.PROFILES[profile].lr_decay_fractions
  assert type(read.lr_decay_fractions) is tuple


def test_a_pipeline_config_without_a_trainer_field_fails_naming_it():
  fields = [(f.name, f.type, f) for f in dataclasses.fields(configs.PipelineConfig)
            if f.name != 'warmup_steps']
  without_warmup = dataclasses.make_dataclass('PipelineConfig', fields, frozen=True)()
  with pytest.raises(step_config.StepConfigError,
                     match=r"TrainerConfig fields \['warmup_steps'\] have no PipelineConfig"):
    TrainerConfig.from_fields(without_warmup, code_version='abc')


def test_a_trainer_field_renamed_alone_fails_when_the_pipeline_is_compiled(tmp_path,
                                                                          monkeypatch):
  @dataclasses.dataclass(frozen=True)
  class Renamed(TrainerConfig):
    warmup_iterations: int = 0

  monkeypatch.setattr(pipeline_lib.trainer_step, 'TrainerConfig', Renamed)
  with pytest.raises(configs.ConfigError, match=r"\['warmup_iterations'\]"):
    pipeline_lib.create_pipeline(dataclasses.replace(configs.DEV, output_dir=str(tmp_path)))


@pytest.mark.parametrize('field, value', [
    ('strategy', 'Mirrored'), ('lr_schedule', 'linear'), ('class_weighting', 'balance'),
    ('recipe', 'mnist'), ('mixed_precision', 'float16')])
def test_a_value_no_step_can_use_fails_with_the_value(field, value):
  profile = dataclasses.replace(configs.DEV, **{field: value})
  with pytest.raises(step_config.StepConfigError, match=f'Received {field}={value!r}'):
    TrainerConfig.from_fields(profile, code_version='abc')


def test_warm_start_settings_survive_json():
  profile = dataclasses.replace(configs.DEV, warm_start=False, warm_start_steps=70,
                                warm_start_lr_scale=0.25)
  config = TrainerConfig.from_fields(profile, code_version='abc')
  read = TrainerConfig.from_custom_config(json.loads(json.dumps(config.to_custom_config())))
  assert read == config
  assert (read.warm_start, read.warm_start_steps, read.warm_start_lr_scale) == (False, 70, 0.25)
  default = TrainerConfig.from_custom_config(json.loads(json.dumps(
      TrainerConfig.from_fields(configs.DEV, code_version='abc').to_custom_config())))
  assert (default.warm_start_steps, default.warm_start_lr_scale) == (40, 0.03)
  paper = TrainerConfig.from_fields(configs.CIFAR10, code_version='abc')  # trains from scratch
  assert (paper.warm_start, paper.warm_start_steps) == (False, None)


def test_warm_start_steps_below_one_are_refused():
  config = TrainerConfig.from_fields(configs.DEV, code_version='abc')
  with pytest.raises(step_config.StepConfigError, match='warm_start_steps must be at least 1'):
    dataclasses.replace(config, warm_start_steps=0)


@pytest.mark.parametrize('scale', [0.0, -0.1, 1.5])
def test_a_warm_start_rate_outside_0_to_1_is_refused(scale):
  config = TrainerConfig.from_fields(configs.DEV, code_version='abc')
  with pytest.raises(step_config.StepConfigError,
                     match=rf'warm_start_lr_scale must lie in \(0, 1\]. Received {scale}'):
    dataclasses.replace(config, warm_start_lr_scale=scale)
