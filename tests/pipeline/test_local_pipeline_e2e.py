"""End to end: the real TFX components on a tiny CURE-TSR-layout sample with a narrow model."""
import base64
import dataclasses
import io
import json
import os
import re

import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from components import evaluation
from components import evaluation_results
from components import registry
from components.registry import __main__ as registry_cli
from components.attention_maps import __main__ as attention_maps_cli
from components.attention_maps import served
from components.dashboard import attention
from components.dashboard import edge_section
from components.edge import interpreter as edge_interpreter
from components.edge import report as edge_report
from components.dashboard import formatting
from components.example_gen import ingest
from components.example_gen import layout
from components.example_gen import sample
from components.example_gen.formats import cure_tsr
from pipeline import code_versions
from pipeline import configs
from pipeline import local
from pipeline import dashboard

import chromium

CHALLENGES = ('rain', 'haze')
LEVELS = (1, 5)


@pytest.fixture(scope='module')
def pipeline_runs(tmp_path_factory):
  """Runs the pipeline twice on unchanged inputs, then with thresholds the same model cannot
  pass; returns (config, first, second, gated)."""
  root = tmp_path_factory.mktemp('e2e')
  data_root = str(root / 'data')
  sample.render_sample(data_root, seed=3, train_per_class=1, test_per_class=1,
                       challenges=CHALLENGES, levels=LEVELS)
  config = dataclasses.replace(
      configs.DEV, output_dir=str(root / 'out'), data_root=data_root,
      width_multiplier=0.25, batch_size=16, train_steps=12, warmup_steps=2,
      accuracy_floor=0.0, regression_tolerance=1.0,
      warm_start=False)  # the reruns test the cache; a warm start would retrain from v1
  first = local.run_local(config)
  second = local.run_local(config)
  # A floor above 1 and a demand to beat the baseline (itself) by 0.01: both gates must fail.
  gated = local.run_local(dataclasses.replace(config, accuracy_floor=1.01,
                                              regression_tolerance=-0.01))
  return config, first, second, gated


def _count_records(pattern):
  return sum(1 for f in tf.io.gfile.glob(pattern)
             for _ in tf.data.TFRecordDataset(f, compression_type='GZIP'))


@pytest.mark.e2e
def test_examples_written_equal_files_on_disk(pipeline_runs):
  config, first, *_ = pipeline_runs
  for split, suffix in cure_tsr.SPLIT_SUFFIXES.items():
    on_disk = len(tf.io.gfile.glob(os.path.join(config.data_root, f'*_{suffix}', '*', '*.bmp')))
    assert on_disk == 14 * 2 * (1 + len(CHALLENGES) * len(LEVELS))
    assert _count_records(os.path.join(first.examples_uri, f'Split-{split}', '*')) == on_disk
  with open(os.path.join(first.examples_uri, ingest.COUNTS_FILE)) as f:
    counts = json.load(f)
  assert counts['found'] == counts['written'] == 2 * on_disk and counts['quarantined'] == {}


@pytest.mark.e2e
def test_the_data_gate_passes_the_first_delivery(pipeline_runs):
  _, first, *_ = pipeline_runs
  gate = first.gate
  assert gate.passed and gate.anomalies == [] and gate.drift == []
  assert gate.span == 0 and gate.baseline_span is None  # a root without span folders
  assert gate.examples == {'train': 14 * 2 * (1 + len(CHALLENGES) * len(LEVELS)),
                           'eval': 14 * 2 * (1 + len(CHALLENGES) * len(LEVELS))}
  assert 'Data gate: passed.' in first.summary(1.0)


@pytest.mark.e2e
def test_evaluation_has_a_slice_per_challenge_and_level(pipeline_runs):
  _, first, *_ = pipeline_runs
  names = {s.name: s for s in first.slices}
  assert names['overall'].examples == 14 * 2 * (1 + len(CHALLENGES) * len(LEVELS))
  for challenge in ('none',) + CHALLENGES:
    assert names[f'scenario/challenge={challenge}'].examples > 0
  for level in (0,) + LEVELS:
    assert names[f'scenario/level={level}'].examples > 0
  for sequence in ('real', 'unreal'):  # every scenario feature of the schema is a slice
    assert names[f'scenario/sequence={sequence}'].examples > 0
  assert all(0.0 <= s.accuracy <= 1.0 for s in first.slices)


