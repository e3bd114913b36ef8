"""`python runner.py dashboard`: the evaluation dashboard (components/dashboard) of the latest
pipeline run recorded in ML Metadata, or of a given Evaluator output directory and/or DataGate
output, with the History of the registry's versions, written as one self-contained HTML file
whose path is printed.

Default file: <output_dir>/dashboard/index.html (the same for every run: the newest page
replaces the last one; --output names another).
"""
import argparse
import dataclasses
import os
import sys
from typing import Optional, Sequence

from tfx.utils import io_utils

from components import schemas
from components.dashboard import evaluation_page
from pipeline import configs
from pipeline import flags
from pipeline import results

PAGE_FILE = os.path.join('dashboard', 'index.html')


def default_page_path(output_dir: str) -> str:
  """Where the page goes by default: <output_dir>/dashboard/index.html."""
  return os.path.join(output_dir, PAGE_FILE)


def _registry(config: configs.PipelineConfig):
  """(registry root, registered model name) of `config`, for the History section."""
  return config.registry_dir, config.resolved_registered_model_name


def write_run_page(config: configs.PipelineConfig, run: results.RunResults, *,
                   output_path: Optional[str] = None,
                   model_name: Optional[str] = None) -> str:
  """Writes the dashboard of `run`'s evaluation (default: default_page_path(config.output_dir)),
  class names from the run's own schema (the dataset's curated one for a run that recorded
  none), the Data section from the run's DataGate output, the History section from the
  config's registry; `model_name`, when known, goes in the title. Returns the path."""
  title, details = evaluation_page.run_heading(
      pipeline=config.pipeline_name, run_id=run.run_id, model_name=model_name,
      pushed_to=run.pushed_model, trained=run.trained)
  schema_path = (io_utils.get_only_uri_in_dir(run.schema_uri) if run.schema_uri
                 else schemas.schema_path(config.dataset))
  return evaluation_page.write_evaluation_page(
      run.evaluation_uri, output_path or default_page_path(config.output_dir),
      schema_path=schema_path, examples_uri=run.examples_uri,
      test_evaluation_uri=run.test_evaluation_uri, empty_test_split=run.test_examples == 0,
      data_gate_uri=run.gate_uri, edge_report_uri=run.edge_uri, registry=_registry(config),
      title=title, details=details)


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = flags.ArgumentParser(
      prog='runner.py dashboard', description=__doc__.split('\n\n')[0],
      formatter_class=argparse.ArgumentDefaultsHelpFormatter)
  parser.add_argument('--output_dir', default=None,
                      help='Where the pipeline wrote metadata.sqlite and its artifacts. '
                      'Default: the profile\'s (outputs).')
  parser.add_argument('--evaluation', default=None, metavar='URI',
                      help='An Evaluator output directory to show; default: the '
                      'evaluation of the latest run of the pipeline in ML Metadata.')
  parser.add_argument('--examples', default=None, metavar='URI',
                      help='With --evaluation: the Examples artifact it evaluated, whose '
                      'evaluation split the attention maps are drawn from.')
  parser.add_argument('--data_gate', default=None, metavar='URI',
                      help='A DataGate output (its folder holds data_gate.json) whose verdict on '
                      'the newest span the Data section shows; without --evaluation, the page '
                      'of a run the gate blocked.')
  parser.add_argument('--profile', default='dev', choices=sorted(configs.PROFILES),
                      help='Profile whose pipeline name and dataset apply.')
  parser.add_argument('--pipeline_name', default=None,
                      help='Pipeline whose latest run to show. Default: the profile\'s.')
  parser.add_argument('--dataset', default=None,
                      help='With --evaluation: the dataset whose curated schema names the '
                      'classes. Default: the profile\'s.')
  parser.add_argument('--output', default=None, metavar='FILE',
                      help=f'The HTML file to write. Default: <output_dir>/{PAGE_FILE}.')
  return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
  """Writes the dashboard and prints its path; exit status 2 when there is nothing to show."""
  args = _parse_args(argv)
  overrides = {name: getattr(args, name) for name in ('output_dir', 'pipeline_name', 'dataset')
               if getattr(args, name) is not None}
  config = dataclasses.replace(configs.PROFILES[args.profile], **overrides)
  output_path = args.output or default_page_path(config.output_dir)
  try:
    if args.evaluation or args.data_gate:
      path = evaluation_page.write_evaluation_page(
          args.evaluation, output_path, schema_path=schemas.schema_path(config.dataset),
          examples_uri=args.examples, data_gate_uri=args.data_gate,
          registry=_registry(config))
    else:
      if not os.path.isfile(config.metadata_path):
        raise configs.ConfigError(
            f'No ML Metadata store at {config.metadata_path}: run the pipeline first '
            '(python runner.py), or name an Evaluator output with --evaluation')
      run = results.latest_run_results(config.metadata_path, config.pipeline_name)
      path = write_run_page(config, run, output_path=output_path)
  except ValueError as error:  # ConfigError, and no run / no evaluation in the store
    print(f'error: {error}', file=sys.stderr)
    return 2
  print(f'Dashboard: {os.path.abspath(path)}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
