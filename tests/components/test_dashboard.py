"""The evaluation dashboard's HTML, on evaluation_data's evaluation with known outputs: every
slice, the verdict and its reasons, the baseline and the changes, thresholds drawn, values
formatted, text escaped, nothing fetched from the network."""
import dataclasses
import math
import re

import numpy as np
import pytest

from components import dashboard
from components import evaluation
from components import evaluation_results
from components import schemas
from components.dashboard import attention
from components.dashboard import edge_section
from components.dashboard import charts
from components.dashboard import evaluation_page
from components.dashboard import formatting
from components.dashboard import page
from evaluation_data import LEVEL, WEATHER
from html_tree import Node, parse

CLASS_NAMES = ('stop', 'yield', 'speed_limit_30', 'no_entry', 'priority_road', 'give_way')
LEVEL_5, RAIN = f'{LEVEL}=5', f'{WEATHER}=rain'
CROSS = f'{LEVEL}=1, {WEATHER}=rain'
PAGE_ORDER = (['overall'] + [f'{WEATHER}={w}' for w in ('fog', 'rain', 'sun')]
              + [f'{LEVEL}={level}' for level in (1, 5)]
              + [f'image/class/label={c}' for c in range(5)]
              + [f'{LEVEL}={level}, {WEATHER}={w}'
                 for level, w in ((1, 'fog'), (1, 'rain'), (1, 'sun'), (5, 'rain'), (5, 'sun'))])
def slice_table(tree: Node):
  """{slice name: {column header: cell}} of the slice table, and the names in page order."""
  table = tree.find('table', id='slice-table')
  headers = [th.text() for th in table.find_all('th')]
  rows = table.find('tbody').find_all('tr')
  names = [row.attrs['data-slice'] for row in rows]
  return {row.attrs['data-slice']: dict(zip(headers, row.find_all('td'))) for row in rows}, names


@pytest.fixture(name='alone_page', scope='module')
def fixture_alone_page(alone):
  return dashboard.render_dashboard(alone)


@pytest.fixture(name='baseline_page', scope='module')
def fixture_baseline_page(against_baseline):
  return dashboard.render_dashboard(against_baseline, class_names=CLASS_NAMES,
                                    title='Evaluation of attention_56_cifar',
                                    details=[('run', '2024-01-01T00:00:00.000001')])


def test_the_thresholds_the_dashboard_reads(against_baseline):
  assert evaluation_results.min_slice_size(against_baseline) == 2
  assert evaluation_results.top_k(against_baseline) == 5
  thresholds = evaluation_results.describe_thresholds(against_baseline)
  assert evaluation_results.regression_significance(against_baseline) == 0.3
  bounds = {s.name: evaluation_results.bounds_for(thresholds, s, evaluation.GATED_ACCURACY)
            for s in against_baseline.slices}
  assert bounds[LEVEL_5] == {'floor': 0.5}
  assert bounds['image/class/label=1'] == {'floor': 0.6} and bounds[CROSS] == {}
  assert evaluation_results.bounds_for(
      thresholds, against_baseline.slice(LEVEL_5), evaluation.SIGNIFICANT_CHANGE) == {
          'max_drop': pytest.approx(0.3)}


@pytest.mark.parametrize('with_baseline, statuses', [
    (False, {'overall': 'fail', LEVEL_5: 'fail', RAIN: 'pass', 'image/class/label=2': 'too small',
             'image/class/label=3': 'fail', CROSS: 'not gated', f'{WEATHER}=fog': 'too small'}),
    (True, {'overall': 'fail', LEVEL_5: 'fail', RAIN: 'fail', f'{WEATHER}=sun': 'pass',
            f'{LEVEL}=1': 'pass', 'image/class/label=4': 'too small'}),
])
def test_the_slice_table_lists_every_slice_with_its_status(
    with_baseline, statuses, alone, against_baseline, alone_page, baseline_page):
  evaluated = against_baseline if with_baseline else alone
  table, names = slice_table(parse(baseline_page if with_baseline else alone_page))
  assert sorted(names) == sorted(s.name for s in evaluated.slices)
  assert names == PAGE_ORDER  # as the eval config's slicing specs, values in natural order
  for name, status in statuses.items():
    assert table[name]['status'].text() == status, name
  assert table['image/class/label=3']['status'].find('span').attrs['title'] == (
      'image/class/label=3: gated_accuracy = 0.5000, below its floor 0.6000')
  assert ('baseline accuracy' in table['overall']) == with_baseline


