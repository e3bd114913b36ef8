"""The dashboard's History section over a filesystem registry of three versions with known
cards: a line per series with a point per version, in version order, and the lineage table."""
import pytest

from components import dashboard
from components.dashboard import history
from components.data_gate.result import write_result
from components.dashboard import evaluation_page
from dashboard_inputs import LEVELS, MODEL, OVERALL, RAIN, blocking_result, registry_of_three
from html_tree import parse


@pytest.fixture(name='registry_root')
def fixture_registry_root(tmp_path):
  return registry_of_three(tmp_path)


@pytest.fixture(name='section')
def fixture_section(registry_root):
  page = dashboard.render_dashboard(data_gate=blocking_result(), sections=[
      history.history_section(history.registry_history(registry_root, MODEL), MODEL)])
  return parse(page).find('section', id='section-history')


def _series(figure):
  """{series name: [(x, y, title) per point]} of a line chart."""
  return {g.attrs['data-series']: [(float(c.attrs['cx']), float(c.attrs['cy']), c.text())
                                   for c in g.find_all('circle')]
          for g in figure.find_all('g', class_='series')}


def test_each_series_has_a_point_per_version_in_version_order(section):
  figures = {f.attrs['data-feature']: f for f in section.find_all('figure')}
  assert list(figures) == ['scenario/level', 'scenario/weather']  # not crosses, not classes
  levels = _series(figures['scenario/level'])
  assert list(levels) == ['overall', '1', '2', '10']  # values in natural order
  for name, values in [('overall', OVERALL)] + list(LEVELS.items()):
    points = levels[name]
    assert [title for _, _, title in points] == [
        f'v{v} {name}: {100 * value:.1f}%' for v, value in zip((1, 2, 3), values)]
    xs = [x for x, _, _ in points]
    assert xs == sorted(xs) and len(set(xs)) == 3
    ys = [y for _, y, _ in points]  # y grows downwards: higher accuracy, smaller y
    order = sorted(range(3), key=lambda i: values[i])
    assert sorted(ys, reverse=True) == [ys[i] for i in order]
  ticks = [t.text() for t in figures['scenario/level'].find_all('text', class_='tick')]
  assert ticks[-3:] == ['v1', 'v2', 'v3'] and ticks[0] == '50%' and '100%' in ticks
  weather = _series(figures['scenario/weather'])
  assert [title for _, _, title in weather['rain']] == ['v1 rain: 77.0%', 'v3 rain: 79.0%']
  assert RAIN[1] is None and len(weather['overall']) == 3
  line = figures['scenario/level'].find('g', data_series='10').find('polyline')
  assert len(line.attrs['points'].split()) == 3


def test_the_table_gives_each_versions_lineage(section):
  table = section.find('table', id='history-table')
  rows = [[td.text() for td in tr.find_all('td')] for tr in table.find('tbody').find_all('tr')]
  assert [row[:1] + row[2:] for row in rows] == [
      ['1', '1', '1', '–', '–', '80.0%'],
      ['2', '1, 2', '2', f'{MODEL} v1', '–', '84.0%'],
      ['3', '1, 2, 3', '3', f'{MODEL} v2', 'scenario/challenge', '83.0%']]
  assert all(row[1].endswith('+00:00') for row in rows)  # created, UTC
  assert [th.text() for th in table.find_all('th')] == [
      'version', 'created', 'spans trained on', 'evaluated on span', 'warm-started from',
      'accepted drift', 'overall accuracy']


def test_the_chart_is_the_same_bytes_for_the_same_registry(registry_root):
  versions = history.registry_history(registry_root, MODEL)
  assert [number for number, _ in versions] == [1, 2, 3]
  first = history.history_section(versions, MODEL).html
  assert history.history_section(history.registry_history(registry_root, MODEL), MODEL).html == (
      first)
  assert '<svg' in first and 'role="img"' in first and '<script' not in first


def test_an_unknown_model_has_an_empty_history(tmp_path):
  assert history.registry_history(str(tmp_path / 'none'), MODEL) == []
  assert history.history_section([], MODEL).html == (
      f'<p class="note">No version of {MODEL} is registered yet.</p>')


def test_the_page_writer_adds_the_history_of_the_registry(registry_root, tmp_path):
  write_result(blocking_result(), str(tmp_path))
  evaluation_page.write_evaluation_page(
      None, str(tmp_path / 'index.html'), schema_path='', data_gate_uri=str(tmp_path),
      registry=(registry_root, MODEL))
  tree = parse((tmp_path / 'index.html').read_text())
  assert [s.attrs['id'] for s in tree.find_all('section')] == ['section-data', 'section-history']
  assert len(tree.find('table', id='history-table').find('tbody').find_all('tr')) == 3
