"""The response to coupling: synergy, cooperation index and distinctiveness by coupling,
one line per capability level, with 95 % t-intervals over the replicates.

Synergy is each run's innovations relative to its paired run at coupling 0 (same seed,
same other inputs), so the design needs runs at coupling 0 (the registry checks it
before any run).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure

from sim import emergence
from sim.analyses.context import Companions, FigureContext
from sim.analyses.labels import COUPLING_LABEL, INDEX_LABELS, synergy
from sim.analyses.panels import prefix, span_of_counts, threshold_line
from sim.analyses.tables import Table, require, tidy, with_inputs
from sim.experiment.style import MARKERS, level_colours

__all__ = ["DRAWERS", "TABLES", "coupling_response_table"]

_RESPONSE_MEASURES: tuple[str, ...] = ("synergy", "cooperation_index", "distinctiveness")


def coupling_response_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Synergy, cooperation index and distinctiveness per (capability, coupling): n and
    the mean with a 95 % t-interval over the runs (replicates; other varied parameters
    pooled).

    Synergy of a run is its ``innovations_total`` over that of its paired run at coupling
    0 (same parameters otherwise, same replicate and seed), minus one; it is NaN (and left
    out of the mean) when the paired run made no innovation. Raises ``ValueError`` if no
    run has coupling 0.
    """
    runs = with_inputs(runs, ("coupling", "capability"))
    require(runs, ("innovations_total", "cooperation_index", "distinctiveness",
                   "replicate"))
    runs = runs.assign(synergy=synergy(runs))
    rows = []
    for (capability, coupling), group in runs.groupby(["capability", "coupling"], sort=True):
        row: dict[str, Any] = {"capability": capability, "coupling": coupling,
                               "n": len(group)}
        for measure in ("synergy", "cooperation_index", "distinctiveness"):
            mean, low, high = emergence.t_interval(group[measure].to_numpy(dtype=float))
            row |= {f"{measure}_mean": mean, f"{measure}_low": low, f"{measure}_high": high}
        rows.append(row)
    return tidy(pd.DataFrame(rows), ["capability", "coupling"])


def _draw_coupling_response(table: pd.DataFrame, context: FigureContext) -> Figure:
    figure = Figure(figsize=(13, 4.8), layout="constrained")
    axes = figure.subplots(1, 3, sharex=True)
    levels = sorted(table["capability"].unique())
    colours = level_colours(len(levels))
    for i, capability in enumerate(levels):
        part = table[table["capability"] == capability].sort_values("coupling")
        for axis, measure in zip(axes, _RESPONSE_MEASURES, strict=True):
            x = part["coupling"].to_numpy(dtype=float)
            axis.fill_between(x, part[f"{measure}_low"], part[f"{measure}_high"],
                              color=colours[i], alpha=0.18, linewidth=0)
            axis.plot(x, part[f"{measure}_mean"], color=colours[i],
                      marker=MARKERS[i % len(MARKERS)], markersize=4, linewidth=1.5,
                      label=f"{capability:g}")
    axes[0].axhline(0.0, color="0.3", linewidth=0.8, zorder=0)
    axes[0].yaxis.set_major_formatter(ticker.PercentFormatter(1.0))
    threshold_line(axes[1], context.threshold("cooperation_threshold"),
                   "cooperation threshold")
    threshold_line(axes[2], context.threshold("distinctiveness_threshold"),
                   "distinctiveness threshold")
    titles = ("Synergy (each run vs. its seed at coupling 0)",
              "Cooperation index", "Distinctiveness")
    for axis, measure, title in zip(axes, _RESPONSE_MEASURES, titles, strict=True):
        axis.set_title(title)
        axis.set_ylabel(INDEX_LABELS[measure])
        axis.set_xlabel(COUPLING_LABEL)
        axis.set_xlim(-0.02, 1.02)
        axis.grid(True, color="0.9", linewidth=0.6)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside right upper", title="capability",
                  frameon=False)
    n_text = span_of_counts(table["n"])
    figure.suptitle(f"{prefix(context.experiment)}Response to coupling at "
                    f"{context.horizon}Q4: mean and 95 % t-interval over {n_text} "
                    "replicates per point")
    return figure


TABLES: dict[str, Table] = {
    "coupling_response": Table(
        compute=lambda runs, _series: coupling_response_table(runs),
        columns={"capability": "number", "coupling": "number", "n": "integer",
                 **{f"{m}_{s}": "number" for m in _RESPONSE_MEASURES
                    for s in ("mean", "low", "high")}}),
}
"""The table of this analysis."""

DRAWERS: dict[str, Callable[[pd.DataFrame, FigureContext, Companions], Figure]] = {
    "coupling_response": lambda table, context, _extra: _draw_coupling_response(
        table, context),
}
"""The figure of this analysis, drawn from its table and context."""
