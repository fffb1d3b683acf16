"""Figures drawn from a finished sweep's results directory, or from one table."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

from sim.analyses import catalogue
from sim.analyses.context import FigureContext, context_from_runs
from sim.analyses.schema import PARTIAL_COLUMN, check_table
from sim.experiment import registry
from sim.experiment.design import ExperimentError
from sim.experiment.results import read_results, shortfall
from sim.experiment.style import STYLE, save_figure, use_matplotlib_fonts

__all__ = ["PARTIAL_COLUMN", "draw", "figure_from_table", "mark_partial"]



def draw(results_dir: str | Path, out_dir: str | Path, *,
         allow_partial: bool = False) -> list[Path]:
    """Draw every figure of the analysis the results' manifest names into ``out_dir``.

    Returns the paths written (for each figure its ``.png``, ``.svg`` and ``.csv``, then
    its companion tables' ``.csv``), named as the analysis names its tables, or after the
    experiment's ``figure_prefix`` when it sets one. Raises ``ValueError`` when the results cannot
    support the analysis (no coupling 0 for a coupling response, no series for
    trajectories, no runs, unknown analysis), and
    :class:`~sim.experiment.design.ExperimentError` when they are not the whole design as
    designed (:func:`sim.experiment.results.shortfall`) unless ``allow_partial``: then
    every figure says so, and every table carries the shortfall in a
    :data:`PARTIAL_COLUMN` column.
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
    short = shortfall(results_dir, manifest, runs)
    if short is not None and not allow_partial:
        raise ExperimentError(f"{results_dir} is not the whole design: {short.line()}; run "
                              "the same sweep again to complete it, or pass --allow-partial "
                              "to draw from what is there")
    note = None if short is None else (
        f"PARTIAL DATA, {short.stored:,} runs"
        + (f" of {short.expected:,}" if short.expected is not None else "")
        + f": {short.line()}")
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
        if note is not None:
            table = table.assign(**{PARTIAL_COLUMN: note})
            companions = {extra: companion.assign(**{PARTIAL_COLUMN: note})
                          for extra, companion in companions.items()}
        written += save_figure(
            figure_from_table(figure.name, table, context, companions), table, out,
            registry.file_stem(figure.name, name, prefix),
            {registry.file_stem(extra, name, prefix): companion
             for extra, companion in companions.items()})
    return written


def mark_partial(figure: Figure, note: str) -> Figure:
    """Write ``note`` (what the data behind ``figure`` lack) across its foot, in red."""
    figure.text(0.5, 0.002, note, ha="center", va="bottom", fontsize=9, color="#B00000",
                fontweight="bold", wrap=True)
    return figure


def _compute(name: str, runs: pd.DataFrame, series: pd.DataFrame | None,
             design: Any) -> pd.DataFrame:
    """One table from the results, given the manifest's design when it asks for it."""
    spec = catalogue.table(name)
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
    :mod:`sim.experiment.registry`); ``table`` is its table as the matching ``*_table``
    function returns it or as :func:`sim.analyses.read_table` reads it back from its
    CSV. ``companions`` maps the names of the figure's companion tables
    (:data:`sim.experiment.registry.COMPANIONS`) to those tables; a companion left out
    leaves its part out of the figure (the phase diagram without its emergence line, as
    drawn before that table existed). The figure is a plain
    :class:`matplotlib.figure.Figure` (no pyplot state): Jupyter displays it (with
    ``%matplotlib inline``), ``figure.savefig`` writes it, :func:`save_figure` writes it
    with its table. Raises ``ValueError`` for an unknown figure or companion, or a
    table without the columns it should have. A table with a :data:`PARTIAL_COLUMN`
    (drawn from partial results) gives a figure that says what its data lack.
    """
    check_table(figure, table)
    draws = catalogue.drawer(figure)
    note = (str(table[PARTIAL_COLUMN].iloc[0]) if PARTIAL_COLUMN in table.columns
            else None)
    table = table.drop(columns=PARTIAL_COLUMN, errors="ignore")
    companions = {name: extra.drop(columns=PARTIAL_COLUMN, errors="ignore")
                  for name, extra in (companions or {}).items()}
    known = registry.owner(figure)[1].companions
    unknown = sorted(set(companions) - set(known))
    if unknown:
        raise ValueError(f"the {figure} figure has no companion table {unknown[0]!r} "
                         f"(it has: {', '.join(known) or 'none'})")
    for name, extra in companions.items():
        check_table(name, extra)
    use_matplotlib_fonts()
    with matplotlib.rc_context(STYLE):
        drawn = draws(table, context or FigureContext(), companions)
        # drawn from partial results: said on the figure, as in its CSV
        return drawn if note is None else mark_partial(drawn, note)
