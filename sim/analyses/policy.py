"""The source paper's three strategic directions, alone and combined: what each of the
eight combinations of the switches ``shared_vision`` (1), ``cooperation_programme`` (2)
and ``open_innovation`` (3) does to the end state, against no policy at the same point
and seed.

The design crosses the switches in a [grid] with the points compared (representative
capability x coupling points of the four scenarios' regions, say), so every run with a
policy has a twin without one: same replicate, same seed, same other inputs. Its paired
difference is the policy's effect on that run; the mean over the replicates, with a 95 %
t-interval, is the effect at that point. The transition table counts where each twin
pair ended: the scenario without the policy, and the scenario with it.

Dose and timing: ``programme_boost``, ``open_innovation_boost`` and
``vision_ramp_years`` may be grid axes as well; each row of the tables keeps them. The
switches act from 2018Q1 (docs/ODD.md, section 9) and cost nothing: they are the
directions as the source paper states them. Funded from a start year at a budget, the
directions are the budgeted programmes (:mod:`sim.analyses.programmes`,
:mod:`sim.analyses.programme_timing`), whose tables give an effect per KRW billion; the
effects table here says so in its ``cost`` column rather than assume a cost.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim import emergence
from sim.analyses.context import Companions, FigureContext
from sim.analyses.labels import (
    END_STATE_INDICES,
    INDEX_LABELS,
    known_thresholds,
    letter,
    scenarios,
)
from sim.analyses.panels import prefix
from sim.analyses.tables import Table, check_labels, require, tidy, with_inputs
from sim.experiment.registry import POLICY_SWITCHES
from sim.experiment.style import MARKERS, level_colours
from sim.params import Params
from sim.scenarios import SCENARIOS

__all__ = ["COMBINATIONS", "COST_NOTE", "DIRECTIONS", "DRAWERS", "DOSES", "POINT_KEYS",
           "SWITCHES", "TABLES", "combination_label", "policy_table",
           "policy_transitions_table"]

#: The three switches, in the source paper's order of the strategic directions (declared
#: with the analysis's design requirements).
SWITCHES: tuple[str, ...] = POLICY_SWITCHES
#: Each switch's short name in the combinations' labels.
DIRECTIONS: dict[str, str] = {"shared_vision": "vision",
                              "cooperation_programme": "programme",
                              "open_innovation": "open innovation"}
#: The dose and timing inputs a design may vary alongside the switches.
DOSES: tuple[str, ...] = ("programme_boost", "open_innovation_boost", "vision_ramp_years")
#: The inputs that make a point: each row of the tables is one point and combination.
POINT_KEYS: tuple[str, ...] = ("capability", "coupling", *DOSES)
#: What the effects table says of cost, on every row.
COST_NOTE = ("none: the switches cost nothing; the budgeted programmes "
             "(policy_cost_effectiveness) give effects per KRW billion")


def combination_label(flags: Sequence[bool]) -> str:
    """The label of one combination of the three switches (in :data:`SWITCHES` order):
    ``"none"``, or the directions switched on joined by ``" + "``."""
    on = [DIRECTIONS[name] for name, flag in zip(SWITCHES, flags, strict=True) if flag]
    return " + ".join(on) if on else "none"


#: The eight combinations: none, each direction alone, each pair, all three.
COMBINATIONS: tuple[str, ...] = tuple(
    combination_label(flags) for flags in sorted(
        itertools.product((False, True), repeat=len(SWITCHES)),
        key=lambda flags: (sum(flags), [not f for f in flags])))


def _labelled(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs with every switch and point input as a column (defaults where not
    stored) and their combination, refusing runs without a no-policy combination."""
    runs = with_inputs(runs, (*POINT_KEYS, *SWITCHES))
    require(runs, ("replicate", *END_STATE_INDICES))
    switches = runs[list(SWITCHES)].astype(bool)
    labels = [combination_label(flags) for flags in switches.itertuples(index=False)]
    runs = runs.assign(**{name: switches[name] for name in SWITCHES}, combination=labels)
    if not (runs["combination"] == "none").any():
        raise ValueError("the policy analysis compares each combination with no policy, "
                         "but no run has all three switches off: add false to the switches' "
                         "grid")
    return runs


def _pair_on(runs: pd.DataFrame) -> list[str]:
    """What a policy run shares with its no-policy twin: every input but the switches,
    the replicate and the seed."""
    parameters = set(Params.describe()) - set(SWITCHES)
    keys = [c for c in runs.columns if c in parameters]
    return keys + [c for c in ("replicate", "seed") if c in runs.columns]


