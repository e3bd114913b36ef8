"""runner.py's flags: one per profile field, typed overrides, clear errors."""
import dataclasses

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
  real_render_sample = sample.render_sample

  def counting_render_sample(data_root, **kwargs):
    calls.append(data_root)
    return real_render_sample(data_root, **kwargs)

  monkeypatch.setattr(sample, 'render_sample', counting_render_sample)
  config = dataclasses.replace(configs.DEV, output_dir=str(tmp_path),
                               sample_train_per_class=1, sample_test_per_class=1)
  local.prepare_data(config)
  local.prepare_data(config)
  assert len(calls) == 1
  data_root = tmp_path / 'data' / 'cure_tsr'
  assert sorted(p.name for p in data_root.iterdir()) == sorted(cure_tsr.SPLIT_FOLDERS)
  assert not (tmp_path / 'data' / 'cure_tsr.partial').exists()


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
