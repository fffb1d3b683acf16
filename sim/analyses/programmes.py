"""What a budgeted programme buys: each programme mix at each annual budget against the
run without programmes of the same state, replicate and seed (docs/ODD.md, 7.20).

A run's **programme** is the set of programmes its budgets fund (``NAME_budget`` above
0, joined by ``+``, e.g. ``incubation+spin_off``), its **budget** their total, in KRW
billion a year, and its **start** the year they start (``NAME_start``; the programmes of
one mix start together); its **state** is every other input the design varies (coupling,
capability). The start year belongs to the programme, not the state: the run without
programmes is the reference of every start year. Each run with a programme is paired
with the run of the same state, replicate and seed without one (common random
numbers: both share their 2018 state and draw the same numbers until the programme first
acts), and the table gives, per state,
programme and budget, the mean paired difference of each outcome a ministry reads, with
its 95 % t-interval over the pairs:

* totals, so growth is never hidden by a per-agent index: ``innovations_total``
  (2018Q1 to the horizon), ``ventures_alive`` and ``scale_ups``, divided by the run's
  scale so that they read at the clusters' full size, like the money;
* the scenario's axes and the clusters: ``cooperation_index``, ``distinctiveness``,
  ``capability_index``, ``capability_stock_daedeok``, ``capability_stock_pangyo``;
* the money: ``programme_spent`` (KRW billion, not a difference: what the programme
  spent) and ``innovations_per_bn``, each pair's extra innovations over the money its
  programme spent (pairs whose programme spent nothing, such as inter-cluster projects
  at coupling 0, are left out of it and counted in ``n``).

The design lists the programmes in a [points] file (or crosses budgets in a [grid]),
with the point without programmes for every state; the registry checks it before any run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim import emergence
from sim.analyses.context import Companions, FigureContext
from sim.analyses.panels import prefix
from sim.analyses.tables import Table, design_inputs, require, tidy, with_inputs
from sim.experiment.style import LINE_COLOURS
from sim.params import PROGRAMME_NAMES, Params

__all__ = ["BUDGETS", "COLUMNS", "DRAWERS", "MEASURES", "NONE", "STARTS", "TABLES",
           "check_cost_effectiveness", "check_programmes", "cost_effectiveness_table",
           "programme_labels",
           "programme_starts"]

BUDGETS: tuple[str, ...] = tuple(f"{name}_budget" for name in PROGRAMME_NAMES)
"""The inputs that fund a programme."""

STARTS: tuple[str, ...] = tuple(f"{name}_start" for name in PROGRAMME_NAMES)
"""The inputs that say when a programme starts: attributes of the programme, not of the
state it is compared in."""

NONE = "none"
"""The programme label of a run that funds none: the reference of every pair."""

MEASURES: dict[str, str] = {
    "innovations_total": "extra innovations, 2018-horizon",
    "innovations_per_bn": "extra innovations per KRW billion spent",
    "ventures_alive": "extra ventures alive at the horizon",
    "scale_ups": "extra scale-ups, 2018-horizon",
    "cooperation_index": "change in the cooperation index",
    "distinctiveness": "change in distinctiveness",
    "capability_index": "change in the capability index",
    "capability_stock_daedeok": "change in Daedeok's capability stock",
    "capability_stock_pangyo": "change in Pangyo's capability stock",
    "programme_spent": "KRW billion spent (not a difference)",
}
"""Every measure of the table, in order, and what it is."""

_DIFFERENCES = ("innovations_total", "ventures_alive", "scale_ups", "cooperation_index",
                "distinctiveness", "capability_index", "capability_stock_daedeok",
                "capability_stock_pangyo")
_COUNTS = ("innovations_total", "ventures_alive", "scale_ups")
_NOT_STATE = {"seed", "replicate", "run_id", *BUDGETS, *STARTS}
_DRAWN = ("innovations_per_bn", "ventures_alive", "cooperation_index")


def programme_labels(runs: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each run's programme (the funded programmes joined by ``+``, or :data:`NONE`)
    and its total annual budget in KRW billion."""
    runs = with_inputs(runs, BUDGETS)
    funded = runs[list(BUDGETS)].to_numpy(dtype=float) > 0
    names = np.array(PROGRAMME_NAMES)
    labels = ["+".join(names[row]) or NONE for row in funded]
    return (pd.Series(labels, index=runs.index),
            runs[list(BUDGETS)].sum(axis=1).astype(float))


