"""Where coupling breaks even: paired synergy over the two attention constants that
decide its sign, the project slots of a venture (``attention_venture``) and the slots a
cross-cluster project takes (``cross_attention_cost``), at each coupling level and,
where the design varies it, for each attention rule (``attention_by_value``).

Synergy is each run's innovations relative to its paired run at coupling 0 (same seed,
same other inputs), so the design needs runs at coupling 0 (the registry checks it
before any run). Each cell gives the mean over the replicates with a 95 % t-interval;
the sign of a cell is settled only where the interval excludes 0.
"""

from __future__ import annotations

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
from sim.params import Params

__all__ = ["AXES", "DRAWERS", "SIGNS", "TABLES", "break_even_table"]

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


def _draw_break_even(table: pd.DataFrame, context: FigureContext) -> Figure:
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
    defaults = Params()
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
            default = (np.flatnonzero(xs == getattr(defaults, AXES[0])),
                       np.flatnonzero(ys == getattr(defaults, AXES[1])))
            if len(default[0]) and len(default[1]):
                axis.plot(default[0][0], default[1][0], marker="s", markersize=22,
                          markerfacecolor="none", markeredgecolor="0.1", linewidth=0)
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
                    "cell\nbold where its 95 % t-interval excludes 0; line: zero contour; "
                    "square: the defaults")
    return figure


TABLES: dict[str, Table] = {
    "coupling_break_even": Table(
        compute=lambda runs, _series: break_even_table(runs),
        columns={"attention_by_value": "flag", "coupling": "number",
                 AXES[0]: "number", AXES[1]: "number", "n": "integer",
                 "synergy_mean": "number", "synergy_low": "number",
                 "synergy_high": "number", "sign": "text"},
        check=_check_signs),
}
"""The table of this analysis."""

DRAWERS: dict[str, Callable[[pd.DataFrame, FigureContext, Companions], Figure]] = {
    "coupling_break_even": lambda table, context, _extra: _draw_break_even(table, context),
}
"""The figure of this analysis, drawn from its table and context."""
