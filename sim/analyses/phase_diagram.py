"""The phase diagram: the emergent scenario by coupling and capability, what the inputs
alone explain of it, and how it moves with the classification thresholds.

One experiment (``analysis = "phase_diagram"``) draws two figures from the same runs:

* ``phase_diagram`` (:func:`phase_diagram_table`): the majority scenario per cell and the
  share of each scenario, with its companion table ``phase_diagram_emergence``
  (:func:`emergence_table`), written in words under the title;
* ``threshold_sensitivity`` (:func:`threshold_table`): the majority per cell again with
  each threshold moved by -25 % and +25 %.

Runs high in capability and cooperation are split by their paired synergy
(:func:`sim.scenarios.classify`); moving a threshold reclassifies a run with the paired
synergy it stored, or over its twin at coupling 0 in the same runs
(:func:`sim.analyses.labels.paired_synergies`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import cm
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim import emergence
from sim.analyses.context import Companions, FigureContext, span
from sim.analyses.labels import (
    FACTORS,
    THRESHOLD_NAMES,
    THRESHOLD_UNITS,
    THRESHOLDS,
    coupling_types,
    known_thresholds,
    majority,
    scenarios,
    snake,
)
from sim.analyses.panels import (
    cells,
    certainty_colourbar,
    describe,
    label_axes,
    majority_map,
    patches,
    prefix,
    span_of_counts,
)
from sim.analyses.tables import Table, check_labels, require, tidy, with_inputs
from sim.experiment.style import COUPLING_TYPE_COLOURS, SCENARIO_COLOURS
from sim.scenarios import (
    COUPLED_WITHOUT_SYNERGY,
    COUPLING_TYPES,
    LOOSELY_COUPLED_SYNERGY,
    SCENARIOS,
)

__all__ = ["DRAWERS", "FIXED_RULE", "TABLES", "emergence_table", "phase_diagram_table",
           "threshold_table"]

#: Cut points (coupling, capability) of the input-only rule an earlier version of the
#: phase diagram was summarised by; the emergence table scores it for comparison.
FIXED_RULE: tuple[float, float] = (0.25, 0.45)

#: The emergent indices whose share explained by the inputs the emergence table reports.
_EMERGENCE_INDICES: tuple[str, ...] = ("capability_index", "cooperation_index",
                                       "distinctiveness")
_EMERGENCE_QUANTITIES: tuple[str, ...] = (
    *(f"r2_{design}" for design in emergence.DESIGNS),
    *(f"{rule}_{what}" for rule in ("best_rule", "fixed_rule")
      for what in ("accuracy", "coupling_cut", "capability_cut")))


# --- tables ------------------------------------------------------------------------------------
def phase_diagram_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (coupling, capability) cell: n, the share of each scenario, the
    majority scenario (ties go to the first in :data:`SCENARIOS` order), its share
    (certainty) and the means of the capability and cooperation indices and of
    distinctiveness. Other varied parameters, if any, are pooled within a cell."""
    runs = with_inputs(runs, ("coupling", "capability"))
    require(runs, ("scenario", "capability_index", "cooperation_index", "distinctiveness"))
    table = majority(runs, ["coupling", "capability"], runs["scenario"], SCENARIOS,
                     share_columns=True)
    means = (runs.groupby(["coupling", "capability"], sort=True)
             [["capability_index", "cooperation_index", "distinctiveness"]].mean()
             .add_prefix("mean_").reset_index())
    table = table.merge(means, on=["coupling", "capability"], how="left", validate="1:1")
    return tidy(table, ["coupling", "capability"])


