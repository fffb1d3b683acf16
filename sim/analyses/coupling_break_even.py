"""Where coupling breaks even: paired synergy over the two attention constants that
decide its sign, the project slots of a venture (``attention_venture``) and the slots a
cross-cluster project takes (``cross_attention_cost``), at each coupling level and,
where the design varies it, for each attention rule (``attention_by_value``).

Synergy is each run's innovations relative to its paired run at coupling 0 (same seed,
same other inputs), so the design needs runs at coupling 0 (the registry checks it
before any run). Each cell gives the mean over the replicates with a 95 % t-interval;
the sign of a cell is settled only where the interval excludes 0.

Where the calibration leaves the two constants (the calibrated profile's posterior
sample, :func:`sim.profile.load_posterior`) is drawn on the map (its median and 90 %
intervals), and the companion table ``coupling_break_even_posterior`` weighs the map's
cells by it: each particle falls in the cell of the nearest grid levels, and the table
gives, per attention rule and coupling, the posterior mass on cells whose synergy is
settled positive, settled negative or unsettled. A claim about the sign of synergy is
stated only as far as that mass supports it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim import emergence
from sim.analyses.context import Companions, FigureContext
from sim.analyses.labels import synergy
from sim.analyses.panels import prefix, span_of_counts
from sim.analyses.tables import Table, check_labels, require, tidy, with_inputs
from sim.profile import Posterior, load_posterior

__all__ = ["AXES", "DRAWERS", "POSTERIOR_PROFILE", "SIGNS", "TABLES", "break_even_table",
           "posterior_mass_table"]

POSTERIOR_PROFILE = "calibrated"
"""The profile whose posterior sample is placed on the map."""

AXES: tuple[str, str] = ("attention_venture", "cross_attention_cost")
"""The two constants across which the figure maps synergy (x, then y)."""

SIGNS: tuple[str, ...] = ("positive", "negative", "unsettled")
"""A cell's sign: its 95 % interval lies above 0, below 0, or holds 0."""

_RULES = {False: "fixed order (ties, brokered, searched)",
          True: "attention allocated by value"}


def sign(low: float, high: float) -> str:
    """'positive' if the interval lies above 0, 'negative' if below, else 'unsettled'."""
    if low > 0:
        return "positive"
    if high < 0:
        return "negative"
    return "unsettled"


def break_even_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Paired synergy per (attention rule, coupling, slots, cross-cluster slot cost): n,
    the mean with a 95 % t-interval over the runs (replicates; other varied parameters
    pooled) and the sign it settles (at coupling 0 synergy is 0 by construction: its
    interval holds 0). Raises ``ValueError`` if no run has coupling 0."""
    runs = with_inputs(runs, ("coupling", "attention_by_value", *AXES))
    require(runs, ("innovations_total", "replicate"))
    runs = runs.assign(synergy=synergy(runs))
    keys = ["attention_by_value", "coupling", *AXES]
    rows = []
    for values, group in runs.groupby(keys, sort=True):
        mean, low, high = emergence.t_interval(group["synergy"].to_numpy(dtype=float))
        row: dict[str, Any] = dict(zip(keys, values, strict=True))
        row["attention_by_value"] = bool(row["attention_by_value"])
        row |= {"n": len(group), "synergy_mean": mean, "synergy_low": low,
                "synergy_high": high, "sign": sign(low, high)}
        rows.append(row)
    return tidy(pd.DataFrame(rows), keys)


def _nearest(levels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Index of the nearest of ``levels`` (sorted) for each value."""
    return np.abs(values[:, None] - levels[None, :]).argmin(axis=1)


