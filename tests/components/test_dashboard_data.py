"""The dashboard's Data section and the page of a run the data gate blocked: the newest span's
examples, ingestion counts, anomalies and drift rows, from a GateResult with known values."""
import dataclasses

import pytest

from components import dashboard
from components.dashboard import data_section
from components.dashboard import evaluation_page
from components.data_gate.result import Drift, write_result
from dashboard_inputs import ANOMALY, blocking_result
from html_tree import parse


def _rows(table):
  return [[td.text() for td in tr.find_all('td')] for tr in table.find('tbody').find_all('tr')]


@pytest.fixture(name='blocked_page', scope='module')
def fixture_blocked_page():
  return parse(dashboard.render_dashboard(
      data_gate=blocking_result(), title='Blocked delivery of ran',
      details=[('run', 'run-7')]))


def test_the_drift_table_has_a_row_per_feature_with_its_verdict(blocked_page):
  table = blocked_page.find('table', id='drift-table')
  assert _rows(table) == [
      ['image/class/label', '0.040', '0.100', 'no', 'no'],
      ['scenario/challenge', '0.420', '0.300', 'no', 'yes'],
      ['scenario/level', '0.350', '0.300', 'yes', 'no (accepted)']]
  blocking = [tr.attrs['data-feature'] for tr in table.find('tbody').find_all('tr')
              if tr.attrs.get('class') == 'status-fail']
  assert blocking == ['scenario/challenge']
  distances = [td.attrs['data-value'] for td in table.find_all('td') if 'data-value' in td.attrs]
  assert distances[:2] == ['0.04', '0.1']  # sorted by the raw number
  assert 'span 3 and span 2' in blocked_page.find('section', id='section-data').text()


def test_the_anomalies_counts_and_examples_are_listed(blocked_page):
  section = blocked_page.find('section', id='section-data')
  assert _rows(section.find('table', id='anomaly-table')) == [
      ['train', 'scenario/challenge', ANOMALY.description]]  # markup shown as text
  assert not section.find_all('b')
  facts = [node.text() for node in section.find('dl', id='data-facts').children]
  facts = dict(zip(facts[::2], facts[1::2]))
  assert facts['span'] == '3' and facts['compared with'] == 'span 2'
  assert facts['train examples'] == '11,760' and facts['eval examples'] == '2,352'
  assert facts['ingestion: found'] == '14,120' and facts['ingestion: written'] == '14,112'
  assert facts['ingestion: quarantined'] == 'unreadable image: 8'
  assert facts['ingestion: skipped'] == 'none' and facts['ingestion: lost files'] == 'none'
  assert facts['ingestion: quarantined fraction'] == '0.1%'
  assert section.find(id='gate-verdict').find('strong').text() == 'Blocked'


def test_a_blocked_run_shows_the_gate_verdict_and_nothing_that_needs_an_evaluation(
    blocked_page):
  verdict = blocked_page.find('div', id='verdict')
  assert verdict.text().startswith('Not trained: the data gate blocked this delivery.')
  assert [li.text() for li in verdict.find_all('li')] == blocking_result().reasons == [
      f'anomaly in train scenario/challenge: {ANOMALY.description}',
      'drift on scenario/challenge: L-infinity distance 0.420 > threshold 0.300 against span 2']
  assert [s.attrs['id'] for s in blocked_page.find_all('section')] == ['section-data']
  assert not blocked_page.find_all(id='baseline-note')
  facts = [node.text() for node in blocked_page.find('header').find('dl').children]
  assert facts == ['run', 'run-7']  # no evaluation, no model locations


def test_a_passed_gate_notes_the_accepted_drift_and_a_first_delivery_has_no_drift():
  first = dataclasses.replace(blocking_result(), baseline_span=None, anomalies=[], drift=[],
                              accepted_drift=[])
  passed = data_section.data_section(dataclasses.replace(
      first, baseline_span=2, drift=[Drift('scenario/level', 0.35, 0.3, accepted=True)],
      accepted_drift=['scenario/level']))
  assert parse(passed.html).find(id='gate-verdict').text() == (
      'Passed: no schema anomaly, no drift over its threshold. Drift accepted on '
      'scenario/level.')
  with pytest.raises(ValueError, match='no evaluation to show, and no data gate that blocked'):
    dashboard.render_dashboard(data_gate=first)  # passed, yet nothing evaluated
  section = parse(dashboard.render_dashboard(data_gate=dataclasses.replace(
      first, anomalies=[ANOMALY]))).find('section', id='section-data')
  assert section.find(id='no-drift').text() == 'No drift checked: no previous span.'
  assert 'nothing: the first delivery' in section.find('dl').text()


def test_the_data_section_follows_the_evaluation(against_baseline):
  tree = parse(dashboard.render_dashboard(against_baseline, data_gate=dataclasses.replace(
      blocking_result(), anomalies=[], accepted_drift=['scenario/challenge', 'scenario/level'],
      drift=[dataclasses.replace(d, accepted=True) for d in blocking_result().drift])))
  ids = [s.attrs['id'] for s in tree.find_all('section')]
  assert ids[0] == 'section-overall' and ids[-1] == 'section-data'
  assert tree.find('div', id='verdict').find('strong').text() == 'NOT BLESSED'


def test_a_blocked_page_is_written_from_the_gate_artifact(tmp_path):
  gate_dir = tmp_path / 'DataGate' / 'anomalies' / '7'
  gate_dir.mkdir(parents=True)
  write_result(blocking_result(), str(gate_dir))
  path = evaluation_page.write_evaluation_page(
      None, str(tmp_path / 'page' / 'index.html'), schema_path='unused.pbtxt',
      data_gate_uri=str(gate_dir), title='Blocked delivery of ran')
  tree = parse((tmp_path / 'page' / 'index.html').read_text())
  assert path.endswith('index.html') and tree.find('div', id='verdict')
  assert _rows(tree.find('table', id='drift-table'))[1][-1] == 'yes'
  with pytest.raises(ValueError, match=f'{tmp_path} is not a DataGate output directory'):
    evaluation_page.write_evaluation_page(None, str(tmp_path / 'x.html'), schema_path='',
                                          data_gate_uri=str(tmp_path))


def test_a_blocked_runs_heading():
  assert evaluation_page.run_heading(pipeline=None, run_id='r', model_name='m', pushed_to=None,
                                     trained=False) == (
      'Blocked delivery of m', [('run', 'r'), ('model', 'm'), ('pushed to', 'nothing pushed')])
  assert evaluation_page.run_heading(pipeline=None, run_id=None, model_name=None,
                                     pushed_to=None, trained=False)[0] == 'Blocked delivery'
