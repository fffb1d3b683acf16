"""The analysis layer: tables and figures of a finished sweep.

It reads a results directory (:func:`sim.experiment.results.read_results`) and never runs
the model. :func:`draw` draws the figures of the analysis the manifest names
(``experiment.analysis``); :mod:`sim.experiment.registry` declares every analysis once
(its figures, companion tables and what it needs of its design; docs/OUTPUTS.md lists
them), and :mod:`sim.analyses.catalogue` finds the module of this package that computes
and draws each one.

Every figure ``NAME`` is written as ``NAME.png`` (200 dpi), ``NAME.svg`` (byte-identical
from one drawing to the next) and ``NAME.csv``: the exact numbers drawn, one tidy table,
rows sorted by their keys and floats rounded to 12 significant digits. A figure may also
draw numbers of another shape, kept as a companion table ``COMPANION.csv`` next to its
own (:data:`sim.experiment.registry.COMPANIONS`).

A figure is drawn in two steps. Each ``*_table`` function computes one figure's table
from the runs table alone, so the numbers can be checked or reused without drawing;
:func:`figure_from_table` then draws the figure from that table and a
:class:`FigureContext`, the few facts its title and threshold lines need besides the
numbers (experiment name, horizon, number of runs, classification thresholds).
:func:`draw` does both from a results directory. :func:`redraw` does the second step
alone from the CSV files (the committed ``figures/*.csv``), taking the context from the
experiment files that made them, so a published figure can be rebuilt without its runs.

Modules: one per analysis, named as the analysis, each with its tables and figures side
by side; :mod:`~sim.analyses.labels` (thresholds, scenarios, majority, synergy),
:mod:`~sim.analyses.tables` (the tables' shape), :mod:`~sim.analyses.context`,
:mod:`~sim.analyses.panels` (pieces several figures draw), :mod:`~sim.analyses.drawing`
(:func:`draw`), :mod:`~sim.analyses.schema` (:func:`read_table`) and
:mod:`~sim.analyses.redrawing` (:func:`redraw`). The palette, fonts and
:func:`~sim.experiment.style.save_figure` are the contract's
(:mod:`sim.experiment.style`), shared with the calibration's figures and the dashboard.

Command line: ``python -m sim figures RESULTS_DIR [--out DIR]``, or
``python -m sim figures --from-csv FIGURES_DIR --out DIR [--experiments DIR]``.
"""

from __future__ import annotations

from sim.analyses.context import FigureContext
from sim.analyses.coupling_response import coupling_response_table
from sim.analyses.drawing import draw, figure_from_table
from sim.analyses.hysteresis import HYSTERESIS_MEASURES, hysteresis_table
from sim.analyses.labels import FACTORS, THRESHOLDS
from sim.analyses.phase_diagram import (
    FIXED_RULE,
    emergence_table,
    phase_diagram_table,
    threshold_table,
)
from sim.analyses.redrawing import read_contexts, redraw
from sim.analyses.schema import read_table
from sim.analyses.trajectories import representative_runs, trajectories_table

# ruff (F401, F822) keeps this list and the imports above in step
__all__ = ["FACTORS", "FIXED_RULE", "FigureContext", "HYSTERESIS_MEASURES", "THRESHOLDS",
           "coupling_response_table", "draw", "emergence_table", "figure_from_table",
           "hysteresis_table", "phase_diagram_table", "read_contexts", "read_table",
           "redraw", "representative_runs", "threshold_table", "trajectories_table"]