@pytest.mark.e2e
def test_blessed_model_is_pushed_and_serves(pipeline_runs):
  config, first, *_ = pipeline_runs
  assert first.blessed and first.failed_checks == ()
  assert first.pushed_version == 1
  entry = config.resolved_registered_model_name
  assert entry == 'ran-dev'  # the pipeline's name, not the network's
  assert first.pushed_model == os.path.join(config.registry_dir, entry, '1')
  card = registry.FilesystemRegistry(config.registry_dir).show(entry, 1)
  assert card.blessed and card.baseline_version is None and card.pipeline_run_id == first.run_id
  assert card.metrics[evaluation.ACCURACY] == pytest.approx(first.accuracy('overall'))
  served = tf.saved_model.load(first.pushed_model)
  [example] = cure_tsr.CureTsr(config.data_root).read(layout.Item('eval', os.path.join(
      config.data_root, 'Real_Test', 'Haze-5', '01_08_12_05_0008.bmp')))
  outputs = served.signatures['serving_default'](
      examples=tf.constant([example.SerializeToString()]))
  class_id = int(outputs['class_ids'][0])
  assert 0 <= class_id < len(cure_tsr.CLASS_NAMES)
  assert outputs['class_names'][0].numpy().decode() == cure_tsr.CLASS_NAMES[class_id]
  assert outputs['probabilities'].shape == (1, len(cure_tsr.CLASS_NAMES))
  assert float(tf.reduce_sum(outputs['probabilities'])) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.e2e
def test_the_pushed_model_is_exported_for_the_edge_into_its_registry_version(pipeline_runs,
                                                                             capsys):
  """The first run's push is converted to TFLite float16 and int8: the files (int8 only when
  its gate passed, else the reasons), the card's edge section, the run summary's Edge lines,
  the dashboard's Edge section and `registry show` agree; the second run (the same model,
  pushed again) reuses the export; the gated run exports nothing."""
  config, first, second, gated = pipeline_runs
  entry = config.resolved_registered_model_name
  report = first.edge
  assert report is not None and report.eval_examples == first.slices[0].examples
  store = registry.FilesystemRegistry(config.registry_dir)
  assert edge_report.EdgeReport.from_dict(store.show(entry, 1).edge) == report
  files = store.added_files(entry, 1)
  assert sorted(files) == sorted(report.written_files)
  assert 'tflite/model_float16.tflite' in files and 'tflite/labels.txt' in files
  int8 = report.models['int8']
  assert int8.written == ('tflite/model_int8.tflite' in files)
  assert int8.written == (int8.reasons == ())
  for model in report.models.values():
    assert list(model.slices) == [s.name for s in first.slices]
    assert model.slices['overall'].served_accuracy == first.accuracy('overall')
    assert 0 <= model.slices['overall'].float_accuracy <= 1  # the float32 network's
    assert model.size_bytes > 0 and model.latency.median_ms > 0
  with open(os.path.join(first.pushed_model, 'tflite', 'labels.txt'), encoding='utf-8') as f:
    assert f.read().splitlines() == list(cure_tsr.CLASS_NAMES)
  served = edge_interpreter.TfliteClassifier(
      open(os.path.join(first.pushed_model, 'tflite', 'model_float16.tflite'), 'rb').read())
  assert served.input_dtype == np.uint8 and served.input_shape == (1, 32, 32, 3)
  assert 'Edge: TFLite, uint8 [1x32x32x3] in' in first.summary(1.0)
  with open(first.dashboard_path, encoding='utf-8') as f:
    page = f.read()
  assert '<h2>Edge</h2>' in page and f'id="{edge_section.SLICES_TABLE_ID}"' in page
  assert registry_cli.main(['show', '--registry', config.registry_dir, '--model', entry,
                            '--version', '1']) == 0
  assert '  tflite/model_float16.tflite  ' in capsys.readouterr().out
  assert second.edge == report
  assert gated.edge is None and 'EdgeExport' not in gated.component_seconds


@pytest.mark.e2e
def test_second_run_reuses_cached_outputs(pipeline_runs):
  _, first, second, _ = pipeline_runs
  assert first.cached == ()
  steps = ('ExampleGen', 'Transform', 'Trainer', 'Evaluator', 'RegistryPusher',
           'EvaluationDashboard')
  assert [step for step in first.component_seconds if step in steps] == list(steps)  # as run
  assert {'ExampleGen', 'StatisticsGen', 'Transform', 'Trainer'} <= set(second.cached)
  assert second.examples_uri == first.examples_uri
  assert second.run_id != first.run_id


