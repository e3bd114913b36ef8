"""What the DataGate decided about a delivery, as the JSON file in its output artifact.

The local runner's Data section, the dashboard's Data section and the model card all read it
through `read_result`, so they cannot disagree.
"""
import dataclasses
import json
import os
from typing import Any, Dict, List, Optional

import tensorflow as tf

RESULT_FILE = 'data_gate.json'  # in the DataGate's ExampleAnomalies artifact


@dataclasses.dataclass(frozen=True)
class Anomaly:
  """A schema anomaly TFDV found in one split of the newest span."""
  split: str
  feature: str      # e.g. 'scenario/challenge', or '' for a dataset-level anomaly
  description: str  # TFDV's short and long descriptions


@dataclasses.dataclass(frozen=True)
class Drift:
  """L-infinity distance of one feature's value distribution, newest span against the one
  before (train splits)."""
  feature: str
  distance: float
  threshold: float
  accepted: bool  # a person accepted drift on this feature (--accept_drift)

  @property
  def blocks(self) -> bool:
    return self.distance > self.threshold and not self.accepted


@dataclasses.dataclass(frozen=True)
class GateResult:
  """The gate's verdict on the newest span.

  Attributes:
    span: the span checked (the newest, or --span).
    baseline_span: the span it was compared with, None for the first delivery.
    examples: examples per split of `span`, e.g. {'train': 11760, 'eval': 2352}.
    ingest: the ExampleGen's counts of `span` (found, written, quarantined, per reason).
    anomalies: schema anomalies; any blocks.
    drift: one row per checked feature (the label and every scenario feature).
    accepted_drift: the features a person accepted drift on (recorded in the model card).
  """
  span: int
  baseline_span: Optional[int]
  examples: Dict[str, int]
  ingest: Dict[str, Any]
  anomalies: List[Anomaly]
  drift: List[Drift]
  accepted_drift: List[str]

  @property
  def passed(self) -> bool:
    return not self.anomalies and not any(row.blocks for row in self.drift)

  @property
  def reasons(self) -> List[str]:
    """Why training was blocked, one line per anomaly or drifted feature."""
    return ([f'anomaly in {a.split} {a.feature or "(dataset)"}: {a.description}'
             for a in self.anomalies] +
            [f'drift on {d.feature}: L-infinity distance {d.distance:.3f} > threshold '
             f'{d.threshold:.3f} against span {self.baseline_span}'
             for d in self.drift if d.blocks])

  def to_json(self) -> str:
    return json.dumps(dict(dataclasses.asdict(self), passed=self.passed), indent=2,
                      sort_keys=True) + '\n'

  @classmethod
  def from_json(cls, text: str) -> 'GateResult':
    values = json.loads(text)
    values.pop('passed')
    return cls(**dict(values, anomalies=[Anomaly(**a) for a in values['anomalies']],
                      drift=[Drift(**d) for d in values['drift']]))


def write_result(result: GateResult, artifact_uri: str) -> None:
  with tf.io.gfile.GFile(os.path.join(artifact_uri, RESULT_FILE), 'w') as f:
    f.write(result.to_json())


def read_result(artifact_uri: str) -> GateResult:
  """The GateResult in a DataGate output artifact's folder."""
  with tf.io.gfile.GFile(os.path.join(artifact_uri, RESULT_FILE)) as f:
    return GateResult.from_json(f.read())
