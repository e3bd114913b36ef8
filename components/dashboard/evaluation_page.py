"""The dashboard page of one pipeline run (its Evaluator output with class names and attention
maps, the data gate's verdict, the registry's history), or of a run the data gate blocked: what
the EvaluationDashboard component writes in every run and `python runner.py dashboard`
re-renders."""
import datetime
import os
import sys
from typing import List, Optional, Sequence, Tuple

import tensorflow as tf

from components import evaluation_results
from components import schemas
from components.attention_maps import served
from components.dashboard import attention
from components.dashboard import edge_section
from components.dashboard import history
from components.dashboard import tables
from components.dashboard.formatting import escape
from components.dashboard.section import Section
from components.dashboard.page import write_dashboard
from components.data_gate.result import RESULT_FILE, read_result
from components.edge.report import read_report


def schema_class_names(schema_path: str, num_classes: int) -> Optional[Tuple[str, ...]]:
  """The class names of the schema at `schema_path`; None, with a note on stderr, when it has
  none or they do not number `num_classes` (the dashboard then shows class ids)."""
  try:
    names = schemas.class_names(schemas.load_schema(schema_path))
  except (ValueError, tf.errors.NotFoundError) as error:
    print(f'note: showing class ids: {error}', file=sys.stderr)
    return None
  if len(names) != num_classes:
    print(f'note: showing class ids: the schema {schema_path} has {len(names)} classes, the '
          f'evaluation {num_classes}', file=sys.stderr)
    return None
  return names


def _evaluated_at(evaluation_uri: str) -> str:
  """When the Evaluator wrote its output (its eval_config.json), UTC to the minute."""
  stat = tf.io.gfile.stat(os.path.join(evaluation_uri, 'eval_config.json'))
  written = datetime.datetime.fromtimestamp(stat.mtime_nsec / 1e9, datetime.timezone.utc)
  return written.strftime('%Y-%m-%d %H:%M UTC')


def _attention_section(loaded: evaluation_results.Evaluation,
                       examples_uri: Optional[str]) -> Optional[Section]:
  """Attention maps of the evaluated model on `examples_uri`'s evaluation images; a note
  instead when there are no examples to draw or the model has no attention_maps signature."""
  if not examples_uri:
    return Section(attention.TITLE, '<p class="note">No attention maps: the examples '
                   'evaluated are unknown (give --examples).</p>')
  locations = loaded.eval_config.get('modelLocations', {})
  model_dir = locations.get(evaluation_results.CANDIDATE) or locations.get('')
  try:
    return attention.attention_section(loaded, model_dir=model_dir, examples_uri=examples_uri)
  except served.NoAttentionMapsError as error:
    return Section(attention.TITLE, f'<p class="note">No attention maps: {escape(str(error))}</p>')


TEST_SPLIT_TITLE = 'Published test split'


def test_split_section(loaded: evaluation_results.Evaluation,
                       test_evaluation_uri: Optional[str], *, empty_test_split: bool,
                       class_names: Optional[Sequence[str]]) -> Optional[Section]:
  """Accuracy overall and per slice on the dataset's published test split (its Evaluator's
  output `test_evaluation_uri`) beside the eval split's; a note when the test split was
  ingested empty (`empty_test_split`, e.g. GTSRB without its test labels); else None."""
  if test_evaluation_uri:
    tested = evaluation_results.load_evaluation(test_evaluation_uri)
    return Section(TEST_SPLIT_TITLE, (
        '<p class="caption">The dataset\'s own test split (e.g. GTSRB\'s Final_Test): the '
        'figure a benchmark quotes, sliced as the eval split. It is reported, never gated: the '
        'thresholds above judge the eval split only.</p><dl class="details"><dt>test '
        f'evaluation</dt><dd>{escape(tested.uri)}</dd></dl>'
        + tables.split_table(loaded, tested, class_names)))
  if empty_test_split:
    return Section(TEST_SPLIT_TITLE, '<p class="note">Not evaluated: the dataset\'s published '
                   'test split was ingested empty (no labelled test examples, e.g. GTSRB '
                   'without GT-final_test.csv).</p>')
  return None


def run_heading(*, pipeline: Optional[str], run_id: Optional[str], model_name: Optional[str],
                pushed_to: Optional[str],
                trained: bool = True) -> Tuple[str, List[Tuple[str, str]]]:
  """The page's title and its details of a pipeline run (what is unknown is left out);
  `pushed_to`: the registry version's folder, None when nothing was pushed; `trained`: False
  when the data gate blocked training."""
  details = [('pipeline', pipeline)] if pipeline else []
  details += [('run', run_id)] if run_id else []
  details += [('model', model_name)] if model_name else []
  details.append(('pushed to', pushed_to or 'nothing pushed'))
  what = 'Evaluation' if trained else 'Blocked delivery'
  title = f'{what} of {model_name}' if model_name else ('Model evaluation' if trained
                                                         else 'Blocked delivery')
  return title, details


def write_evaluation_page(evaluation_uri: Optional[str], output_path: str, *, schema_path: str,
                          examples_uri: Optional[str] = None,
                          test_evaluation_uri: Optional[str] = None,
                          empty_test_split: bool = False,
                          data_gate_uri: Optional[str] = None,
                          edge_report_uri: Optional[str] = None,
                          registry: Optional[Tuple[str, str]] = None,
                          title: Optional[str] = None,
                          details: Sequence[Tuple[str, str]] = ()) -> str:
  """Writes the dashboard of the Evaluator output `evaluation_uri` to `output_path` (local or
  gs://), class names from the schema at `schema_path`, attention maps on `examples_uri`'s
  evaluation split, the published test split's section (test_split_section), the Edge section
  from the EdgeExport output `edge_report_uri` (a note without one), the Data section from the
  DataGate output `data_gate_uri`, and the History section from `registry`, (registry root,
  registered model name); returns the path. `evaluation_uri` None: a run the data gate
  blocked. ValueError when `evaluation_uri` is not an Evaluator output directory,
  `data_gate_uri` not a DataGate output or `edge_report_uri` not an EdgeExport output."""
  if data_gate_uri and not tf.io.gfile.exists(os.path.join(data_gate_uri, RESULT_FILE)):
    raise ValueError(f'{data_gate_uri} is not a DataGate output directory (no {RESULT_FILE} '
                     'in it)')
  gate = read_result(data_gate_uri) if data_gate_uri else None
  history_sections = [history.history_section(history.registry_history(*registry),
                                              registry[1])] if registry else []
  if evaluation_uri is None:
    return write_dashboard(output_path, None, data_gate=gate, title=title or 'Blocked delivery',
                           details=details, sections=history_sections)
  if not tf.io.gfile.exists(os.path.join(evaluation_uri, 'eval_config.json')):
    raise ValueError(f'{evaluation_uri} is not an Evaluator output directory (no '
                     'eval_config.json in it)')
  loaded = evaluation_results.load_evaluation(evaluation_uri)
  names = schema_class_names(schema_path, loaded.confusion.shape[0])
  sections = [test_split_section(loaded, test_evaluation_uri,
                                 empty_test_split=empty_test_split, class_names=names),
              _attention_section(loaded, examples_uri),
              edge_section.edge_section(read_report(edge_report_uri) if edge_report_uri
                                        else None)]
  return write_dashboard(
      output_path, loaded, class_names=names, title=title or 'Model evaluation',
      details=[*details, ('evaluated', _evaluated_at(evaluation_uri))],
      sections=[section for section in sections if section] + history_sections,
      data_gate=gate)
