"""A model registry on a file system, in TF Serving's layout: a local path or gs:// (tf.io.gfile).

  <root>/<model>/<version>/               SavedModel (saved_model.pb, variables/), model_card.json
  <root>/<model>/<version>/<folder>/      files derived from it later (e.g. tflite/: add_files)
  <root>/<model>/aliases/<alias>/<n>/event.json   event n of the alias (a promote or a rollback)
  <root>/<model>/.staging-<unix s>-<hex>/ a publish or an alias change under way (or crashed)

TF Serving pointed at <root>/<model> loads the highest numeric directory and ignores the rest.

Every change is built in a staging directory and then claimed by renaming it to the next free
number; the rename refuses an existing target, so on a clash (a concurrent writer took that
number) the claim moves on to the next. On a POSIX file system the rename is atomic and never
replaces a non-empty directory: readers never see a partly copied version, a version is never
overwritten, and concurrent publishers get distinct versions. On gs:// tf.io.gfile renames a
directory object by object, so there a version appears gradually and racing writers can
collide: publish from one writer at a time (one pipeline's pusher) or use the Vertex registry.
"""
import contextlib
import dataclasses
import datetime
import json
import os
import re
import time
import uuid
from typing import Dict, Iterator, List, Optional, Tuple

import tensorflow as tf

from components import atomic_file
from components.registry import names
from components.registry.model_card import CARD_FILE, ModelCard

ALIASES_DIR = 'aliases'
EVENT_FILE = 'event.json'
STAGING_PREFIX = '.staging-'
SAVED_MODEL_FILES = ('saved_model.pb', 'saved_model.pbtxt')
SAVED_MODEL_DIRS = ('variables', 'assets', 'assets.extra')
_STAGING_NAME = re.compile(re.escape(STAGING_PREFIX) + r'([0-9]+)-[0-9a-f]+')
_MAX_CLAIMS = 1000


@dataclasses.dataclass(frozen=True)
class Version:
  """A registered version: TF Serving's version number and the directory holding it."""
  model_name: str
  number: int
  uri: str


class NotFoundError(LookupError):
  """A model, version or alias that the registry does not hold."""


def _write(path: str, text: str) -> None:
  with tf.io.gfile.GFile(path, 'w') as f:
    f.write(text)


def _read(path: str) -> str:
  with tf.io.gfile.GFile(path) as f:
    return f.read()


def _children(directory: str) -> List[str]:
  """Names in `directory` ([] if it does not exist), without gs://'s trailing '/'."""
  if not tf.io.gfile.isdir(directory):
    return []
  return [name.rstrip('/') for name in tf.io.gfile.listdir(directory)]


def _numbers(directory: str) -> List[int]:
  """The numbers naming subdirectories of `directory`, ascending."""
  return sorted(int(name) for name in _children(directory) if names.DIGITS.fullmatch(name))


def _copy_tree(source: str, target: str) -> None:
  for directory, _, files in tf.io.gfile.walk(source):
    into = os.path.join(target, directory[len(source):].strip('/'))
    tf.io.gfile.makedirs(into)
    for name in files:
      tf.io.gfile.copy(os.path.join(directory, name), os.path.join(into, name))


def _file_sizes(top: str) -> Dict[str, int]:
  """Path relative to `top` -> size in bytes, for every file under `top`."""
  return {os.path.join(directory[len(top):].strip('/'), name):
          tf.io.gfile.stat(os.path.join(directory, name)).length
          for directory, _, files in tf.io.gfile.walk(top) for name in files}


def _claim_next_number(staging: str, parent: str) -> int:
  """Renames `staging` to `parent`/<n>, n one above the highest number there; returns n."""
  tf.io.gfile.makedirs(parent)
  for _ in range(_MAX_CLAIMS):
    number = max(_numbers(parent), default=0) + 1
    target = os.path.join(parent, str(number))
    try:
      tf.io.gfile.rename(staging, target, overwrite=False)
      return number
    except tf.errors.OpError:
      if not tf.io.gfile.exists(target):
        raise  # not a clash with another writer
  raise RuntimeError(f'no free number under {parent} after {_MAX_CLAIMS} clashes')


@contextlib.contextmanager
def _staging(model_dir: str) -> Iterator[str]:
  """A new hidden directory in `model_dir`, removed unless claimed (renamed away) by then."""
  path = os.path.join(model_dir, f'{STAGING_PREFIX}{int(time.time())}-{uuid.uuid4().hex}')
  tf.io.gfile.makedirs(path)
  try:
    yield path
  finally:
    if tf.io.gfile.exists(path):
      tf.io.gfile.rmtree(path)


