"""Figures drawn from a finished sweep's results directory, or from one table."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

from sim.analyses import registry
from sim.analyses.context import FigureContext, context_from_runs
from sim.analyses.schema import check_table
from sim.analyses.style import STYLE, save_figure, use_matplotlib_fonts
from sim.sweep.storage import read_results

__all__ = ["draw", "figure_from_table"]


def draw(results_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Draw every figure of the analysis the results' manifest names into ``out_dir``.

    Returns the paths written (for each figure its ``.png``, ``.svg`` and ``.csv``, then
    its companion tables' ``.csv``), named as the analysis names its tables, or after the
    experiment's ``figure_prefix`` when it sets one. Raises ``ValueError`` when the results cannot
    support the analysis (no coupling 0 for a coupling response, no series for
    trajectories, no runs, unknown analysis).
    """
    manifest, runs, series = read_results(results_dir)
    name = manifest.get("experiment", {}).get("analysis", "none")
    if name not in registry.REGISTRY:
        raise ValueError(f"unknown analysis {name!r} in {Path(results_dir) / 'manifest.json'}"
                         f" (expected one of {', '.join(sorted(registry.REGISTRY))})")
    analysis = registry.REGISTRY[name]
    if not analysis.figures:
        return []
    if runs.empty:
        raise ValueError(f"{results_dir} holds no runs: nothing to draw")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    context = context_from_runs(runs, manifest.get("experiment", {}).get("name", ""))
    design = manifest.get("design")
    prefix = manifest.get("experiment", {}).get("figure_prefix", "")
    written: list[Path] = []
    for figure in analysis.figures:
        table = _compute(figure.name, runs, series, design)
        companions = {extra: _compute(extra, runs, series, design)
                      for extra in figure.companions}
        written += save_figure(
            figure_from_table(figure.name, table, context, companions), table, out,
            registry.file_stem(figure.name, name, prefix),
            {registry.file_stem(extra, name, prefix): companion
             for extra, companion in companions.items()})
    return written


def _compute(name: str, runs: pd.DataFrame, series: pd.DataFrame | None,
             design: Any) -> pd.DataFrame:
    """One table from the results, given the manifest's design when it asks for it."""
    spec = registry.table(name)
    if not spec.takes_design:
        return spec.compute(runs, series)
    if not isinstance(design, dict):
        raise ValueError(f"the {name} table reads the design from the manifest, which does "
                         "not record it (written by an older sweep): run the same sweep "
                         "command again to record it (nothing is run again)")
    return spec.compute(runs, series, design)


def figure_from_table(figure: str, table: pd.DataFrame,
                      context: FigureContext | None = None,
                      companions: Mapping[str, pd.DataFrame] | None = None) -> Figure:
    """Draw one figure from its table and its context.

    ``figure`` is a figure name (``phase_diagram``, ``threshold_sensitivity``,
    ``coupling_response``, ``trajectories``, ``hysteresis``: see
    :mod:`sim.analyses.registry`); ``table`` is its table as the matching ``*_table``
    function returns it or as :func:`sim.analyses.read_table` reads it back from its
    CSV. ``companions`` maps the names of the figure's companion tables
    (:data:`sim.analyses.registry.COMPANIONS`) to those tables; a companion left out
    leaves its part out of the figure (the phase diagram without its emergence line, as
    drawn before that table existed). The figure is a plain
    :class:`matplotlib.figure.Figure` (no pyplot state): Jupyter displays it (with
    ``%matplotlib inline``), ``figure.savefig`` writes it, :func:`save_figure` writes it
    with its table. Raises ``ValueError`` for an unknown figure or companion, or a
    table without the columns it should have.
    """
    check_table(figure, table)
    draws = registry.drawer(figure)
    companions = dict(companions or {})
    known = registry.owner(figure)[1].companions
    unknown = sorted(set(companions) - set(known))
    if unknown:
        raise ValueError(f"the {figure} figure has no companion table {unknown[0]!r} "
                         f"(it has: {', '.join(known) or 'none'})")
    for name, extra in companions.items():
        check_table(name, extra)
    use_matplotlib_fonts()
    with matplotlib.rc_context(STYLE):
        return draws(table, context or FigureContext(), companions)
