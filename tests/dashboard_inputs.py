"""The dashboard's inputs besides an evaluation, with known values: a data gate's verdict that
blocks (an anomaly, a drift over its threshold) and a registry of three versions."""
import pathlib

from components import evaluation
from components.data_gate.result import Anomaly, Drift, GateResult
from components.registry import FilesystemRegistry, ModelCard

MODEL = 'ran-cure'
ANOMALY = Anomaly(split='train', feature='scenario/challenge',
                  description='Unexpected string values: Examples contain values missing from '
                  'the schema: <b>hail</b> (~2% of the examples).')
DRIFT = (Drift('image/class/label', 0.04, 0.1, accepted=False),
         Drift('scenario/challenge', 0.42, 0.3, accepted=False),   # blocks
         Drift('scenario/level', 0.35, 0.3, accepted=True))        # over, but accepted
# accuracy overall and per scenario slice of versions 1, 2, 3
OVERALL = (0.80, 0.84, 0.83)
LEVELS = {'1': (0.95, 0.96, 0.97), '2': (0.81, 0.85, 0.84), '10': (0.50, 0.61, 0.66)}
RAIN = (0.77, None, 0.79)  # version 2 was not evaluated on rain


def blocking_result() -> GateResult:
  """Span 3 against span 2: a schema anomaly and a drift on scenario/challenge block."""
  return GateResult(
      span=3, baseline_span=2, examples={'train': 11760, 'eval': 2352},
      ingest={'found': 14120, 'written': 14112, 'quarantined': {'unreadable image': 8},
              'quarantined_fraction': 8 / 14120, 'skipped': {}, 'lost_files': []},
      anomalies=[ANOMALY], drift=list(DRIFT), accepted_drift=['scenario/level'])


def _card(i: int) -> ModelCard:
  slice_metrics = {f'scenario/level={level}': {evaluation.ACCURACY: values[i]}
                   for level, values in LEVELS.items()}
  if RAIN[i] is not None:
    slice_metrics['scenario/weather=rain'] = {evaluation.ACCURACY: RAIN[i]}
  slice_metrics['scenario/level=1, scenario/weather=rain'] = {evaluation.ACCURACY: 0.1}
  slice_metrics['image/class/label=0'] = {evaluation.ACCURACY: 0.2}
  return ModelCard(
      metrics={evaluation.ACCURACY: OVERALL[i]}, slice_metrics=slice_metrics, blessed=True,
      trained_on_spans=list(range(1, i + 2)), evaluated_on_span=i + 1,
      warm_started_from={'model': MODEL, 'version': i} if i else None,
      accepted_drift=['scenario/challenge'] if i == 2 else [])


def registry_of_three(root: pathlib.Path) -> str:
  """A filesystem registry at `root` holding versions 1-3 of MODEL; returns its path."""
  registry = FilesystemRegistry(str(root / 'registry'))
  for i in range(3):
    source = root / f'export-{i}'
    source.mkdir(parents=True)
    (source / 'saved_model.pb').write_bytes(b'not loaded by these tests')
    registry.publish(MODEL, str(source), _card(i))
  return registry.root
