"""int8 activation ranges: the edge export's batch means against TFLite's own min/max.

For each calibration seed, the edge export (components/edge/export.py, without timing) of a
finished run's pushed model, once with TFLite's min/max ranges (every calibration image's
extremes) and once with batch-mean ranges (converter.batch_mean_ranges, the default), on the
same seeded sample of `--representative_examples` training images. Printed per run: int8
accuracy on the eval split against the float model's (the float32 network: the gate's
reference), agreement of the int8 top-1 with it, and the scenario slices failing the gate
(more than `--edge_max_drop` below the float model on a slice of at least min_slice_size
examples). Beside them, how noisy the SavedModel as served would be as the reference (it
computes in bfloat16 on CPUs that have it): the same gate applied to the float16 model
(float32 arithmetic) and to int8, both against the served accuracy (the Evaluator's).
Writes `--output_csv` (default bench/results/int8_calibration.csv).

Usage, on the artifacts of a local run that pushed its model (`make run`: outputs/...):
  python bench/int8_calibration.py --registry_version outputs/registry/ran-dev/1 \
      --model outputs/pipeline/ran-dev/Trainer/model/<id> \
      --examples outputs/pipeline/ran-dev/ExampleGen/examples/<id> \
      --evaluation outputs/pipeline/ran-dev/Evaluator/evaluation/<id> [--seeds 0 1 2]
"""
import dataclasses
import os

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')  # one Keras (Keras 2) before TF loads
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position

from bench import pushed_model  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import report  # pylint: disable=g-import-not-at-top,wrong-import-position
from components import evaluation_results  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge import converter  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge import export  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge import pixels  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge import scoring  # pylint: disable=g-import-not-at-top,wrong-import-position
from components.edge.report import FLOAT16, INT8  # pylint: disable=g-import-not-at-top,wrong-import-position


def _failing_against_served(slices, args, min_slice_size) -> int:
  """How many slices of `slices` fail the gate with the served accuracy as the reference."""
  return len(scoring.gate_failures(
      {name: dataclasses.replace(result, float_accuracy=result.served_accuracy)
       for name, result in slices.items()},
      max_drop=args.edge_max_drop, min_slice_size=min_slice_size))


def main() -> None:
  parser = pushed_model.parser(__doc__.split('\n\n')[0])
  parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
  parser.add_argument('--output_csv', default=os.path.join(
      os.path.dirname(os.path.abspath(__file__)), 'results', 'int8_calibration.csv'))
  args = parser.parse_args()
  evaluated = evaluation_results.load_evaluation(args.evaluation)
  rows = []
  for seed in args.seeds:
    for ranges in (converter.MIN_MAX, converter.BATCH_MEAN):
      settings = export.ExportSettings(
          recipe=args.recipe, max_drop=args.edge_max_drop, seed=seed, ranges=ranges,
          representative_examples=args.representative_examples, latency_runs=0)
      edge, _ = export.export_edge_models(
          args.registry_version, converter.read_network(args.model),
          train_files=pixels.split_files(args.examples, 'train'),
          eval_files=pixels.split_files(args.examples, 'eval'), evaluated=evaluated,
          settings=settings)
      int8, float16 = edge.models[INT8], edge.models[FLOAT16]
      overall = int8.slices['overall']
      rows.append({'seed': seed, 'ranges': ranges, 'float32': overall.float_accuracy,
                   'served': overall.served_accuracy,
                   'float16': float16.slices['overall'].accuracy, 'int8': overall.accuracy,
                   'agreement': int8.agreement, 'failing': len(int8.reasons),
                   'written': int8.written,
                   'float16_failing_vs_served': _failing_against_served(
                       float16.slices, args, edge.min_slice_size),
                   'failing_vs_served': _failing_against_served(
                       int8.slices, args, edge.min_slice_size)})
  report.print_table([('seed', 'seed', '{}'), ('ranges', 'ranges', '{}'),
                      ('float32', 'float32', '{:.4f}'), ('served', 'served', '{:.4f}'),
                      ('float16', 'float16', '{:.4f}'), ('int8', 'int8', '{:.4f}'),
                      ('agreement', 'int8 = float32', '{:.4f}'),
                      ('failing', 'failing slices', '{}'), ('written', 'written', '{}'),
                      ('float16_failing_vs_served', 'float16 failing vs served', '{}'),
                      ('failing_vs_served', 'int8 failing vs served', '{}')], rows,
                     left_aligned=2)
  report.write_csv(args.output_csv, rows)
  for ranges in (converter.MIN_MAX, converter.BATCH_MEAN):
    mine = [row for row in rows if row['ranges'] == ranges]
    print(f'{ranges}: mean agreement {np.mean([r["agreement"] for r in mine]):.4f}, '
          f'failing slices {[r["failing"] for r in mine]}, written {sum(r["written"] for r in mine)}'
          f' of {len(mine)}')


if __name__ == '__main__':
  main()
