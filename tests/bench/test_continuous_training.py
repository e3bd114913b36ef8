"""The continuous-training budget benchmark's reading of a loop: the CPU, the verdict at the
limits, each command's outcome and steps, and a failing command stopping the loop."""
import dataclasses

import pytest

from bench import continuous_training
from components import evaluation
from components.data_gate.result import Anomaly
import edge_reports
from run_results import evaluated_run


@pytest.mark.parametrize('lscpu, model', [
    ('Architecture:  x86_64\nModel name:    Intel(R) Xeon(R) Processor\nCPU(s): 2\n',
     'Intel(R) Xeon(R) Processor'),
    ('Model name:                              AMD EPYC 7B13\n', 'AMD EPYC 7B13'),
    ('Architecture:  aarch64\n', ''),
])
def test_the_cpu_is_lscpus_model_name(lscpu, model):
  assert continuous_training.cpu_model(lscpu) == model


@pytest.mark.parametrize('first, warm, verdicts', [
    (218.2, 106.5, ('within', 'within')),
    (360.0, 180.0, ('within', 'within')),  # at both limits
    (360.5, 100.0, ('OVER', 'within')),
    (211.4, 105.8, ('within', 'OVER')),   # 0.5005x
])
def test_the_budget_verdict_at_its_limits(first, warm, verdicts):
  lines = continuous_training.budget_verdict(first, warm)
  assert [line.rsplit(': ', 1)[1] for line in lines] == list(verdicts)
  assert f'= {warm / first:.3f}x the first run' in lines[1]


def test_a_commands_outcome_names_accuracy_baseline_version_and_int8(evaluations):
  alone, against_baseline = evaluations
  assert continuous_training._outcome(evaluated_run(alone)) == '62.5%, not blessed'
  warm = evaluated_run(against_baseline, blessed=True, pushed_version=2,
                       edge=edge_reports.sample_report())  # int8 refused by its gate
  baseline = warm.slices[0].baseline[evaluation.ACCURACY]
  assert continuous_training._outcome(warm) == (
      f'62.5% (baseline {baseline:.1%}), blessed: v2, int8 not written')
  blocked = dataclasses.replace(warm, gate=dataclasses.replace(warm.gate, anomalies=[
      Anomaly('train', 'scenario/challenge', 'Unexpected string values: fog')]))
  assert not blocked.trained
  assert continuous_training._outcome(blocked) == 'blocked by the data gate'


def test_the_steps_are_those_that_ran_in_order(evaluations):
  run = evaluated_run(evaluations[0], cached=('ExampleGen',), component_seconds={
      'ExampleGen': 0.2, 'Transform': 5.43, 'Trainer': 19.81, 'RegistryPusher': 0.01})
  assert continuous_training._steps(run) == 'Transform 5.4, Trainer 19.8'


def test_a_failing_command_stops_the_loop_and_keeps_its_log(tmp_path):
  output_dir = str(tmp_path / 'loop')
  rows = continuous_training.run_loop(output_dir, ['--train_steps', '-5'])
  assert [(row['command'], row['exit']) for row in rows] == [('first run', 2)]
  log = rows[0]['outcome'].removeprefix('failed: ')
  with open(log) as f:
    assert 'error: --train_steps -5: must be at least 1' in f.read()
  assert continuous_training.loop_summary(rows, cpu='', precision='', runner_flags=[]) is None
