"""A cache key per step: a digest of exactly the project code the step runs.

TFX's cache key of an execution covers its inputs and execution properties, not the code a
module path (`run_fn`, an executor class) names. So each step of ours that runs project code
gets the digest of that code as a property: the import closure, inside this project, of the
step's entry module (`STEP_MODULES`), found by reading the `import` statements of each module
(wherever they stand, so lazy imports count too), with the parent packages' `__init__.py`
(importing `a.b.c` runs `a` and `a.b` first) and the data files beside each module (e.g. the
dashboard's CSS). Editing a dashboard module changes only the EvaluationDashboard's key; a
Trainer module, the Trainer's, and everything after it reruns because its model is new.
"""
import ast
import functools
import hashlib
import os
from typing import Dict, FrozenSet, Tuple

from pipeline.configs import PROJECT_ROOT

PROJECT_PACKAGES = ('components', 'ran_model')  # what steps import; pipeline/ runs no step

# The module each step's code is entered through (its executor, run_fn or metrics).
STEP_MODULES = {
    'ExampleGen': 'components.example_gen.executor',
    'DataGate': 'components.data_gate.component',
    'Transform': 'components.transform',
    'Trainer': 'components.trainer',
    'Evaluator': 'components.evaluation',
    'RegistryPusher': 'components.registry_pusher',
    'EdgeExport': 'components.edge.component',
    'EvaluationDashboard': 'components.evaluation_dashboard',
}


def _module_file(module: str, project_root: str) -> str:
  """The file of `module` ('a.b' -> a/b.py or a/b/__init__.py); '' when it is not project
  code (a third-party module, or a name imported from a module)."""
  parts = module.split('.')
  if parts[0] not in PROJECT_PACKAGES:
    return ''
  base = os.path.join(project_root, *parts)
  for path in (base + '.py', os.path.join(base, '__init__.py')):
    if os.path.isfile(path):
      return path
  return ''


def _imported_modules(path: str, module: str) -> Tuple[str, ...]:
  """Every module an `import` statement in `path` (the file of `module`) may load, with its
  parent packages; for `from m import n`, both m and m.n (n may be a submodule)."""
  with open(path, 'rb') as f:
    return _imports_in(f.read(), module, path.endswith('__init__.py'))


@functools.lru_cache(maxsize=None)
def _imports_in(source: bytes, module: str, is_package: bool) -> Tuple[str, ...]:
  package = module if is_package else module.rpartition('.')[0]
  found = []
  for node in ast.walk(ast.parse(source)):
    if isinstance(node, ast.Import):
      names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ''
      if node.level:
        anchor = package.split('.')[:len(package.split('.')) - node.level + 1]
        base = '.'.join(anchor + ([base] if base else []))
      names = [base] + [f'{base}.{alias.name}' for alias in node.names]
    else:
      continue
    for name in names:
      parts = name.split('.')
      found += ('.'.join(parts[:i]) for i in range(1, len(parts) + 1))
  return tuple(found)


def import_closure(module: str, project_root: str = PROJECT_ROOT) -> FrozenSet[str]:
  """The project files importing `module` runs: `.py` files, relative to `project_root`."""
  if not _module_file(module, project_root):
    raise ValueError(f'{module} is not a module of the project at {project_root}')
  parts = module.split('.')
  pending = ['.'.join(parts[:i]) for i in range(1, len(parts) + 1)]
  seen, files = set(), set()
  while pending:
    name = pending.pop()
    if name in seen:
      continue
    seen.add(name)
    path = _module_file(name, project_root)
    if path:
      files.add(os.path.relpath(path, project_root))
      pending.extend(_imported_modules(path, name))
  return frozenset(files)


def _data_files(python_files: FrozenSet[str], project_root: str) -> FrozenSet[str]:
  """Files other than Python beside the modules (templates, stylesheets, scripts)."""
  found = set()
  for folder in {os.path.dirname(path) for path in python_files}:
    for name in os.listdir(os.path.join(project_root, folder)):
      path = os.path.join(folder, name)
      if (os.path.isfile(os.path.join(project_root, path)) and
          not name.endswith(('.py', '.pyc'))):
        found.add(path)
  return frozenset(found)


def code_version(module: str, project_root: str = PROJECT_ROOT) -> str:
  """The digest (16 hex digits) of the files of `module`'s import closure and the data files
  beside them: their paths and bytes."""
  python_files = import_closure(module, project_root)
  digest = hashlib.sha256()
  for path in sorted(python_files | _data_files(python_files, project_root)):
    digest.update(path.replace(os.sep, '/').encode() + b'\0')
    with open(os.path.join(project_root, path), 'rb') as f:
      digest.update(f.read())
    digest.update(b'\0')
  return digest.hexdigest()[:16]


def step_code_versions(project_root: str = PROJECT_ROOT) -> Dict[str, str]:
  """{step id: code_version of its entry module}, for every step in STEP_MODULES."""
  return {step: code_version(module, project_root) for step, module in STEP_MODULES.items()}
