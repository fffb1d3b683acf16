"""The coupling that maximises total innovation, condition by condition: is the optimum
loose (strictly between the lowest and the highest coupling of the grid) or at an end?

A condition is one combination of the other inputs the design varies (capability, a
behavioural constant, ...). At each condition the runs at every coupling level of the
grid give the replicate-averaged ``innovations_total``; the optimum is the level where
that average is largest. Its uncertainty comes from a bootstrap over replicates: a
resample draws replicates with replacement and keeps each drawn replicate at every
coupling level (the same seed there: common random numbers), and takes the argmax of the
resampled averages.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim import emergence
from sim.analyses.context import Companions, FigureContext
from sim.analyses.labels import COUPLING_LABEL, INDEX_LABELS
from sim.analyses.panels import prefix
from sim.analyses.tables import Table, design_inputs, require, tidy, with_inputs
from sim.experiment.style import OKABE_ITO, level_colours
from sim.params import Params

__all__ = ["BOOTSTRAP_RESAMPLES", "BOOTSTRAP_SEED", "DRAWERS", "TABLES", "conditions",
           "optimal_coupling_distribution_table", "optimal_coupling_table"]

#: Resamples of the bootstrap over replicates.
BOOTSTRAP_RESAMPLES = 1000
#: Seed of the bootstrap (with the condition's number): the same runs always give the
#: same tables.
BOOTSTRAP_SEED = 20120
_MEASURE = "innovations_total"


def conditions(runs: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each run's condition: its number (0, 1, ... in the order of the varied inputs'
    values) and its description (``"capability 0.2, tie_decay 0.1"``, or ``"all runs"``
    when no input but coupling varies).

    The varied inputs are the model parameters other than coupling that the design
    varies (:func:`~sim.analyses.tables.design_inputs`: not the constants a replicate
    draws from a posterior).
    """
    parameters = [c for c in runs.columns if c in Params.describe() and c != "coupling"]
    varied = design_inputs(runs, parameters)
    if not varied:
        return (pd.Series(0, index=runs.index, dtype="int64"),
                pd.Series("all runs", index=runs.index, dtype=object))
    keys = runs[varied]
    distinct = keys.drop_duplicates().sort_values(varied, kind="stable").reset_index(drop=True)
    distinct["_condition"] = np.arange(len(distinct))
    number = keys.merge(distinct, on=varied, how="left")["_condition"].to_numpy()
    text = [", ".join(f"{name} {_value(value)}" for name, value in zip(varied, values,
                                                                      strict=True))
            for values in keys.itertuples(index=False)]
    return (pd.Series(number, index=runs.index, dtype="int64"),
            pd.Series(text, index=runs.index, dtype=object))


def _value(value: Any) -> str:
    """An input's value as the condition's description prints it."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        return str(value)
    return f"{value:g}"


def _averages(matrix: np.ndarray) -> np.ndarray:
    """Mean over the replicates (rows) of each level, -inf where a level has no run (so
    that it is never the optimum)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a level without runs: all NaN
        means = np.nanmean(matrix, axis=-2)
    return np.where(np.isnan(means), -np.inf, means)


def _matrix(group: pd.DataFrame, levels: np.ndarray) -> np.ndarray:
    """Innovations of one condition as replicates x coupling levels (NaN where a run is
    missing)."""
    pivot = group.pivot_table(index="replicate", columns="coupling", values=_MEASURE,
                              aggfunc="mean")
    return pivot.reindex(columns=levels).to_numpy(dtype=float)


def _bootstrap_optima(matrix: np.ndarray, seed: int) -> np.ndarray:
    """Index of the optimal level in each bootstrap resample of the replicates (rows);
    ties go to the lowest level."""
    rng = np.random.default_rng([BOOTSTRAP_SEED, seed])
    rows = rng.integers(0, matrix.shape[0], size=(BOOTSTRAP_RESAMPLES, matrix.shape[0]))
    return np.argmax(_averages(matrix[rows]), axis=1)  # matrix[rows]: resamples x rows x levels


