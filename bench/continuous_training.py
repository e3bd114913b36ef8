"""The continuous-training budget on this machine: the README's three-command loop in a fresh
output directory, each command timed as a whole (interpreter start-up included), its steps'
seconds read back from ML Metadata.

  1. python runner.py --runner=local --output_dir DIR     span 1, trained from scratch: v1
  2. the same with --sample_span 2                         the winter delivery: blocked, exit 3
  3. the same with --sample_span 2 --accept_drift scenario/challenge,scenario/level
                                                           spans 1-2, warm-started from v1

Prints each command's wall time, exit status, outcome and the steps that ran, then the budget:
the first run against FIRST_RUN_LIMIT_S and the warm-started run against WARM_RUN_LIMIT of the
first; a warm-started candidate that is not blessed skips the edge export, so its ratio is
reported but says less. Writes a row per loop, with the CPU (lscpu's model name) and the
Trainer's precision policy, to `--output_csv` (default bench/results/continuous_training.csv).
Runner flags after `--` go to every command (e.g. `-- --train_steps 20 --warm_start_steps 5`
for a quick look); the budget is the default run's.

Usage: python bench/continuous_training.py [--output_dir DIR] [--loops N] [-- RUNNER FLAGS]
"""
import argparse
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Sequence

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')  # one Keras (Keras 2) before TF loads
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from bench import report  # pylint: disable=g-import-not-at-top,wrong-import-position
from components import evaluation  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge.report import INT8  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.trainer import training  # pylint: disable=g-import-not-at-top,wrong-import-position
from pipeline import results  # pylint: disable=g-import-not-at-top,wrong-import-position

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRST_RUN_LIMIT_S = 360.0  # issue 16: the first default run within 6 minutes
WARM_RUN_LIMIT = 0.5       # a warm-started run on a new span at most half the first run
COMMANDS = (('first run', ()),
            ('span 2', ('--sample_span', '2')),
            ('span 2, drift accepted', ('--sample_span', '2', '--accept_drift',
                                        'scenario/challenge,scenario/level')))
COLUMNS = [('command', 'command', '{}'), ('exit', 'exit', '{}'), ('seconds', 'wall s', '{:.1f}'),
           ('outcome', 'outcome', '{}'), ('steps', 'steps that ran (s)', '{}')]


def cpu_model(lscpu_output: str) -> str:
  """The 'Model name' of `lscpu`'s output, or '' when it has none."""
  for line in lscpu_output.splitlines():
    key, _, value = line.partition(':')
    if key.strip() == 'Model name':
      return value.strip()
  return ''


def budget_verdict(first_seconds: float, warm_seconds: float) -> List[str]:
  """The two budget lines: the first run against FIRST_RUN_LIMIT_S, the warm-started run's
  ratio to it against WARM_RUN_LIMIT (at the limit is within)."""
  ratio = warm_seconds / first_seconds
  return [f'first run {first_seconds:.1f} s, limit {FIRST_RUN_LIMIT_S:.0f} s: '
          f'{"within" if first_seconds <= FIRST_RUN_LIMIT_S else "OVER"}',
          f'warm-started run {warm_seconds:.1f} s = {ratio:.3f}x the first run, limit '
          f'{WARM_RUN_LIMIT}x: {"within" if ratio <= WARM_RUN_LIMIT else "OVER"}']


def _outcome(run: results.RunResults) -> str:
  """'blocked', or the accuracy (against the baseline's, when there was one), blessed or
  not, the registry version and whether the int8 model was written."""
  if not run.trained:
    return 'blocked by the data gate'
  overall = run.slices[0]
  text = f'{overall.accuracy:.1%}'
  if evaluation.ACCURACY in overall.baseline:
    text += f' (baseline {overall.baseline[evaluation.ACCURACY]:.1%})'
  if not run.blessed:
    return text + ', not blessed'
  text += f', blessed: v{run.pushed_version}'
  if run.edge is not None:
    text += ', int8 ' + ('written' if run.edge.models[INT8].written else 'not written')
  return text