def test_slice_rows_show_formatted_values_baseline_and_bounds(baseline_page):
  table, _ = slice_table(parse(baseline_page))
  level_5 = {header: cell.text() for header, cell in table[LEVEL_5].items()}
  assert level_5 == {
      'slice': LEVEL_5, 'examples': '3', 'accuracy': '33.3%', 'gated': '33.3%', 'top-5': '66.7%',
      'macro recall': '25.0%', 'ECE': '0.467', 'baseline accuracy': '100.0%',
      'Δ accuracy': '-66.7 pp', 'lost / gained': '2 / 0', 'p (loss)': '0.250',
      'floor': '50.0%', 'max drop': '30.0 pp', 'status': 'fail'}
  assert float(table[LEVEL_5]['lost / gained'].attrs['data-value']) == 2
  assert float(table[LEVEL_5]['accuracy'].attrs['data-value']) == pytest.approx(1 / 3)
  assert float(table[LEVEL_5]['Δ accuracy'].attrs['data-value']) == pytest.approx(-2 / 3)
  small = table['image/class/label=2']
  assert small['gated'].text() == '–' and small['gated'].attrs['data-value'] == ''
  assert small['gated'].attrs['title'] == 'too small to gate: fewer than 2 examples'
  assert small['slice'].text() == 'image/class/label=2 speed_limit_30'
  assert table['overall']['gated'].text() == '62.5%'  # the overall gate is accuracy
  assert table[CROSS]['floor'].text() == '–' and table[CROSS]['floor'].attrs['data-value'] == ''


def test_the_header_gives_the_verdict_its_reasons_and_the_baseline(
    alone, against_baseline, alone_page, baseline_page):
  for evaluated, text in ((alone, alone_page), (against_baseline, baseline_page)):
    verdict = parse(text).find('div', id='verdict')
    assert verdict.find('strong').text() == 'NOT BLESSED'
    assert [li.text() for li in verdict.find_all('li')] == list(evaluated.reasons)
  assert parse(alone_page).find(id='baseline-note').text() == (
      'No baseline: first model, only floors gate.')
  tree = parse(baseline_page)
  assert tree.find(id='baseline-note').text().startswith('Compared with the last blessed model')
  assert tree.find('h1').text() == 'Evaluation of attention_56_cifar'
  facts = [node.text() for node in tree.find('dl').children]
  assert facts[:4] == ['run', '2024-01-01T00:00:00.000001', 'evaluation', against_baseline.uri]
  assert 'baseline model' in facts and 'candidate model' in facts
  blessed = dataclasses.replace(alone, failures=(), blessed=True)
  verdict = parse(dashboard.render_dashboard(blessed)).find('div', id='verdict')
  assert verdict.find('strong').text() == 'BLESSED' and not verdict.find_all('li')


def test_overall_cards_show_values_floors_baseline_and_changes(alone_page, baseline_page):
  def cards(text):
    return {card.attrs['data-metric']: card.text() for card in parse(text).find_all(
        'div', class_='card')}

  assert cards(baseline_page) == {
      evaluation.ACCURACY: 'accuracy62.5%floor 70.0%baseline 100.0% -37.5 pp',
      evaluation.TOP_K_ACCURACY: 'top-5 accuracy87.5%baseline 100.0% -12.5 pp',
      evaluation.MACRO_RECALL: 'macro recall60.0%baseline 100.0% -40.0 pp',
      evaluation.CALIBRATION_ERROR: 'calibration error (ECE)0.260baseline 0.379 -0.119',
      evaluation.EXAMPLE_COUNT: 'examples8'}
  assert cards(alone_page)[evaluation.ACCURACY] == 'accuracy62.5%floor 70.0%'
  changes = {span.text(): span.attrs['class'] for span in parse(baseline_page).find_all(
      'span', class_='change')}
  assert changes['-37.5 pp'] == 'change worse' and changes['-0.119'] == 'change better'


def _bar_geometry(chart: Node):
  """{bar label: (top y, {line class: y})} and y(fraction) fitted to the bars' rectangles."""
  bars = {}
  for bar in chart.find_all('g', class_='bar'):
    rect = bar.find('rect')
    lines = {line.attrs['class']: float(line.attrs['y1']) for line in bar.find_all('line')}
    label = bar.find('text', class_='label').text()
    bars[label] = (float(rect.attrs['y']), float(rect.attrs['y']) + float(rect.attrs['height']),
                   bar.attrs['class'], lines)
  return bars


