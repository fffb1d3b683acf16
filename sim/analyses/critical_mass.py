"""Critical mass: do the clusters forget where they started? Runs that share every
input but their starting state (the grid's points: a cluster started smaller or larger,
or weaker) are followed quarter by quarter; each state's mean path of the clusters'
ventures and capability stocks is drawn with its 95 % t-band over the replicates, and a
companion table says, per series, how far apart the states started and ended.

The design must store the series (``series = true``) and vary the starting state in a
[grid] with replicates (the registry checks it before any run).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim import emergence
from sim.analyses.context import Companions, FigureContext
from sim.analyses.panels import prefix, quarter_position, span_of_counts
from sim.analyses.tables import Table, design_inputs, missing_series, require, tidy, with_inputs
from sim.experiment.style import LINE_COLOURS
from sim.params import Params

__all__ = ["DRAWERS", "SERIES", "TABLES", "convergence_table", "critical_mass_table",
           "state_labels"]

SERIES: dict[str, str] = {
    "ventures_daedeok": "Daedeok: ventures alive (at scale 1)",
    "ventures_pangyo": "Pangyo: ventures alive (at scale 1)",
    "capability_stock_daedeok": "Daedeok: capability stock",
    "capability_stock_pangyo": "Pangyo: capability stock",
}
"""The series followed, and the title of each one's panel."""

_COUNTS = ("ventures_daedeok", "ventures_pangyo")  # read at scale 1
_NOT_STATE = {"seed", "replicate", "run_id"}


def state_labels(runs: pd.DataFrame) -> pd.Series:
    """Each run's starting state, named by the inputs the design varies (replicate,
    seed and constants drawn per replicate from a posterior aside:
    :func:`~sim.analyses.tables.design_inputs`): ``"name=value, ..."``, or ``"as
    calibrated"`` when none varies."""
    inputs = [c for c in runs.columns if c in Params.describe() and c not in _NOT_STATE]
    varied = design_inputs(runs, inputs)
    if not varied:
        return pd.Series("as calibrated", index=runs.index)
    return runs[varied].apply(
        lambda row: ", ".join(f"{name}={row[name]:g}" if isinstance(row[name], float)
                              else f"{name}={row[name]}" for name in varied), axis=1)


def critical_mass_table(runs: pd.DataFrame, series: pd.DataFrame | None) -> pd.DataFrame:
    """Per starting state, series and quarter: n and the mean with a 95 % t-interval
    over the replicates (ventures divided by the run's scale). Raises ``ValueError``
    without series."""
    if series is None:
        raise missing_series("critical mass follows")
    runs = with_inputs(runs, ("scale",))
    require(series, ("run_id", "quarter", *SERIES), what="series table")
    states = runs[["run_id", "scale"]].assign(state=state_labels(runs))
    long = series[["run_id", "quarter", *SERIES]].merge(states, on="run_id",
                                                        validate="m:1")
    for column in _COUNTS:
        long[column] = long[column] / long["scale"]
    rows = []
    for (state, quarter), group in long.groupby(["state", "quarter"], sort=True):
        for column in SERIES:
            mean, low, high = emergence.t_interval(group[column].to_numpy(dtype=float))
            rows.append({"state": state, "series": column, "quarter": quarter,
                         "n": len(group), "mean": mean, "low": low, "high": high})
    return tidy(pd.DataFrame(rows), ["state", "series", "quarter"])


