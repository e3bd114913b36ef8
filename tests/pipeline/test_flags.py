"""runner.py's flags: one per profile field, typed overrides, clear errors."""
import dataclasses
import os
import re

import pytest

import runner
from pipeline import configs
from pipeline import flags


def test_help_documents_every_field(capsys):
  with pytest.raises(SystemExit) as exit_info:
    runner.parse_args(['--help'])
  assert exit_info.value.code == 0
  text = capsys.readouterr().out
  for field in dataclasses.fields(configs.PipelineConfig):
    assert f'--{field.name}' in text
  assert '--runner' in text and '--profile' in text


def test_no_flags_give_the_dev_profile():
  assert flags.config_from_flags(runner.parse_args([])) == configs.DEV


def test_flags_override_fields_with_their_types():
  config = flags.config_from_flags(runner.parse_args([
      '--train_steps', '7', '--learning_rate', '0.05', '--lr_decay_fractions', '0.5,0.75',
      '--slice_features', 'scenario/level', '--data_root', '/data/x', '--xla', 'true',
      '--deterministic_input', 'False']))
  assert config.xla is True and config.deterministic_input is False
  assert config.train_steps == 7
  assert config.learning_rate == 0.05
  assert config.lr_decay_fractions == (0.5, 0.75)
  assert config.slice_features == ('scenario/level',)
  assert config.data_root == '/data/x'
  assert config.model_name == configs.DEV.model_name


def test_warm_start_flags():
  assert (configs.DEV.warm_start, configs.DEV.warm_start_steps,
          configs.DEV.warm_start_lr_scale) == (True, 40, 0.03)
  config = flags.config_from_flags(runner.parse_args([
      '--warm_start', 'false', '--warm_start_steps', '30', '--warm_start_lr_scale', '0.1']))
  assert (config.warm_start, config.warm_start_steps, config.warm_start_lr_scale) == (
      False, 30, 0.1)


@pytest.mark.parametrize('argv, message', [
    (['--runner', 'airflow'], "invalid choice: 'airflow'"),
    (['--train_steps', 'many'], "invalid int value: 'many'"),
    (['--xla', 'maybe'], "'maybe' is not a boolean"),
    (['--profile', 'nope'], "invalid choice: 'nope'"),
    (['--no_such_flag', '1'], 'unrecognized arguments: --no_such_flag'),
])
def test_bad_flags_exit_with_a_message(argv, message, capsys):
  with pytest.raises(SystemExit) as exit_info:
    runner.parse_args(argv)
  assert exit_info.value.code == 2
  assert message in capsys.readouterr().err


def test_missing_data_root_is_a_clear_error(tmp_path, capsys):
  missing = tmp_path / 'no_such_dir'
  code = runner.main(['--data_root', str(missing), '--output_dir', str(tmp_path / 'out')])
  assert code == 2
  assert capsys.readouterr().err.strip() == (
      f'error: --data_root {missing} does not exist or is not a directory')
  assert not (tmp_path / 'out').exists()


def test_datasets_without_a_sample_need_a_data_root(tmp_path):
  from pipeline import local  # pylint: disable=g-import-not-at-top
  config = dataclasses.replace(configs.DEV, dataset='gtsrb', output_dir=str(tmp_path))
  with pytest.raises(configs.ConfigError, match="'gtsrb' has no embedded sample"):
    local.prepare_data(config)


def test_an_unknown_dataset_is_a_config_error(tmp_path):
  from pipeline import local  # pylint: disable=g-import-not-at-top
  config = dataclasses.replace(configs.DEV, dataset='mnist', output_dir=str(tmp_path))
  with pytest.raises(configs.ConfigError, match="Unknown dataset 'mnist'; known: \\['bdd100k'"):
    local.prepare_data(config)


def test_default_data_root_is_rendered_once(tmp_path, monkeypatch):
  from components.example_gen import sample  # pylint: disable=g-import-not-at-top
  from components.example_gen.formats import cure_tsr  # pylint: disable=g-import-not-at-top
  from pipeline import local  # pylint: disable=g-import-not-at-top
  calls = []
  real_render_span = sample.render_span

  def counting_render_span(data_root, **kwargs):
    calls.append(data_root)
    return real_render_span(data_root, **kwargs)

  monkeypatch.setattr(sample, 'render_span', counting_render_span)
  config = dataclasses.replace(configs.DEV, output_dir=str(tmp_path),
                               sample_train_per_class=1, sample_test_per_class=1)
  local.prepare_data(config)
  local.prepare_data(config)
  assert len(calls) == 1
  data_root = tmp_path / 'data' / 'cure_tsr'
  assert [p.name for p in data_root.iterdir()] == ['span-1']
  assert sorted(p.name for p in (data_root / 'span-1').iterdir()) == sorted(
      cure_tsr.SPLIT_FOLDERS)


@pytest.mark.parametrize('argv, message', [
    (['--ingest_options', '{crop'], "--ingest_options '{crop' is not JSON"),
    (['--ingest_options', '[1]'], "--ingest_options '[1]' is not a JSON object"),
    (['--ingest_options', '{"crop": 1}'], "Unknown option(s) ['crop'] for dataset 'cure_tsr'"),
    (['--dataset', 'mnist'], "Unknown dataset 'mnist'"),
    ([], 'no CURE-TSR split folder'),
])
def test_a_data_root_that_is_not_the_layout_is_a_clear_error(argv, message, tmp_path, capsys):
  code = runner.main(argv + ['--data_root', str(tmp_path), '--output_dir', str(tmp_path / 'o')])
  assert code == 2
  assert message in capsys.readouterr().err


