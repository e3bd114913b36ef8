"""The data-validation gate: schema anomalies and drift of the newest span block training.

component.py is the pipeline step (`DataGate`); result.py what it decided (`GateResult`,
`read_result`), for the run summary, the dashboard and the model card, which import only it;
validation.py the TFDV checks.
"""