def _prepared(runs: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    runs = with_inputs(runs, ("coupling", "capability"))
    require(runs, ("replicate", _MEASURE))
    levels = np.sort(runs["coupling"].astype(float).unique())
    if len(levels) < 3:
        raise ValueError("the optimal coupling is told from the ends with at least 3 "
                         f"coupling levels, but the runs have {len(levels)}")
    number, text = conditions(runs)
    runs = runs.assign(coupling=runs["coupling"].astype(float), _condition=number,
                       _inputs=text)
    return runs, levels


def optimal_coupling_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The innovation-maximising coupling of each condition, with its bootstrap
    uncertainty.

    One row per condition (see :func:`conditions`): ``condition``, ``inputs`` (its
    description), ``capability``; ``n`` runs and ``replicates`` (the most at one level);
    the grid's ``levels``, ``coupling_lowest`` and ``coupling_highest``; ``optimum``, the
    coupling level whose replicate-averaged ``innovations_total`` is largest (ties to the
    lowest), ``innovations_optimum`` that average and ``innovations_lowest`` and
    ``innovations_highest`` the averages at the grid's ends; ``optimum_low`` and
    ``optimum_high``, the 2.5 and 97.5 percentiles of the optimum over
    :data:`BOOTSTRAP_RESAMPLES` bootstrap resamples of the replicates; ``share_interior``,
    the share of resamples whose optimum is strictly between the grid's ends; and
    ``interior``, whether the optimum itself is (a loose optimum). Raises ``ValueError``
    with fewer than three coupling levels.
    """
    runs, levels = _prepared(runs)
    rows = []
    for condition, group in runs.groupby("_condition", sort=True):
        matrix = _matrix(group, levels)
        means = _averages(matrix)
        best = int(np.argmax(means))
        optima = levels[_bootstrap_optima(matrix, int(condition))]
        interior = (optima > levels[0]) & (optima < levels[-1])
        row: dict[str, Any] = {
            "condition": int(condition), "inputs": group["_inputs"].iloc[0],
            "capability": float(group["capability"].iloc[0]), "n": len(group),
            "replicates": int(group.groupby("coupling").size().max()),
            "levels": len(levels), "coupling_lowest": float(levels[0]),
            "coupling_highest": float(levels[-1]), "optimum": float(levels[best]),
            "innovations_optimum": float(means[best]),
            # -inf marks a level without runs: reported as unknown
            "innovations_lowest": float(means[0]) if np.isfinite(means[0]) else np.nan,
            "innovations_highest": (float(means[-1]) if np.isfinite(means[-1])
                                    else np.nan),
            "optimum_low": float(np.percentile(optima, 2.5, method="lower")),
            "optimum_high": float(np.percentile(optima, 97.5, method="higher")),
            "share_interior": float(interior.mean()),
            "interior": bool(levels[0] < levels[best] < levels[-1])}
        rows.append(row)
    return tidy(pd.DataFrame(rows), ["condition"])


def optimal_coupling_distribution_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Innovation by coupling level within each condition, and how often the bootstrap
    puts the optimum at each level.

    One row per condition and coupling level: ``condition``, ``inputs``, ``capability``,
    ``coupling``, ``n`` runs, the mean ``innovations_total`` with its 95 % t-interval over
    the replicates (``innovations_mean``, ``innovations_low``, ``innovations_high``), and
    ``optimum_share``, the share of the bootstrap resamples of
    :func:`optimal_coupling_table` whose optimum is this level.
    """
    runs, levels = _prepared(runs)
    rows = []
    for condition, group in runs.groupby("_condition", sort=True):
        optima = _bootstrap_optima(_matrix(group, levels), int(condition))
        shares = np.bincount(optima, minlength=len(levels)) / len(optima)
        for i, level in enumerate(levels):
            part = group[group["coupling"] == level]
            mean, low, high = emergence.t_interval(part[_MEASURE].to_numpy(dtype=float))
            rows.append({"condition": int(condition), "inputs": group["_inputs"].iloc[0],
                         "capability": float(group["capability"].iloc[0]),
                         "coupling": float(level), "n": len(part),
                         "innovations_mean": mean, "innovations_low": low,
                         "innovations_high": high, "optimum_share": float(shares[i])})
    return tidy(pd.DataFrame(rows), ["condition", "coupling"])


# --- the figure -------------------------------------------------------------------------------
def _draw_optimal_coupling(table: pd.DataFrame, context: FigureContext,
                           distribution: pd.DataFrame | None) -> Figure:
    count = len(table)
    figure = Figure(figsize=(17, max(5.2, 1.6 + 0.28 * count)), layout="constrained")
    curves, forest, histogram = figure.subplots(
        1, 3, gridspec_kw={"width_ratios": [1.15, 1.0, 0.85]})
    colours = level_colours(count)
    interior_colour, end_colour = OKABE_ITO["bluish green"], OKABE_ITO["vermillion"]
    levels = (np.sort(distribution["coupling"].unique()) if distribution is not None
              else np.array([table["coupling_lowest"].min(), table["coupling_highest"].max()]))
    rows = table.sort_values("condition").to_dict("records")
    if distribution is not None:
        for i, row in enumerate(rows):
            part = distribution[distribution["condition"] == row["condition"]]
            part = part.sort_values("coupling")
            x = part["coupling"].to_numpy(dtype=float)
            curves.fill_between(x, part["innovations_low"], part["innovations_high"],
                                color=colours[i], alpha=0.12, linewidth=0)
            curves.plot(x, part["innovations_mean"], color=colours[i], linewidth=1.3,
                        label=row["inputs"] if count <= 12 else None)
            curves.plot([row["optimum"]], [row["innovations_optimum"]], marker="*",
                        markersize=11, color=colours[i], markeredgecolor="black",
                        markeredgewidth=0.5, linestyle="none")
        if count <= 12:
            curves.legend(title="condition", frameon=False, fontsize=7, loc="best")
    curves.set_title("Innovation by coupling (mean, 95 % t-interval); \u2605 optimum")
    curves.set_xlabel(COUPLING_LABEL)
    curves.set_ylabel(INDEX_LABELS[_MEASURE])
    curves.grid(True, color="0.9", linewidth=0.6)

    for y, row in enumerate(rows):
        colour = interior_colour if row["interior"] else end_colour
        forest.plot([row["optimum_low"], row["optimum_high"]], [y, y], color=colour,
                    linewidth=2.2, alpha=0.6, solid_capstyle="butt")
        forest.plot([row["optimum"]], [y], marker="o", color=colour, markersize=6)
        forest.text(1.02, y, f"{row['share_interior']:.0%}", transform=forest.get_yaxis_transform(),
                    va="center", fontsize=7, color="0.3")
    for edge in (levels[0], levels[-1]):
        forest.axvline(edge, color="0.5", linestyle=":", linewidth=1.0)
    forest.set_yticks(range(count), [r["inputs"] for r in rows], fontsize=7)
    forest.set_ylim(count - 0.5, -0.5)
    forest.set_xlim(levels[0] - 0.05 * (levels[-1] - levels[0]),
                    levels[-1] + 0.05 * (levels[-1] - levels[0]))
    forest.set_xlabel("coupling at the optimum (bootstrap 95 % interval over replicates)")
    forest.set_title("Optimum per condition (right: share of resamples interior)")
    forest.legend(handles=[
        Line2D([], [], marker="o", color=interior_colour, label="interior (loose)"),
        Line2D([], [], marker="o", color=end_colour, label="at the lowest or highest")],
        frameon=False, fontsize=7, loc="lower left")

    width = 0.8 * float(np.min(np.diff(levels))) if len(levels) > 1 else 0.1
    counts = np.array([(table["optimum"] == level).sum() for level in levels], dtype=float)
    histogram.bar(levels - width / 4, counts / max(count, 1), width=width / 2,
                  color=OKABE_ITO["blue"], label="optimum of each condition")
    if distribution is not None:
        pooled = distribution.groupby("coupling")["optimum_share"].mean().reindex(levels)
        histogram.bar(levels + width / 4, pooled.to_numpy(dtype=float), width=width / 2,
                      color=OKABE_ITO["sky blue"], label="bootstrap, pooled over conditions")
    histogram.set_xticks(levels, [f"{v:g}" for v in levels], fontsize=7)
    histogram.set_xlabel(COUPLING_LABEL)
    histogram.set_ylabel("share")
    histogram.set_ylim(0, 1)
    histogram.legend(frameon=False, fontsize=7, loc="upper left")
    interior = int(table["interior"].sum())
    histogram.set_title(f"Where the optimum lies: interior in {interior} of {count} "
                        "conditions")
    among = f", {context.runs} runs" if context.runs is not None else ""
    replicates = table["replicates"]
    replicates_text = (f"{replicates.min()}" if replicates.min() == replicates.max()
                       else f"{replicates.min()}-{replicates.max()}")
    figure.suptitle(
        f"{prefix(context.experiment)}The coupling that maximises total innovation "
        f"({context.horizon}Q4) in each of {count} conditions{among}\n{replicates_text} "
        f"replicates per coupling level; {BOOTSTRAP_RESAMPLES} bootstrap resamples of the "
        "replicates, each drawn replicate kept at every level (same seed)")
    return figure


def _check_optimum(name: str, table: pd.DataFrame) -> None:
    inside = (table["coupling_lowest"] < table["optimum"]) & (
        table["optimum"] < table["coupling_highest"])
    if (inside != table["interior"]).any():
        raise ValueError(f"the {name} table has an interior flag that does not match its "
                         "optimum and the grid's ends")
    if ((table["share_interior"] < 0) | (table["share_interior"] > 1)).any():
        raise ValueError(f"the {name} table has a share outside [0, 1]")


def _check_distribution(name: str, table: pd.DataFrame) -> None:
    totals = table.groupby("condition")["optimum_share"].sum()
    if (abs(totals - 1.0) > 1e-6).any():
        raise ValueError(f"the {name} table has a condition whose optimum shares do not "
                         "add up to 1")


TABLES: dict[str, Table] = {
    "optimal_coupling": Table(
        compute=lambda runs, _series: optimal_coupling_table(runs),
        columns={"condition": "integer", "inputs": "text", "capability": "number",
                 "n": "integer", "replicates": "integer", "levels": "integer",
                 "coupling_lowest": "number", "coupling_highest": "number",
                 "optimum": "number", "innovations_optimum": "number",
                 "innovations_lowest": "number", "innovations_highest": "number",
                 "optimum_low": "number", "optimum_high": "number",
                 "share_interior": "number", "interior": "flag"},
        check=_check_optimum),
    "optimal_coupling_distribution": Table(
        compute=lambda runs, _series: optimal_coupling_distribution_table(runs),
        columns={"condition": "integer", "inputs": "text", "capability": "number",
                 "coupling": "number", "n": "integer", "innovations_mean": "number",
                 "innovations_low": "number", "innovations_high": "number",
                 "optimum_share": "number"},
        check=_check_distribution),
}
"""The tables of this analysis: the optimum per condition, and innovation and the
bootstrap's optimum per condition and coupling level."""

DRAWERS: dict[str, Callable[[pd.DataFrame, FigureContext, Companions], Figure]] = {
    "optimal_coupling": lambda table, context, extra: _draw_optimal_coupling(
        table, context, extra.get("optimal_coupling_distribution")),
}
"""The figure of this analysis, drawn from its table, context and distribution."""
