"""The data-validation gate: schema anomalies and drift of the newest span block training."""