def test_scenario_charts_draw_a_bar_per_value_and_the_thresholds(baseline_page):
  tree = parse(baseline_page)
  figures = tree.find('section', id='section-accuracy-by-scenario').find_all('figure')
  assert [f.attrs['data-feature'] for f in figures] == [
      WEATHER, LEVEL, 'image/class/label', f'{LEVEL} × {WEATHER}']
  level = _bar_geometry(figures[1])
  assert list(level) == ['1', '5']
  (top_1, bottom, status_1, lines_1), (top_5, _, status_5, lines_5) = level['1'], level['5']
  assert (status_1, status_5) == ('bar bar-pass', 'bar bar-fail')
  scale = (bottom - top_1) / 0.8  # level 1: accuracy 4/5; y grows downwards

  def y(fraction):
    return bottom - scale * fraction

  assert top_5 == pytest.approx(y(1 / 3), abs=0.1)
  for lines in (lines_1, lines_5):  # floor 0.5; baseline 1.0; regression gate 1.0 - 0.3
    assert lines['floor'] == pytest.approx(y(0.5), abs=0.1)
    assert lines['baseline'] == pytest.approx(y(1.0), abs=0.1)
    assert lines['allowed'] == pytest.approx(y(0.7), abs=0.1)
  classes = _bar_geometry(figures[2])
  assert list(classes) == list(CLASS_NAMES[:5])  # class 5 never occurs: no slice
  assert classes['speed_limit_30'][2] == 'bar bar-too-small'
  assert 'allowed' not in classes['speed_limit_30'][3]  # no regression gate on classes
  cross = _bar_geometry(figures[3])
  assert list(cross) == ['1, fog', '1, rain', '1, sun', '5, rain', '5, sun']
  assert 'floor' not in cross['1, rain'][3] and cross['1, rain'][2] == 'bar bar-not-gated'
  assert tree.find_all('pattern', id=charts.HATCH_ID)


def test_a_feature_of_many_values_draws_its_lowest(alone):
  template = alone.slice(f'{LEVEL}=1')
  many = tuple(dataclasses.replace(template, key=(('scenario/camera', f'cam{i}'),), metrics={
      **template.metrics, evaluation.ACCURACY: (i * 7 % 45) / 45}) for i in range(45))
  text = dashboard.render_dashboard(dataclasses.replace(alone, slices=alone.slices + many))
  figure = parse(text).find('figure', data_feature='scenario/camera')
  assert figure.find('figcaption').text() == (
      f'scenario/camera: accuracy per value (the {page.MAX_BARS} lowest of 45 values)')
  drawn = list(_bar_geometry(figure))
  assert drawn == [f'cam{i}' for i in range(45) if i * 7 % 45 < page.MAX_BARS]


def test_the_confusion_matrix_and_the_most_frequent_confusions(baseline_page, against_baseline):
  tree = parse(baseline_page)
  cells = {cell.find('title').text(): cell.attrs['class'] for cell in tree.find(
      'section', id='section-confusion-matrix').find_all('g', class_='cell')}
  assert len(cells) == np.count_nonzero(against_baseline.confusion) == 7
  assert cells['actual yield, predicted speed_limit_30: 1 (50.0% of yield)'] == 'cell miss'
  assert cells['actual stop, predicted stop: 2 (100.0% of stop)'] == 'cell hit strong'
  pairs = tree.find('table', id='confused-pairs').find('tbody').find_all('tr')
  assert [[td.text() for td in row.find_all('td')] for row in pairs] == [
      ['yield', 'speed_limit_30', '1', '50.0%'], ['no_entry', 'stop', '1', '50.0%'],
      ['priority_road', 'give_way', '1', '100.0%']]
  per_class = tree.find('table', id='class-table').find('tbody').find_all('tr')
  assert [td.text() for td in per_class[4].find_all('td')] == [
      '4', 'priority_road', '1', '0', '–', '0.0%', '100.0%', '-100.0 pp']


def test_a_large_confusion_matrix_draws_the_most_confused_classes(alone):
  matrix = np.diag(np.full(40, 5.0))
  matrix[7, 30] = matrix[30, 7] = 4  # 7 and 30: 8 confusions each
  matrix[12, 3] = 2
  assert charts.most_confused_classes(matrix, 3) == [3, 7, 30]
  classes = [str(c) for c in range(40)]
  text = dashboard.render_dashboard(dataclasses.replace(alone, confusion=matrix))
  section = parse(text).find('section', id='section-confusion-matrix')
  labels = [t.text() for t in section.find('svg').find_all('text', class_='label')]
  drawn = charts.most_confused_classes(matrix, page.MAX_MATRIX_CLASSES)
  assert len(drawn) == page.MAX_MATRIX_CLASSES and {3, 7, 12, 30} <= set(drawn)
  assert labels[::2] == [classes[c] for c in drawn]  # a row and a column label per class
  assert f'The {page.MAX_MATRIX_CLASSES} of 40 classes with the most confusions' in text