@pytest.mark.e2e
def test_new_dashboard_code_reruns_only_the_dashboard(pipeline_runs):
  """A run whose only change is the EvaluationDashboard's code key (as editing a dashboard
  module changes it, tests/pipeline/test_code_versions.py) takes every other step from the
  cache."""
  config, _, second, _ = pipeline_runs
  keys = code_versions.step_code_versions()
  with pytest.MonkeyPatch.context() as patch:
    patch.setattr(code_versions, 'step_code_versions',
                  lambda: {**keys, 'EvaluationDashboard': 'an edited dashboard'})
    restyled = local.run_local(config)
  executed = set(restyled.component_seconds) - set(restyled.cached)
  assert executed - {'latest_blessed_model'} == {'EvaluationDashboard'}
  assert restyled.evaluation_uri == second.evaluation_uri
  assert restyled.dashboard_path != second.dashboard_path


@pytest.mark.e2e
def test_the_same_model_is_registered_once(pipeline_runs):
  config, first, second, _ = pipeline_runs
  assert second.blessed and second.pushed_model == first.pushed_model
  assert [v.number for v in registry.FilesystemRegistry(config.registry_dir).list_versions(
      config.resolved_registered_model_name)] == [1]


@pytest.mark.e2e
def test_a_model_failing_its_floor_or_the_regression_gate_is_not_pushed(pipeline_runs):
  config, _, _, gated = pipeline_runs
  assert not gated.blessed and gated.pushed_model is None
  overall = sorted(r for r in gated.failed_checks if r.startswith('overall: '))
  assert len(overall) == 2
  assert overall[0].endswith('below its floor 1.0100')
  assert re.fullmatch(r'overall: sparse_categorical_accuracy changed by [+-][.0-9]+ against the '
                      r'baseline, less than the \+0\.0100 allowed', overall[1])
  assert [v.number for v in registry.FilesystemRegistry(config.registry_dir).list_versions(
      config.resolved_registered_model_name)] == [1]


@pytest.mark.e2e
def test_attention_maps_of_signs_differ_from_those_of_blank_images(pipeline_runs, tmp_path):
  """The pushed model's soft masks depend on the image: for every challenge-free eval sign, the
  map of each module differs from that of a uniform grey image, and from that of a uniform
  image of the sign's own mean colour, by a mean absolute difference over 0.001 (maps lie in
  [0, 1]; a map that ignores its image differs by 0). Measured minima over the 28 signs,
  weakest module: 0.026 against grey and 0.020 against the mean colour trained in float32 (AMD
  EPYC), 0.0040 and 0.0062 trained in bfloat16 (Intel Xeon; medians 0.022 and 0.021). The CLI
  draws a sign and a blank image."""
  config, first, *_ = pipeline_runs
  signature = served.load_attention_signature(first.pushed_model)

  def maps_of(pixels):
    encoded = io.BytesIO()
    Image.fromarray(pixels).save(encoded, format='PNG')
    return np.stack([values for _, values in served.explain(signature, encoded.getvalue()).maps])

  signs = sorted(tf.io.gfile.glob(
      os.path.join(config.data_root, '*_Test', 'ChallengeFree', '*.bmp')))
  assert len(signs) == 14 * 2
  grey = maps_of(np.full((44, 44, 3), 128, np.uint8))
  for path in signs:
    pixels = np.asarray(Image.open(path).convert('RGB'))
    mean_colour = np.round(pixels.reshape(-1, 3).mean(axis=0)).astype(np.uint8)
    sign = maps_of(pixels)
    for blank in (grey, maps_of(np.tile(mean_colour, pixels.shape[:2] + (1,)))):
      assert np.abs(sign - blank).mean(axis=(1, 2)).min() > 0.001, path

  blank_file = str(tmp_path / 'blank.png')
  Image.fromarray(np.full((44, 44, 3), 128, np.uint8)).save(blank_file)
  output_dir = tmp_path / 'figures'
  assert attention_maps_cli.main(['--model', first.pushed_model, '--images', signs[0],
                                  blank_file, '--output_dir', str(output_dir)]) == 0
  assert sorted(os.listdir(output_dir)) == sorted(
      ['blank.png', os.path.basename(signs[0]).replace('.bmp', '.png')])


@pytest.fixture(name='dashboard_page', scope='module')
def fixture_dashboard_page(pipeline_runs):
  """The first run's dashboard, as its EvaluationDashboard step wrote it."""
  _, first, *_ = pipeline_runs
  return first.dashboard_path


