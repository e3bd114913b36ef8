"""RunResults of a run that passed the data gate and was evaluated (on evaluation_data's
evaluations), for the run-summary and benchmark tests."""
from components import evaluation_results
from components.data_gate.result import GateResult
from pipeline import results

PASSED = GateResult(span=0, baseline_span=None, examples={'train': 8, 'eval': 8}, ingest={},
                    anomalies=[], drift=[], accepted_drift=[])


def evaluated_run(evaluation_uri: str, **fields) -> results.RunResults:
  """The run whose evaluation is at `evaluation_uri`: not blessed, not pushed, no step times,
  unless `fields` (RunResults fields) say otherwise."""
  evaluated = evaluation_results.load_evaluation(evaluation_uri)
  return results.RunResults(**{
      **dict(run_id='run-1', component_seconds={}, cached=(), examples_uri='examples',
             schema_uri=None, gate_uri='gate', gate=PASSED, evaluation_uri=evaluation_uri,
             slices=evaluated.slices, blessed=False, failed_checks=evaluated.reasons,
             pushed_model=None, pushed_version=None),
      **fields})
