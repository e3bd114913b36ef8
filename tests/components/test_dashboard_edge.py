"""The dashboard's Edge section: the TFLite models beside the float32 network and the
SavedModel as served, and their accuracy per slice side by side, the slices failing the int8
gate marked."""
from components import dashboard
from components.dashboard import edge_section
from dashboard_inputs import blocking_result
from edge_reports import sample_report
from html_tree import parse


def _section(report):
  page = dashboard.render_dashboard(data_gate=blocking_result(),
                                    sections=[edge_section.edge_section(report)])
  return parse(page).find('section', id='section-edge')


def _rows(table):
  return {row.attrs.get('data-model') or row.attrs.get('data-slice'):
          ([cell.text() for cell in row.find_all('td')], row.attrs.get('class', ''))
          for row in table.find('tbody').find_all('tr')}


def test_the_models_table_has_size_accuracy_latency_and_the_verdict():
  section = _section(sample_report())
  rows = _rows(section.find('table', id=edge_section.MODELS_TABLE_ID))
  assert list(rows) == ['float', 'served', 'float16', 'int8']
  assert rows['float'][0][:4] == ['float32 network (the reference)', '–', '90.0%', '–']
  assert rows['served'][0][:4] == ['SavedModel (serve_images, mixed_bfloat16)', '6.7 MiB',
                                   '90.5%', '+0.5 pp']
  assert rows['served'][0][5] == '12.50 / 15.00 ms'
  assert rows['float16'] == (['TFLite float16', '2.1 MiB', '90.0%', '0.0 pp', '100.0%',
                              '4.25 / 4.75 ms', 'written: tflite/model_float16.tflite'], '')
  cells, css = rows['int8']
  assert cells[:6] == ['TFLite int8', '1.3 MiB', '89.5%', '-0.5 pp', '97.0%', '1.50 / 1.75 ms']
  assert css == 'status-fail'
  assert cells[6].startswith('NOT written: scenario/weather=rain: accuracy 0.8167 is 0.0333 '
                             'below')


def test_the_slice_table_sets_float32_served_float16_and_int8_side_by_side():
  section = _section(sample_report())
  table = section.find('table', id=edge_section.SLICES_TABLE_ID)
  headers = [th.text() for th in table.find_all('th')]
  assert headers == ['slice', 'examples', 'float32', 'SavedModel', 'float16',
                     'float16 vs float32', 'int8', 'int8 vs float32', 'int8 gated']
  rows = _rows(table)
  assert list(rows) == ['overall', 'image/class/label=0', 'scenario/weather=rain',
                        'scenario/weather=sun', 'scenario/weather=fog']
  assert rows['scenario/weather=rain'] == (
      ['scenario/weather=rain', '60', '85.0%', '86.7%', '85.0%', '0.0 pp', '81.7%', '-3.3 pp',
       'yes'], 'status-fail')
  assert rows['scenario/weather=fog'][0][-2:] == ['-10.0 pp', 'no']  # 10 examples: too few
  assert rows['scenario/weather=fog'][1] == ''
  assert rows['image/class/label=0'][0][-1] == 'no'  # classes are reported, not gated
  assert rows['overall'][0][-1] == 'yes' and rows['overall'][1] == ''


def test_without_a_report_the_section_says_why():
  section = _section(None)
  assert 'No edge export' in section.text() and not section.find_all('table')
