"""Hysteresis: does the end state depend on the coupling path? Runs switch coupling in
one year (``coupling`` before ``switch_year``, ``coupling_after`` from then on); each
switched path is compared, run by run, with the constant path that ends at the same
coupling."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim import emergence
from sim.analyses.context import Companions, FigureContext
from sim.analyses.labels import known_thresholds, scenarios, snake
from sim.analyses.panels import patches, prefix, span_of_counts, threshold_line
from sim.analyses.tables import Table, check_labels, require, tidy, with_inputs
from sim.experiment.style import OKABE_ITO, SCENARIO_COLOURS
from sim.params import Params
from sim.scenarios import SCENARIOS

__all__ = ["DRAWERS", "HYSTERESIS_MEASURES", "TABLES", "hysteresis_table"]

#: End-state measures the hysteresis analysis compares between coupling paths.
HYSTERESIS_MEASURES: tuple[str, ...] = ("capability_index", "cooperation_index",
                                        "distinctiveness", "innovations_total",
                                        "ventures_alive")
#: A coupling path: constant, or lowered or raised at the switch year.
_PATHS: tuple[str, ...] = ("constant", "lowered", "raised")
_PATH_STYLES: dict[str, tuple[str, str]] = {
    "constant": (OKABE_ITO["blue"], "o"), "lowered": (OKABE_ITO["vermillion"], "v"),
    "raised": (OKABE_ITO["bluish green"], "^")}
#: Per measure: panel title, axis label, number format and short name in the text.
_HYSTERESIS_LABELS: dict[str, tuple[str, str, str, str]] = {
    "capability_index": ("Capability index", "innovations per agent per year", "{:+.3f}",
                         "capability"),
    "cooperation_index": ("Cooperation index", "share of collaborations crossing",
                          "{:+.3f}", "cooperation"),
    "distinctiveness": ("Distinctiveness", "share of 2018 inter-cluster distance",
                        "{:+.3f}", "distinctiveness"),
    "innovations_total": ("Innovations", "innovations, 2018 to the horizon", "{:+.0f}",
                          "innovations"),
    "ventures_alive": ("Ventures alive", "ventures alive at the horizon", "{:+.1f}",
                       "ventures"),
}


def hysteresis_table(runs: pd.DataFrame) -> pd.DataFrame:
    """End state by coupling path, and each path's effect against the constant path.

    One row per (capability, coupling_after, coupling): the path from ``coupling``
    (before ``switch_year``) to ``coupling_after`` (from then on), labelled
    ``constant``, ``lowered`` or ``raised``; ``n`` runs; for each of
    :data:`HYSTERESIS_MEASURES` the mean with a 95 % t-interval (``*_mean``, ``*_low``,
    ``*_high``); the share of runs in each scenario at the horizon (``share_*``, from the
    indices, paired synergy and thresholds). A path that ends where it started elsewhere
    is compared with the constant path at its final coupling, run by run: each run is
    paired with the constant-path run of the same replicate, seed and other inputs, and
    ``*_effect_mean``, ``*_effect_low``, ``*_effect_high`` are the mean paired
    difference (path minus constant) with its 95 % t-interval over ``pairs`` pairs
    (NaN and 0 pairs on constant rows). An interval that excludes 0 is path dependence.

    Runs whose ``coupling_after`` is missing keep their coupling (a constant path).
    Other varied inputs are pooled within a row, each run still paired with its own
    twin. Raises ``ValueError`` if the runs switch at several years, if no run switches
    coupling, or if a switched path has no constant path to be compared with.
    """
    runs = with_inputs(runs, ("coupling", "capability", "switch_year"))
    require(runs, ("coupling_after", "replicate", *HYSTERESIS_MEASURES))
    years = sorted(runs["switch_year"].unique())
    if len(years) != 1:
        raise ValueError("the hysteresis analysis compares paths switched in one year, but "
                         f"the runs switch in {', '.join(str(int(y)) for y in years)}")
    after = runs["coupling_after"].astype(float)
    runs = runs.assign(coupling_after=after.fillna(runs["coupling"].astype(float)),
                       _scenario=scenarios(runs, known_thresholds(runs)))
    if (runs["coupling_after"] == runs["coupling"]).all():
        raise ValueError("no run switches coupling (coupling_after equals coupling in "
                         "every run): nothing to compare with the constant paths")
    parameters = set(Params.describe()) | {"coupling_after"}
    pair_on = [c for c in runs.columns if c in parameters and c != "coupling"]
    pair_on += [c for c in ("replicate", "seed") if c in runs.columns]
    constant = runs[runs["coupling"] == runs["coupling_after"]]
    rows = []
    for (capability, end, start), group in runs.groupby(
            ["capability", "coupling_after", "coupling"], sort=True):
        path = "constant" if start == end else "lowered" if start > end else "raised"
        row: dict[str, Any] = {"capability": capability, "switch_year": int(years[0]),
                               "coupling_after": end, "coupling": start, "path": path,
                               "n": len(group)}
        for measure in HYSTERESIS_MEASURES:
            mean, low, high = emergence.t_interval(group[measure].to_numpy(dtype=float))
            row |= {f"{measure}_mean": mean, f"{measure}_low": low, f"{measure}_high": high}
        pairs = None
        if path != "constant":
            reference = constant[(constant["capability"] == capability)
                                 & (constant["coupling"] == end)]
            pairs = emergence.paired_differences(group, reference, pair_on,
                                                 HYSTERESIS_MEASURES)
            if pairs.empty:
                raise ValueError(f"the path from coupling {start:g} to {end:g} at "
                                 f"capability {capability:g} has no constant path at "
                                 f"coupling {end:g} (same replicate) to be compared with: "
                                 f"add {end:g} to the coupling grid")
        row["pairs"] = 0 if pairs is None else len(pairs)
        for measure in HYSTERESIS_MEASURES:
            mean, low, high = ((math.nan,) * 3 if pairs is None else
                               emergence.t_interval(pairs[measure].to_numpy(dtype=float)))
            row |= {f"{measure}_effect_mean": mean, f"{measure}_effect_low": low,
                    f"{measure}_effect_high": high}
        shares = group["_scenario"].value_counts(normalize=True)
        for scenario in SCENARIOS:
            row[f"share_{snake(scenario)}"] = float(shares.get(scenario, 0.0))
        rows.append(row)
    table = pd.DataFrame(rows)
    return tidy(table, ["capability", "coupling_after", "coupling"])


def _draw_hysteresis(table: pd.DataFrame, context: FigureContext) -> Figure:
    levels = sorted(table["capability"].unique())
    switched = table[table["path"] != "constant"]
    lines = max(1, int(switched.groupby("capability").size().max()) if len(switched) else 1)
    text_height = 0.2 * (lines + 0.5)
    figure = Figure(figsize=(18, 0.9 + len(levels) * (3.2 + text_height)),
                    layout="constrained")
    subfigures = figure.subfigures(len(levels), 1, hspace=0.04, squeeze=False)[:, 0]
    thresholds = {"capability_index": context.threshold("capability_threshold"),
                  "cooperation_index": context.threshold("cooperation_threshold"),
                  "distinctiveness": context.threshold("distinctiveness_threshold")}
    for rank, (subfigure, capability) in enumerate(zip(subfigures, levels, strict=True)):
        part = table[table["capability"] == capability]
        # paths grouped by the coupling they end at: the constant path first, then the
        # paths that reached it from elsewhere
        part = part.assign(_switched=part["path"] != "constant").sort_values(
            ["coupling_after", "_switched", "coupling"], kind="stable")
        rows = part.to_dict("records")
        groups = np.cumsum([0] + [rows[i]["coupling_after"] != rows[i - 1]["coupling_after"]
                                  for i in range(1, len(rows))])
        x = np.arange(len(rows)) + 0.6 * groups  # a gap between end levels
        labels = [f"{r['coupling']:g}\u2192{r['coupling_after']:g}" for r in rows]
        panels = len(HYSTERESIS_MEASURES) + 1  # the measures and the scenario shares
        # a last column for the legends in every row keeps the panels aligned
        grid = subfigure.add_gridspec(2, panels + 1, height_ratios=[3.2, text_height],
                                      width_ratios=[1.0] * panels + [0.55])
        axes = [subfigure.add_subplot(grid[0, i]) for i in range(panels)]
        for axis, measure in zip(axes, HYSTERESIS_MEASURES, strict=False):
            title, unit, _form, _short = _HYSTERESIS_LABELS[measure]
            for position, row in zip(x, rows, strict=True):
                colour, marker = _PATH_STYLES[row["path"]]
                mean = row[f"{measure}_mean"]
                axis.errorbar([position], [mean],
                              yerr=[[mean - row[f"{measure}_low"]],
                                    [row[f"{measure}_high"] - mean]],
                              fmt=marker, color=colour, markersize=6, capsize=3,
                              elinewidth=1.2)
            if measure in thresholds:
                threshold_line(axis, thresholds[measure], "threshold")
            axis.set_title(title)
            axis.set_ylabel(unit)
            axis.grid(True, axis="y", color="0.9", linewidth=0.6)
        shares = axes[-1]
        bottom = np.zeros(len(rows))
        for scenario in SCENARIOS:
            height = np.array([r[f"share_{snake(scenario)}"] for r in rows])
            shares.bar(x, height, bottom=bottom, width=0.8, color=SCENARIO_COLOURS[scenario],
                       edgecolor="white", linewidth=0.5, label=scenario)
            bottom += height
        shares.set_ylim(0.0, 1.0)
        shares.set_title(f"Scenario at {context.horizon}Q4")
        shares.set_ylabel("share of runs")
        for axis in axes:
            axis.set_xticks(x, labels, fontsize=7)
            axis.set_xlim(x[0] - 0.6, x[-1] + 0.6)
        info = subfigure.add_subplot(grid[0, -1])
        info.axis("off")
        if rank == 0:
            paths = [Line2D([], [], linestyle="none", marker=_PATH_STYLES[p][1],
                            color=_PATH_STYLES[p][0], label=p) for p in _PATHS]
            legend = info.legend(handles=paths, title="coupling path", frameon=False,
                                 loc="upper left", alignment="left", borderaxespad=0.0)
            info.add_artist(legend)
            info.legend(handles=patches(SCENARIOS, SCENARIO_COLOURS), title="scenario",
                        frameon=False, loc="lower left", alignment="left",
                        borderaxespad=0.0)
        text = subfigure.add_subplot(grid[1, :])
        text.axis("off")
        effects = [_effect_line(r) for r in rows if r["path"] != "constant"]
        text.text(0.0, 1.0, "\n".join(effects) or "no path switches coupling here",
                  transform=text.transAxes, ha="left", va="top", fontsize=8)
        subfigure.suptitle(f"capability {capability:g}", fontsize=11, fontweight="bold")
    n_text = span_of_counts(table["n"])
    year = int(table["switch_year"].iloc[0])
    among = f", {context.runs} runs" if context.runs is not None else ""
    figure.suptitle(
        f"{prefix(context.experiment)}End state at {context.horizon}Q4 by coupling path "
        f"(coupling before \u2192 from {year} on): mean and 95 % t-interval over {n_text} "
        f"runs per path{among}\nBelow each row: paired differences, each path minus the "
        "constant path that ends at the same coupling (same seed), with 95 % t-intervals;"
        " * the interval excludes 0: the end state depends on the path (hysteresis)",
        fontsize=12)
    return figure


def _effect_line(row: Mapping[str, Any]) -> str:
    """One switched path's paired differences against its constant path, in words."""
    parts = []
    for measure in HYSTERESIS_MEASURES:
        _title, _unit, form, short = _HYSTERESIS_LABELS[measure]
        mean, low, high = (row[f"{measure}_effect_{s}"] for s in ("mean", "low", "high"))
        if not math.isfinite(mean):
            parts.append(f"{short} n/a")
            continue
        dependent = low > 0.0 or high < 0.0
        parts.append(f"{short} {form.format(mean)} [{form.format(low)}, "
                     f"{form.format(high)}]{'*' if dependent else ''}")
    return (f"{row['coupling']:g} \u2192 {row['coupling_after']:g} minus constant "
            f"{row['coupling_after']:g} ({row['pairs']} pairs):  " + ";  ".join(parts))