def programme_starts(runs: pd.DataFrame) -> pd.Series:
    """Each run's start year: that of the programmes it funds (0 for a run without
    programmes). Raises ``ValueError`` for a run whose funded programmes start in
    different years (the table would not know which start its effect belongs to)."""
    runs = with_inputs(runs, (*BUDGETS, *STARTS))
    funded = runs[list(BUDGETS)].to_numpy(dtype=float) > 0
    starts = runs[list(STARTS)].to_numpy(dtype=float)
    first = np.where(funded, starts, np.inf).min(axis=1)
    last = np.where(funded, starts, -np.inf).max(axis=1)
    mixed = funded.any(axis=1) & (first != last)
    if mixed.any():
        row = runs[mixed].iloc[0]
        named = ", ".join(f"{n}={int(row[n])}" for n, f in zip(STARTS, funded[mixed][0],
                                                                strict=True) if f)
        raise ValueError(f"a run funds programmes that start in different years ({named}): "
                         "give the programmes of one mix one start year")
    return pd.Series(np.where(funded.any(axis=1), first, 0).astype(int), index=runs.index)


def _states(runs: pd.DataFrame) -> tuple[list[str], pd.Series]:
    inputs = [c for c in runs.columns if c in Params.describe() and c not in _NOT_STATE]
    varied = design_inputs(runs, inputs)
    if not varied:
        return varied, pd.Series("as calibrated", index=runs.index)
    return varied, runs[varied].apply(
        lambda row: ", ".join(f"{name}={row[name]:g}" if isinstance(row[name], float)
                              else f"{name}={row[name]}" for name in varied), axis=1)


def cost_effectiveness_table(runs: pd.DataFrame, series: pd.DataFrame | None = None
                             ) -> pd.DataFrame:
    """Per state, programme, budget, start year and measure: the number of pairs ``n``,
    the mean paired difference (``programme_spent``: the mean spent) and its 95 %
    t-interval, and ``runs``, every run behind the table. Raises ``ValueError`` when a state has no
    run without programmes."""
    require(runs, ("run_id", "replicate", "seed", *_DIFFERENCES, "programme_spent"))
    runs = with_inputs(runs, (*BUDGETS, *STARTS, "scale"))
    varied, state = _states(runs)
    programme, budget = programme_labels(runs)
    runs = runs.assign(state=state, programme=programme, budget=budget,
                       start=programme_starts(runs))
    reference = runs[runs["programme"] == NONE]
    missing = sorted(set(runs["state"]) - set(reference["state"]))
    if missing:
        raise ValueError(f"no run without programmes at {missing[0]}: every state needs "
                         "its point with every budget at 0")
    treated = runs[runs["programme"] != NONE]
    pair_on = ["state", "replicate", "seed"]
    differences = _pairs(treated, reference, pair_on)
    rows = []
    for (state_label, label, total, start), pairs in differences.groupby(
            ["state", "programme", "budget", "start"], sort=True):
        for measure in MEASURES:
            values = pairs[measure].to_numpy(dtype=float)
            mean, low, high = emergence.t_interval(values)
            rows.append({"state": state_label, "programme": label, "budget": total,
                         "start": int(start), "measure": measure,
                         "n": int(np.isfinite(values).sum()),
                         "mean": mean, "low": low, "high": high, "runs": len(runs)})
    return tidy(pd.DataFrame(rows), ["state", "programme", "budget", "start", "measure"])


def _pairs(treated: pd.DataFrame, reference: pd.DataFrame, pair_on: list[str]
           ) -> pd.DataFrame:
    """One row per treated run: its programme, budget, money spent, each measure's
    difference from its reference run and the extra innovations per KRW billion."""
    if reference.duplicated(pair_on).any():
        raise ValueError("two runs without programmes share a state, replicate and seed")
    merged = treated.merge(reference[[*pair_on, *_DIFFERENCES]], on=pair_on, how="inner",
                           suffixes=("", "_reference"), validate="m:1")
    pairs = merged[[*pair_on, "programme", "budget", "start", "programme_spent"]].copy()
    for measure in _DIFFERENCES:
        pairs[measure] = (merged[measure].astype(float)
                          - merged[f"{measure}_reference"].astype(float))
        if measure in _COUNTS:  # read at the clusters' full size, like the money
            pairs[measure] /= merged["scale"].astype(float)
    spent = pairs["programme_spent"].astype(float)
    pairs["innovations_per_bn"] = np.where(spent > 0, pairs["innovations_total"]
                                           / spent.where(spent > 0), np.nan)
    return pairs