def threshold_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Majority per cell when each threshold is moved by -25 % and +25 %.

    One row per (threshold, factor, coupling, capability). The capability and
    cooperation thresholds reclassify the scenario (:func:`sim.scenarios.classify`); the
    distinctiveness threshold reclassifies the Orton & Weick coupling type
    (:func:`sim.scenarios.coupling_type`), so its rows hold coupling types. ``changed``
    says whether the majority differs from the one at factor 1.0.
    """
    runs = with_inputs(runs, ("coupling", "capability"))
    require(runs, ("capability_index", "cooperation_index", "distinctiveness"))
    base = known_thresholds(runs)
    keys = ["coupling", "capability"]
    frames = []
    for threshold in THRESHOLDS:
        baseline = None
        for factor in FACTORS:
            moved = base.copy()
            moved[threshold] = base[threshold] * factor
            if threshold == "distinctiveness_threshold":
                labels = coupling_types(runs, moved)
                categories, kind = COUPLING_TYPES, "coupling type"
            else:
                labels = scenarios(runs, moved)
                categories, kind = SCENARIOS, "scenario"
            by_cell = majority(runs, keys, labels, categories)
            value = moved[threshold].groupby([runs[k] for k in keys], sort=True).mean()
            by_cell = by_cell.merge(value.rename("threshold_value").reset_index(), on=keys,
                                    validate="1:1")
            by_cell.insert(0, "classification", kind)
            by_cell.insert(0, "factor", factor)
            by_cell.insert(0, "threshold", threshold)
            if factor == 1.0:
                baseline = by_cell.set_index(keys)["majority"]
            frames.append(by_cell)
        for i in range(len(frames) - len(FACTORS), len(frames)):
            reference = baseline.reindex(pd.MultiIndex.from_frame(frames[i][keys]))
            frames[i]["changed"] = frames[i]["majority"].to_numpy() != reference.to_numpy()
    table = pd.concat(frames, ignore_index=True)
    columns = ["threshold", "factor", "threshold_value", "coupling", "capability",
               "classification", "n", "majority", "certainty", "changed"]
    return tidy(table[columns], ["threshold", "factor", "coupling", "capability"])


def emergence_table(runs: pd.DataFrame) -> pd.DataFrame:
    """How much of the phase diagram its inputs alone explain, one row per quantity.

    Columns: ``quantity``, ``index``, ``value``, ``n`` (runs behind the value) and a
    ``description`` in words. For each of the capability index, cooperation index and
    distinctiveness (``index``): ``r2_linear`` and ``r2_quadratic``, the R^2 of the OLS
    fit of the run-level index on ``[1, coupling, capability]`` and on ``[1, c, k, c*k,
    c^2, k^2]`` (:func:`sim.emergence.explained_variance`). For the scenario (``index``
    = ``scenario``): the best input-only quadrant rule
    (:func:`sim.emergence.best_quadrant_rule`), as ``best_rule_accuracy`` and its cut
    points ``best_rule_coupling_cut`` and ``best_rule_capability_cut``, and the rule
    with the cut points :data:`FIXED_RULE` as ``fixed_rule_*``. A run's scenario is the
    emergent one, from its indices, paired synergy and thresholds, never from its inputs.
    """
    runs = with_inputs(runs, ("coupling", "capability"))
    require(runs, _EMERGENCE_INDICES)
    emergent = scenarios(runs, known_thresholds(runs)).to_numpy()
    coupling = runs["coupling"].to_numpy(dtype=float)
    capability = runs["capability"].to_numpy(dtype=float)
    rows = []
    for index in _EMERGENCE_INDICES:
        for design, regressors in emergence.DESIGNS.items():
            r2, n = emergence.explained_variance(runs[index].to_numpy(dtype=float),
                                                 coupling, capability, design)
            rows.append((f"r2_{design}", index, r2, n,
                         f"R^2 of the OLS fit of the run-level index on {regressors} "
                         "(c coupling, k capability)"))
    best = emergence.best_quadrant_rule(coupling, capability, emergent)
    fixed = emergence.rule_accuracy(coupling, capability, emergent, *FIXED_RULE)
    for name, rule, how in (("best_rule", best, "the cut points that maximise it"),
                            ("fixed_rule", fixed, "the earlier version's cut points")):
        rule_text = ("share of runs whose emergent scenario is the quadrant of "
                     "(coupling >= a, capability >= b), with " + how)
        rows += [(f"{name}_accuracy", "scenario", rule.accuracy, rule.runs, rule_text),
                 (f"{name}_coupling_cut", "scenario", rule.coupling_cut, rule.runs,
                  f"a of the {name.replace('_', ' ')}"),
                 (f"{name}_capability_cut", "scenario", rule.capability_cut, rule.runs,
                  f"b of the {name.replace('_', ' ')}")]
    table = pd.DataFrame(rows, columns=["quantity", "index", "value", "n", "description"])
    return tidy(table.astype({"value": float, "n": int}), None)


# --- figures -----------------------------------------------------------------------------------
def _draw_phase_diagram(table: pd.DataFrame, context: FigureContext,
                        companions: Companions) -> Figure:
    explained = companions.get("phase_diagram_emergence")
    height = 6.2 if explained is None else 6.6
    # one small map per scenario, two rows of them
    columns = math.ceil(len(SCENARIOS) / 2)
    figure = Figure(figsize=(8.0 + 2.25 * columns, height), layout="constrained")
    left, right = figure.subfigures(1, 2, width_ratios=[1.05, 0.5 * columns],
                                    wspace=0.02)

    ax = left.subplots()
    majority_map(ax, table, SCENARIOS, SCENARIO_COLOURS, annotate=True)
    ax.set_title("Majority scenario of the runs in each cell")
    label_axes(ax)
    certainty_colourbar(left, ax, len(SCENARIOS))
    ax.legend(handles=patches(SCENARIOS, SCENARIO_COLOURS, letters=True),
              loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False,
              title="majority scenario (in each cell: its letter, runs in it / runs)")

    grid = right.subplots(2, columns, sharex=True, sharey=True)
    for spare in grid.flat[len(SCENARIOS):]:
        spare.remove()
    axes = grid.flat[:len(SCENARIOS)]
    norm = Normalize(0.0, 1.0)
    cmap = matplotlib.colormaps["viridis"]
    for axis, scenario in zip(axes, SCENARIOS, strict=True):
        share = table[f"share_{snake(scenario)}"].to_numpy()
        cells(axis, table["coupling"], table["capability"], cmap(norm(share)))
        axis.set_title(scenario, color=SCENARIO_COLOURS[scenario], fontweight="bold")
    for position, axis in enumerate(axes):
        if position + columns >= len(SCENARIOS):  # nothing below it
            axis.set_xlabel("coupling (0-1)")
            axis.xaxis.set_tick_params(labelbottom=True)
        if position % columns == 0:
            axis.set_ylabel("capability (0-1)")
    mappable = cm.ScalarMappable(norm=norm, cmap=cmap)
    right.colorbar(mappable, ax=list(axes), shrink=0.8, label="share of runs in the scenario")
    right.suptitle("Share of runs ending in each scenario")

    per_cell = table["n"]
    n_text = span_of_counts(per_cell)
    runs = context.runs if context.runs is not None else int(per_cell.sum())
    figure.suptitle(
        f"{prefix(context.experiment)}Emergent scenario at {context.horizon}Q4 by coupling "
        f"and capability\n{runs} runs, {len(table)} cells, {n_text} "
        f"run{'s' * (n_text != '1')} per cell; high capability: capability index >= "
        f"{describe(context.threshold('capability_threshold'))} innovations/agent/year; "
        "high cooperation: cooperation index >= "
        f"{describe(context.threshold('cooperation_threshold'))}\nboth high is "
        f"{LOOSELY_COUPLED_SYNERGY} only with more innovations than the same run at coupling 0, "
        f"else {COUPLED_WITHOUT_SYNERGY}"
        f"{'' if explained is None else _emergence_text(explained)}", fontsize=11)
    return figure


def _emergence_text(table: pd.DataFrame) -> str:
    """The emergence table in words: new title lines for the phase diagram."""
    value = table.set_index(["quantity", "index"])["value"]

    def r2(design: str, index: str) -> str:
        return _share(value.get((f"r2_{design}", index), math.nan), "{:.2f}")

    def cut(rule: str, name: str) -> str:
        at = value.get((f"{rule}_{name}_cut", "scenario"), math.nan)
        return "any" if at == -math.inf else "none" if at == math.inf else f">= {at:.4g}"

    def rule_text(rule: str) -> str:
        accuracy = _share(value.get((f"{rule}_accuracy", "scenario"), math.nan), "{:.1%}")
        return (f"coupling {cut(rule, 'coupling')}, capability {cut(rule, 'capability')}: "
                f"{accuracy} of runs")

    return ("\nThe inputs explain R\u00b2 = "
            f"{r2('linear', 'capability_index')} of the capability index and "
            f"{r2('linear', 'cooperation_index')} of the cooperation index "
            f"(quadratic fit: {r2('quadratic', 'capability_index')} and "
            f"{r2('quadratic', 'cooperation_index')})\nbest input-only quadrant rule, "
            f"{rule_text('best_rule')} (earlier rule, {rule_text('fixed_rule')})")


def _share(value: float, form: str) -> str:
    return "n/a" if value is None or not math.isfinite(value) else form.format(value)


def _draw_threshold_sensitivity(table: pd.DataFrame, context: FigureContext) -> Figure:
    figure = Figure(figsize=(12, 12), layout="constrained")
    rows = figure.subfigures(len(THRESHOLDS), 1, hspace=0.03)
    for subfigure, threshold in zip(rows, THRESHOLDS, strict=True):
        part = table[table["threshold"] == threshold]
        is_type = threshold == "distinctiveness_threshold"
        categories = COUPLING_TYPES if is_type else SCENARIOS
        colours = COUPLING_TYPE_COLOURS if is_type else SCENARIO_COLOURS
        grid = subfigure.add_gridspec(1, len(FACTORS) + 1,
                                      width_ratios=[1.0] * len(FACTORS) + [0.62])
        axes = [subfigure.add_subplot(grid[0, 0])]
        axes += [subfigure.add_subplot(grid[0, k], sharex=axes[0], sharey=axes[0])
                 for k in range(1, len(FACTORS))]
        for axis, factor in zip(axes, FACTORS, strict=True):
            panel = part[part["factor"] == factor]
            marked = panel["changed"].to_numpy() if factor != 1.0 else None
            majority_map(axis, panel, categories, colours, annotate=False, marked=marked)
            value = describe(span(panel["threshold_value"]))
            if factor != 1.0:
                changed = panel["changed"].mean() if len(panel) else 0.0
                axis.set_title(f"{factor - 1:+.0%} ({value}):\nmajority changed in "
                               f"{changed:.0%} of cells")
            else:
                axis.set_title(f"baseline ({value})\n")
            axis.set_xlabel("coupling (0-1)")
        for axis in axes[1:]:
            axis.tick_params(labelleft=False)
        axes[0].set_ylabel("capability (0-1)")
        what = "coupling type" if is_type else "scenario"
        subfigure.suptitle(f"{THRESHOLD_NAMES[threshold].capitalize()} "
                           f"({THRESHOLD_UNITS[threshold]}) moved: majority {
                               "Orton & Weick " if is_type else ""}{what}",
                           fontsize=11, fontweight="bold")
        info = subfigure.add_subplot(grid[0, -1])
        info.axis("off")
        handles = patches(categories, colours) + [Line2D(
            [], [], linestyle="none", marker="o", markersize=5, markerfacecolor="white",
            markeredgecolor="black", label="majority changed")]
        info.legend(handles=handles, loc="upper left", title=f"majority {what}",
                    frameon=False, alignment="left", borderaxespad=0.0)
        certainty_colourbar(subfigure, None, len(categories),
                            cax=info.inset_axes((0.02, 0.0, 0.08, 0.32)))
    figure.suptitle(f"{prefix(context.experiment)}Threshold sensitivity: each "
                    "classification threshold moved by -25 % and +25 % (same runs, "
                    "reclassified)", fontsize=12)
    return figure


# --- what the tables hold ------------------------------------------------------------------------
def _check_phase_diagram(name: str, table: pd.DataFrame) -> None:
    check_labels(name, table["majority"], SCENARIOS)


def _check_threshold_sensitivity(name: str, table: pd.DataFrame) -> None:
    for threshold in THRESHOLDS:
        categories = COUPLING_TYPES if threshold == "distinctiveness_threshold" else SCENARIOS
        rows = table[table["threshold"] == threshold]
        check_labels(name, rows["majority"], categories)
        for factor in FACTORS:
            if not (rows["factor"] == factor).any():
                raise ValueError(f"the {name} table has no rows for {threshold} at "
                                 f"factor {factor:g}")
    check_labels(name, table["threshold"], THRESHOLDS)


def _check_emergence(name: str, table: pd.DataFrame) -> None:
    check_labels(name, table["quantity"], _EMERGENCE_QUANTITIES)
    check_labels(name, table["index"], (*_EMERGENCE_INDICES, "scenario"))
    rows = set(zip(table["quantity"], table["index"], strict=True))
    if len(rows) != len(table):
        raise ValueError(f"the {name} table repeats a (quantity, index) row")


def _runs_per_threshold(table: pd.DataFrame) -> np.ndarray:
    # every (threshold, factor) reclassifies all the runs
    return table.groupby(["threshold", "factor"])["n"].sum().unique()


def _runs_per_rule(table: pd.DataFrame) -> np.ndarray:
    # the quadrant rules score every run
    return table.loc[table["index"] == "scenario", "n"].unique()


TABLES: dict[str, Table] = {
    "phase_diagram": Table(
        compute=lambda runs, _series: phase_diagram_table(runs),
        columns={"coupling": "number", "capability": "number", "n": "integer",
                 **{f"share_{snake(s)}": "number" for s in SCENARIOS},
                 "majority": "text", "certainty": "number",
                 "mean_capability_index": "number", "mean_cooperation_index": "number",
                 "mean_distinctiveness": "number"},
        check=_check_phase_diagram),
    "threshold_sensitivity": Table(
        compute=lambda runs, _series: threshold_table(runs),
        columns={"threshold": "text", "factor": "number", "threshold_value": "number",
                 "coupling": "number", "capability": "number", "classification": "text",
                 "n": "integer", "majority": "text", "certainty": "number",
                 "changed": "flag"},
        check=_check_threshold_sensitivity, runs=_runs_per_threshold),
    "phase_diagram_emergence": Table(
        compute=lambda runs, _series: emergence_table(runs),
        columns={"quantity": "text", "index": "text", "value": "number", "n": "integer",
                 "description": "text"},
        check=_check_emergence, runs=_runs_per_rule),
}
"""The tables of this analysis: the two figures' and the phase diagram's companion."""

DRAWERS: dict[str, Callable[[pd.DataFrame, FigureContext, Companions], Figure]] = {
    "phase_diagram": _draw_phase_diagram,
    "threshold_sensitivity": lambda table, context, _extra: _draw_threshold_sensitivity(
        table, context),
}
"""The figures of this analysis, each drawn from its table, context and companions."""
