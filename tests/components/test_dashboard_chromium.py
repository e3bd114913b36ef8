"""The dashboard in a real browser: headless Chromium (Debian's package; .ci/ensure_chromium
installs it where it can) opens the page, runs its script without an error or a network
request, shows every slice, sorts and filters the slice table, draws the history without
script, and takes a screenshot; the page of a run the data gate blocked opens without error."""
import dataclasses
import struct

import pytest

import chromium
from components import dashboard
from components import evaluation
from components import evaluation_results
from components.dashboard import history
from dashboard_inputs import MODEL, blocking_result, registry_of_three
from evaluation_data import WEATHER

HOSTILE = '<img src=x onerror="window.pwned=1"><script>window.pwned=1</script>'
ROWS = 'Array.from(document.querySelectorAll("#slice-table tbody tr"))'


@pytest.fixture(name='browser', scope='module')
def fixture_browser():
  binary, reason = chromium.ensure_chromium()
  if binary is None:
    pytest.skip(reason)
  with chromium.Browser(binary) as browser:
    yield browser


@pytest.fixture(name='shown', scope='module')
def fixture_shown(browser, evaluations, tmp_path_factory):
  """The dashboard of the candidate against the baseline, plus a slice whose feature value is
  markup, open in the browser; returns the evaluation shown, its `uri` the page's path."""
  loaded = evaluation_results.load_evaluation(evaluations[1])
  extra = dataclasses.replace(loaded.slices[-1], key=((WEATHER, HOSTILE),))
  loaded = dataclasses.replace(loaded, slices=loaded.slices + (extra,))
  folder = tmp_path_factory.mktemp('dashboard')
  versions = history.registry_history(registry_of_three(folder), MODEL)
  path = str(folder / 'index.html')
  dashboard.write_dashboard(path, loaded, data_gate=blocking_result(),
                            sections=[history.history_section(versions, MODEL)])
  browser.open(path)
  return dataclasses.replace(loaded, uri=path)  # the page's path, for a second visit


def test_the_page_runs_without_errors_or_network_requests(browser, shown):
  assert browser.errors() == []
  assert [url for url in browser.requested_urls() if not url.startswith('file://')] == []
  assert browser.evaluate('window.pwned === undefined')
  assert browser.evaluate('document.documentElement.classList.contains("scripted")')


def test_every_slice_is_shown(browser, shown):
  names = browser.evaluate(f'{ROWS}.map(r => r.cells[0].childNodes[0].textContent)')
  assert names[0] == 'overall' and sorted(names) == sorted(s.name for s in shown.slices)
  assert f'{WEATHER}={HOSTILE}' in names  # shown as text
  assert browser.evaluate(f'{ROWS}.every(r => r.getBoundingClientRect().height > 0)')
  assert browser.evaluate('document.querySelectorAll("#section-accuracy-by-scenario '
                          'g.bar").length') == len(shown.slices) - 1


def test_clicking_a_header_sorts_the_slice_table(browser, shown):
  accuracy = {s.name: s.metrics[evaluation.ACCURACY] for s in shown.slices}
  header = ('Array.from(document.querySelectorAll("#slice-table th"))'
            '.find(th => th.textContent === "accuracy")')
  read = f'{ROWS}.map(r => r.dataset.slice)'
  page_order = browser.evaluate(read)
  browser.evaluate(f'{header}.click()')
  assert browser.evaluate(read) == sorted(page_order, key=lambda n: accuracy[n])  # stable
  assert browser.evaluate(f'{header}.getAttribute("aria-sort")') == 'ascending'
  browser.evaluate(f'{header}.click()')
  assert browser.evaluate(read) == sorted(page_order, key=lambda n: -accuracy[n])
  slice_header = 'document.querySelector("#slice-table th")'
  browser.evaluate(f'{slice_header}.click()')
  assert browser.evaluate(read)[:3] == ['image/class/label=0', 'image/class/label=1',
                                        'image/class/label=2']
  assert browser.errors() == []


def test_the_filter_box_hides_other_slices(browser, shown):
  visible = f'{ROWS}.filter(r => !r.hidden).map(r => r.dataset.slice)'
  box = 'document.querySelector("input[data-filter]")'
  assert browser.evaluate(f'{box}.hidden') is False
  browser.evaluate(f'{box}.value = "weather=rain"; '
                   f'{box}.dispatchEvent(new Event("input"))')
  assert sorted(browser.evaluate(visible)) == sorted(
      s.name for s in shown.slices if 'weather=rain' in s.name)
  browser.evaluate(f'{box}.value = ""; {box}.dispatchEvent(new Event("input"))')
  assert len(browser.evaluate(visible)) == len(shown.slices)


def test_a_full_page_screenshot(browser, shown, tmp_path):
  path = browser.screenshot(str(tmp_path / 'dashboard.png'))
  with open(path, 'rb') as f:
    header = f.read(24)
  assert header[:8] == b'\x89PNG\r\n\x1a\n'
  width, height = struct.unpack('>II', header[16:24])
  assert width == 1280 and height > 2000  # the whole page, beyond the 900-pixel window
  print(f'dashboard screenshot: {path}')


def test_the_history_and_drift_tables_sort(browser, shown):
  versions = 'Array.from(document.querySelectorAll("#history-table tbody tr"))' \
      '.map(r => r.dataset.version)'
  header = ('Array.from(document.querySelectorAll("#history-table th"))'
            '.find(th => th.textContent === "overall accuracy")')
  browser.evaluate(f'{header}.click()')
  assert browser.evaluate(versions) == ['1', '3', '2']  # 80.0%, 83.0%, 84.0%
  drift = ('Array.from(document.querySelectorAll("#drift-table th"))'
           '.find(th => th.textContent === "L-infinity distance")')
  browser.evaluate(f'{drift}.click(); {drift}.click()')
  assert browser.evaluate('Array.from(document.querySelectorAll("#drift-table tbody tr"))'
                          '.map(r => r.dataset.feature)') == [
                              'scenario/challenge', 'scenario/level', 'image/class/label']
  assert browser.errors() == []


def test_without_script_everything_but_sorting_is_shown(browser, shown):
  browser.send('Emulation.setScriptExecutionDisabled', value=True)
  try:
    browser.open(shown.uri)
    assert browser.evaluate(f'{ROWS}.length') == len(shown.slices)
    assert browser.evaluate('document.querySelectorAll("svg g.bar").length') == (
        len(shown.slices) - 1)
    assert browser.evaluate('document.querySelectorAll("#section-history svg g.series '
                            'circle").length') == 3 * (1 + 3) + 3 + 2  # levels; weather
    assert browser.evaluate('document.querySelector("#section-history svg")'
                            '.getBoundingClientRect().height') > 100
    assert not browser.evaluate('document.documentElement.classList.contains("scripted")')
    assert browser.evaluate('document.querySelector("input[data-filter]").hidden')
  finally:
    browser.send('Emulation.setScriptExecutionDisabled', value=False)


def test_a_blocked_runs_page_opens_without_errors(browser, tmp_path):
  path = dashboard.write_dashboard(str(tmp_path / 'blocked.html'), None,
                                   data_gate=blocking_result())
  browser.open(path)
  assert browser.errors() == []
  assert browser.evaluate('document.getElementById("verdict").textContent').startswith(
      'Not trained: the data gate blocked this delivery.')
  assert browser.evaluate('document.querySelectorAll("#drift-table tbody tr").length') == 3