def _draw_cost_effectiveness(table: pd.DataFrame, context: FigureContext,
                             companions: Companions) -> Figure:
    states = sorted(table["state"].unique())
    programmes = sorted(table["programme"].unique())
    budgets = sorted(table["budget"].unique())
    figure = Figure(figsize=(13, 2.2 + 0.42 * len(programmes) * len(states)),
                    layout="constrained")
    axes = figure.subplots(len(states), len(_DRAWN), squeeze=False, sharey="row")
    offsets = np.linspace(-0.25, 0.25, len(budgets)) if len(budgets) > 1 else [0.0]
    for row, state in enumerate(states):
        for column, measure in enumerate(_DRAWN):
            axis = axes[row, column]
            part = table[(table["state"] == state) & (table["measure"] == measure)]
            for offset, budget, colour in zip(offsets, budgets, LINE_COLOURS, strict=False):
                at = part[part["budget"] == budget].set_index("programme")
                y = [programmes.index(p) + offset for p in at.index]
                axis.errorbar(at["mean"], y, xerr=[at["mean"] - at["low"],
                                                   at["high"] - at["mean"]],
                              fmt="o", color=colour, markersize=4, capsize=2,
                              label=f"{budget:g} KRW bn a year")
            axis.axvline(0.0, color="0.5", linewidth=0.8)
            axis.set_yticks(range(len(programmes)), programmes)
            axis.grid(True, axis="x", color="0.9", linewidth=0.6)
            title = MEASURES[measure]
            axis.set_title(title if len(states) == 1 else f"{state}\n{title}",
                           fontsize="medium")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", frameon=False,
                  ncols=len(budgets), title="annual budget of the programme (mix)")
    pairs = int(table[table["measure"] == "innovations_total"]["n"].max())
    figure.suptitle(f"{prefix(context.experiment)}What a programme buys by "
                    f"{context.horizon}: each programme against the same runs without one, "
                    f"mean and 95 % t-interval over {pairs} paired runs")
    return figure


def check_programmes(name: str, labels: pd.Series, *, none: bool = False) -> None:
    """Refuse a table whose programme labels name a programme this model does not have
    (or :data:`NONE`, unless ``none``)."""
    for label in labels.unique():
        parts = str(label).split("+")
        if label == NONE and none:
            continue
        if label == NONE or not set(parts) <= set(PROGRAMME_NAMES):
            raise ValueError(f"the {name} table has an unknown programme {label!r}")


def check_cost_effectiveness(name: str, table: pd.DataFrame) -> None:
    """Refuse a table with a measure or programme this analysis does not know."""
    unknown = sorted(set(table["measure"]) - set(MEASURES))
    if unknown:
        raise ValueError(f"the {name} table has unknown measures {', '.join(unknown)}; "
                         f"expected {', '.join(MEASURES)}")
    check_programmes(name, table["programme"])


COLUMNS: dict[str, str] = {
    "state": "text", "programme": "text", "budget": "number", "start": "integer",
    "measure": "text", "n": "integer", "mean": "number", "low": "number",
    "high": "number", "runs": "integer"}
"""The columns of the cost-effectiveness table and their kinds."""

TABLES: dict[str, Table] = {
    "policy_cost_effectiveness": Table(
        compute=cost_effectiveness_table,
        columns=COLUMNS,
        check=check_cost_effectiveness, runs=lambda table: table["runs"].unique()),
}
"""The table of this analysis: each programme's paired effects and cost-effectiveness."""

DRAWERS: dict[str, Callable[[pd.DataFrame, FigureContext, Companions], Figure]] = {
    "policy_cost_effectiveness": _draw_cost_effectiveness,
}
"""The figure of this analysis."""
