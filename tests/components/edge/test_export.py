"""components/edge/export.py and the CLI: the export of a narrow trained model, a broken int8
conversion caught by the gate, classifying image files with the written model."""
import dataclasses
import os

import numpy as np
import pytest

from components.edge import __main__ as cli
from components.edge import converter
from components.edge import export
from components.edge import interpreter
from components.edge import report as edge_report
import edge_data
import example_data


def _export(workspace, evaluation, **settings):
  return export.export_edge_models(
      workspace.saved_model_dir, converter.read_network(workspace.model_uri),
      train_files=workspace.train_files, eval_files=workspace.eval_files,
      evaluated=evaluation,
      settings=export.ExportSettings(recipe=edge_data.RECIPE, latency_runs=3, **settings))


@pytest.fixture(name='exported', scope='module')
def fixture_exported(workspace, float_evaluation):
  return _export(workspace, float_evaluation, max_drop=0.05, representative_examples=100)


def test_both_models_are_evaluated_on_every_slice_and_written(exported, float_evaluation):
  report, files = exported
  assert sorted(files) == ['labels.txt', 'model_float16.tflite', 'model_int8.tflite']
  assert files['labels.txt'] == b'red\ngreen\nblue\n'
  assert report.input_shape == (1, 32, 32, 3) and report.recipe == edge_data.RECIPE
  assert report.eval_examples == 96 and report.representative_examples == 100
  assert report.min_slice_size == 20 and report.max_drop == 0.05
  for kind, model in report.models.items():
    assert model.written and model.reasons == () and model.path == f'tflite/model_{kind}.tflite'
    assert model.size_bytes == len(files[f'model_{kind}.tflite'])
    assert list(model.slices) == [s.name for s in float_evaluation.slices]
    for result in float_evaluation.slices:  # built from the float32 network's answers
      assert model.slices[result.name].examples == result.examples
      assert model.slices[result.name].float_accuracy == pytest.approx(result.accuracy)
      assert model.slices[result.name].served_accuracy == result.accuracy
    assert model.latency.runs == 3 and 0 < model.latency.median_ms <= model.latency.p90_ms
  assert report.models['float16'].agreement >= 0.97
  assert report.models['int8'].agreement >= 0.9
  assert report.served_policy == 'float32'  # the narrow model was trained in float32
  assert report.float_latency.median_ms > 0 and report.saved_model_bytes > 0
  assert report.written_files == ['tflite/model_float16.tflite', 'tflite/model_int8.tflite',
                                  'tflite/labels.txt']
  assert edge_report.EdgeReport.from_dict(report.to_dict()) == report


def test_an_int8_model_calibrated_on_one_black_image_is_caught_and_not_written(
    workspace, float_evaluation, tmp_path):
  """Too small a representative set: every activation range taken from one black image."""
  train_file = example_data.write_examples(tmp_path / 'black.gz',
                                           [np.zeros((24, 40, 3), np.uint8)], [0])
  broken = dataclasses.replace(workspace, train_files=[train_file])
  report, files = _export(broken, float_evaluation, max_drop=0.05, representative_examples=1)
  int8 = report.models['int8']
  assert not int8.written and 'model_int8.tflite' not in files
  assert int8.reasons and int8.reasons[0].startswith('overall: accuracy ')
  assert int8.overall.delta < -0.05
  assert report.models['float16'].written and 'model_float16.tflite' in files
  assert report.written_files == ['tflite/model_float16.tflite', 'tflite/labels.txt']


def test_the_cli_classifies_image_files_with_the_int8_model(exported, workspace, tmp_path,
                                                             capsys):
  _, files = exported
  for name, data in files.items():
    (tmp_path / name).write_bytes(data)
  images = []
  for index in range(3):
    path = tmp_path / f'{index}.png'
    path.write_bytes(workspace.eval_encoded[index])
    images.append(str(path))
  missing = str(tmp_path / 'missing.png')
  corrupt = tmp_path / 'corrupt.jpg'
  corrupt.write_bytes(b'\xff\xd8\xff not a jpeg')
  status = cli.main(['classify', '--model', str(tmp_path / 'model_int8.tflite'), *images,
                     missing, str(corrupt)])
  out, err = capsys.readouterr()
  assert status == 1
  lines = out.splitlines()
  assert len(lines) == 3
  model = interpreter.TfliteClassifier(files['model_int8.tflite'])
  expected = np.argmax(model.probabilities(edge_data.pixels.model_inputs(
      workspace.eval_encoded[:3], 32, edge_data.RECIPE)), -1)
  for line, path, class_id in zip(lines, images, expected):
    assert line.startswith(f'{path}: {edge_data.CLASS_NAMES[class_id]} (p=')
  assert f'{missing}: error: No such file or directory' in err
  assert f'{corrupt}: error: undecodable_image' in err
  assert cli.main(['classify', '--model', str(tmp_path / 'none.tflite'), images[0]]) == 2
  assert 'error: ' in capsys.readouterr().err
  (tmp_path / 'labels.txt').write_text('red\ngreen\n')
  assert cli.main(['classify', '--model', str(tmp_path / 'model_int8.tflite'), images[0]]) == 2
  assert 'labels.txt names 2 classes, the model has 3' in capsys.readouterr().err
  os.remove(tmp_path / 'labels.txt')
  assert cli.main(['classify', '--model', str(tmp_path / 'model_int8.tflite'), images[0]]) == 2
