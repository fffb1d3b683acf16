"""How many replicates does each reported quantity need? The coefficient of variation
and the 95 % confidence interval of each end-state index as replicates are added, at
each design point (Lorscheid, Heine & Meyer 2012, Computational and Mathematical
Organization Theory 18(1), 22-62: the number of runs is enough once the coefficient of
variation no longer changes).

At a point with R replicates, the first k of them (in replicate order: replicate r has
the same seed at every point) give, for k = 2 ... R, the mean, the standard deviation,
the coefficient of variation CV = sd / |mean| and the half-width of the 95 %
t-interval of the mean. The CV has stabilised at count k when no later replicate moves
it by more than :data:`CV_TOLERANCE` (in CV units, so the same for every index): the
smallest such k below R is the count needed. A CV still moving at the last replicate
run means more are needed than were run; the criterion cannot see beyond R.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analyses.context import Companions, FigureContext
from sim.analyses.labels import END_STATE_INDICES
from sim.analyses.panels import prefix
from sim.analyses.tables import Table, check_labels, design_inputs, require, tidy, with_inputs
from sim.experiment.style import MARKERS, level_colours
from sim.params import Params

__all__ = ["CV_TOLERANCE", "DRAWERS", "TABLES", "needed_replicates", "replicates_needed_table",
           "replicates_table"]

#: Largest change of the coefficient of variation, from one replicate count to the
#: next, at which it counts as stable.
CV_TOLERANCE = 0.01


def _points(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs with capability, coupling, a point number and its description (the
    model parameters the design varies, :func:`~sim.analyses.tables.design_inputs`)."""
    runs = with_inputs(runs, ("capability", "coupling"))
    require(runs, ("replicate", *END_STATE_INDICES))
    parameters = [c for c in runs.columns if c in Params.describe()]
    varied = design_inputs(runs, parameters)
    if "point" not in runs.columns:  # a runs table made by hand: points by their inputs
        keys = runs[varied] if varied else pd.DataFrame(index=runs.index)
        codes = (keys.groupby(varied, sort=True, dropna=False).ngroup() if varied
                 else pd.Series(0, index=runs.index))
        runs = runs.assign(point=codes.astype("int64"))
    text = [", ".join(f"{name} {_value(value)}" for name, value in zip(varied, values,
                                                                      strict=True))
            or "all runs" for values in runs[varied].itertuples(index=False)]
    return runs.assign(_inputs=text)


def _value(value: Any) -> str:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        return str(value)
    return f"{value:g}"


def _statistics(values: np.ndarray) -> list[dict[str, float]]:
    """Mean, sd, CV and 95 % half-width of the first k values, for k = 2 ... len."""
    from scipy import stats

    rows = []
    previous = math.nan
    for k in range(2, len(values) + 1):
        first = values[:k]
        mean, sd = float(first.mean()), float(first.std(ddof=1))
        cv = sd / abs(mean) if mean != 0 else math.nan
        half = float(stats.t.ppf(0.975, k - 1)) * sd / math.sqrt(k)
        rows.append({"replicates": k, "mean": mean, "sd": sd, "cv": cv,
                     "half_width": half,
                     "relative_half_width": half / abs(mean) if mean != 0 else math.nan,
                     "cv_change": abs(cv - previous)})
        previous = cv
    return rows