def policy_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Each combination's effect on every end-state index, paired with no policy.

    One row per point (:data:`POINT_KEYS`: capability, coupling and the dose and timing
    inputs, defaults where not stored) and combination of the switches (the combination
    label and the three switches as flags); ``n`` runs; per index of
    :data:`sim.analyses.labels.END_STATE_INDICES` the mean over the row's runs
    (``*_mean``) and the paired effect (``*_effect_mean``, ``*_effect_low``,
    ``*_effect_high``): the mean over ``pairs`` pairs of the difference between a run
    and its twin without policy (same replicate, seed and other inputs), with its 95 %
    t-interval. The ``none`` rows have 0 pairs and no effect. ``cost`` is
    :data:`COST_NOTE`: the model records no cost to divide an effect by.

    Other varied inputs are pooled within a row, each run still paired with its own
    twin. Raises ``ValueError`` if no run is without policy, or if a combination at a
    point has no twin to be compared with.
    """
    runs = _labelled(runs)
    pair_on = _pair_on(runs)
    none = runs[runs["combination"] == "none"]
    rows = []
    for keys, group in runs.groupby([*POINT_KEYS, "combination"], sort=False):
        point = dict(zip([*POINT_KEYS, "combination"], keys, strict=True))
        row: dict[str, Any] = {**point,
                               **{name: bool(group[name].iloc[0]) for name in SWITCHES},
                               "n": len(group)}
        for measure in END_STATE_INDICES:
            row[f"{measure}_mean"] = float(group[measure].astype(float).mean())
        pairs = None
        if point["combination"] != "none":
            pairs = emergence.paired_differences(group, none, pair_on, END_STATE_INDICES)
            if pairs.empty:
                where = ", ".join(f"{k} {v:g}" for k, v in point.items() if k in POINT_KEYS)
                raise ValueError(f"the {point['combination']} runs at {where} have no run "
                                 "without policy (same replicate and inputs) to be compared "
                                 "with: cross the switches with every point in the grid")
        row["pairs"] = 0 if pairs is None else len(pairs)
        for measure in END_STATE_INDICES:
            mean, low, high = ((math.nan,) * 3 if pairs is None else
                               emergence.t_interval(pairs[measure].to_numpy(dtype=float)))
            row |= {f"{measure}_effect_mean": mean, f"{measure}_effect_low": low,
                    f"{measure}_effect_high": high}
        row["cost"] = COST_NOTE
        rows.append(row)
    table = pd.DataFrame(rows)
    table["_order"] = table["combination"].map(COMBINATIONS.index)
    table = tidy(table, [*POINT_KEYS, "_order"])
    return table.drop(columns="_order")


def policy_transitions_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Where each pair of twins ended: counts by point, combination, the scenario of
    the run without policy (``from_scenario``) and that of its twin with the policy
    (``to_scenario``).

    One row per point (:data:`POINT_KEYS`), combination and pair of scenarios that
    occurs (pairs that never occur are left out); ``n`` counts the pairs. The ``none``
    rows count the runs without policy by the scenario they ended in (from and to are the
    same), so that the counts add up to the runs. Scenarios are the emergent ones, from
    each run's indices, paired synergy and thresholds. Raises ``ValueError`` like
    :func:`policy_table`.
    """
    runs = _labelled(runs)
    runs = runs.assign(scenario=scenarios(runs, known_thresholds(runs)))
    pair_on = _pair_on(runs)
    none = runs[runs["combination"] == "none"]
    if none.duplicated(pair_on).any():
        raise ValueError("two runs without policy share the pairing keys "
                         f"{', '.join(pair_on)}; cannot pair runs")
    baseline = none[pair_on + ["scenario"]].rename(columns={"scenario": "from_scenario"})
    merged = runs.merge(baseline, on=pair_on, how="left", validate="m:1")
    unpaired = merged["from_scenario"].isna()
    if unpaired.any():
        first = merged[unpaired].iloc[0]
        where = ", ".join(f"{k} {first[k]:g}" for k in POINT_KEYS)
        raise ValueError(f"the {first['combination']} runs at {where} have no run without "
                         "policy (same replicate and inputs) to be compared with: cross the "
                         "switches with every point in the grid")
    merged = merged.rename(columns={"scenario": "to_scenario"})
    counts = (merged.groupby([*POINT_KEYS, "combination", "from_scenario", "to_scenario"],
                             sort=False).size().rename("n").reset_index())
    counts["_order"] = counts["combination"].map(COMBINATIONS.index)
    counts["_from"] = counts["from_scenario"].map(SCENARIOS.index)
    counts["_to"] = counts["to_scenario"].map(SCENARIOS.index)
    counts = tidy(counts, [*POINT_KEYS, "_order", "_from", "_to"])
    return counts.drop(columns=["_order", "_from", "_to"])