def convergence_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per series: the spread of the states' means (highest minus lowest) in the first
    and the last quarter, its ratio, whether the states are still apart at the end (the
    95 % intervals of the highest and the lowest mean do not overlap), and the number of
    runs behind the comparison."""
    rows = []
    first, last = table["quarter"].min(), table["quarter"].max()
    runs = int(_runs_behind(table)[0])
    for column in SERIES:
        part = table[table["series"] == column]
        start = part[part["quarter"] == first].set_index("state")
        end = part[part["quarter"] == last].set_index("state")
        spread_first = float(start["mean"].max() - start["mean"].min())
        spread_last = float(end["mean"].max() - end["mean"].min())
        top, bottom = end["mean"].idxmax(), end["mean"].idxmin()
        rows.append({
            "series": column, "first_quarter": first, "last_quarter": last,
            "spread_first": spread_first, "spread_last": spread_last,
            "spread_ratio": spread_last / spread_first if spread_first > 0 else math.nan,
            "apart_at_end": bool(end.loc[bottom, "high"] < end.loc[top, "low"]),
            "runs": runs,
        })
    return tidy(pd.DataFrame(rows), None)


def _draw_critical_mass(table: pd.DataFrame, context: FigureContext,
                        companions: Companions) -> Figure:
    figure = Figure(figsize=(13, 8.2), layout="constrained")
    axes = figure.subplots(2, 2, sharex=True)
    states = sorted(table["state"].unique())
    convergence = companions.get("critical_mass_convergence")
    apart = (None if convergence is None
             else dict(zip(convergence["series"], convergence["apart_at_end"], strict=True)))
    last = table["quarter"].max()
    for axis, column in zip(axes.ravel(), SERIES, strict=True):
        part = table[table["series"] == column]
        for i, state in enumerate(states):
            path = part[part["state"] == state].sort_values("quarter")
            x = path["quarter"].map(quarter_position).to_numpy()
            colour = LINE_COLOURS[i % len(LINE_COLOURS)]
            axis.fill_between(x, path["low"], path["high"], color=colour, alpha=0.18,
                              linewidth=0)
            axis.plot(x, path["mean"], color=colour, linewidth=1.6, label=state)
        verdict = ("" if apart is None or column not in apart
                   else f"\nhighest and lowest state still apart in {last}" if apart[column]
                   else f"\nthe states' 95 % bands overlap in {last}")
        axis.set_title(SERIES[column] + verdict)
        axis.grid(True, color="0.9", linewidth=0.6)
    for axis in axes[1]:
        axis.set_xlabel("year (one point per quarter)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", frameon=False,
                  title="starting state", ncols=min(3, len(states)))
    n_text = span_of_counts(table["n"])
    figure.suptitle(f"{prefix(context.experiment)}Do the clusters forget where they "
                    f"started? Mean paths from each starting state with 95 % t-bands over "
                    f"{n_text} replicates to {context.horizon}Q4")
    return figure


def _runs_behind(table: pd.DataFrame) -> np.ndarray:
    # one row per state, series and quarter: count the runs of one series and quarter
    first = table[(table["series"] == next(iter(SERIES)))
                  & (table["quarter"] == table["quarter"].min())]
    return np.array([first["n"].sum()])


def _check_series(name: str, table: pd.DataFrame) -> None:
    unknown = sorted(set(table["series"]) - set(SERIES))
    if unknown:
        raise ValueError(f"the {name} table has unknown series {', '.join(unknown)}; "
                         f"expected {', '.join(SERIES)}")


TABLES: dict[str, Table] = {
    "critical_mass": Table(
        compute=critical_mass_table,
        columns={"state": "text", "series": "text", "quarter": "text", "n": "integer",
                 "mean": "number", "low": "number", "high": "number"},
        check=_check_series, runs=_runs_behind),
    "critical_mass_convergence": Table(
        compute=lambda runs, series: convergence_table(critical_mass_table(runs, series)),
        columns={"series": "text", "first_quarter": "text", "last_quarter": "text",
                 "spread_first": "number", "spread_last": "number",
                 "spread_ratio": "number", "apart_at_end": "flag", "runs": "integer"},
        check=_check_series, runs=lambda table: table["runs"].unique()),
}
"""The tables of this analysis: the paths, and how far apart the states end."""

DRAWERS: dict[str, Callable[[pd.DataFrame, FigureContext, Companions], Figure]] = {
    "critical_mass": _draw_critical_mass,
}
"""The figure of this analysis, drawn from its table, context and companion."""
