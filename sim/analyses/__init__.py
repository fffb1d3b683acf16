"""The analysis layer: tables and figures of a finished sweep.

It reads a results directory (:func:`sim.sweep.storage.read_results`) and never runs the
model. :func:`draw` draws the figures of the analysis the manifest names
(``experiment.analysis``); :mod:`sim.analyses.registry` declares every analysis once:

========================  ===============================================
analysis                  figures
========================  ===============================================
``phase_diagram``         ``phase_diagram`` (and its table
                          ``phase_diagram_emergence``), ``threshold_sensitivity``
``coupling_response``     ``coupling_response``
``coupling_break_even``   ``coupling_break_even`` (synergy over the attention constants)
``trajectories``          ``trajectories`` (needs ``series = true``)
``critical_mass``         ``critical_mass`` (and ``critical_mass_convergence``;
                          paths from different starting states, ``series = true``)
``hysteresis``            ``hysteresis`` (coupling switched in ``switch_year``)
``policy``                ``policy`` (and its table ``policy_transitions``)
``optimal_coupling``      ``optimal_coupling`` (and ``optimal_coupling_distribution``)
``discovery``             ``discovery`` (and ``discovery_trajectory``,
                          ``discovery_boxes``; PRIM on a sampled design)
``replicates``            ``replicates`` (and ``replicates_needed``)
``sensitivity``           ``sensitivity`` (Morris or Sobol indices; a ``morris`` or
                          ``sobol`` sample)
``none``                  (none)
========================  ===============================================

Every figure ``NAME`` is written as ``NAME.png`` (200 dpi), ``NAME.svg`` (byte-identical
from one drawing to the next) and ``NAME.csv``: the exact numbers drawn, one tidy table,
rows sorted by their keys and floats rounded to 12 significant digits. A figure may also
draw numbers of another shape, kept as a companion table ``COMPANION.csv`` next to its
own (:data:`COMPANIONS`): the phase diagram states how much of the emergent indices and
scenarios its inputs alone explain (``phase_diagram_emergence.csv``,
:func:`emergence_table`).

A figure is drawn in two steps. Each ``*_table`` function computes one figure's table
from the runs table alone, so the numbers can be checked or reused without drawing;
:func:`figure_from_table` then draws the figure from that table and a
:class:`FigureContext`, the few facts its title and threshold lines need besides the
numbers (experiment name, horizon, number of runs, classification thresholds).
:func:`draw` does both from a results directory. :func:`redraw` does the second step
alone from the CSV files (the committed ``figures/*.csv``), taking the context from the
experiment files that made them, so a published figure can be rebuilt without its runs.

Modules: one per analysis (:mod:`~sim.analyses.phase_diagram`,
:mod:`~sim.analyses.coupling_response`, :mod:`~sim.analyses.coupling_break_even`,
:mod:`~sim.analyses.trajectories`, :mod:`~sim.analyses.critical_mass`,
:mod:`~sim.analyses.hysteresis`, :mod:`~sim.analyses.policy`,
:mod:`~sim.analyses.optimal_coupling`, :mod:`~sim.analyses.discovery`,
:mod:`~sim.analyses.replicates`, :mod:`~sim.analyses.sensitivity`), each with its
tables and figures side by side;
:mod:`~sim.analyses.registry` (the analyses), :mod:`~sim.analyses.style` (palette,
fonts, :func:`save_figure`), :mod:`~sim.analyses.labels` (thresholds, scenarios,
majority, synergy), :mod:`~sim.analyses.tables` (the tables' shape),
:mod:`~sim.analyses.context`, :mod:`~sim.analyses.panels` (pieces several figures
draw), :mod:`~sim.analyses.drawing` (:func:`draw`), :mod:`~sim.analyses.schema`
(:func:`read_table`) and :mod:`~sim.analyses.redrawing` (:func:`redraw`).

The names below are loaded on first use, so ``import sim.analyses.style`` (the
dashboard's colours) and ``import sim.analyses.registry`` (the design validator's list)
load neither the tables nor the sweep's storage.

Command line: ``python -m sim figures RESULTS_DIR [--out DIR]``, or
``python -m sim figures --from-csv FIGURES_DIR --out DIR [--experiments DIR]``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from sim.analyses.registry import ANALYSES, COMPANIONS
    from sim.analyses.schema import read_table
    from sim.analyses.style import (
        COUPLING_TYPE_COLOURS,
        DPI,
        OKABE_ITO,
        SCENARIO_COLOURS,
        save_figure,
    )
    from sim.analyses.trajectories import representative_runs, trajectories_table

#: Where each public name lives, by module of this package.
_PUBLIC: dict[str, str] = {
    "ANALYSES": "registry", "COMPANIONS": "registry",
    "COUPLING_TYPE_COLOURS": "style", "DPI": "style", "OKABE_ITO": "style",
    "SCENARIO_COLOURS": "style", "save_figure": "style",
    "FACTORS": "labels", "THRESHOLDS": "labels",
    "FigureContext": "context",
    "draw": "drawing", "figure_from_table": "drawing",
    "read_table": "schema",
    "read_contexts": "redrawing", "redraw": "redrawing",
    "FIXED_RULE": "phase_diagram", "emergence_table": "phase_diagram",
    "phase_diagram_table": "phase_diagram", "threshold_table": "phase_diagram",
    "coupling_response_table": "coupling_response",
    "representative_runs": "trajectories", "trajectories_table": "trajectories",
    "HYSTERESIS_MEASURES": "hysteresis", "hysteresis_table": "hysteresis",
}

__all__ = ["ANALYSES", "COMPANIONS", "COUPLING_TYPE_COLOURS", "DPI", "FACTORS",
           "FIXED_RULE", "FigureContext", "HYSTERESIS_MEASURES", "OKABE_ITO",
           "SCENARIO_COLOURS", "THRESHOLDS", "coupling_response_table", "draw",
           "emergence_table", "figure_from_table", "hysteresis_table",
           "phase_diagram_table", "read_contexts", "read_table", "redraw",
           "representative_runs", "save_figure", "threshold_table", "trajectories_table"]


def __getattr__(name: str) -> Any:
    # loaded on first use: the registry and the style stay light for their own importers
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