def posterior_mass_table(table: pd.DataFrame, posterior: Posterior) -> pd.DataFrame:
    """Per attention rule and coupling above 0: the posterior mass on cells of each sign
    (``mass_positive``, ``mass_negative``, ``mass_unsettled``, summing to 1), each
    particle in the cell of the grid levels nearest its two constants, and the
    posterior's median and 90 % interval of each constant; ``n_runs``: the runs behind
    the map (every cell's, coupling 0 included). Where the posterior does not hold both
    constants (the calibration did not fit them: no observed pattern informs them), the
    masses and quantiles are NaN: the data say nothing about where on the map the
    clusters lie."""
    fitted = all(name in posterior.parameters for name in AXES)
    couplings = table[table["coupling"] > 0].groupby(["attention_by_value", "coupling"],
                                                     sort=True)
    if not fitted:
        unknown = {f"mass_{label}": math.nan for label in SIGNS} | {
            f"{name}_{q}": math.nan for name in AXES for q in ("q05", "median", "q95")}
        rows = [{"attention_by_value": bool(rule), "coupling": coupling,
                 "n_runs": int(table["n"].sum()), **unknown}
                for (rule, coupling), _part in couplings]
        return tidy(pd.DataFrame(rows), ["attention_by_value", "coupling"])
    values = {name: posterior.particles[:, posterior.parameters.index(name)]
              for name in AXES}
    levels = {name: np.array(sorted(table[name].unique()), dtype=float) for name in AXES}
    cell_x = levels[AXES[0]][_nearest(levels[AXES[0]], values[AXES[0]])]
    cell_y = levels[AXES[1]][_nearest(levels[AXES[1]], values[AXES[1]])]
    summary = {}
    for name in AXES:
        order = np.argsort(values[name], kind="stable")
        cumulative = np.cumsum(posterior.weights[order])
        summary |= {f"{name}_{label}": float(values[name][order][
            min(np.searchsorted(cumulative, q), len(order) - 1)])
            for label, q in (("q05", 0.05), ("median", 0.5), ("q95", 0.95))}
    rows = []
    for (rule, coupling), part in couplings:
        signs = {(row[AXES[0]], row[AXES[1]]): row["sign"]
                 for row in part.to_dict("records")}
        mass = dict.fromkeys(SIGNS, 0.0)
        for x, y, weight in zip(cell_x.tolist(), cell_y.tolist(),
                                posterior.weights.tolist(), strict=True):
            mass[signs[(x, y)]] += weight
        rows.append({"attention_by_value": bool(rule), "coupling": coupling,
                     "n_runs": int(table["n"].sum()),
                     **{f"mass_{label}": mass[label] for label in SIGNS}, **summary})
    return tidy(pd.DataFrame(rows), ["attention_by_value", "coupling"])


def _check_signs(name: str, table: pd.DataFrame) -> None:
    check_labels(name, table["sign"], SIGNS)
    for row in table.itertuples():
        if sign(row.synergy_low, row.synergy_high) != row.sign:
            raise ValueError(f"the {name} table says {row.sign!r} for an interval "
                             f"[{row.synergy_low:g}, {row.synergy_high:g}]")


