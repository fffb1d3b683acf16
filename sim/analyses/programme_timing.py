"""When to start a programme: each programme mix at each start year against the run
without programmes of the same state, replicate and seed (docs/ODD.md, 7.20).

The table is the cost-effectiveness table of :mod:`sim.analyses.programmes` (per state,
programme, budget and start year, each measure's mean paired difference with its 95 %
t-interval); the figure reads it along the start year. A programme funded for a fixed
number of years spends less when it starts close to the horizon (its last years fall
after it), and one that starts early has more years for what it built to pay back or
wear off: ``innovations_per_bn`` sets the two against the money actually spent.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analyses.context import Companions, FigureContext
from sim.analyses.panels import prefix
from sim.analyses.programmes import (
    COLUMNS,
    MEASURES,
    check_cost_effectiveness,
    cost_effectiveness_table,
)
from sim.analyses.tables import Table
from sim.experiment.style import LINE_COLOURS, MARKERS

__all__ = ["DRAWERS", "TABLES", "timing_table"]

_DRAWN = ("innovations_total", "innovations_per_bn", "programme_spent",
          "capability_index")


def timing_table(runs: pd.DataFrame, series: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`sim.analyses.programmes.cost_effectiveness_table`, refusing runs whose
    programmes all start in one year (nothing to compare along the start year)."""
    table = cost_effectiveness_table(runs, series)
    if table["start"].nunique() < 2:
        raise ValueError("the timing analysis compares start years, but every programme "
                         f"starts in {int(table['start'].iloc[0])}: list the points with "
                         "two start years or more (NAME_start)")
    return table


def _draw_timing(table: pd.DataFrame, context: FigureContext,
                 companions: Companions) -> Figure:
    states = sorted(table["state"].unique())
    variants = table[["programme", "budget"]].drop_duplicates().sort_values(
        ["programme", "budget"]).itertuples(index=False)
    variants = list(variants)
    budgets = {budget for _programme, budget in variants}
    figure = Figure(figsize=(14, 1.2 + 3.4 * len(states)), layout="constrained")
    axes = figure.subplots(len(states), len(_DRAWN), squeeze=False, sharex=True)
    starts = sorted(table["start"].unique())
    step = 0.12 * (starts[-1] - starts[0]) / max(len(starts), 2)
    offsets = (np.linspace(-step, step, len(variants)) if len(variants) > 1 else [0.0])
    for row, state in enumerate(states):
        for column, measure in enumerate(_DRAWN):
            axis = axes[row, column]
            part = table[(table["state"] == state) & (table["measure"] == measure)]
            for i, (programme, budget) in enumerate(variants):
                line = part[(part["programme"] == programme) & (part["budget"] == budget)]
                line = line.sort_values("start")
                x = line["start"].to_numpy(dtype=float) + offsets[i]
                mean = line["mean"].to_numpy(dtype=float)
                label = (programme if len(budgets) == 1
                         else f"{programme}, {budget:g} KRW bn a year")
                axis.errorbar(x, mean, yerr=[mean - line["low"].to_numpy(dtype=float),
                                             line["high"].to_numpy(dtype=float) - mean],
                              fmt=f"{MARKERS[i % len(MARKERS)]}-",
                              color=LINE_COLOURS[i % len(LINE_COLOURS)], markersize=4,
                              capsize=2, linewidth=1.0, label=label)
            axis.axhline(0.0, color="0.5", linewidth=0.8)
            axis.grid(True, color="0.9", linewidth=0.6)
            axis.set_xticks(starts, [str(s) for s in starts])
            title = MEASURES[measure]
            axis.set_title(title if len(states) == 1 else f"{state}\n{title}",
                           fontsize="medium")
            if row == len(states) - 1:
                axis.set_xlabel("start year")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", frameon=False,
                  ncols=min(len(variants), 4), title="programme (mix)")
    pairs = int(table[table["measure"] == "innovations_total"]["n"].max())
    only = f" at {sorted(budgets)[0]:g} KRW bn a year" if len(budgets) == 1 else ""
    figure.suptitle(f"{prefix(context.experiment)}When to start{only}: each programme "
                    f"against the same runs without one, by {context.horizon}Q4, mean and "
                    f"95 % t-interval over {pairs} paired runs")
    return figure


TABLES: dict[str, Table] = {
    "policy_timing": Table(
        compute=timing_table, columns=COLUMNS, check=check_cost_effectiveness,
        runs=lambda table: table["runs"].unique()),
}
"""The table of this analysis: each programme's paired effects by start year."""

DRAWERS: dict[str, Callable[[pd.DataFrame, FigureContext, Companions], Figure]] = {
    "policy_timing": _draw_timing,
}
"""The figure of this analysis."""