def _check_hysteresis(name: str, table: pd.DataFrame) -> None:
    check_labels(name, table["path"], _PATHS)
    expected = np.select([table["coupling"] == table["coupling_after"],
                          table["coupling"] > table["coupling_after"]],
                         ["constant", "lowered"], "raised")
    if (table["path"].to_numpy() != expected).any():
        raise ValueError(f"the {name} table has a path label that does not match "
                         "its coupling and coupling_after")


TABLES: dict[str, Table] = {
    "hysteresis": Table(
        compute=lambda runs, _series: hysteresis_table(runs),
        columns={"capability": "number", "switch_year": "integer",
                 "coupling_after": "number", "coupling": "number", "path": "text",
                 "n": "integer",
                 **{f"{m}_{s}": "number" for m in HYSTERESIS_MEASURES
                    for s in ("mean", "low", "high")},
                 "pairs": "integer",
                 **{f"{m}_effect_{s}": "number" for m in HYSTERESIS_MEASURES
                    for s in ("mean", "low", "high")},
                 **{f"share_{snake(s)}": "number" for s in SCENARIOS}},
        check=_check_hysteresis),
}
"""The table of this analysis."""

DRAWERS: dict[str, Callable[[pd.DataFrame, FigureContext, Companions], Figure]] = {
    "hysteresis": lambda table, context, _extra: _draw_hysteresis(table, context),
}
"""The figure of this analysis, drawn from its table and context."""