def _grid(part: pd.DataFrame, column: str, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``column`` of ``part`` as a matrix: one row per y level, one column per x level."""
    matrix = np.full((len(ys), len(xs)), np.nan)
    for row in part.itertuples():
        x = np.flatnonzero(xs == getattr(row, AXES[0]))[0]
        y = np.flatnonzero(ys == getattr(row, AXES[1]))[0]
        matrix[y, x] = getattr(row, column)
    return matrix


def _draw_break_even(table: pd.DataFrame, context: FigureContext,
                     weighed: pd.DataFrame | None) -> Figure:
    rules = sorted(table["attention_by_value"].unique())
    couplings = sorted(c for c in table["coupling"].unique() if c > 0)
    xs = np.array(sorted(table[AXES[0]].unique()), dtype=float)
    ys = np.array(sorted(table[AXES[1]].unique()), dtype=float)
    reach = float(np.nanmax(np.abs(table[["synergy_low", "synergy_high"]].to_numpy()),
                            initial=0.0))
    reach = reach if reach > 0 else 1.0
    figure = Figure(figsize=(4.2 * len(couplings) + 1.2, 3.8 * len(rules) + 0.6),
                    layout="constrained")
    axes = np.atleast_2d(figure.subplots(len(rules), len(couplings), squeeze=False))
    image = None
    for r, rule in enumerate(rules):
        for c, coupling in enumerate(couplings):
            axis = axes[r, c]
            part = table[(table["attention_by_value"] == rule)
                         & (table["coupling"] == coupling)]
            mean = _grid(part, "synergy_mean", xs, ys)
            image = axis.imshow(mean, origin="lower", cmap="PuOr", vmin=-reach, vmax=reach,
                                aspect="auto", extent=(-0.5, len(xs) - 0.5, -0.5,
                                                       len(ys) - 0.5))
            settled = _grid(part.assign(settled=part["sign"] != "unsettled"), "settled",
                            xs, ys)
            for y in range(len(ys)):
                for x in range(len(xs)):
                    if np.isnan(mean[y, x]):
                        continue
                    axis.text(x, y, f"{100 * mean[y, x]:+.0f}%", ha="center",
                              va="center", fontsize=7,
                              fontweight="bold" if settled[y, x] == 1 else "normal",
                              color="0.05" if abs(mean[y, x]) < 0.6 * reach else "white")
            if len(xs) > 1 and len(ys) > 1 and np.nanmin(mean) < 0 < np.nanmax(mean):
                axis.contour(np.arange(len(xs)), np.arange(len(ys)), mean, levels=[0.0],
                             colors="0.1", linewidths=1.4)
            weight = (weighed[(weighed["attention_by_value"] == rule)
                              & (weighed["coupling"] == coupling)]
                      if weighed is not None else ())
            if len(weight) and not math.isnan(weight.iloc[0]["mass_positive"]):
                _draw_posterior(axis, weight.iloc[0], xs, ys)
            elif len(weight):
                axis.text(0.02, 0.98, "not fitted: no observed pattern informs these "
                          "constants", transform=axis.transAxes, ha="left", va="top",
                          fontsize=7, bbox={"facecolor": "white", "alpha": 0.8,
                                            "linewidth": 0})
            axis.set_xticks(range(len(xs)), [f"{x:g}" for x in xs])
            axis.set_yticks(range(len(ys)), [f"{y:g}" for y in ys])
            axis.set_xlabel("project slots of a venture per quarter (attention_venture)")
            axis.set_ylabel("slots a cross-cluster project takes\n(cross_attention_cost)")
            axis.set_title(f"coupling {coupling:g}; {_RULES[bool(rule)]}")
    figure.colorbar(image, ax=axes, label="synergy (paired with coupling 0)",
                    format=lambda value, _pos: f"{100 * value:+.0f}%", shrink=0.8)
    n_text = span_of_counts(table["n"])
    figure.suptitle(f"{prefix(context.experiment)}Where coupling breaks even, "
                    f"{context.horizon}Q4: mean synergy of {n_text} paired replicates per "
                    "cell\nbold where its 95 % t-interval excludes 0; line: zero contour"
                    "\ncross: the calibration's posterior (median, 90 % intervals) where "
                    "it fits the two constants")
    return figure


def _draw_posterior(axis: Any, weight: pd.Series, xs: np.ndarray, ys: np.ndarray) -> None:
    """The posterior's median and 90 % intervals of the two constants, in the map's cell
    coordinates (interpolated between levels), and its mass on each sign."""
    def at(levels: np.ndarray, value: float) -> float:
        return float(np.interp(value, levels, np.arange(len(levels))))
    x = [at(xs, weight[f"{AXES[0]}_{q}"]) for q in ("q05", "median", "q95")]
    y = [at(ys, weight[f"{AXES[1]}_{q}"]) for q in ("q05", "median", "q95")]
    axis.errorbar(x[1], y[1], xerr=[[x[1] - x[0]], [x[2] - x[1]]],
                  yerr=[[y[1] - y[0]], [y[2] - y[1]]], color="0.1", marker="o",
                  markersize=5, capsize=3, linewidth=1.2)
    axis.text(0.02, 0.98, f"posterior mass: {100 * weight['mass_positive']:.0f}% +, "
              f"{100 * weight['mass_negative']:.0f}% -", transform=axis.transAxes,
              ha="left", va="top", fontsize=7,
              bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0})


TABLES: dict[str, Table] = {
    "coupling_break_even": Table(
        compute=lambda runs, _series: break_even_table(runs),
        columns={"attention_by_value": "flag", "coupling": "number",
                 AXES[0]: "number", AXES[1]: "number", "n": "integer",
                 "synergy_mean": "number", "synergy_low": "number",
                 "synergy_high": "number", "sign": "text"},
        check=_check_signs),
    "coupling_break_even_posterior": Table(
        compute=lambda runs, _series: posterior_mass_table(
            break_even_table(runs), load_posterior(POSTERIOR_PROFILE)),
        columns={"attention_by_value": "flag", "coupling": "number", "n_runs": "integer",
                 **{f"mass_{label}": "number" for label in SIGNS},
                 **{f"{name}_{q}": "number" for name in AXES
                    for q in ("q05", "median", "q95")}},
        runs=lambda table: table["n_runs"].unique()),
}
"""The tables of this analysis: the map, and the posterior's weight on it."""

DRAWERS: dict[str, Callable[[pd.DataFrame, FigureContext, Companions], Figure]] = {
    "coupling_break_even": lambda table, context, extra: _draw_break_even(
        table, context, extra.get("coupling_break_even_posterior")),
}
"""The figure of this analysis, drawn from its table and context."""