def test_the_thresholds_read_as_sentences_overall_first(alone_page, baseline_page):
  def gates(text):
    return [li.text() for li in parse(text).find('ul', class_='gates').find_all('li')]

  floors = ['sparse_categorical_accuracy at least 70.0% overall',
            'gated_accuracy at least 60.0% every slice of image/class/label',
            'gated_accuracy at least 50.0% every slice of scenario/level',
            'gated_accuracy at least 40.0% every slice of scenario/weather']
  assert gates(alone_page)[:-1] == floors  # alone, TFMA drops the regression thresholds
  assert gates(alone_page)[-1].startswith(
      'slices of fewer than 2 examples are shown but too small to gate')
  with_baseline = gates(baseline_page)
  assert with_baseline[:2] == [
      floors[0], 'sparse_categorical_accuracy no more than 30.0 pp below the baseline overall']
  assert len(with_baseline) == len(floors) + 3 + 1
  assert with_baseline[4] == (
      'accuracy no more than 30.0 pp below the baseline every slice of scenario/level, unless '
      'McNemar\'s test on the examples one model gets right and the other wrong gives p of 0.3 or '
      'more (the drop may be chance)')


def test_the_reliability_diagram_draws_each_non_empty_bin(alone, alone_page):
  section = parse(alone_page).find('section', id='section-calibration')
  titles = [g.find('title').text() for g in section.find_all('g', class_='bin')]
  assert len(titles) == sum(1 for b in alone.calibration if b.examples) == 6
  assert 'confidence [0.60, 0.70): 2 examples, accuracy 100.0%, mean confidence 63.5%' in titles
  assert section.find('line', class_='ideal')
  assert 'Expected calibration error 0.260.' in section.text()


def test_the_page_is_self_contained_and_deterministic(alone, alone_page, baseline_page):
  for text in (alone_page, baseline_page):
    for fetch in ('http://', 'https://', '//cdn', '<link', 'src="http', '<script src', '@import',
                  'url(http'):
      assert fetch not in text
    tree = parse(text)
    assert len(tree.find_all('script')) == 1 and len(tree.find_all('style')) == 1
  assert dashboard.render_dashboard(alone) == alone_page


def test_feature_values_class_names_and_details_are_escaped(alone):
  hostile = '<script>window.pwned=1</script>'
  first = alone.slices[1]
  key = ((WEATHER, hostile),)
  slices = alone.slices + (dataclasses.replace(first, key=key),)
  text = dashboard.render_dashboard(
      dataclasses.replace(alone, slices=slices), class_names=('a', 'b', 'c', 'd', 'e', hostile),
      title='"><img src=x>', details=[('run', hostile)],
      sections=[dashboard.Section('<i>maps</i>', '<p id="maps">given html</p>')])
  assert hostile not in text and '<img' not in text
  assert '&lt;script&gt;window.pwned=1&lt;/script&gt;' in text
  tree = parse(text)
  assert len(tree.find_all('script')) == 1
  assert f'{WEATHER}={hostile}' in slice_table(tree)[1]
  section = tree.find_all('section')[-1]
  assert section.find('h2').text() == '<i>maps</i>' and section.find('p', id='maps')


def test_class_names_must_number_the_classes(alone):
  with pytest.raises(ValueError, match='2 class names given .* which has 6 classes'):
    dashboard.render_dashboard(alone, class_names=('a', 'b'))


def test_write_dashboard_writes_the_page_whole(alone, alone_page, tmp_path):
  path = str(tmp_path / 'dashboard' / 'index.html')
  assert dashboard.write_dashboard(path, alone) == path
  with open(path, encoding='utf-8') as f:
    assert f.read() == alone_page
  assert [p.name for p in (tmp_path / 'dashboard').iterdir()] == ['index.html']


def test_number_formats():
  assert formatting.percent(0.625) == '62.5%' and formatting.percent(math.nan) == '–'
  assert formatting.points(-0.375) == '-37.5 pp' and formatting.points(0.05) == '+5.0 pp'
  assert formatting.points(-0.0004) == '0.0 pp' and formatting.points(None) == '–'
  assert formatting.points(0.3, sign=False) == '30.0 pp'
  assert formatting.decimal(0.26000000536) == '0.260' and formatting.signed(-0.11874) == '-0.119'
  assert formatting.signed(0.0001) == '0.000' and formatting.count(14112.0) == '14,112'
  assert formatting.size(3 * 2**20) == '3.0 MiB' and formatting.size(163840) == '160 KiB'
  assert formatting.size(900) == '900 B'
  assert formatting.sort_value(math.nan) == '' and formatting.sort_value(0.5) == '0.5'
  assert formatting.escape('a<b & "c"') == 'a&lt;b &amp; &quot;c&quot;'
  assert re.fullmatch(r'section-[a-z-]+', dashboard.Section('Attention maps', '').anchor)