def test_missing_examples_dir_is_a_clear_error(tmp_path, capsys):
  assert runner.main(['--examples_dir', str(tmp_path / 'x'),
                      '--output_dir', str(tmp_path / 'o')]) == 2
  assert f'--examples_dir {tmp_path / "x"} does not exist' in capsys.readouterr().err


def test_vertex_project_and_region_take_the_short_names_too():
  args = runner.parse_args(['--runner=vertex', '--project', 'p', '--region', 'europe-west4'])
  config = flags.config_from_flags(args)
  assert (config.vertex_project, config.vertex_region) == ('p', 'europe-west4')


def test_slice_floors_take_the_json_object_form_and_the_list_form():
  for text in ('{"scenario/level": 0.8, "image/class/label": 0.5}',
               '[["scenario/level", 0.8], ["image/class/label", 0.5]]'):
    config = flags.config_from_flags(runner.parse_args(['--slice_floors', text]))
    assert config.slice_floors == (('scenario/level', 0.8), ('image/class/label', 0.5))


@pytest.mark.parametrize('argv, message', [
    (['--slice_floors', '{"scenario/level": 0.8'], "error: argument --slice_floors: "
     "'{\"scenario/level\": 0.8' is not JSON"),
    (['--slice_floors', '0.8'], "error: argument --slice_floors: '0.8' is neither a JSON "
     'object nor a list of lists'),
    (['--slice_floors', '{"scenario/level": "high"}'],
     "error: --slice_floors: ['scenario/level', 'high'] is not a feature and a number"),
    (['--slice_floors', '{"scenario/wether": 0.8}'], 'error: --slice_floors: scenario/wether is '
     "not a feature of the cure_tsr schema; its scenario features: ['scenario/challenge', "
     "'scenario/level', 'scenario/sequence'], and image/class/label"),
    (['--slice_features', 'scenario/level,scenario/x,scenario/y'],
     'error: --slice_features: scenario/x, scenario/y are not a feature of the cure_tsr schema'),
    (['--slice_crosses', '[["scenario/level"]]'],
     "error: --slice_crosses: ['scenario/level'] is not two or more feature keys"),
    (['--slice_crosses', '[["scenario/level", "weather"]]'],
     'error: --slice_crosses: weather is not a feature of the cure_tsr schema'),
    (['--slice_features', 'scenario/level', '--slice_floors', '{"scenario/challenge": 0.5}'],
     "error: slice_floors keys ['scenario/challenge'] are not sliced by"),
    (['--train_steps', '0'], 'error: --train_steps 0: must be at least 1'),
    (['--batch_size', '-4'], 'error: --batch_size -4: must be at least 1'),
    (['--max_quarantined_fraction', '2'], 'error: --max_quarantined_fraction 2.0: must lie in'),
    (['--regression_significance', '0'],
     'error: --regression_significance 0.0: must lie in (0, 1]'),
    (['--model_name', 'attention_57'], "error: --model_name 'attention_57': choose from "
     "['attention_56', "),
    (['--train_steps', 'many'], "error: argument --train_steps: invalid int value: 'many'"),
    (['--warm_start_steps', '0'], 'error: --warm_start_steps 0: must be at least 1'),
    (['--warm_start_lr_scale', '1.5'], 'error: --warm_start_lr_scale 1.5: must lie in (0, 1]'),
])
def test_a_users_mistake_is_one_line_and_exit_2_before_anything_runs(argv, message, tmp_path,
                                                                     capsys):
  output_dir = tmp_path / 'out'
  try:
    code = runner.main(argv + ['--output_dir', str(output_dir)])
  except SystemExit as exit_info:  # argparse's own errors
    code = exit_info.code
  out, err = capsys.readouterr()
  assert code == 2 and out == ''
  assert err.startswith(message) and err.count('\n') == 1, err
  assert not (output_dir / 'metadata.sqlite').exists()
  assert not (output_dir / 'pipeline').exists()


def test_an_output_dir_that_cannot_be_written_is_a_clear_error(tmp_path, capsys):
  blocked = tmp_path / 'file'
  blocked.write_text('not a folder')
  assert runner.main(['--output_dir', str(blocked / 'out')]) == 2
  assert capsys.readouterr().err == (
      f'error: --output_dir {blocked / "out"} cannot be written ({blocked} is not a '
      'directory)\n')


def test_a_second_run_on_the_same_output_dir_is_refused_while_the_first_holds_it(tmp_path,
                                                                                 capsys):
  from pipeline import local  # pylint: disable=g-import-not-at-top
  output_dir = tmp_path / 'out'
  with local.output_dir_lock(str(output_dir)):
    assert runner.main(['--output_dir', str(output_dir)]) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(rf'error: --output_dir {output_dir} is in use by pid {os.getpid()} on '
                        r'\S+ since [-0-9]+ [:0-9]+: wait for that run to end, or give another '
                        r'--output_dir\n', err), err
    assert not (output_dir / 'data').exists()  # nothing rendered, nothing run
  with local.output_dir_lock(str(output_dir)):  # released: the next run takes it
    pass


def test_a_value_the_trainer_cannot_use_is_a_flag_error(tmp_path, capsys):
  assert runner.main(['--recipe', 'mnist', '--output_dir', str(tmp_path)]) == 2
  err = capsys.readouterr().err
  assert err == "error: Unknown recipe 'mnist'; expected one of ('cifar', 'imagenet', 'signs')\n"
