"""`python runner.py report`: the evaluation dashboard (components/dashboard) of the latest
pipeline run recorded in ML Metadata, or of a given Evaluator output directory, written as one
self-contained HTML file whose path is printed.

Default file: <output_dir>/report/index.html (the same for every run: the newest report
replaces the last one; --output names another).
"""
import argparse
import dataclasses
import os
import sys
from typing import Optional, Sequence, Tuple

from components import schemas
from components.dashboard import evaluation_report
from pipeline import configs
from pipeline import results

REPORT_FILE = os.path.join('report', 'index.html')


def report_path(output_dir: str) -> str:
  """Where the dashboard goes by default: <output_dir>/report/index.html."""
  return os.path.join(output_dir, REPORT_FILE)


def write_report(evaluation_uri: str, output_path: str, *, dataset: str,
                 examples_uri: Optional[str] = None, title: str = 'Model evaluation',
                 details: Sequence[Tuple[str, str]] = ()) -> str:
  """evaluation_report.write_evaluation_report with the class names of `dataset`'s curated
  schema; ValueError when the dataset has none or `evaluation_uri` is no Evaluator output."""
  return evaluation_report.write_evaluation_report(
      evaluation_uri, output_path, schema_path=schemas.schema_path(dataset),
      examples_uri=examples_uri, title=title, details=details)


def write_run_report(config: configs.PipelineConfig, run: results.RunResults, *,
                     output_path: Optional[str] = None,
                     model_name: Optional[str] = None) -> str:
  """Writes the dashboard of `run`'s evaluation (default: report_path(config.output_dir));
  `model_name`, when known, goes in the title. Returns the path."""
  details = [('pipeline', config.pipeline_name), ('run', run.run_id)]
  details += [('model', model_name)] if model_name else []
  details.append(('pushed to', run.pushed_model or 'nothing pushed'))
  title = f'Evaluation of {model_name}' if model_name else 'Model evaluation'
  return write_report(run.evaluation_uri, output_path or report_path(config.output_dir),
                      dataset=config.dataset, examples_uri=run.examples_uri, title=title,
                      details=details)


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
      prog='runner.py report', description=__doc__.split('\n\n')[0],
      formatter_class=argparse.ArgumentDefaultsHelpFormatter)
  parser.add_argument('--output_dir', default=None,
                      help='Where the pipeline wrote metadata.sqlite and its artifacts. '
                      'Default: the profile\'s (outputs).')
  parser.add_argument('--evaluation', default=None, metavar='URI',
                      help='An Evaluator output directory to report on; default: the '
                      'evaluation of the latest run of the pipeline in ML Metadata.')
  parser.add_argument('--examples', default=None, metavar='URI',
                      help='With --evaluation: the Examples artifact it evaluated, whose '
                      'evaluation split the attention maps are drawn from.')
  parser.add_argument('--profile', default='dev', choices=sorted(configs.PROFILES),
                      help='Profile whose pipeline name and dataset (class names) apply.')
  parser.add_argument('--pipeline_name', default=None,
                      help='Pipeline whose latest run to report on. Default: the profile\'s.')
  parser.add_argument('--dataset', default=None,
                      help='Dataset whose schema names the classes. Default: the profile\'s.')
  parser.add_argument('--output', default=None, metavar='FILE',
                      help=f'The HTML file to write. Default: <output_dir>/{REPORT_FILE}.')
  return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
  """Writes the dashboard and prints its path; exit status 2 when there is nothing to report."""
  args = _parse_args(argv)
  overrides = {name: getattr(args, name) for name in ('output_dir', 'pipeline_name', 'dataset')
               if getattr(args, name) is not None}
  config = dataclasses.replace(configs.PROFILES[args.profile], **overrides)
  output_path = args.output or report_path(config.output_dir)
  try:
    if args.evaluation:
      path = write_report(args.evaluation, output_path, dataset=config.dataset,
                          examples_uri=args.examples)
    else:
      if not os.path.isfile(config.metadata_path):
        raise configs.ConfigError(
            f'No ML Metadata store at {config.metadata_path}: run the pipeline first '
            '(python runner.py), or name an Evaluator output with --evaluation')
      run = results.latest_run_results(config.metadata_path, config.pipeline_name)
      path = write_run_report(config, run, output_path=output_path)
  except ValueError as error:  # ConfigError, and no run / no evaluation in the store
    print(f'error: {error}', file=sys.stderr)
    return 2
  print(f'Dashboard: {os.path.abspath(path)}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
