"""The container image, as far as this machine can check it without Docker: the Dockerfile's
base, layout and pins, its build context, `make image`'s tag, and that the compiled pipeline's
module code imports from exactly what the image copies."""
import dataclasses
import fnmatch
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from pipeline import configs
from pipeline import kubeflow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _instructions():
  """The Dockerfile as (INSTRUCTION, arguments) pairs, continuation lines joined."""
  with open(os.path.join(ROOT, 'Dockerfile')) as f:
    text = re.sub(r'\\\n', ' ', '\n'.join(line for line in f.read().splitlines()
                                         if not line.lstrip().startswith('#')))
  return [tuple(line.strip().split(None, 1)) for line in text.splitlines() if line.strip()]


def _arguments(instruction):
  return [args for name, args in _instructions() if name == instruction]


def _copies():
  """(sources, destination) of every COPY; a relative destination is under the WORKDIR."""
  copies = []
  for args in _arguments('COPY'):
    *sources, destination = shlex.split(args)
    assert not any(s.startswith('--') for s in sources), 'COPY --from/--chown: update this test'
    copies.append((sources, destination))
  return copies


def _locked_versions():
  with open(os.path.join(ROOT, 'requirements.lock')) as f:
    return dict(re.findall(r'^([A-Za-z0-9_.-]+)==(\S+)', f.read(), re.MULTILINE))


def test_the_base_image_is_the_installed_tfx_release():
  [base] = _arguments('FROM')
  assert base == f'gcr.io/tfx-oss-public/tfx:{importlib.metadata.version("tfx")}'


def test_the_project_sits_where_compiled_pipelines_look_for_it():
  [workdir] = _arguments('WORKDIR')
  assert workdir == kubeflow.IMAGE_PROJECT_ROOT
  env = dict(pair.split('=', 1) for args in _arguments('ENV') for pair in shlex.split(args))
  assert env['PYTHONPATH'].split(':')[0] == kubeflow.IMAGE_PROJECT_ROOT
  assert env['TF_USE_LEGACY_KERAS'] == '1'
  assert env['TF_ENABLE_ONEDNN_OPTS'] == '1'  # as runner.py sets it


def test_every_copied_path_exists_and_is_in_the_build_context():
  with open(os.path.join(ROOT, '.dockerignore')) as f:
    patterns = [line.strip() for line in f if line.strip() and not line.startswith('#')]
  assert patterns[0] == '*'  # an allow-list: only what is named below enters the context
  allowed = {p[1:].rstrip('/') for p in patterns if p.startswith('!')}
  for sources, _ in _copies():
    for source in sources:
      assert os.path.exists(os.path.join(ROOT, source)), source
      assert source.rstrip('/').split('/')[0] in allowed, source
  excluded = [p for p in patterns[1:] if not p.startswith('!')]
  assert all(fnmatch.fnmatch('pipeline/__pycache__', p) or p.endswith('.pyc')
             for p in excluded)


def test_pip_pins_in_the_image_are_the_lock_s():
  pins = [spec for args in _arguments('RUN') if 'pip install' in args
          for spec in shlex.split(args) if '==' in spec]
  assert pins  # Pillow at least: the base image ships an older one
  locked = _locked_versions()
  for pin in pins:
    name, version = pin.split('==')
    assert locked[name] == version, pin


def test_make_image_tags_the_image_the_runner_names_by_default():
  default = configs.PipelineConfig().container_image
  assert _dry_make('image') == f'docker build --tag {default} .'
  pushed = 'europe-docker.pkg.dev/proj/ran/ran-tfx:7'
  assert _dry_make('image', f'IMAGE={pushed}') == f'docker build --tag {pushed} .'


def _dry_make(*args):
  """What `make -n ARGS` would run, as a top-level make: under `make test` the
  inherited MAKELEVEL/MAKEFLAGS would add 'Entering directory' lines and flags."""
  env = {k: v for k, v in os.environ.items() if k not in ('MAKELEVEL', 'MAKEFLAGS', 'MFLAGS')}
  return subprocess.run(['make', '--no-print-directory', '-n', *args], cwd=ROOT, env=env,
                        capture_output=True, text=True, check=True).stdout.strip()