def replicates_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Each index's statistics over the first k replicates of each point.

    One row per design point (``point``, its ``inputs`` in words, ``capability``,
    ``coupling``), index (``measure``, one of
    :data:`sim.analyses.labels.END_STATE_INDICES`) and count ``replicates`` = k from 2
    to the replicates run at that point: ``mean``, ``sd``, ``cv`` (sd / |mean|, NaN when
    the mean is 0), ``half_width`` of the 95 % t-interval of the mean,
    ``relative_half_width`` (half-width / |mean|) and ``cv_change``, |CV(k) - CV(k-1)|
    (NaN at k = 2). Replicates are taken in their order; a run whose index is NaN is
    left out. Points are the runs table's ``point`` (or, without it, the distinct
    values of the varied inputs).
    """
    runs = _points(runs)
    rows = []
    for point, group in runs.groupby("point", sort=True):
        group = group.sort_values("replicate", kind="stable")
        head = {"point": int(point), "inputs": group["_inputs"].iloc[0],
                "capability": float(group["capability"].iloc[0]),
                "coupling": float(group["coupling"].iloc[0])}
        for measure in END_STATE_INDICES:
            values = group[measure].to_numpy(dtype=float)
            values = values[~np.isnan(values)]
            for row in _statistics(values):
                rows.append({**head, "measure": measure, **row})
    table = pd.DataFrame(rows)
    table["_order"] = table["measure"].map(END_STATE_INDICES.index)
    return tidy(table, ["point", "_order", "replicates"]).drop(columns="_order")


def needed_replicates(cv: np.ndarray, counts: np.ndarray,
                      tolerance: float = CV_TOLERANCE) -> float:
    """The smallest count k (below the last) from which every later change of the CV is
    at most ``tolerance``: ``cv[i]`` is the CV over the first ``counts[i]`` replicates,
    counts increasing by one. NaN when the CV still moves by more at the last count, or
    is undefined (NaN) there."""
    changes = np.abs(np.diff(np.asarray(cv, dtype=float)))
    if len(changes) == 0:
        return math.nan
    settled = ~(changes > tolerance)  # a NaN change (undefined CV) is not settled
    settled &= ~np.isnan(changes)
    if not settled[-1]:
        return math.nan
    unsettled = np.flatnonzero(~settled)
    first = 0 if len(unsettled) == 0 else int(unsettled[-1]) + 1
    return float(counts[first])


def replicates_needed_table(runs: pd.DataFrame, tolerance: float = CV_TOLERANCE,
                            ) -> pd.DataFrame:
    """The replicates each index needs at each point: one row per point and ``measure``
    with ``replicates_run``, the ``tolerance``, ``needed`` (see
    :func:`needed_replicates`; NaN when the CV has not stabilised within the replicates
    run), ``stable`` (needed is known), and at all replicates run the ``mean``, ``cv``,
    ``half_width`` and ``relative_half_width``."""
    table = replicates_table(runs)
    rows = []
    for (point, measure), group in table.groupby(["point", "measure"], sort=False):
        group = group.sort_values("replicates")
        last = group.iloc[-1]
        needed = needed_replicates(group["cv"].to_numpy(), group["replicates"].to_numpy(),
                                   tolerance)
        rows.append({"point": int(point), "inputs": last["inputs"],
                     "capability": float(last["capability"]),
                     "coupling": float(last["coupling"]), "measure": measure,
                     "replicates_run": int(last["replicates"]), "tolerance": tolerance,
                     "needed": needed, "stable": not math.isnan(needed),
                     "mean": float(last["mean"]), "cv": float(last["cv"]),
                     "half_width": float(last["half_width"]),
                     "relative_half_width": float(last["relative_half_width"])})
    return tidy(pd.DataFrame(rows), None)


# --- the figure -------------------------------------------------------------------------------
_TITLES = {"capability_index": "Capability index", "cooperation_index": "Cooperation index",
           "distinctiveness": "Distinctiveness", "innovations_total": "Innovations"}


def _draw_replicates(table: pd.DataFrame, context: FigureContext,
                     needed: pd.DataFrame | None) -> Figure:
    figure = Figure(figsize=(15, 3.1 * len(END_STATE_INDICES) + 1.0), layout="constrained")
    axes = figure.subplots(len(END_STATE_INDICES), 2, squeeze=False)
    points = table[["point", "inputs"]].drop_duplicates().sort_values("point")
    colours = level_colours(len(points))
    for row, measure in enumerate(END_STATE_INDICES):
        cv_axis, width_axis = axes[row]
        for i, (point, inputs) in enumerate(points.itertuples(index=False)):
            part = table[(table["point"] == point) & (table["measure"] == measure)]
            marker = MARKERS[i % len(MARKERS)]
            cv_axis.plot(part["replicates"], part["cv"], color=colours[i], marker=marker,
                         markersize=3, linewidth=1.2, label=inputs)
            width_axis.plot(part["replicates"], 100 * part["relative_half_width"],
                            color=colours[i], marker=marker, markersize=3, linewidth=1.2)
            if needed is not None:
                match = needed[(needed["point"] == point) & (needed["measure"] == measure)]
                if len(match) and bool(match["stable"].iloc[0]):
                    k = float(match["needed"].iloc[0])
                    at = part[part["replicates"] == k]
                    cv_axis.plot(at["replicates"], at["cv"], marker="o", markersize=9,
                                 markerfacecolor="none", markeredgecolor=colours[i],
                                 markeredgewidth=1.6, linestyle="none")
        cv_axis.set_title(f"{_TITLES[measure]}: coefficient of variation")
        cv_axis.set_ylabel("CV (sd / |mean|)")
        width_axis.set_title(f"{_TITLES[measure]}: 95 % t-interval half-width")
        width_axis.set_ylabel("half-width, % of |mean|")
        for axis in (cv_axis, width_axis):
            axis.set_xlabel("replicates")
            axis.grid(True, color="0.92", linewidth=0.6)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", title="design point",
                  frameon=False, fontsize=8, ncols=min(4, max(1, len(labels))))
    tolerance = (float(needed["tolerance"].iloc[0]) if needed is not None
                 else CV_TOLERANCE)
    summary = ""
    if needed is not None:
        stable = needed[needed["stable"]]
        worst = {m: stable.loc[stable["measure"] == m, "needed"].max()
                 for m in END_STATE_INDICES}
        unstable = needed.loc[~needed["stable"], "measure"].unique()
        most = int(needed["replicates_run"].max())
        summary = "; ".join(
            f"{_TITLES[m].lower()}: "
            + (f"not stable by {most} at some point" if m in unstable
               else f"{int(worst[m])}" if not math.isnan(worst[m]) else "n/a")
            for m in END_STATE_INDICES)
        summary = f"\nReplicates needed (most over the points): {summary}"
    among = f", {context.runs} runs" if context.runs is not None else ""
    figure.suptitle(
        f"{prefix(context.experiment)}How many replicates? Each index at "
        f"{context.horizon}Q4 over the first k replicates of each point{among}\ncircled: "
        f"the count from which the CV moves by at most {tolerance:g} per added replicate "
        "(Lorscheid, Heine & Meyer 2012)" + summary, fontsize=11)
    return figure


def _check_measures(name: str, table: pd.DataFrame) -> None:
    check_labels(name, table["measure"], END_STATE_INDICES)


def _runs_per_point(table: pd.DataFrame, column: str) -> np.ndarray:
    """The runs behind a table: the replicates run at each point, added up (one index
    suffices: every index comes from the same runs)."""
    first = table[table["measure"] == table["measure"].iloc[0]]
    return np.array([first.groupby("point")[column].max().sum()])


TABLES: dict[str, Table] = {
    "replicates": Table(
        compute=lambda runs, _series: replicates_table(runs),
        columns={"point": "integer", "inputs": "text", "capability": "number",
                 "coupling": "number", "measure": "text", "replicates": "integer",
                 "mean": "number", "sd": "number", "cv": "number", "half_width": "number",
                 "relative_half_width": "number", "cv_change": "number"},
        check=_check_measures, runs=lambda table: _runs_per_point(table, "replicates")),
    "replicates_needed": Table(
        compute=lambda runs, _series: replicates_needed_table(runs),
        columns={"point": "integer", "inputs": "text", "capability": "number",
                 "coupling": "number", "measure": "text", "replicates_run": "integer",
                 "tolerance": "number", "needed": "number", "stable": "flag",
                 "mean": "number", "cv": "number", "half_width": "number",
                 "relative_half_width": "number"},
        check=_check_measures, runs=lambda table: _runs_per_point(table, "replicates_run")),
}
"""The tables of this analysis: the statistics by replicate count, and the count
needed."""

DRAWERS: dict[str, Callable[[pd.DataFrame, FigureContext, Companions], Figure]] = {
    "replicates": lambda table, context, extra: _draw_replicates(
        table, context, extra.get("replicates_needed")),
}
"""The figure of this analysis, drawn from its table and the counts needed."""
