"""The model card stored beside each registered version: what it scored, on what, from where."""
import dataclasses
import json
from typing import Any, Dict, List, Optional

CARD_FILE = 'model_card.json'


@dataclasses.dataclass(frozen=True)
class ModelCard:
  """Lineage and evaluation of one registered model version.

  Attributes:
    metrics: overall metrics, name -> value (e.g. {'accuracy': 0.93}), on the eval split
      (the one the blessing gates).
    slice_metrics: per slice, slice key (e.g. 'scenario/weather=rain') -> name -> value.
    test_metrics, test_slice_metrics: the same on the dataset's published test split (e.g.
      GTSRB's Final_Test), reported, never gated; empty when there is none or it was empty.
    eval_config: the evaluation config as a JSON-able dict (e.g. TFMA's EvalConfig as JSON).
    blessed: whether the evaluation blessed the model.
    blessing_reasons: why (thresholds passed or failed), human-readable.
    examples_fingerprint: fingerprint of the examples it was trained and evaluated on.
    pipeline_run_id: the pipeline run that produced it.
    baseline_version: the registry version it was compared with, or None.
    code_version: the code that trained it: the Trainer step's code key
      (pipeline/code_versions.py), or e.g. a git commit.
    source_uri: where the model was copied from (publish fills in its source dir if empty).
    evaluation_uri: the evaluation it was blessed by (per-class metrics, plots).
    created_at: when it was registered, UTC ISO 8601 (publish fills it in).
    trained_on_spans: the data spans it was trained on, ascending (e.g. [1, 2]).
    evaluated_on_span: the span whose eval split it was evaluated on, or None.
    warm_started_from: the registry version whose weights it started from,
      {'model': name, 'version': v}, or None when trained from scratch.
    accepted_drift: the features whose drift a person accepted for its training data.
    edge: the edge export (components/edge/report.py's EdgeReport as a dict): per TFLite model
      its file in the version's tflite/ folder, size, accuracy overall and per slice against
      the float model, latency, and for int8 the gate's verdict; empty until EdgeExport ran.
  """
  metrics: Dict[str, float] = dataclasses.field(default_factory=dict)
  slice_metrics: Dict[str, Dict[str, float]] = dataclasses.field(default_factory=dict)
  test_metrics: Dict[str, float] = dataclasses.field(default_factory=dict)
  test_slice_metrics: Dict[str, Dict[str, float]] = dataclasses.field(default_factory=dict)
  eval_config: Dict[str, Any] = dataclasses.field(default_factory=dict)
  blessed: bool = False
  blessing_reasons: List[str] = dataclasses.field(default_factory=list)
  examples_fingerprint: str = ''
  pipeline_run_id: str = ''
  baseline_version: Optional[int] = None
  code_version: str = ''
  source_uri: str = ''
  evaluation_uri: str = ''
  created_at: str = ''
  trained_on_spans: List[int] = dataclasses.field(default_factory=list)
  evaluated_on_span: Optional[int] = None
  warm_started_from: Optional[Dict[str, Any]] = None
  accepted_drift: List[str] = dataclasses.field(default_factory=list)
  edge: Dict[str, Any] = dataclasses.field(default_factory=dict)

  def to_json(self) -> str:
    return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

  @classmethod
  def from_json(cls, text: str) -> 'ModelCard':
    return cls(**json.loads(text))