def _steps(run: results.RunResults) -> str:
  """The steps that ran (not cached), in pipeline order, with their seconds."""
  return ', '.join(f'{name} {seconds:.1f}' for name, seconds in run.component_seconds.items()
                   if name not in run.cached and seconds >= 0.05)


def run_loop(output_dir: str, runner_flags: Sequence[str]) -> List[Dict[str, Any]]:
  """The three commands into a fresh `output_dir`; a row per command (its RunResults under
  'run'). Stops at a command that fails (an exit status other than 0 and 3)."""
  shutil.rmtree(output_dir, ignore_errors=True)
  rows, previous_run = [], None
  for label, flags in COMMANDS:
    command = [sys.executable, 'runner.py', '--runner=local', '--output_dir', output_dir,
               *flags, *runner_flags]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    log = os.path.join(output_dir, 'logs', f'{len(rows) + 1}.log')
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, 'w') as f:
      f.write(done.stdout + done.stderr)
    row = dict(command=label, exit=done.returncode, seconds=seconds, outcome='failed: ' + log,
               steps='', run=None)
    rows.append(row)
    if done.returncode not in (0, 3):
      break
    (pipeline_name,) = os.listdir(os.path.join(output_dir, 'pipeline'))
    run = results.latest_run_results(os.path.join(output_dir, 'metadata.sqlite'),
                                     pipeline_name)
    if previous_run is not None and run.run_id == previous_run:
      break  # the command recorded no finished run
    previous_run = run.run_id
    row.update(outcome=_outcome(run), steps=_steps(run), run=run)
  return rows


def loop_summary(rows: Sequence[Dict[str, Any]], *, cpu: str, precision: str,
                 runner_flags: Sequence[str]) -> Optional[Dict[str, Any]]:
  """The CSV row of a finished loop (None when a command failed)."""
  if len(rows) < len(COMMANDS) or any(row['run'] is None for row in rows):
    return None
  first, blocked, warm = rows
  return dict(
      finished_utc=datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M'),
      cpu=cpu, precision=precision, runner_flags=' '.join(runner_flags),
      first_s=round(first['seconds'], 1), first_outcome=first['outcome'],
      blocked_s=round(blocked['seconds'], 1), blocked_exit=blocked['exit'],
      warm_s=round(warm['seconds'], 1), warm_outcome=warm['outcome'],
      warm_ratio=round(warm['seconds'] / first['seconds'], 3),
      first_steps=first['steps'], warm_steps=warm['steps'])


def main() -> None:
  argv = sys.argv[1:]
  runner_flags = argv[argv.index('--') + 1:] if '--' in argv else []
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--output_dir', default=None,
                      help='where the loops run (loop-1/, ...); default: a new temporary folder')
  parser.add_argument('--loops', type=int, default=1)
  parser.add_argument('--output_csv',
                      default=os.path.join(REPO, 'bench', 'results', 'continuous_training.csv'))
  args = parser.parse_args(argv[:argv.index('--')] if '--' in argv else argv)
  root = args.output_dir or tempfile.mkdtemp(prefix='continuous-training-')
  lscpu = subprocess.run(['lscpu'], capture_output=True, text=True, check=False).stdout
  cpu, precision = cpu_model(lscpu), training.precision_policy('auto')
  print(f'CPU: {cpu or "unknown"}; the Trainer\'s precision (auto): {precision}')
  summaries = []
  for loop in range(1, args.loops + 1):
    rows = run_loop(os.path.join(root, f'loop-{loop}'), runner_flags)
    print(f'\nLoop {loop} ({os.path.join(root, f"loop-{loop}")}):')
    report.print_table(COLUMNS, rows, left_aligned=1)
    summary = loop_summary(rows, cpu=cpu, precision=precision, runner_flags=runner_flags)
    if summary is None:
      print('A command failed: no budget for this loop (its log is named above).')
      continue
    summaries.append(summary)
    print('Budget' + (' (not the default run: runner flags given)' if runner_flags else '')
          + ':')
    first, _, warm = rows  # the verdict from the seconds the CSV's ratio comes from, unrounded
    for line in budget_verdict(first['seconds'], warm['seconds']):
      print('  ' + line)
  if summaries:
    report.write_csv(args.output_csv, summaries)


if __name__ == '__main__':
  main()
