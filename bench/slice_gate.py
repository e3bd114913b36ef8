"""How often the slice regression gate refuses a candidate that is no worse, and how often it
catches one that is, at several significance levels, on the slices of a real evaluation.

Reads Evaluator outputs that compared a candidate with a baseline (`--evaluation`): per
regression-gated slice (as its eval config gates them, at least min_slice_size examples) its
examples and the number on which the two models disagree (examples lost + gained). Then, in
`--trials` seeded simulations per significance level:
  - an equal candidate: on each slice, each disagreement goes either way with probability 1/2;
    the share of trials in which any slice blocks is the family-wise false-refusal rate;
  - a worse one: one slice at a time also loses `--loss` of its examples (rounded up) on top;
    the share of trials in which that slice blocks, averaged over the slices, is the detection
    rate.
A slice blocks as the Evaluator decides (components.evaluation.significant_change below the
tolerance). Slices are simulated independently; they overlap (each example lies in one slice
of every feature), which the simulation ignores. Writes `--output_csv` (default
bench/results/slice_gate.csv).

Usage, after the README's three-command loop into /tmp/b (the warm-started run's evaluation;
several loops' evaluations give a row each per significance level):
  python bench/slice_gate.py --evaluation /tmp/b/pipeline/ran-dev/Evaluator/evaluation/<id>
"""
import argparse
import math
import os

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')  # one Keras (Keras 2) before TF loads
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position

from bench import report  # pylint: disable=g-import-not-at-top,wrong-import-position
from components import evaluation  # pylint: disable=g-import-not-at-top,wrong-import-position
from components import evaluation_results  # pylint: disable=g-import-not-at-top,wrong-import-position

COLUMNS = [('evaluation', 'evaluation', '{}'), ('significance', 'significance', '{:g}'),
           ('slices', 'gated slices', '{}'),
           ('false_refusals', 'equal candidate refused', '{:.1%}'),
           ('detected', 'loss caught on its slice', '{:.1%}')]


def _gated_slices(evaluated: evaluation_results.Evaluation):
  """[(examples, disagreements, tolerance)] of the slices the eval config's regression gate
  judges (a max_drop on significant_accuracy_change), at least min_slice_size examples."""
  thresholds = evaluation_results.describe_thresholds(evaluated)
  least = evaluation_results.min_slice_size(evaluated)
  slices = []
  for result in evaluated.slices:
    bounds = evaluation_results.bounds_for(thresholds, result, evaluation.SIGNIFICANT_CHANGE)
    if 'max_drop' in bounds and result.examples >= least:
      disagreements = result.delta[evaluation.EXAMPLES_LOST] + result.delta[
          evaluation.EXAMPLES_GAINED]
      slices.append((result.examples, int(disagreements), bounds['max_drop']))
  return slices


def simulate(slices, *, significance: float, min_examples: int, loss: float, trials: int,
             seed: int):
  """(false-refusal rate, detection rate) as the module docstring defines them."""
  rng = np.random.default_rng(seed)

  def blocks(lost, gained, examples, tolerance):
    return evaluation.significant_change(lost, gained, examples, significance=significance,
                                         min_examples=min_examples) < -tolerance

  refused = 0
  for _ in range(trials):
    lost = [rng.binomial(d, 0.5) for _, d, _ in slices]
    refused += any(blocks(l, d - l, n, tolerance) for l, (n, d, tolerance) in zip(lost, slices))
  caught = []
  for n, d, tolerance in slices:
    extra = math.ceil(loss * n)
    caught.append(np.mean([blocks(lost + extra, d - lost, n, tolerance)
                           for lost in rng.binomial(d, 0.5, size=trials)]))
  return refused / trials, float(np.mean(caught))


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--evaluation', required=True, nargs='+',
                      help='Evaluator output directories with a baseline.')
  parser.add_argument('--significance', type=float, nargs='+', default=[1.0, 0.05, 0.01])
  parser.add_argument('--loss', type=float, default=0.1,
                      help='The worse candidate\'s extra loss on one slice, as a share of it.')
  parser.add_argument('--trials', type=int, default=20000)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--output_csv', default=os.path.join('bench', 'results', 'slice_gate.csv'))
  args = parser.parse_args()
  rows = []
  for uri in args.evaluation:
    evaluated = evaluation_results.load_evaluation(uri)
    if not evaluated.has_baseline:
      parser.error(f'{uri} has no baseline: nothing was compared')
    slices = _gated_slices(evaluated)
    print(f'{uri}: {len(slices)} gated slices, disagreements {[d for _, d, _ in slices]}, '
          f'tolerances {sorted({t for _, _, t in slices})}; a worse candidate loses '
          f'{args.loss:.0%} more on one slice')
    for significance in args.significance:
      refused, caught = simulate(
          slices, significance=significance,
          min_examples=evaluation_results.min_slice_size(evaluated), loss=args.loss,
          trials=args.trials, seed=args.seed)
      rows.append({'evaluation': uri, 'significance': significance, 'slices': len(slices),
                   'false_refusals': refused, 'detected': caught})
  report.print_table(COLUMNS, rows)
  report.write_csv(args.output_csv, rows)


if __name__ == '__main__':
  main()