# --- the figure -------------------------------------------------------------------------------
def _point_label(row: Mapping[str, Any], varied: Sequence[str]) -> str:
    """A point in words: capability and coupling, and the dose inputs that vary."""
    names = {"capability": "capability", "coupling": "coupling",
             "programme_boost": "programme boost", "open_innovation_boost": "open boost",
             "vision_ramp_years": "ramp years"}
    shown = ["capability", "coupling", *[k for k in DOSES if k in varied]]
    return ", ".join(f"{names[k]} {row[k]:g}" for k in shown)


def _draw_policy(table: pd.DataFrame, context: FigureContext,
                 transitions: pd.DataFrame | None) -> Figure:
    combinations = [c for c in COMBINATIONS if c != "none" and c in set(table["combination"])]
    varied = [k for k in DOSES if table[k].nunique() > 1]
    points = table[list(POINT_KEYS)].drop_duplicates().sort_values(list(POINT_KEYS))
    colours = level_colours(len(points))
    figure = Figure(figsize=(max(16.0, 2.1 * len(combinations) + 4), 10.5),
                    layout="constrained")
    rows = 2 if transitions is not None and combinations else 1
    top, bottom = (figure.subfigures(2, 1, height_ratios=[1.25, 1.0], hspace=0.03)
                   if rows == 2 else (figure, None))
    axes = top.subplots(1, len(END_STATE_INDICES), sharex=True)
    x = np.arange(len(combinations))
    offsets = (np.linspace(-0.3, 0.3, len(points)) if len(points) > 1 else np.zeros(1))
    for i, point in enumerate(points.to_dict("records")):
        mask = np.logical_and.reduce([table[k] == v for k, v in point.items()])
        part = table[mask].set_index("combination")
        for axis, measure in zip(axes, END_STATE_INDICES, strict=True):
            present = [c for c in combinations if c in part.index]
            if not present:
                continue
            position = x[[combinations.index(c) for c in present]] + offsets[i]
            mean = part.loc[present, f"{measure}_effect_mean"].to_numpy(dtype=float)
            low = part.loc[present, f"{measure}_effect_low"].to_numpy(dtype=float)
            high = part.loc[present, f"{measure}_effect_high"].to_numpy(dtype=float)
            axis.errorbar(position, mean, yerr=[mean - low, high - mean], fmt=MARKERS[
                i % len(MARKERS)], color=colours[i], markersize=5, capsize=2.5,
                elinewidth=1.1, label=_point_label(point, varied))
    titles = {"capability_index": "Capability index", "cooperation_index": "Cooperation index",
              "distinctiveness": "Distinctiveness", "innovations_total": "Innovations"}
    for axis, measure in zip(axes, END_STATE_INDICES, strict=True):
        axis.axhline(0.0, color="0.3", linewidth=0.8, zorder=0)
        axis.set_title(f"{titles[measure]}: policy minus none")
        axis.set_ylabel(INDEX_LABELS[measure], fontsize=8)
        axis.set_xticks(x, combinations, rotation=35, ha="right", fontsize=8)
        axis.grid(True, axis="y", color="0.9", linewidth=0.6)
    handles, labels = axes[0].get_legend_handles_labels()
    top.legend(handles, labels, loc="outside right upper", title="point", frameon=False,
               fontsize=7)
    if bottom is not None and transitions is not None:
        _draw_transitions(bottom, transitions, combinations)
    pairs = table.loc[table["combination"] != "none", "pairs"]
    pairs_text = (f"{pairs.min()}" if len(pairs) and pairs.min() == pairs.max()
                  else f"{pairs.min()}-{pairs.max()}" if len(pairs) else "0")
    among = f", {context.runs} runs" if context.runs is not None else ""
    figure.suptitle(
        f"{prefix(context.experiment)}The strategic directions at {context.horizon}Q4, "
        f"alone and combined{among}: each run minus its twin without policy (same seed "
        f"and inputs), mean and 95 % t-interval over {pairs_text} pairs\nThe switches act "
        "from 2018Q1 (the budgeted programmes start in a year of their own); cost: "
        f"{table['cost'].iloc[0]}", fontsize=11)
    return figure


