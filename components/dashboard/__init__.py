"""The evaluation dashboard: one self-contained static HTML page of an Evaluator run (verdict
and reasons, metrics against the baseline, every slice, charts with thresholds, confusion
matrix, calibration). `render_dashboard` returns it; `write_dashboard` writes it."""
from components.dashboard.section import Section
from components.dashboard.page import render_dashboard
from components.dashboard.page import write_dashboard

__all__ = ['Section', 'render_dashboard', 'write_dashboard']
