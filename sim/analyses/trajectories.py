"""Trajectories: the quarterly series of one representative run per scenario reached,
from 2018 to the horizon. The design must store the series (``series = true``)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.analyses.context import Companions, FigureContext
from sim.analyses.labels import INDEX_LABELS
from sim.analyses.panels import prefix, quarter_position, threshold_line
from sim.analyses.tables import (
    Table,
    check_labels,
    missing_series,
    require,
    round_value,
    tidy,
    with_inputs,
)
from sim.experiment.style import SCENARIO_COLOURS
from sim.scenarios import SCENARIOS

__all__ = ["DRAWERS", "TABLES", "representative_runs", "trajectories_table"]

_TRAJECTORY_SERIES: tuple[str, ...] = (
    "innovations", "innovations_inter", "capability_index", "cooperation_index",
    "distinctiveness", "ventures_daedeok", "ventures_pangyo")

_QUARTER = re.compile(r"\d{4}Q[1-4]")


def representative_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """One run per scenario reached: among the runs ending in it, the one closest
    (Euclidean, each index divided by its standard deviation over all runs) to the
    scenario's median (capability index, cooperation index); ties go to the smallest
    ``run_id``. Rows in :data:`SCENARIOS` order."""
    require(runs, ("run_id", "scenario", "capability_index", "cooperation_index"))
    runs = runs.reset_index(drop=True)
    points = runs[["capability_index", "cooperation_index"]].astype(float)
    sd = points.std()
    sd = sd.where(sd.notna() & (sd > 0), 1.0)
    z = points / sd
    chosen = []
    for scenario in SCENARIOS:
        mask = (runs["scenario"] == scenario).to_numpy()
        if not mask.any():
            continue
        members = z[mask]
        distance = np.sqrt(((members - members.median()) ** 2).sum(axis=1))
        ranking = pd.DataFrame({"distance": distance.map(round_value),
                                "run_id": runs.loc[mask, "run_id"]})
        chosen.append(ranking.sort_values(["distance", "run_id"]).index[0])
    return runs.loc[chosen]


def trajectories_table(runs: pd.DataFrame, series: pd.DataFrame | None) -> pd.DataFrame:
    """Quarterly series of each scenario's representative run (see
    :func:`representative_runs`), as a long table: run_id, scenario, coupling,
    capability, quarter and the plotted series. Raises ``ValueError`` without series."""
    if series is None:
        raise missing_series("trajectories need")
    runs = with_inputs(runs, ("coupling", "capability"))
    require(series, ("run_id", "quarter", *_TRAJECTORY_SERIES), what="series table")
    chosen = representative_runs(runs)[["run_id", "scenario", "coupling", "capability"]]
    table = chosen.merge(series[["run_id", "quarter", *_TRAJECTORY_SERIES]], on="run_id",
                         how="left", validate="1:m")
    missing = sorted(set(chosen["run_id"]) - set(series["run_id"]))
    if missing:
        raise ValueError(f"the series table has no rows for run(s) {', '.join(missing)}")
    order = {s: i for i, s in enumerate(SCENARIOS)}
    table = table.assign(_order=table["scenario"].map(order))
    table = table.sort_values(["_order", "quarter"], kind="stable").drop(columns="_order")
    return tidy(table, None)


def _draw_trajectories(table: pd.DataFrame, context: FigureContext) -> Figure:
    figure = Figure(figsize=(13, 7.6), layout="constrained")
    axes = figure.subplots(2, 3, sharex=True)
    panels = [
        (axes[0, 0], "Innovations per quarter", "innovations per quarter",
         (("innovations", "-"), ("innovations_inter", "--"))),
        (axes[0, 1], "Capability index (last four quarters)",
         INDEX_LABELS["capability_index"],
         (("capability_index", "-"),)),
        (axes[0, 2], "Cooperation index (last four quarters)",
         INDEX_LABELS["cooperation_index"],
         (("cooperation_index", "-"),)),
        (axes[1, 0], "Distinctiveness", INDEX_LABELS["distinctiveness"],
         (("distinctiveness", "-"),)),
        (axes[1, 1], "Ventures alive", "ventures alive (count)",
         (("ventures_daedeok", "-"), ("ventures_pangyo", "--"))),
    ]
    reached = [s for s in SCENARIOS if s in set(table["scenario"])]
    for rank, scenario in enumerate(reached):
        width = 2.6 - 0.45 * rank  # later lines thinner: coinciding curves stay visible
        part = table[table["scenario"] == scenario]
        x = part["quarter"].map(quarter_position).to_numpy()
        for axis, _title, _ylabel, curves in panels:
            for column, style in curves:
                axis.plot(x, part[column].to_numpy(dtype=float), linestyle=style,
                          color=SCENARIO_COLOURS[scenario], linewidth=width)
    threshold_line(axes[0, 1], context.threshold("capability_threshold"), "threshold")
    threshold_line(axes[0, 2], context.threshold("cooperation_threshold"), "threshold")
    threshold_line(axes[1, 0], context.threshold("distinctiveness_threshold"), "threshold")
    first, last = (quarter_position(q) for q in (table["quarter"].min(),
                                                  table["quarter"].max()))
    years = list(range(int(first), int(last) + 1))
    step = max(1, math.ceil(len(years) / 8))
    for axis in (axes[0, 0], axes[1, 1]):
        axis.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    for axis, title, ylabel, _lines in panels:
        axis.set_title(title)
        axis.set_ylabel(ylabel)
        axis.set_xticks(years[::step], [str(y) for y in years[::step]])
        axis.set_xlim(first - 0.1, last + 0.1)
        axis.grid(True, color="0.9", linewidth=0.6)
    for axis in (axes[1, 0], axes[1, 1], axes[0, 2]):
        axis.set_xlabel("year (one point per quarter)")
        axis.xaxis.set_tick_params(labelbottom=True)

    info = axes[1, 2]
    info.axis("off")
    chosen = table.drop_duplicates("run_id")
    handles = [Line2D(
        [], [], color=SCENARIO_COLOURS[row.scenario], linewidth=2,
        label=f"{row.scenario}\n  coupling {row.coupling:g}, capability {row.capability:g},"
              f" run {row.run_id[:8]}") for row in chosen.itertuples()]
    legend = info.legend(handles=handles, loc="upper left", frameon=False,
                         title="scenario: representative run", alignment="left")
    info.add_artist(legend)
    styles = [Line2D([], [], color="0.3", linestyle="-",
                     label="all innovations / Daedeok ventures"),
              Line2D([], [], color="0.3", linestyle="--",
                     label="inter-cluster innovations / Pangyo ventures"),
              Line2D([], [], color="0.5", linestyle=":",
                     label="classification threshold")]
    info.legend(handles=styles, loc="lower left", frameon=False, title="line style",
                alignment="left", bbox_to_anchor=(0.0, 0.12))
    missing = [s for s in SCENARIOS if s not in reached]
    note = ("No run reached: " + ", ".join(missing) + "." if missing
            else "Every scenario was reached by at least one run.")
    info.text(0.0, 0.0, note, transform=info.transAxes, fontsize=8.5, va="bottom",
              ha="left", wrap=True, fontstyle="italic")
    among = f", {context.runs} runs" if context.runs is not None else ""
    figure.suptitle(f"{prefix(context.experiment)}Trajectories of one representative run "
                    f"per scenario (closest to the scenario's median end point){among}")
    return figure


def _check_trajectories(name: str, table: pd.DataFrame) -> None:
    check_labels(name, table["scenario"], SCENARIOS)
    bad = [q for q in table["quarter"] if not _QUARTER.fullmatch(q)]
    if bad:
        raise ValueError(f"the {name} table has quarter {bad[0]!r}; expected "
                         "YEARQn, e.g. 2030Q4")


TABLES: dict[str, Table] = {
    "trajectories": Table(
        compute=trajectories_table,
        columns={"run_id": "text", "scenario": "text", "coupling": "number",
                 "capability": "number", "quarter": "text",
                 **{s: "number" for s in _TRAJECTORY_SERIES}},
        check=_check_trajectories, runs=None),  # names its runs: run_id
}
"""The table of this analysis."""

DRAWERS: dict[str, Callable[[pd.DataFrame, FigureContext, Companions], Figure]] = {
    "trajectories": lambda table, context, _extra: _draw_trajectories(table, context),
}
"""The figure of this analysis, drawn from its table and context."""