def _modules_named_in(pipeline_job):
  """The Python modules a compiled pipeline names: executor classes and module-path
  functions (run_fn, preprocessing_fn), as `module.attribute`."""
  spec = pipeline_job['pipelineSpec']
  names = set()
  for executor in spec['deploymentSpec']['executors'].values():
    args = executor.get('container', {}).get('args', [])
    if '--executor_class_path' in args:
      names.add(args[args.index('--executor_class_path') + 1])
  for task in spec['root']['dag']['tasks'].values():
    for name, value in task.get('inputs', {}).get('parameters', {}).items():
      if name.endswith('_fn'):
        names.add(value['runtimeValue']['constant'])
  return names


@pytest.fixture(scope='module')
def staged_image(tmp_path_factory):
  """The files the Dockerfile copies, laid out as in the image under a temporary root, and
  the pipeline compiled for that image."""
  root = str(tmp_path_factory.mktemp('image') / kubeflow.IMAGE_PROJECT_ROOT.strip('/'))
  os.makedirs(root)
  for sources, destination in _copies():
    for source in sources:
      target = os.path.join(root, destination)
      if os.path.isdir(os.path.join(ROOT, source)):
        shutil.copytree(os.path.join(ROOT, source), target,
                        ignore=shutil.ignore_patterns('__pycache__'))
      else:
        shutil.copy(os.path.join(ROOT, source), target)
  config = dataclasses.replace(configs.DEV, output_dir='gs://bucket/ran',
                               data_root='gs://bucket/data', container_image='gcr.io/p/ran:1')
  spec_path = os.path.join(os.path.dirname(root), 'pipeline.json')
  kubeflow.compile_pipeline(config, output_file=spec_path)
  with open(spec_path) as f:
    return root, json.load(f)


def test_the_pipeline_s_module_code_imports_from_the_image_s_copy(staged_image):
  """Run like a step in the image: Python's installed packages (TFX and the rest, as the base
  image has them) plus the image's copy of the project, nothing else on sys.path; every module
  loaded from outside the installation must come from that copy."""
  root, pipeline_job = staged_image
  ours = sorted(m for m in _modules_named_in(pipeline_job) if not m.startswith('tfx.'))
  assert {'components.trainer.run_fn', 'components.transform.preprocessing_fn',
          'components.example_gen.executor.Executor'} <= set(ours)
  script = (f'import importlib, os, sys\n'
            f'installed = tuple(os.path.realpath(p) for p in (sys.prefix, sys.base_prefix))\n'
            f'allowed = (os.path.realpath({root!r}),) + installed\n'
            f'sys.path = [{root!r}] + [p for p in sys.path\n'
            f'                        if p and os.path.realpath(p).startswith(installed)]\n'
            f'for name in {ours!r}:\n'
            f'  module, attribute = name.rsplit(".", 1)\n'
            f'  getattr(importlib.import_module(module), attribute)\n'
            f'outside = sorted(m.__file__ for m in list(sys.modules.values())\n'
            f'                 if getattr(m, "__file__", None)\n'
            f'                 and not os.path.realpath(m.__file__).startswith(allowed))\n'
            f'assert not outside, outside\n'
            f'print("imported", {len(ours)})\n')
  env = {**os.environ, 'PYTHONPATH': root, 'TF_USE_LEGACY_KERAS': '1',
         'TF_CPP_MIN_LOG_LEVEL': '3'}
  result = subprocess.run([sys.executable, '-c', script], cwd=root, env=env,
                          capture_output=True, text=True, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  assert result.stdout.strip() == f'imported {len(ours)}'


def test_the_schema_the_pipeline_names_is_in_the_image(staged_image):
  root, pipeline_job = staged_image
  task = pipeline_job['pipelineSpec']['root']['dag']['tasks']['ImportSchemaGen']
  path = task['inputs']['parameters']['schema_file']['runtimeValue']['constant']
  assert path.startswith(kubeflow.IMAGE_PROJECT_ROOT + '/')
  assert os.path.isfile(os.path.join(root, os.path.relpath(path, kubeflow.IMAGE_PROJECT_ROOT)))
