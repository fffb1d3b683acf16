"""Which programme mix holds across futures: regret, satisficing and the futures where each
mix fails (robust decision making: Lempert, Popper & Bankes 2003; Kwakkel 2017).

A **future** is every input the design varies besides the programme budgets (coupling,
capability, the attention and coupling-cost constants, a posterior particle's fitted
constants): the design lists every mix (and no programme) in every future, at the same
seed, so the mixes are compared within each future. Per future and mix:

* ``gain``: extra innovations 2018Q1 to the horizon over the run without programmes of
  that future, at the clusters' full size (the run's count divided by its scale);
* ``regret``: the best gain of any mix in that future (no programme counts, with gain 0)
  minus the mix's own gain; 0 for the best mix;
* the **goal** (satisficing): the run ends as 'Loosely coupled synergy' (so its paired
  synergy is positive) and neither cluster's capability stock ends below that of the run
  without programmes. The second half is strict: a programme whose effect on a stock is
  nil fails it in about half the futures by the pair's noise alone, so the share of
  futures ending in synergy is reported beside it.

The table gives, per mix, the mean gain with its 95 % t-interval over the futures, the
median, 90th-percentile and largest regret, the share of futures meeting the goal with
its Wilson interval, the mix's rank by 90th-percentile regret and by that share, and,
found by PRIM over the futures' inputs, the box of futures where the mix misses the goal.
A companion table lists each mix's box, input by input.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim import emergence
from sim.analyses.context import Companions, FigureContext
from sim.analyses.discovery import prim_box, wilson_interval
from sim.analyses.panels import prefix
from sim.analyses.programmes import BUDGETS, NONE, programme_labels
from sim.analyses.tables import Table, design_inputs, require, tidy, with_inputs
from sim.experiment.style import OKABE_ITO
from sim.params import Params
from sim.scenarios import LOOSELY_COUPLED_SYNERGY

__all__ = ["DRAWERS", "TABLES", "future_outcomes", "robustness_boxes_table",
           "robustness_table"]

_NOT_FUTURE = {"seed", "replicate", "run_id", *BUDGETS}
_STOCKS = ("capability_stock_daedeok", "capability_stock_pangyo")
NEVER_FAILS = "never misses the goal"
"""``fails_where`` of a mix that meets the goal in every future."""
REGRET_QUANTILE = 0.9
"""The regret a mix is ranked by: its 90th percentile over the futures (the largest
regret of a few hundred noisy futures says more about one seed than about the mix)."""


def future_inputs(runs: pd.DataFrame) -> list[str]:
    """The inputs that make a future: every model input the design varies within a
    replicate, budgets aside."""
    inputs = [c for c in runs.columns if c in Params.describe() and c not in _NOT_FUTURE]
    return design_inputs(runs, inputs)


def future_outcomes(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run: its future (an integer, in the order futures first appear), its
    mix, gain, regret and whether it meets the goal. Raises ``ValueError`` when a
    future lacks its run without programmes or a mix."""
    require(runs, ("run_id", "replicate", "seed", "scale", "scenario", "innovations_total",
                   *_STOCKS))
    runs = with_inputs(runs, (*BUDGETS, "scale"))
    mix, _budget = programme_labels(runs)
    inputs = future_inputs(runs)
    keys = [*inputs, "replicate"]
    future = runs.groupby(keys, sort=False, dropna=False).ngroup()
    runs = runs.assign(mix=mix, future=future)
    reference = runs[runs["mix"] == NONE].set_index("future")
    if reference.index.duplicated().any():
        raise ValueError("two runs without programmes share a future")
    missing = sorted(set(runs["future"]) - set(reference.index))
    if missing:
        raise ValueError(f"future {missing[0]} has no run without programmes: every future "
                         "needs its point with every budget at 0")
    mixes = set(runs["mix"])
    per_future = runs.groupby("future")["mix"].nunique()
    if (per_future < len(mixes)).any():
        raise ValueError(f"future {int(per_future.idxmin())} lacks a mix: every mix must "
                         "be listed in every future")
    base = reference.loc[runs["future"]]
    gain = ((runs["innovations_total"].to_numpy(float)
             - base["innovations_total"].to_numpy(float)) / runs["scale"].to_numpy(float))
    kept = np.ones(len(runs), dtype=bool)
    for stock in _STOCKS:
        kept &= runs[stock].to_numpy(float) >= base[stock].to_numpy(float)
    synergy = runs["scenario"].to_numpy() == LOOSELY_COUPLED_SYNERGY
    outcomes = pd.DataFrame({
        "future": runs["future"].to_numpy(), "mix": runs["mix"].to_numpy(), "gain": gain,
        "synergy": synergy, "goal": synergy & kept})
    best = outcomes.groupby("future")["gain"].transform("max")
    outcomes["regret"] = best - outcomes["gain"]
    for name in inputs:
        outcomes[name] = runs[name].to_numpy()
    return outcomes


