"""End to end on a tiny GTSRB: the published test split (Final_Test) is evaluated beside the
eval split and reported in the run summary, the model card and the dashboard; without test
labels the split is empty, the TestEvaluator is skipped, and the run still completes."""
import dataclasses
import glob
import os
import shutil

import pytest
import tensorflow_data_validation as tfdv

from components import evaluation
from components import registry
from components.dashboard import evaluation_page
from components.example_gen.formats import gtsrb
from components.example_gen.formats import gtsrb_fixture
from pipeline import configs
from pipeline import local

CLASSES = (0, 1, 14)
TEST_PER_CLASS = 2


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
  """(config, run) with test labels, and (config, run) of the same data without them."""
  root = tmp_path_factory.mktemp('gtsrb_e2e')
  labelled = str(root / 'labelled')
  gtsrb_fixture.write_fixture(labelled, classes=CLASSES, tracks_per_class=4,
                              frames_per_track=2, test_per_class=TEST_PER_CLASS)
  unlabelled = str(root / 'unlabelled')
  shutil.copytree(labelled, unlabelled)
  os.remove(os.path.join(unlabelled, gtsrb.TEST_FOLDER, gtsrb.TEST_LABELS))
  config = dataclasses.replace(
      configs.GTSRB, model_name=configs.DEV.model_name, width_multiplier=0.25, batch_size=8,
      train_steps=4, warmup_steps=1, checkpoint_every=100, accuracy_floor=0.0,
      regression_tolerance=1.0, warm_start=False, edge_export=False,
      ingest_options='{"crop_to_roi": true, "eval_fraction": 0.5}')
  results = []
  for name, data_root in (('labelled', labelled), ('unlabelled', unlabelled)):
    run_config = dataclasses.replace(config, data_root=data_root,
                                     output_dir=str(root / f'out_{name}'))
    results.append((run_config, local.run_local(run_config)))
  return results


def _card(config, run):
  return registry.FilesystemRegistry(config.registry_dir).show(
      config.resolved_registered_model_name, run.pushed_version)


def _page(run):
  with open(run.dashboard_path, encoding='utf-8') as f:
    return f.read()


@pytest.mark.e2e
def test_the_test_split_is_reported_in_the_summary_the_card_and_the_dashboard(runs):
  config, run = runs[0]
  assert run.blessed and run.pushed_version == 1
  examples = len(CLASSES) * TEST_PER_CLASS
  assert run.test_examples == examples and run.test_evaluation_uri
  assert run.test_slices[0].name == 'overall' and run.test_slices[0].examples == examples
  eval_examples = run.slices[0].examples
  assert 0 < eval_examples < len(CLASSES) * 4 * 2  # some of the tracks, the rest train
  # Sliced like the eval split: ROI size and class.
  assert {s.key[0][0] for s in run.test_slices[1:]} == {s.key[0][0] for s in run.slices[1:]}
  accuracy = run.test_accuracy('overall')
  overall_row = next(line for line in run.summary(0).splitlines()
                     if line.startswith('overall '))
  assert overall_row.split() == ['overall', str(eval_examples),
                                 f'{run.accuracy("overall"):.4f}', str(examples),
                                 f'{accuracy:.4f}']

  card = _card(config, run)
  assert card.test_metrics[evaluation.ACCURACY] == pytest.approx(accuracy)
  assert card.test_metrics[evaluation.EXAMPLE_COUNT] == examples
  assert card.metrics[evaluation.EXAMPLE_COUNT] == eval_examples
  assert set(card.test_slice_metrics) == {s.name for s in run.test_slices[1:]}

  page = _page(run)
  assert f'<h2>{evaluation_page.TEST_SPLIT_TITLE}</h2>' in page
  assert f'<dd>{run.test_evaluation_uri}</dd>' in page
  assert f'<tr data-slice="overall"><td class="slice-name" data-value="overall">overall</td>' \
      f'<td data-value="{float(eval_examples)!r}">{eval_examples}</td>' in page


@pytest.mark.e2e
def test_an_empty_test_split_skips_its_evaluation_and_the_run_completes(runs):
  config, run = runs[1]
  assert run.blessed and run.pushed_version == 1
  assert run.test_examples == 0
  assert run.test_evaluation_uri is None and run.test_slices == ()
  assert 'TestEvaluator' not in run.component_seconds  # skipped: no execution at all
  assert 'The published test split is empty' in run.summary(0)
  card = _card(config, run)
  assert card.test_metrics == {} and card.test_slice_metrics == {}
  assert card.metrics[evaluation.EXAMPLE_COUNT] == run.slices[0].examples
  page = _page(run)
  assert f'<h2>{evaluation_page.TEST_SPLIT_TITLE}</h2>' in page and 'ingested empty' in page


@pytest.mark.e2e
def test_statistics_and_validation_cover_the_test_split_empty_or_not(runs):
  """An empty test split has statistics of 0 examples and no anomaly:
  the data gate passes it; a labelled one validates clean."""
  config, run = runs[1]
  [statistics] = glob.glob(os.path.join(config.resolved_pipeline_root, 'StatisticsGen',
                                        'statistics', '*', 'Split-test', 'FeatureStats.pb'))
  assert tfdv.load_stats_binary(statistics).datasets[0].num_examples == 0
  # The data gate passes both: an empty split is not an anomaly.
  assert run.gate.passed and run.gate.anomalies == [] and run.gate.examples['test'] == 0
  labelled = runs[0][1].gate
  assert labelled.passed and labelled.anomalies == [] and labelled.examples['test'] > 0