@pytest.mark.e2e
def test_every_run_writes_its_dashboard_in_the_pipeline(pipeline_runs):
  config, *runs = pipeline_runs
  pages = [run.dashboard_path for run in runs]
  assert len(set(pages)) == 3 and all(p.endswith('index.html') for p in pages)
  assert all(p.startswith(config.resolved_pipeline_root) for p in pages)
  for run, page in zip(runs, pages):
    with open(page, encoding='utf-8') as f:
      html = f.read()
    assert f'<dt>run</dt><dd>{run.run_id}</dd>' in html
    assert f'<dt>evaluation</dt><dd>{run.evaluation_uri}</dd>' in html
    assert f'<h2>{attention.TITLE}</h2>' in html and 'stop</td>' in html  # class names
    for result in run.slices:
      assert f'data-slice="{result.name}"' in html
  first, gated = runs[0], runs[-1]
  with open(first.dashboard_path, encoding='utf-8') as f:
    assert f'<dt>pushed to</dt><dd>{first.pushed_model}</dd>' in f.read()
  with open(gated.dashboard_path, encoding='utf-8') as f:
    html = f.read()
  assert '<dt>pushed to</dt><dd>nothing pushed</dd>' in html
  assert 'below its floor 1.0100' in html


def _attention_section(page_path):
  with open(page_path, encoding='utf-8') as f:
    page = f.read()
  start = page.index(f'<h2>{attention.TITLE}</h2>')
  return page[start:page.index('</section>', start)]


def _figures_per_slice(section):
  """(slice name, [JPEG bytes]) per slice heading of the section, in order."""
  parts = re.split(r'<h3>([^:<]+): accuracy', section)[1:]
  return [(name, [base64.b64decode(data)
                  for data in re.findall(r'src="data:image/jpeg;base64,([^"]+)"', body)])
          for name, body in zip(parts[::2], parts[1::2])]


@pytest.mark.e2e
def test_the_dashboard_shows_attention_maps_of_every_scenario_slice_worst_first(
    pipeline_runs, dashboard_page):
  _, first, *_ = pipeline_runs
  section = _attention_section(dashboard_page)
  scenario = [s for s in first.slices if len(s.key) == 1 and s.key[0][0].startswith('scenario/')]
  worst_first = sorted(scenario, key=lambda s: (s.accuracy, s.name))
  drawn = _figures_per_slice(section)
  assert [name for name, _ in drawn] == [s.name for s in worst_first]
  assert len(drawn) == 8  # challenge none/rain/haze, level 0/1/5, sequence real/unreal
  assert 'Images stop where' not in section  # 8 slices of 4 figures fit under 3 MiB
  assert all(1 <= len(jpegs) <= 4 for _, jpegs in drawn)
  jpegs = [jpeg for _, slice_jpegs in drawn for jpeg in slice_jpegs]
  assert sum(map(len, jpegs)) < 3 * 2**20
  for jpeg in jpegs:
    image = Image.open(io.BytesIO(jpeg))
    image.load()
    assert image.format == 'JPEG' and image.width > 96 * 2  # the input and one panel per stage
  assert section.count('correct</span>') + section.count('misclassified</span>') == len(jpegs)
  again = dashboard.write_run_page(*pipeline_runs[:2], output_path=dashboard_page + '.again',
                                   model_name=pipeline_runs[0].model_name)
  assert _attention_section(again) == section  # the same images: sampling is seeded

  # With room for the worst slice's figures only, the others are listed without images.
  room = sum(map(len, drawn[0][1]))
  bounded = attention.attention_section(
      evaluation_results.load_evaluation(first.evaluation_uri), model_dir=first.pushed_model,
      examples_uri=first.examples_uri, max_bytes=room + 1).html
  assert _figures_per_slice(bounded) == [drawn[0]] + [(name, []) for name, _ in drawn[1:]]
  assert f'Images stop where they would take the page past {formatting.size(room + 1)}' in bounded


@pytest.mark.e2e
def test_the_attention_maps_decode_in_chromium(dashboard_page):
  binary, reason = chromium.ensure_chromium()
  if binary is None:
    pytest.skip(reason)
  with chromium.Browser(binary) as browser:
    browser.open(dashboard_page)
    assert browser.errors() == []
    images = browser.evaluate(
        'Array.from(document.querySelectorAll("figure.attention-figure img"))'
        '.map(i => [i.complete, i.naturalWidth, i.naturalHeight])')
  assert images and all(complete and width > 0 and height > 0
                        for complete, width, height in images)