class FilesystemRegistry:
  """Versions of models under `root`, with model cards and aliases (see the module doc)."""

  def __init__(self, root: str):
    self.root = root

  def _model_dir(self, model_name: str) -> str:
    return os.path.join(self.root, names.check_name(model_name))

  def _version(self, model_name: str, number: int) -> Version:
    return Version(model_name, number, os.path.join(self._model_dir(model_name), str(number)))

  def _alias_dir(self, model_name: str, alias: str) -> str:
    return os.path.join(self._model_dir(model_name), ALIASES_DIR, names.check_alias(alias))

  def models(self) -> List[str]:
    """Names of the registered models, sorted."""
    return sorted(name for name in _children(self.root) if names.SIMPLE_NAME.fullmatch(name)
                  and tf.io.gfile.isdir(os.path.join(self.root, name)))

  def list_versions(self, model_name: str) -> List[Version]:
    """The model's versions, oldest (lowest) first; NotFoundError for an unknown model."""
    if not tf.io.gfile.isdir(self._model_dir(model_name)):
      raise NotFoundError(f'model {model_name!r} is not in the registry at {self.root}')
    return [self._version(model_name, n) for n in _numbers(self._model_dir(model_name))]

  def version(self, model_name: str, number: int) -> Version:
    """Version `number` of the model; NotFoundError if it is not registered."""
    version = self._version(model_name, names.check_version(number))
    if not tf.io.gfile.exists(os.path.join(version.uri, CARD_FILE)):
      raise NotFoundError(f'model {model_name!r} has no version {number} in {self.root}')
    return version

  def show(self, model_name: str, version: int) -> ModelCard:
    """The model card of `version`."""
    return ModelCard.from_json(_read(os.path.join(self.version(model_name, version).uri,
                                                  CARD_FILE)))

  def find_by_source(self, model_name: str, source_uri: str) -> Optional[Version]:
    """The newest version whose card names `source_uri` as its source, or None."""
    for number in reversed(_numbers(self._model_dir(model_name))):
      if self.show(model_name, number).source_uri == source_uri:
        return self._version(model_name, number)
    return None

  def publish(self, model_name: str, source_dir: str, card: ModelCard) -> Version:
    """Copies the SavedModel in `source_dir` and `card` into the model's next version.

    The card's `created_at` is set to now (UTC) and an empty `source_uri` to `source_dir`.
    The number is claimed only once every file of `source_dir` is in staging with its size;
    on POSIX file systems the version then appears complete or not at all.
    """
    model_dir = self._model_dir(model_name)
    if not any(tf.io.gfile.exists(os.path.join(source_dir, f)) for f in SAVED_MODEL_FILES):
      raise ValueError(f'{source_dir!r} holds no SavedModel (no {" or ".join(SAVED_MODEL_FILES)})')
    card = dataclasses.replace(
        card, source_uri=card.source_uri or source_dir,
        created_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'))
    with _staging(model_dir) as staging:
      _copy_tree(source_dir, staging)
      if _file_sizes(staging) != _file_sizes(source_dir):  # e.g. gc removed it mid-copy
        raise IOError(f'the copy of {source_dir} into {staging} is incomplete')
      _write(os.path.join(staging, CARD_FILE), card.to_json())
      return self._version(model_name, _claim_next_number(staging, model_dir))

  def add_files(self, model_name: str, number: int, folder: str, files: Dict[str, bytes],
                card: ModelCard) -> List[str]:
    """Puts `files` (name -> bytes) into `folder` of version `number`, replacing a folder
    of that name, and then replaces the version's card with `card` (e.g. the published card
    with a section on those files). Returns the files' paths relative to the version.

    The SavedModel is untouched. The folder is built in a hidden staging folder and renamed
    into place, and the card is written beside the old one and renamed over it, so a reader
    sees the old card or the new one, never part of one; between the two renames the folder
    is new and the card old.
    """
    version = self.version(model_name, number)
    if names.check_name(folder, 'folder') in SAVED_MODEL_DIRS:
      raise ValueError(f'folder {folder!r} is a folder of the SavedModel')
    target = os.path.join(version.uri, folder)
    with _staging(version.uri) as staging:
      for name, data in files.items():
        with tf.io.gfile.GFile(os.path.join(staging, names.check_name(name, 'file name')),
                               'wb') as f:
          f.write(data)
      if tf.io.gfile.exists(target):
        tf.io.gfile.rmtree(target)
      tf.io.gfile.rename(staging, target)
    atomic_file.write(os.path.join(version.uri, CARD_FILE), card.to_json())
    return sorted(f'{folder}/{name}' for name in files)

  def added_files(self, model_name: str, number: int) -> Dict[str, int]:
    """{path relative to the version: size in bytes} of the files `add_files` put into
    version `number`: those in its folders other than the SavedModel's."""
    version = self.version(model_name, number)
    return {f'{folder}/{path}': size for folder in sorted(_children(version.uri))
            if folder not in SAVED_MODEL_DIRS and not folder.startswith(STAGING_PREFIX)
            and tf.io.gfile.isdir(os.path.join(version.uri, folder))
            for path, size in sorted(_file_sizes(os.path.join(version.uri, folder)).items())}

  def _replay(self, model_name: str, alias: str) -> List[Tuple[int, Dict, List[int]]]:
    """(event number, event, versions stack after it) for each of the alias's events."""
    alias_dir, stack, replayed = self._alias_dir(model_name, alias), [], []
    for number in _numbers(alias_dir):
      event = json.loads(_read(os.path.join(alias_dir, str(number), EVENT_FILE)))
      if event['action'] == 'promote':
        stack.append(event['version'])
      elif len(stack) > 1:  # a rollback; racing rollbacks never empty the stack
        stack.pop()
      replayed.append((number, event, list(stack)))
    return replayed

  def alias_history(self, model_name: str, alias: str) -> List[Dict]:
    """The alias's events, oldest first: {'event', 'action', 'time', 'version' (after it)}."""
    return [{**event, 'event': number, 'version': stack[-1]}
            for number, event, stack in self._replay(model_name, alias)]

  def aliases(self, model_name: str) -> Dict[str, int]:
    """Every alias of the model and the version it points to."""
    alias_root = os.path.join(self._model_dir(model_name), ALIASES_DIR)
    return {alias: self.resolve(model_name, alias).number
            for alias in sorted(_children(alias_root)) if _numbers(os.path.join(alias_root, alias))}

  def _stack(self, model_name: str, alias: str) -> List[int]:
    """The versions the alias can roll back through, oldest first, current last."""
    replayed = self._replay(model_name, alias)
    if not replayed:
      raise NotFoundError(f'model {model_name!r} has no alias {alias!r} in {self.root}')
    return replayed[-1][2]

  def resolve(self, model_name: str, alias: str) -> Version:
    """The version `alias` points to."""
    return self._version(model_name, self._stack(model_name, alias)[-1])

  def _record(self, model_name: str, alias: str, event: Dict) -> Version:
    """Appends `event` to the alias's history; returns the version the alias then points to."""
    event = {**event, 'time': datetime.datetime.now(datetime.timezone.utc).isoformat()}
    with _staging(self._model_dir(model_name)) as staging:
      _write(os.path.join(staging, EVENT_FILE), json.dumps(event, sort_keys=True))
      number = _claim_next_number(staging, self._alias_dir(model_name, alias))
    stack = next(s for n, _, s in self._replay(model_name, alias) if n == number)
    return self._version(model_name, stack[-1])

  def promote(self, model_name: str, alias: str, version: int) -> Version:
    """Points `alias` at `version` (kept in its history for rollback)."""
    replayed = self._replay(model_name, alias)
    target = self.version(model_name, version)
    if replayed and replayed[-1][2][-1] == version:
      return target
    return self._record(model_name, alias, {'action': 'promote', 'version': version})

  def rollback(self, model_name: str, alias: str) -> Version:
    """Points `alias` back at the version it pointed to before its last promotion."""
    if len(self._stack(model_name, alias)) < 2:
      raise ValueError(f'alias {alias!r} of model {model_name!r} has no earlier version to '
                       'roll back to')
    return self._record(model_name, alias, {'action': 'rollback'})

  def gc(self, older_than_s: float = 86400, *, model_name: Optional[str] = None,
         now: Optional[float] = None) -> List[str]:
    """Removes staging directories (crashed publishes) started over `older_than_s` s ago.

    Returns the removed paths. Keep `older_than_s` well above the longest publish: a staging
    directory removed while its publish still copies fails that publish.
    """
    now = time.time() if now is None else now
    removed = []
    for model in [model_name] if model_name else self.models():
      model_dir = self._model_dir(model)
      for name in _children(model_dir):
        started = _STAGING_NAME.fullmatch(name)
        if started and now - int(started[1]) > older_than_s:
          tf.io.gfile.rmtree(os.path.join(model_dir, name))
          removed.append(os.path.join(model_dir, name))
    return removed