def _draw_transitions(container: Any, transitions: pd.DataFrame,
                      combinations: Sequence[str]) -> None:
    """One matrix per combination: pairs of twins by the scenario without the policy
    (rows) and with it (columns), pooled over the points."""
    axes = container.subplots(1, len(combinations), squeeze=False)[0]
    letters = [letter(s) for s in SCENARIOS]
    for axis, combination in zip(axes, combinations, strict=True):
        part = transitions[transitions["combination"] == combination]
        matrix = (part.groupby(["from_scenario", "to_scenario"])["n"].sum()
                  .unstack(fill_value=0)
                  .reindex(index=list(SCENARIOS), columns=list(SCENARIOS), fill_value=0))
        counts = matrix.to_numpy(dtype=float)
        axis.imshow(counts, cmap="Greys", vmin=0, vmax=max(1.0, counts.max()) * 1.6)
        for i, j in itertools.product(range(len(SCENARIOS)), repeat=2):
            value = int(counts[i, j])
            axis.text(j, i, f"{value}" if value else "\u00b7", ha="center", va="center",
                      fontsize=8, fontweight="bold" if i == j else "normal")
        axis.set_xticks(range(len(SCENARIOS)), letters, fontsize=7)
        axis.set_yticks(range(len(SCENARIOS)), letters, fontsize=7)
        axis.set_title(combination.replace(" + ", " +\n"), fontsize=8)
        axis.set_xlabel("with the policy", fontsize=8)
        axis.set_ylabel("without", fontsize=8)
    container.suptitle(
        "Scenario transitions, pooled over the points: pairs of twins by the scenario "
        "without the policy (rows) and with it (columns); diagonal: unchanged.  "
        + "; ".join(f"{short} = {name}" for short, name in zip(letters, SCENARIOS,
                                                               strict=True)),
        fontsize=9)


def _check_policy(name: str, table: pd.DataFrame) -> None:
    check_labels(name, table["combination"], COMBINATIONS)
    expected = [combination_label(flags) for flags in
                table[list(SWITCHES)].itertuples(index=False)]
    if (table["combination"].to_numpy() != np.array(expected, dtype=object)).any():
        raise ValueError(f"the {name} table has a combination label that does not match "
                         "its switches")


def _check_transitions(name: str, table: pd.DataFrame) -> None:
    check_labels(name, table["combination"], COMBINATIONS)
    check_labels(name, table["from_scenario"], SCENARIOS)
    check_labels(name, table["to_scenario"], SCENARIOS)
    none = table[table["combination"] == "none"]
    if (none["from_scenario"] != none["to_scenario"]).any():
        raise ValueError(f"the {name} table moves runs without policy between scenarios: "
                         "their rows must have from_scenario equal to to_scenario")


_POINT_COLUMNS = {"capability": "number", "coupling": "number", "programme_boost": "number",
                  "open_innovation_boost": "number", "vision_ramp_years": "integer"}

TABLES: dict[str, Table] = {
    "policy": Table(
        compute=lambda runs, _series: policy_table(runs),
        columns={**_POINT_COLUMNS, "combination": "text",
                 **{name: "flag" for name in SWITCHES}, "n": "integer",
                 **{f"{m}_mean": "number" for m in END_STATE_INDICES},
                 "pairs": "integer",
                 **{f"{m}_effect_{s}": "number" for m in END_STATE_INDICES
                    for s in ("mean", "low", "high")},
                 "cost": "text"},
        check=_check_policy),
    "policy_transitions": Table(
        compute=lambda runs, _series: policy_transitions_table(runs),
        columns={**_POINT_COLUMNS, "combination": "text", "from_scenario": "text",
                 "to_scenario": "text", "n": "integer"},
        check=_check_transitions),
}
"""The tables of this analysis: the paired effects, and the scenario transitions."""

DRAWERS: dict[str, Callable[[pd.DataFrame, FigureContext, Companions], Figure]] = {
    "policy": lambda table, context, extra: _draw_policy(
        table, context, extra.get("policy_transitions")),
}
"""The figure of this analysis, drawn from its table, context and transitions."""
