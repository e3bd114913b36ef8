"""A one-step local pipeline whose step writes part of its output and then, when KILL_ENV is
'1', SIGKILLs its own process: `python tests/pipeline/killed_run.py OUTPUT_DIR` (the
interrupted-run tests run it)."""
import os
import signal
import sys

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

from tfx import v1 as tfx  # pylint: disable=g-import-not-at-top,wrong-import-position

KILL_ENV = 'KILLED_RUN_KILL'
PARTIAL_FILE = 'part-0'
PIPELINE_NAME = 'killed'


@tfx.dsl.components.component
def PartialWriter(  # pylint: disable=invalid-name (TFX names the component after it)
    model: tfx.dsl.components.OutputArtifact[tfx.types.standard_artifacts.Model]) -> None:
  """Writes PARTIAL_FILE into its output, then dies by SIGKILL if KILL_ENV is '1'."""
  with open(os.path.join(model.uri, PARTIAL_FILE), 'w', encoding='utf-8') as f:
    f.write('half a model')
  if os.environ.get(KILL_ENV) == '1':
    os.kill(os.getpid(), signal.SIGKILL)


def metadata_path(output_dir: str) -> str:
  return os.path.join(output_dir, 'metadata.sqlite')


def build_pipeline(output_dir: str) -> tfx.dsl.Pipeline:
  """The pipeline, its root <output_dir>/root, its sqlite store `metadata_path`."""
  return tfx.dsl.Pipeline(
      pipeline_name=PIPELINE_NAME, pipeline_root=os.path.join(output_dir, 'root'),
      components=[PartialWriter()], enable_cache=False,
      metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
          metadata_path(output_dir)))


if __name__ == '__main__':
  tfx.orchestration.LocalDagRunner().run(build_pipeline(sys.argv[1]))