def robustness_table(runs: pd.DataFrame, series: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per mix: futures, gain (mean and 95 % t-interval), regret (median, 90th
    percentile, largest), the share of futures ending in 'Loosely coupled synergy'
    (``synergy_share``: the goal's first half alone), goal share with its Wilson
    interval, the two ranks, and the
    PRIM box of the futures where it misses the goal (``fails_where``, with the box's
    coverage and density; empty when it never misses)."""
    outcomes = future_outcomes(runs)
    inputs = future_inputs(with_inputs(runs, BUDGETS))
    rows = []
    for mix, part in outcomes.groupby("mix", sort=True):
        mean, low, high = emergence.t_interval(part["gain"].to_numpy(float))
        met = int(part["goal"].sum())
        share_low, share_high = wilson_interval(met, len(part))
        fails, coverage, density = _failing_box(part, inputs)
        rows.append({"mix": mix, "futures": len(part), "gain_mean": mean, "gain_low": low,
                     "gain_high": high, "regret_median": float(part["regret"].median()),
                     "regret_p90": float(part["regret"].quantile(REGRET_QUANTILE)),
                     "regret_max": float(part["regret"].max()),
                     "synergy_share": float(part["synergy"].mean()),
                     "goal_share": met / len(part), "goal_low": share_low,
                     "goal_high": share_high, "fails_where": fails,
                     "box_coverage": coverage, "box_density": density, "runs": len(runs)})
    table = pd.DataFrame(rows)
    # rank 1 is the most robust; ties share the better rank
    table["rank_regret"] = table["regret_p90"].rank(method="min").astype("int64")
    table["rank_goal"] = table["goal_share"].rank(method="min",
                                                  ascending=False).astype("int64")
    return tidy(table, ["mix"])


def _failing_box(part: pd.DataFrame, inputs: list[str]) -> tuple[str, float, float]:
    fails = ~part["goal"].to_numpy(bool)
    if not fails.any() or not inputs:
        return NEVER_FAILS, float("nan"), float("nan")
    result = prim_box(part[inputs], fails)
    step = result.reported
    row = result.trajectory.iloc[step]
    return result.describe(step), float(row["coverage"]), float(row["density"])


def robustness_boxes_table(runs: pd.DataFrame, series: pd.DataFrame | None = None
                           ) -> pd.DataFrame:
    """Each mix's box of failing futures, one row per input: ``low``, ``high``, the
    explored range and whether the box narrows it (mixes that never fail: no rows)."""
    outcomes = future_outcomes(runs)
    inputs = future_inputs(with_inputs(runs, BUDGETS))
    rows = []
    for mix, part in outcomes.groupby("mix", sort=True):
        fails = ~part["goal"].to_numpy(bool)
        if not fails.any() or not inputs:
            continue
        rows += [{"mix": mix, **limits, "runs": len(runs)}
                 for limits in prim_box(part[inputs], fails).box_limits()]
    columns = ["mix", "parameter", "low", "high", "explored_low", "explored_high",
               "restricted", "box", "runs"]
    return tidy(pd.DataFrame(rows, columns=columns), ["mix", "parameter"])


def _draw_robustness(table: pd.DataFrame, context: FigureContext,
                     companions: Companions) -> Figure:
    table = table.sort_values("regret_p90", ascending=False)
    mixes = list(table["mix"])
    y = np.arange(len(mixes))
    figure = Figure(figsize=(13, 1.8 + 0.45 * len(mixes)), layout="constrained")
    gain_axis, regret_axis, goal_axis = figure.subplots(1, 3, sharey=True)
    blue, orange = OKABE_ITO["blue"], OKABE_ITO["orange"]
    gain_axis.errorbar(table["gain_mean"], y, xerr=_spread(table, "gain"), fmt="o",
                       color=blue, capsize=2)
    gain_axis.axvline(0.0, color="0.5", linewidth=0.8)
    gain_axis.set_title("extra innovations over no programme\n(mean, 95 % t-interval over "
                        "futures)", fontsize="medium")
    regret_axis.barh(y, table["regret_p90"], color=orange, alpha=0.8, label="90th percentile")
    regret_axis.plot(table["regret_median"], y, "|", color="black", markersize=12,
                     label="median")
    regret_axis.set_title("regret per future:\nbest mix's gain minus this mix's",
                          fontsize="medium")
    regret_axis.legend(loc="lower right", frameon=False, fontsize="small")
    goal_axis.errorbar(table["goal_share"], y, xerr=_spread(table, "goal", "share"),
                       fmt="s", color=blue, capsize=2)
    goal_axis.plot(table["synergy_share"], y, "|", color="black", markersize=12,
                   label="synergy alone")
    goal_axis.legend(loc="lower right", frameon=False, fontsize="small")
    goal_axis.set_xlim(0.0, 1.0)
    goal_axis.set_title("share of futures meeting the goal (Wilson 95 %):\nsynergy, and "
                        "no stock below no programme", fontsize="medium")
    gain_axis.set_yticks(y, mixes)
    for axis in (gain_axis, regret_axis, goal_axis):
        axis.grid(True, axis="x", color="0.9", linewidth=0.6)
    futures = int(table["futures"].max())
    by_regret = table.loc[table["rank_regret"] == 1, "mix"].tolist()
    by_goal = table.loc[table["rank_goal"] == 1, "mix"].tolist()
    figure.suptitle(f"{prefix(context.experiment)}Which mix holds across {futures} futures "
                    f"to {context.horizon}: least regret {', '.join(by_regret)}; most often "
                    f"meets the goal {', '.join(by_goal)}")
    return figure


def _spread(table: pd.DataFrame, name: str, centre: str = "mean") -> np.ndarray:
    """Error bar lengths below and above ``NAME_CENTRE`` (an interval that is the point
    itself may sit a rounding error beside it)."""
    middle = table[f"{name}_{centre}"].to_numpy(float)
    return np.clip([middle - table[f"{name}_low"].to_numpy(float),
                    table[f"{name}_high"].to_numpy(float) - middle], 0.0, None)


TABLES: dict[str, Table] = {
    "policy_robustness": Table(
        compute=robustness_table,
        columns={"mix": "text", "futures": "integer", "gain_mean": "number",
                 "gain_low": "number", "gain_high": "number", "regret_median": "number",
                 "regret_p90": "number", "regret_max": "number",
                 "synergy_share": "number", "goal_share": "number",
                 "goal_low": "number", "goal_high": "number", "fails_where": "text",
                 "box_coverage": "number", "box_density": "number", "runs": "integer",
                 "rank_regret": "integer", "rank_goal": "integer"},
        runs=lambda table: table["runs"].unique()),
    "policy_robustness_boxes": Table(
        compute=robustness_boxes_table,
        columns={"mix": "text", "parameter": "text", "low": "number", "high": "number",
                 "explored_low": "number", "explored_high": "number", "restricted": "flag",
                 "box": "flag", "runs": "integer"},
        runs=lambda table: table["runs"].unique()),
}
"""The tables of this analysis: each mix's robustness, and its box of failing futures."""

DRAWERS: dict[str, Callable[[pd.DataFrame, FigureContext, Companions], Figure]] = {
    "policy_robustness": _draw_robustness,
}
"""The figure of this analysis."""