def test_class_names_come_from_the_schema(tmp_path, capsys):
  path = schemas.schema_path('cure_tsr')
  names = evaluation_page.schema_class_names(path, 14)
  assert len(names) == 14 and names[:2] == ('speed_limit', 'goods_vehicles')
  assert evaluation_page.schema_class_names(path, 6) is None
  assert evaluation_page.schema_class_names(str(tmp_path / 'none.pbtxt'), 6) is None
  err = capsys.readouterr().err
  assert f'showing class ids: the schema {path} has 14 classes, the evaluation 6' in err
  assert f'showing class ids: {tmp_path}/none.pbtxt' in err


@pytest.mark.parametrize('pipeline, run_id, model_name, pushed_to, title, details', [
    ('ran-dev', 'run-1', 'attention_56_cifar', 'registry/m/3', 'Evaluation of attention_56_cifar',
     [('pipeline', 'ran-dev'), ('run', 'run-1'), ('model', 'attention_56_cifar'),
      ('pushed to', 'registry/m/3')]),
    (None, None, None, None, 'Model evaluation', [('pushed to', 'nothing pushed')]),
])
def test_run_heading_leaves_out_what_is_unknown(pipeline, run_id, model_name, pushed_to, title,
                                                details):
  assert evaluation_page.run_heading(pipeline=pipeline, run_id=run_id, model_name=model_name,
                                     pushed_to=pushed_to) == (title, details)


def test_the_published_test_split_is_shown_beside_the_eval_split(evaluations,
                                                                 test_split_evaluation, tmp_path):
  path = evaluation_page.write_evaluation_page(
      evaluations[0], str(tmp_path / 'index.html'), schema_path=schemas.schema_path('cure_tsr'),
      test_evaluation_uri=test_split_evaluation)
  with open(path, encoding='utf-8') as f:
    tree = parse(f.read())
  titles = [section.find('h2').text() for section in tree.find_all('section')]
  assert titles[-3:] == [evaluation_page.TEST_SPLIT_TITLE, attention.TITLE,  # after the built-ins
                         edge_section.TITLE]
  section = tree.find('section', id='section-published-test-split')
  assert 'reported, never gated' in section.text() and test_split_evaluation in section.text()
  table = section.find('table', id='test-split-table')
  headers = [th.text() for th in table.find_all('th')]
  rows = {row.attrs['data-slice']: [td.text() for td in row.find_all('td')]
          for row in table.find('tbody').find_all('tr')}
  assert headers == ['slice', 'eval examples', 'eval accuracy', 'test examples',
                     'test accuracy', 'test − eval']
  assert list(rows)[0] == 'overall'
  assert rows['overall'] == ['overall', '8', '62.5%', '4', '75.0%', '+12.5 pp']
  assert rows[RAIN] == [RAIN, '4', '50.0%', '1', '0.0%', '-50.0 pp']
  assert rows[f'{WEATHER}=sun'][1:] == ['3', '100.0%', '3', '100.0%', '0.0 pp']
  assert rows[f'{WEATHER}=fog'][1:] == ['1', '0.0%', '–', '–', '–']  # no fog in the test split
  evaluated = evaluation_results.load_evaluation(evaluations[0])
  assert set(rows) == {s.name for s in evaluated.slices}


def test_the_test_split_section_names_classes_and_notes_an_empty_split(alone,
                                                                       test_split_evaluation):
  section = evaluation_page.test_split_section(alone, test_split_evaluation,
                                               empty_test_split=False, class_names=CLASS_NAMES)
  row = parse(section.html).find('tr', data_slice='image/class/label=1')
  assert [td.text() for td in row.find_all('td')] == [
      'image/class/label=1 yield', '2', '50.0%', '2', '50.0%', '0.0 pp']
  empty = evaluation_page.test_split_section(alone, None, empty_test_split=True,
                                             class_names=None)
  assert empty.title == 'Published test split'
  assert 'Not evaluated' in empty.html and 'ingested empty' in empty.html
  assert evaluation_page.test_split_section(alone, None, empty_test_split=False,
                                            class_names=None) is None
