"""`python runner.py report`: the evaluation dashboard (components/dashboard) of the latest
pipeline run recorded in ML Metadata, or of a given Evaluator output directory, written as one
self-contained HTML file whose path is printed.

Default file: <output_dir>/report/index.html (the same for every run: the newest report
replaces the last one; --output names another).
"""
import argparse
import dataclasses
import datetime
import os
import sys
from typing import Optional, Sequence, Tuple

import tensorflow as tf

from components import dashboard
from components import evaluation_results
from components import schemas
from components.attention_maps import served
from components.dashboard import attention
from components.dashboard.formatting import escape
from pipeline import configs
from pipeline import results

REPORT_FILE = os.path.join('report', 'index.html')


def report_path(output_dir: str) -> str:
  """Where the dashboard goes by default: <output_dir>/report/index.html."""
  return os.path.join(output_dir, REPORT_FILE)


def dataset_class_names(dataset: str, num_classes: int) -> Optional[Tuple[str, ...]]:
  """The class names of `dataset`'s curated schema; None, with a note on stderr, when it has
  none or they do not number `num_classes` (the dashboard then shows class ids)."""
  try:
    names = schemas.class_names(schemas.load_schema(schemas.schema_path(dataset)))
  except ValueError as error:
    print(f'note: showing class ids: {error}', file=sys.stderr)
    return None
  if len(names) != num_classes:
    print(f'note: showing class ids: dataset {dataset!r} has {len(names)} classes, the '
          f'evaluation {num_classes}', file=sys.stderr)
    return None
  return names


def _evaluated_at(evaluation_uri: str) -> str:
  """When the Evaluator wrote its output (its eval_config.json), UTC to the minute."""
  stat = tf.io.gfile.stat(os.path.join(evaluation_uri, 'eval_config.json'))
  written = datetime.datetime.fromtimestamp(stat.mtime_nsec / 1e9, datetime.timezone.utc)
  return written.strftime('%Y-%m-%d %H:%M UTC')


def _attention_section(loaded: evaluation_results.Evaluation,
                       examples_uri: Optional[str]) -> Optional[dashboard.Section]:
  """Attention maps of the evaluated model on `examples_uri`'s evaluation images; a note
  instead when there are no examples to draw or the model has no attention_maps signature."""
  if not examples_uri:
    return dashboard.Section(attention.TITLE, '<p class="note">No attention maps: the '
                             'examples evaluated are unknown (give --examples).</p>')
  locations = loaded.eval_config.get('modelLocations', {})
  model_dir = locations.get(evaluation_results.CANDIDATE) or locations.get('')
  try:
    return attention.attention_section(loaded, model_dir=model_dir, examples_uri=examples_uri)
  except served.NoAttentionMapsError as error:
    return dashboard.Section(attention.TITLE,
                             f'<p class="note">No attention maps: {escape(str(error))}</p>')


def write_report(evaluation_uri: str, output_path: str, *, dataset: str,
                 examples_uri: Optional[str] = None, title: str = 'Model evaluation',
                 details: Sequence[Tuple[str, str]] = ()) -> str:
  """Writes the dashboard of the Evaluator output `evaluation_uri` to `output_path`, class
  names from `dataset`'s schema, attention maps on `examples_uri`'s evaluation split; returns
  the path. ConfigError when `evaluation_uri` is not an Evaluator output directory."""
  if not tf.io.gfile.exists(os.path.join(evaluation_uri, 'eval_config.json')):
    raise configs.ConfigError(f'{evaluation_uri} is not an Evaluator output directory (no '
                              'eval_config.json in it)')
  loaded = evaluation_results.load_evaluation(evaluation_uri)
  names = dataset_class_names(dataset, loaded.confusion.shape[0])
  maps = _attention_section(loaded, examples_uri)
  return dashboard.write_dashboard(
      output_path, loaded, class_names=names, title=title,
      details=[*details, ('evaluated', _evaluated_at(evaluation_uri))],
      sections=[maps] if maps else [])


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
