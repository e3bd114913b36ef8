"""Warm start: a Trainer run that begins from its parent's weights (TFX's `base_model` input,
the latest blessed model) instead of a random initialisation, and what each model records.

The Trainer writes two small JSON files into its Model artifact, beside Format-Serving:
  network.json     what a child compares before it takes these weights:
                   {"model_name", "width_multiplier", "image_size", "class_names"}.
  warm_start.json  {"warm_started_from": the parent Model artifact's URI, or null;
                    "base_model": the Model artifact's URI the Trainer was given, or null;
                    "reason": why it did not warm-start (null when it did);
                    "train_steps": the steps this model was trained}.
A parent is taken only when its network and its classes (the names, in order) equal this
run's; any other parent is refused, naming the parent and what differs, and the run trains
from scratch (train_steps) with the refusal recorded.
"""
import dataclasses
import json
import os
from typing import Optional, Tuple

import tensorflow as tf

from components.model_files import NETWORK_FILE
from components.model_files import WARM_START_FILE


@dataclasses.dataclass(frozen=True)
class Network:
  """What a model's weights fit: the ran_model variant, its input size and its classes."""
  model_name: str
  width_multiplier: float
  image_size: int      # px, square
  class_names: Tuple[str, ...]

  def differences(self, parent: 'Network') -> Tuple[str, ...]:
    """How `parent` differs from this network, one phrase per differing field."""
    found = []
    for field in ('model_name', 'width_multiplier', 'image_size'):
      if getattr(parent, field) != getattr(self, field):
        found.append(f'its {field} is {getattr(parent, field)!r} (this run: '
                     f'{getattr(self, field)!r})')
    if parent.class_names != self.class_names:
      first = next((i for i, (theirs, ours) in enumerate(zip(parent.class_names,
                                                             self.class_names))
                    if theirs != ours), min(len(parent.class_names), len(self.class_names)))
      theirs = parent.class_names[first] if first < len(parent.class_names) else '(none)'
      ours = self.class_names[first] if first < len(self.class_names) else '(none)'
      found.append(f'it has other classes ({len(parent.class_names)} classes, this run '
                   f'{len(self.class_names)}; the first difference is class {first}: '
                   f'{theirs!r}, this run {ours!r})')
    return tuple(found)


@dataclasses.dataclass(frozen=True)
class Decision:
  """Whether a run starts from its base model's weights, and why not when it does not."""
  base_model: Optional[str]         # the offered Model artifact's URI
  warm_started_from: Optional[str]  # the same URI when its weights are taken
  reason: Optional[str]             # why not, naming the parent; None when warm-started


def model_uri(serving_model_dir: str) -> str:
  """The Model artifact's URI from its Format-Serving folder (FnArgs' serving_model_dir and
  base_model)."""
  return os.path.dirname(serving_model_dir.rstrip('/'))


def read_network(model_dir: str) -> Optional[Network]:
  """The Network recorded in the Model artifact at `model_dir`; None when it records none."""
  path = os.path.join(model_dir, NETWORK_FILE)
  if not tf.io.gfile.exists(path):
    return None
  with tf.io.gfile.GFile(path) as f:
    values = json.load(f)
  return Network(**{**values, 'class_names': tuple(values['class_names'])})


def decide(enabled: bool, network: Network, base_model: Optional[str]) -> Decision:
  """Whether a run of `network` starts from `base_model` (a Format-Serving folder, FnArgs'
  `base_model`, or None): only when `enabled` and the parent records an equal Network."""
  parent = model_uri(base_model) if base_model else None
  if not enabled:
    return Decision(parent, None, 'warm_start is off')
  if parent is None:
    return Decision(None, None, 'no base model was given (no blessed model yet)')
  parent_network = read_network(parent)
  if parent_network is None:
    return Decision(parent, None, f'the parent model {parent} records no {NETWORK_FILE} (it '
                    'was trained before networks were recorded)')
  differences = network.differences(parent_network)
  if differences:
    return Decision(parent, None, f'the parent model {parent} does not fit: '
                    f'{"; ".join(differences)}')
  return Decision(parent, parent, None)


def write_records(model_dir: str, network: Network, decision: Decision,
                  train_steps: int) -> None:
  """Writes NETWORK_FILE and WARM_START_FILE into the Model artifact at `model_dir`."""
  records = {NETWORK_FILE: dataclasses.asdict(network),
             WARM_START_FILE: {'warm_started_from': decision.warm_started_from,
                               'base_model': decision.base_model, 'reason': decision.reason,
                               'train_steps': train_steps}}
  for name, record in records.items():
    with tf.io.gfile.GFile(os.path.join(model_dir, name), 'w') as f:
      json.dump(record, f, indent=2)
