"""Tests for components/attention_maps: served.py (a SavedModel's attention_maps signature) and
the CLI (`python -m components.attention_maps`) on a tiny exported model."""
import io
import os
import subprocess
import sys

import numpy as np
from PIL import Image
import pytest
import tf_keras as keras

from components.attention_maps import __main__ as cli
from components.attention_maps import served
from components.trainer import serving
import ran_model

IMAGE_SIZE = 32  # the exported model's input size
CLASS_NAMES = ('stop', 'yield', 'priority')


def _decode(png: bytes) -> np.ndarray:
  image = Image.open(io.BytesIO(png))
  assert image.format == 'PNG'
  return np.asarray(image.convert('RGB'))


@pytest.fixture(name='served_model', scope='module')
def fixture_served_model(tmp_path_factory):
  """A narrow attention_56_cifar exported by components.trainer.serving; returns its directory."""
  model = ran_model.build_model('attention_56_cifar', input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3),
                                classes=len(CLASS_NAMES), width_multiplier=1 / 16)
  export_dir = str(tmp_path_factory.mktemp('served'))
  serving.export_serving_model(model, export_dir, image_size=IMAGE_SIZE, mean=[0.5] * 3,
                               std=[0.25] * 3, class_names=CLASS_NAMES, recipe='signs')
  return export_dir


def _image_file(path, image_format, seed):
  pixels = np.random.default_rng(seed).integers(0, 256, (24, 40, 3), dtype=np.uint8)
  Image.fromarray(pixels).save(path, format=image_format)
  return str(path)


def test_explanation_has_one_map_per_module_and_the_prediction(served_model, tmp_path):
  signature = served.load_attention_signature(served_model)
  with open(_image_file(tmp_path / 'sign.bmp', 'BMP', 0), 'rb') as f:
    explanation = served.explain(signature, served.model_ready_bytes(f.read()))
  assert [address for address, _ in explanation.maps] == [
      'stage1_attn1', 'stage2_attn1', 'stage3_attn1']
  for _, values in explanation.maps:
    assert values.shape == (IMAGE_SIZE, IMAGE_SIZE) and 0.0 <= values.min() <= 1.0
  assert explanation.model_input.shape == (IMAGE_SIZE, IMAGE_SIZE, 3)
  assert explanation.model_input.dtype == np.uint8
  assert explanation.class_name in CLASS_NAMES and 0.0 < explanation.probability <= 1.0
  assert explanation.caption() == (
      f'prediction: {explanation.class_name} (p={explanation.probability:.3f})')
  assert served.map_title('stage2_attn1') == 'stage 2, module 1'


def test_cli_writes_a_figure_per_image_and_reports_failures(served_model, tmp_path, capsys):
  images_dir = tmp_path / 'images'
  images_dir.mkdir()
  good = [_image_file(images_dir / name, image_format, seed) for seed, (name, image_format)
          in enumerate([('a.png', 'PNG'), ('b.jpg', 'JPEG'), ('c.bmp', 'BMP'), ('d.ppm', 'PPM')])]
  (tmp_path / 'other').mkdir()
  good.append(_image_file(tmp_path / 'other' / 'a.png', 'PNG', 5))  # a repeated stem
  corrupt = images_dir / 'corrupt.jpg'
  corrupt.write_bytes(b'\xff\xd8\xff\xe0 not really a jpeg')
  missing = str(images_dir / 'missing.png')
  output_dir = tmp_path / 'out'

  status = cli.main(['--model', served_model, '--output_dir', str(output_dir),
                     '--images', good[0], missing, *good[1:3], str(corrupt), *good[3:]])
  out, err = capsys.readouterr()
  assert status == 1
  assert out.splitlines()[-1] == 'read 7 = written 5 + failed 2'
  assert f'{missing}: error: No such file or directory' in err.splitlines()
  assert f'{corrupt}: error: undecodable_image' in err
  assert sorted(os.listdir(output_dir)) == ['a.png', 'a_2.png', 'b.png', 'c.png', 'd.png']

  signature = served.load_attention_signature(served_model)
  lines = out.splitlines()[:-1]
  for path, name, line in zip(good, ['a.png', 'b.png', 'c.png', 'd.png', 'a_2.png'], lines):
    with open(path, 'rb') as f:
      explanation = served.explain(signature, served.model_ready_bytes(f.read()))
    written = (output_dir / name).read_bytes()
    assert written == served.render(explanation)  # the input and 3 overlays, captioned
    assert _decode(written).shape == (223, 670, 3)  # 4 panels of 160 px in a row, labels
    assert line == (f'{path} -> {output_dir / name}: {explanation.class_name} '
                    f'(p={explanation.probability:.3f})')


def test_cli_refuses_a_model_without_the_signature(tmp_path, capsys):
  inputs = keras.Input((8, 8, 3))
  plain = keras.Model(inputs, keras.layers.Dense(3, activation='softmax')(
      keras.layers.Flatten()(inputs)))
  export_dir = str(tmp_path / 'plain')
  serving.export_serving_model(plain, export_dir, image_size=8, mean=[0.5] * 3,
                               std=[0.25] * 3, class_names=CLASS_NAMES, recipe='signs')
  image = _image_file(tmp_path / 'a.png', 'PNG', 0)
  result = subprocess.run(
      [sys.executable, '-m', 'components.attention_maps', '--model', export_dir,
       '--images', image, '--output_dir', str(tmp_path / 'out')],
      capture_output=True, text=True, check=False,
      env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '3', 'PYTHONWARNINGS': 'ignore'})
  assert result.returncode == 2
  assert (f"error: {export_dir}: the SavedModel has no 'attention_maps' signature (it has "
          "['serve_images', 'serving_default'])") in result.stderr
  assert not (tmp_path / 'out').exists()
  assert cli.main(['--model', str(tmp_path / 'nowhere'), '--images', image,
                   '--output_dir', str(tmp_path / 'out')]) == 2
  assert f"error: {tmp_path / 'nowhere'}: not a loadable SavedModel" in capsys.readouterr().err


@pytest.mark.parametrize('flag, value', [('--size', '100000'), ('--size', '0'),
                                         ('--columns', '33'), ('--size', '-5')])
def test_cli_bounds_the_figure_size(flag, value, capsys):
  with pytest.raises(SystemExit) as exit_info:
    cli.parse_args(['--model', 'm', '--images', 'a.png', '--output_dir', 'o', flag, value])
  assert exit_info.value.code == 2
  most = cli.MAX_SIZE if flag == '--size' else cli.MAX_COLUMNS
  assert f"expected an integer from 1 to {most}, got '{value}'" in capsys.readouterr().err
