"""The dashboard's pictures, drawn with matplotlib from a model's current state.

Each function reads a :class:`~sim.model.ClusterModel` and returns a new
:class:`matplotlib.figure.Figure` (never pyplot's global state, so several sessions can
draw at once). They work on a model at any quarter, including before its first step,
and are usable outside the dashboard (e.g. in a notebook). Margins are fixed rather
than computed by matplotlib's layout engines, which would triple the cost of a frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.calibration import CLUSTER_NAMES
from sim.dashboard.layout import CLUSTER_CENTRES, node_positions
from sim.figures import OKABE_ITO, SCENARIO_COLOURS
from sim.params import START_YEAR
from sim.population import INSTITUTE, KIND_NAMES, UNIVERSITY, VENTURE
from sim.scenarios import (
    HOLLOW_NETWORKING,
    ISOLATED_EXCELLENCE,
    LOOSELY_COUPLED_SYNERGY,
    STAGNATION,
)

if TYPE_CHECKING:
    from sim.model import ClusterModel

#: Marker, colour and size of each collaborating kind in the network picture.
KIND_STYLE: dict[int, tuple[str, str, float]] = {
    INSTITUTE: ("s", OKABE_ITO["blue"], 30.0),
    UNIVERSITY: ("^", OKABE_ITO["bluish green"], 34.0),
    VENTURE: ("o", "#8c8c8c", 7.0),
}
INTER_TIE_COLOUR = OKABE_ITO["vermillion"]
INTRA_TIE_COLOUR = "#c8c8c8"
_CLUSTER_COLOURS = (OKABE_ITO["blue"], OKABE_ITO["orange"])


def network_figure(model: ClusterModel, *, figsize: tuple[float, float] = (5.2, 3.2)) -> Figure:
    """The collaboration network: clusters side by side, kinds by marker, ties across
    the clusters in colour. Support agencies hold no ties and are not drawn."""
    pop = model.population
    rows = np.flatnonzero(pop.active())
    where = np.full(len(pop), -1, dtype=np.int64)
    where[rows] = np.arange(len(rows))
    xy = node_positions(pop, rows)

    a, b = model.ties.ends
    crossing = pop.cluster[a] != pop.cluster[b]
    segments = np.stack([xy[where[a]], xy[where[b]]], axis=1)

    figure = Figure(figsize=figsize)
    figure.subplots_adjust(left=0.01, right=0.99, top=0.93, bottom=0.12)
    ax = figure.add_subplot()
    ax.add_collection(LineCollection(segments[~crossing], colors=INTRA_TIE_COLOUR,
                                     linewidths=0.4, alpha=0.6, zorder=1))
    ax.add_collection(LineCollection(segments[crossing], colors=INTER_TIE_COLOUR,
                                     linewidths=0.8, alpha=0.8, zorder=2))
    handles = []
    for kind, (marker, colour, size) in KIND_STYLE.items():
        mine = pop.kind[rows] == kind
        ax.scatter(xy[mine, 0], xy[mine, 1], s=size, marker=marker, c=colour,
                   edgecolors="white", linewidths=0.3, zorder=3)
        handles.append(Line2D([], [], ls="", marker=marker, color=colour,
                              label=f"{KIND_NAMES[kind]} ({int(mine.sum())})"))
    handles += [Line2D([], [], color=INTRA_TIE_COLOUR,
                       label=f"tie within ({int((~crossing).sum())})"),
                Line2D([], [], color=INTER_TIE_COLOUR,
                       label=f"tie across ({int(crossing.sum())})")]
    for (x, _), name in zip(CLUSTER_CENTRES, CLUSTER_NAMES, strict=True):
        ax.text(x, 1.08, name, ha="center", va="bottom", fontsize=9, fontweight="bold")
    ax.set(xlim=(-2.4, 2.4), ylim=(-1.1, 1.3), aspect="equal")
    ax.axis("off")
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3,
              fontsize=7, frameon=False)
    ax.set_title(f"Collaboration network, {_quarter_label(model)}", fontsize=9)
    return figure


def indices_figure(model: ClusterModel, *, figsize: tuple[float, float] = (5.2, 3.3)) -> Figure:
    """Four panels over time: innovations, cooperation index, distinctiveness and
    ventures per cluster, with the classification thresholds dashed."""
    history = model.history
    years = START_YEAR + np.arange(len(history)) / 4.0

    def series(name: str) -> np.ndarray:
        return np.array([record[name] for record in history], dtype=float)

    figure = Figure(figsize=figsize)
    (innov, coop), (distinct, ventures) = figure.subplots(
        2, 2, sharex=True, gridspec_kw={"left": 0.08, "right": 0.98, "top": 0.93,
                                        "bottom": 0.08, "hspace": 0.3, "wspace": 0.22})
    if history:
        innov.plot(years, series("innovations"), color="black", label="all")
        innov.plot(years, series("innovations_inter"), color=INTER_TIE_COLOUR,
                   label="across the clusters")
        coop.plot(years, series("cooperation_index"), color="black")
        distinct.plot(years, series("distinctiveness"), color="black")
        for name, colour in zip(CLUSTER_NAMES, _CLUSTER_COLOURS, strict=True):
            ventures.plot(years, series(f"ventures_{name.lower()}"), color=colour, label=name)
        innov.legend(fontsize=6, frameon=False)
        ventures.legend(fontsize=6, frameon=False)
    coop.axhline(model.params.cooperation_threshold, ls="--", lw=1, color="grey")
    distinct.axhline(model.params.distinctiveness_threshold, ls="--", lw=1, color="grey")
    innov.set(title="innovations per quarter", ylim=(0, None))
    coop.set(title="cooperation index", ylim=(0, None))
    distinct.set(title="distinctiveness", ylim=(0, 1.1))
    ventures.set(title="ventures", ylim=(0, None))
    horizon = model.params.until_year + 1
    for ax in (innov, coop, distinct, ventures):
        ax.set_xlim(START_YEAR, horizon)
        ax.tick_params(labelsize=7)
        ax.title.set_fontsize(8)
    return figure


# where each scenario's name sits in the 2x2 chart (share of the axes)
_QUADRANTS = {LOOSELY_COUPLED_SYNERGY: (0.98, 0.98, "right", "top"),
              ISOLATED_EXCELLENCE: (0.02, 0.98, "left", "top"),
              HOLLOW_NETWORKING: (0.98, 0.02, "right", "bottom"),
              STAGNATION: (0.02, 0.02, "left", "bottom")}


def scenario_figure(model: ClusterModel, *, figsize: tuple[float, float] = (5.0, 2.5)) -> Figure:
    """The 2x2 scenario chart: cooperation index across, capability index up, the
    thresholds splitting the four scenarios; the run's path quarter by quarter and
    its current point."""
    coop_threshold = model.params.cooperation_threshold
    cap_threshold = model.capability_threshold
    history = model.history
    coop = np.array([r["cooperation_index"] for r in history], dtype=float)
    cap = np.array([r["capability_index"] for r in history], dtype=float)
    # thresholds in the middle of the axes unless the run goes further
    x_max = max(2 * coop_threshold, 1.1 * coop.max(initial=0.0))
    y_max = max(2 * cap_threshold, 1.1 * cap.max(initial=0.0))

    figure = Figure(figsize=figsize)
    figure.subplots_adjust(left=0.12, right=0.96, top=0.9, bottom=0.17)
    ax = figure.add_subplot()
    quadrants = {LOOSELY_COUPLED_SYNERGY: (coop_threshold, cap_threshold, x_max, y_max),
                 ISOLATED_EXCELLENCE: (0, cap_threshold, coop_threshold, y_max),
                 HOLLOW_NETWORKING: (coop_threshold, 0, x_max, cap_threshold),
                 STAGNATION: (0, 0, coop_threshold, cap_threshold)}
    for name, (x0, y0, x1, y1) in quadrants.items():
        ax.fill_between([x0, x1], y0, y1, color=SCENARIO_COLOURS[name], alpha=0.15, lw=0)
        x, y, ha, va = _QUADRANTS[name]
        ax.text(x, y, name, transform=ax.transAxes, ha=ha, va=va, fontsize=8,
                color=SCENARIO_COLOURS[name], fontweight="bold")
    ax.axvline(coop_threshold, color="grey", lw=1, ls="--")
    ax.axhline(cap_threshold, color="grey", lw=1, ls="--")
    scenario = model.current_scenario()
    if scenario is not None:
        ax.plot(coop, cap, color="black", lw=0.8, alpha=0.5)
        ax.scatter(coop[-1:], cap[-1:], s=120, c=SCENARIO_COLOURS[scenario],
                   edgecolors="black", linewidths=1.2, zorder=3)
        title = f"{_quarter_label(model)}: {scenario}"
    else:
        title = "no quarter simulated yet"
    ax.set(xlim=(0, x_max), ylim=(0, y_max),
           xlabel="cooperation index (share crossing, last four quarters)",
           ylabel="capability index")
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    ax.xaxis.label.set_fontsize(8)
    ax.yaxis.label.set_fontsize(8)
    return figure


def _quarter_label(model: ClusterModel) -> str:
    return model.quarter if model.steps else "2018 (before the first quarter)"
