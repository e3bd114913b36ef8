"""The data-validation gate: schema anomalies and drift of the newest span block training.

`DataGate` (component.py) is the pipeline step; `GateResult` / `read_result` (result.py) what
it decided, for the run summary, the dashboard and the model card; validation.py the TFDV
checks and the flags' checks.
"""
from components.data_gate.component import DataGate
from components.data_gate.component import PASSED
from components.data_gate.result import GateResult
from components.data_gate.result import read_result
from components.data_gate.validation import check_accepted
from components.data_gate.validation import thresholds_for
