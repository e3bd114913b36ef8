"""Running the pipeline on this machine: LocalDagRunner, sqlite ML Metadata, embedded data."""
import os
import shutil

from tfx import v1 as tfx

from components import example_gen
from pipeline import results
from pipeline.configs import ConfigError
from pipeline.configs import PipelineConfig
from pipeline.pipeline import create_pipeline


def prepare_data(config: PipelineConfig) -> None:
  """Renders the dataset's embedded sample on first use; checks a given data root exists.

  Raises ConfigError when `config.data_root` or `config.examples_dir` was given but is
  missing, or when the default location is asked of a dataset that has no embedded sample.
  """
  if config.examples_dir is not None:
    if not os.path.isdir(config.examples_dir):
      raise ConfigError(f'--examples_dir {config.examples_dir} does not exist or is not a '
                        'directory')
    return
  data_root = config.resolved_data_root
  if config.data_root is not None:
    if not os.path.isdir(data_root):
      raise ConfigError(f'--data_root {data_root} does not exist or is not a directory')
    try:  # the layout's own checks (label files present...), before any component runs
      example_gen.make_layout(config.dataset, data_root, config.layout_options)
    except ValueError as error:
      raise ConfigError(str(error)) from None
    return
  if os.path.isdir(data_root):
    return
  try:
    layout_class = example_gen.layout_class(config.dataset)
  except ValueError as error:  # an unknown dataset
    raise ConfigError(str(error)) from None
  if not layout_class.has_sample:
    raise ConfigError(f'Dataset {config.dataset!r} has no embedded sample: give --data_root')
  print(f'Rendering the embedded {config.dataset} sample into {data_root} ...', flush=True)
  partial = data_root + '.partial'  # renamed into place when complete: no half-written sample
  if os.path.isdir(partial):
    shutil.rmtree(partial)
  counts = layout_class.render_sample(
      partial, seed=config.seed, train_per_class=config.sample_train_per_class,
      test_per_class=config.sample_test_per_class)
  os.rename(partial, data_root)
  print(f'  {sum(counts.values())} images written.', flush=True)


def run_local(config: PipelineConfig) -> results.RunResults:
  """Runs the whole pipeline in this process and returns what it produced."""
  prepare_data(config)
  os.makedirs(config.output_dir, exist_ok=True)
  metadata = tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path)
  tfx.orchestration.LocalDagRunner().run(
      create_pipeline(config, metadata_connection_config=metadata))
  return results.latest_run_results(config.metadata_path, config.pipeline_name)
