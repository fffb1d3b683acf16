"""The dashboard's pictures, drawn with matplotlib from a model's current state.

Each function reads a :class:`~sim.model.ClusterModel` and returns a new
:class:`matplotlib.figure.Figure` (never pyplot's global state, so several sessions can
draw at once). They work on a model at any quarter, including before its first step,
and are usable outside the dashboard (e.g. in a notebook). Margins are fixed rather
than computed by matplotlib's layout engines, which would triple the cost of a frame.
Cluster-level series are read from the quarterly record as arrays over
:data:`~sim.calibration.CLUSTER_NAMES` (:func:`cluster_series`), so a model with more
clusters draws one more line, not a new picture.

Legibility: the dashboard shows each figure as a PNG at :data:`RENDER_DPI` (100 dpi:
1 pt is 100/72 = 1.39 px), :data:`FIGURE_WIDTH` = 4.6 in wide, i.e. 460 px. Its grid
cells are 473 px wide in a 1400-px browser window, so a figure is shown at its natural
size there (tests/test_browser.py measures it). The smallest text, tick labels and
legends, is :data:`TEXT_PT` = 8 pt = 11.1 px; titles are 9 pt = 12.5 px. In a window
1280 px wide the cells are about 413 px wide, the figures shown at 0.9 of their size,
and 8 pt is still 10 px.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from sim.calibration import CLUSTER_NAMES
from sim.dashboard.layout import CLUSTER_CENTRES, node_positions
from sim.experiment.style import OKABE_ITO, SCENARIO_COLOURS
from sim.params import START_YEAR
from sim.population import INSTITUTE, KIND_NAMES, UNIVERSITY, VENTURE
from sim.scenarios import (
    COUPLED_WITHOUT_SYNERGY,
    HOLLOW_NETWORKING,
    ISOLATED_EXCELLENCE,
    LOOSELY_COUPLED_SYNERGY,
    STAGNATION,
)

if TYPE_CHECKING:
    from sim.model import ClusterModel

#: Resolution the dashboard encodes its PNGs at (``solara.FigureMatplotlib(dpi=...)``).
RENDER_DPI = 100
#: Width of every dashboard figure, in inches (460 px at :data:`RENDER_DPI`).
FIGURE_WIDTH = 4.6
#: Font size of tick labels, legends and other small text, in points (11.1 px).
TEXT_PT = 8.0
#: Font size of titles, in points (12.5 px).
TITLE_PT = 9.0
#: The smallest text in any dashboard figure, in pixels of the PNG.
SMALLEST_TEXT_PX = TEXT_PT * RENDER_DPI / 72

#: Marker, colour and size of each collaborating kind in the network picture.
KIND_STYLE: dict[int, tuple[str, str, float]] = {
    INSTITUTE: ("s", OKABE_ITO["blue"], 34.0),
    UNIVERSITY: ("^", OKABE_ITO["bluish green"], 38.0),
    VENTURE: ("o", "#8c8c8c", 6.0),
}
INTER_TIE_COLOUR = OKABE_ITO["vermillion"]
INTRA_TIE_COLOUR = "#7f7f7f"
#: Ties within a cluster weaker than this are left out of the network picture: most ties
#: are weak (a new one starts at 0.3, ``tie_initial``, and fades unless joint successes
#: reinforce it), and drawn all together they hid the structure in a grey mass (at the
#: default scale, 2023Q4: 90 of about 1,020 ties within are drawn). Ties across the
#: clusters are all drawn, in colour.
NETWORK_MIN_WEIGHT = 0.4
#: One colour per cluster, in the order of CLUSTER_NAMES (repeating past the fourth).
_PALETTE = (OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["bluish green"],
            OKABE_ITO["reddish purple"])
CLUSTER_COLOURS: tuple[str, ...] = tuple(_PALETTE[c % len(_PALETTE)]
                                         for c in range(len(CLUSTER_NAMES)))


def cluster_series(history: list[dict], name: str) -> np.ndarray:
    """(quarters, clusters) array of the per-cluster series ``name`` (e.g.
    ``"capability_stock"``): the columns ``name_daedeok``, ``name_pangyo``, ... of
    the quarterly record, in the order of CLUSTER_NAMES."""
    return np.array([[record[f"{name}_{c.lower()}"] for c in CLUSTER_NAMES]
                     for record in history], dtype=float).reshape(len(history),
                                                                  len(CLUSTER_NAMES))


def _series(history: list[dict], name: str) -> np.ndarray:
    return np.array([record[name] for record in history], dtype=float)


def _years(history: list[dict]) -> np.ndarray:
    return START_YEAR + np.arange(len(history)) / 4.0


def _tie_style(weights: np.ndarray, colour: str, base_alpha: float) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    """Line widths and RGBA colours of ties by their weight in [0, 1]: stronger ties
    are thicker and more opaque."""
    widths = 0.3 + 2.2 * weights
    rgba = np.tile(to_rgba(colour), (len(weights), 1))
    rgba[:, 3] = np.clip(base_alpha + (1.0 - base_alpha) * weights, 0.0, 1.0)
    return widths, rgba


def network_figure(model: ClusterModel, *,
                   figsize: tuple[float, float] = (FIGURE_WIDTH, 3.5)) -> Figure:
    """The collaboration network: clusters side by side, kinds by marker. Ties are
    drawn thicker and darker the stronger they are; within a cluster only ties of
    weight at least :data:`NETWORK_MIN_WEIGHT`, across the clusters all of them, in
    colour. Support agencies hold no ties and are not drawn."""
    pop = model.population
    rows = np.flatnonzero(pop.active())
    where = np.full(len(pop), -1, dtype=np.int64)
    where[rows] = np.arange(len(rows))
    xy = node_positions(pop, rows)

    a, b = model.ties.ends
    weights = model.ties.weights
    crossing = pop.cluster[a] != pop.cluster[b]
    strong = ~crossing & (weights >= NETWORK_MIN_WEIGHT)

    figure = Figure(figsize=figsize)
    figure.subplots_adjust(left=0.01, right=0.99, top=0.93, bottom=0.17)
    ax = figure.add_subplot()
    for drawn, colour, base_alpha, z in ((strong, INTRA_TIE_COLOUR, 0.15, 1),
                                         (crossing, INTER_TIE_COLOUR, 0.35, 2)):
        order = np.flatnonzero(drawn)[np.argsort(weights[drawn], kind="stable")]
        segments = np.stack([xy[where[a[order]]], xy[where[b[order]]]], axis=1)
        widths, colours = _tie_style(weights[order], colour, base_alpha)
        ax.add_collection(LineCollection(segments, colors=colours, linewidths=widths,
                                         zorder=z))  # strongest drawn last, on top
    handles = []
    for kind, (marker, colour, size) in KIND_STYLE.items():
        mine = pop.kind[rows] == kind
        ax.scatter(xy[mine, 0], xy[mine, 1], s=size, marker=marker, c=colour,
                   edgecolors="white", linewidths=0.3, zorder=3)
        handles.append(Line2D([], [], ls="", marker=marker, color=colour,
                              label=f"{KIND_NAMES[kind]} ({int(mine.sum())})"))
    within = int((~crossing).sum())
    handles += [Line2D([], [], color=INTRA_TIE_COLOUR, lw=1.5,
                       label=f"tie within, strength \u2265 {NETWORK_MIN_WEIGHT:g} "
                             f"({int(strong.sum())} of {within})"),
                Line2D([], [], color=INTER_TIE_COLOUR, lw=1.5,
                       label=f"tie across ({int(crossing.sum())})")]
    for (x, _), name in zip(CLUSTER_CENTRES, CLUSTER_NAMES, strict=True):
        ax.text(x, 1.06, name, ha="center", va="bottom", fontsize=TITLE_PT,
                fontweight="bold")
    left, right = CLUSTER_CENTRES[:, 0].min() - 1.05, CLUSTER_CENTRES[:, 0].max() + 1.05
    ax.set(xlim=(left, right), ylim=(-1.05, 1.3), aspect="equal")
    ax.axis("off")
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2,
              fontsize=TEXT_PT, frameon=False, handlelength=1.5, columnspacing=1.0,
              title="thicker line: stronger tie", title_fontsize=TEXT_PT)
    ax.set_title(f"Collaboration network, {_quarter_label(model)}", fontsize=TITLE_PT)
    return figure


def _time_axes(figure: Figure, rows: int, cols: int, model: ClusterModel,
               **grid: float) -> list[Axes]:
    """A grid of panels over 2018 to the run's horizon, with legible ticks."""
    spec = {"left": 0.09, "right": 0.98, "top": 0.93, "bottom": 0.08, "hspace": 0.42,
            "wspace": 0.25} | grid
    axes = figure.subplots(rows, cols, sharex=True, squeeze=False,
                           gridspec_kw=spec).ravel().tolist()
    horizon = model.params.until_year + 1
    for ax in axes:
        ax.set_xlim(START_YEAR, horizon)
        ax.set_xticks(np.arange(START_YEAR, horizon + 1, 4))
        _legible(ax)
    return axes


def _legible(ax: Axes) -> None:
    ax.tick_params(labelsize=TEXT_PT)
    ax.title.set_fontsize(TITLE_PT)
    ax.xaxis.label.set_fontsize(TEXT_PT)
    ax.yaxis.label.set_fontsize(TEXT_PT)


def _legend(ax: Axes) -> None:
    """The panel's legend in one row at its top, above the data: the y axis starts at
    0 and leaves a third of its height free for it."""
    handles, labels = ax.get_legend_handles_labels()
    top = ax.dataLim.y1 if ax.has_data() and np.isfinite(ax.dataLim.y1) else 0.0
    ax.set_ylim(0, 1.5 * top if top > 0 else 1.0)
    ax.legend(handles, labels, loc="upper left", ncol=len(handles), fontsize=TEXT_PT,
              frameon=False, handlelength=1.5, borderaxespad=0.2, columnspacing=1.0)


def indices_figure(model: ClusterModel, *,
                   figsize: tuple[float, float] = (FIGURE_WIDTH, 3.8)) -> Figure:
    """Four panels over time: innovations, cooperation index, distinctiveness and
    ventures per cluster, with the classification thresholds dashed."""
    history = model.history
    years = _years(history)
    figure = Figure(figsize=figsize)
    innov, coop, distinct, ventures = _time_axes(figure, 2, 2, model, left=0.1)
    if history:
        innov.plot(years, _series(history, "innovations"), color="black", label="all")
        innov.plot(years, _series(history, "innovations_inter"), color=INTER_TIE_COLOUR,
                   label="across")
        coop.plot(years, _series(history, "cooperation_index"), color="black")
        distinct.plot(years, _series(history, "distinctiveness"), color="black")
        for name, colour, values in zip(CLUSTER_NAMES, CLUSTER_COLOURS,
                                        cluster_series(history, "ventures").T, strict=True):
            ventures.plot(years, values, color=colour, label=name)
        _legend(innov)
        _legend(ventures)
    coop.axhline(model.params.cooperation_threshold, ls="--", lw=1, color="grey")
    distinct.axhline(model.params.distinctiveness_threshold, ls="--", lw=1, color="grey")
    innov.set(title="innovations per quarter", ylim=(0, None))
    coop.set(title="cooperation index", ylim=(0, None))
    distinct.set(title="distinctiveness", ylim=(0, 1.1))
    ventures.set(title="ventures", ylim=(0, None))
    for ax in (innov, coop, distinct, ventures):
        _legible(ax)
    return figure


def capability_figure(model: ClusterModel, *,
                      figsize: tuple[float, float] = (FIGURE_WIDTH, 3.8)) -> Figure:
    """Capability and what coupling costs, over time: each cluster's capability stock
    (its agents' mean absorptive capacity), the innovations expected to be lost to
    coordination over distance, the projects crowded out for lack of attention (all,
    and those within a cluster), and the capability stock drained from Daedeok to
    its Pangyo partners. A cost whose submodule is switched off is flat at zero, and
    its panel says so."""
    history = model.history
    years = _years(history)
    params = model.params
    figure = Figure(figsize=figsize)
    stock, coordination, crowded, drained = _time_axes(figure, 2, 2, model)
    if history:
        for name, colour, values in zip(CLUSTER_NAMES, CLUSTER_COLOURS,
                                        cluster_series(history, "capability_stock").T,
                                        strict=True):
            stock.plot(years, values, color=colour, label=name)
        _legend(stock)
        coordination.plot(years, _series(history, "coordination_loss"), color="black")
        crowded.plot(years, _series(history, "crowded_out"), color="black", label="all")
        crowded.plot(years, _series(history, "crowded_out_home"), color="grey", ls="--",
                     label="within")
        _legend(crowded)
        drained.plot(years, _series(history, "talent_drained"), color=INTER_TIE_COLOUR)
    stock.set(title="capability stock", ylim=(0, None))
    _legible(stock)
    for ax, title, switch in ((coordination, "innovations lost to distance",
                               params.coordination_cost),
                              (crowded, "projects crowded out", params.limited_attention),
                              (drained, "talent drained to Pangyo", params.brain_drain)):
        ax.set(title=title if switch else f"{title} (off)", ylim=(0, None))
        _legible(ax)
    return figure


def moves_figure(model: ClusterModel, *,
                 figsize: tuple[float, float] = (FIGURE_WIDTH, 3.8)) -> Figure:
    """Moves between and into the clusters since 2018 (cumulative counts): on top,
    ventures relocating, by direction (one line per destination cluster); below, one
    panel per cluster, start-ups entering from outside and ventures closing."""
    history = model.history
    years = _years(history)
    n = len(CLUSTER_NAMES)
    figure = Figure(figsize=figsize)
    grid = figure.add_gridspec(2, n, left=0.09, right=0.98, top=0.93, bottom=0.08,
                               hspace=0.42, wspace=0.25)
    relocations = figure.add_subplot(grid[0, :])
    panels = [figure.add_subplot(grid[1, c], sharex=relocations) for c in range(n)]
    for c, values in enumerate(np.cumsum(cluster_series(history, "relocations_to"),
                                         axis=0).T):
        relocations.plot(years, values, color=CLUSTER_COLOURS[c],
                         label=f"to {CLUSTER_NAMES[c]}")
    for series, label, colour, style in (("entries", "entries", OKABE_ITO["bluish green"],
                                          "-"),
                                         ("exits", "exits", OKABE_ITO["vermillion"], "--")):
        for ax, values in zip(panels, np.cumsum(cluster_series(history, series), axis=0).T,
                              strict=True):
            ax.plot(years, values, color=colour, ls=style, label=label)
    if history:
        _legend(relocations)
        _legend(panels[0])
    relocations.set(title="ventures relocating, by direction (cumulative)",
                    ylim=(0, max(1.0, relocations.get_ylim()[1])))
    for ax, name in zip(panels, CLUSTER_NAMES, strict=True):
        ax.set(title=f"{name}: entries, exits", ylim=(0, None))
    horizon = model.params.until_year + 1
    relocations.set_xlim(START_YEAR, horizon)
    relocations.set_xticks(np.arange(START_YEAR, horizon + 1, 4))
    for ax in (relocations, *panels):
        _legible(ax)
    return figure


# where each scenario's name sits in the 2x2 chart (share of the axes)
_QUADRANTS = {LOOSELY_COUPLED_SYNERGY: (0.98, 0.98, "right", "top"),
              ISOLATED_EXCELLENCE: (0.02, 0.98, "left", "top"),
              HOLLOW_NETWORKING: (0.98, 0.02, "right", "bottom"),
              STAGNATION: (0.02, 0.02, "left", "bottom")}


def scenario_figure(model: ClusterModel, *,
                    figsize: tuple[float, float] = (FIGURE_WIDTH, 2.25)) -> Figure:
    """The 2x2 scenario chart: cooperation index across, capability index up, the
    thresholds splitting the quadrants; the run's path quarter by quarter and its
    current point. The high-high quadrant holds two scenarios, told apart by the
    paired synergy (not an axis of the chart): the title gives it when it applies."""
    coop_threshold = model.params.cooperation_threshold
    cap_threshold = model.capability_threshold
    history = model.history
    coop = np.array([r["cooperation_index"] for r in history], dtype=float)
    cap = np.array([r["capability_index"] for r in history], dtype=float)
    # thresholds in the middle of the axes unless the run goes further
    x_max = max(2 * coop_threshold, 1.1 * coop.max(initial=0.0))
    y_max = max(2 * cap_threshold, 1.1 * cap.max(initial=0.0))

    figure = Figure(figsize=figsize)
    figure.subplots_adjust(left=0.13, right=0.97, top=0.89, bottom=0.2)
    ax = figure.add_subplot()
    quadrants = {LOOSELY_COUPLED_SYNERGY: (coop_threshold, cap_threshold, x_max, y_max),
                 ISOLATED_EXCELLENCE: (0, cap_threshold, coop_threshold, y_max),
                 HOLLOW_NETWORKING: (coop_threshold, 0, x_max, cap_threshold),
                 STAGNATION: (0, 0, coop_threshold, cap_threshold)}
    for name, (x0, y0, x1, y1) in quadrants.items():
        ax.fill_between([x0, x1], y0, y1, color=SCENARIO_COLOURS[name], alpha=0.15, lw=0)
        x, y, ha, va = _QUADRANTS[name]
        ax.text(x, y, name, transform=ax.transAxes, ha=ha, va=va, fontsize=TEXT_PT,
                color=SCENARIO_COLOURS[name], fontweight="bold")
    # the synergy quadrant's other scenario, under its name
    x, y, ha, va = _QUADRANTS[LOOSELY_COUPLED_SYNERGY]
    ax.annotate(f"or {COUPLED_WITHOUT_SYNERGY} (synergy <= 0)", (x, y),
                xycoords="axes fraction", xytext=(0, -1.3 * TEXT_PT),
                textcoords="offset points", ha=ha, va=va, fontsize=TEXT_PT,
                color=SCENARIO_COLOURS[COUPLED_WITHOUT_SYNERGY])
    ax.axvline(coop_threshold, color="grey", lw=1, ls="--")
    ax.axhline(cap_threshold, color="grey", lw=1, ls="--")
    scenario = model.current_scenario()
    if scenario is not None:
        ax.plot(coop, cap, color="black", lw=0.8, alpha=0.5)
        ax.scatter(coop[-1:], cap[-1:], s=120, c=SCENARIO_COLOURS[scenario],
                   edgecolors="black", linewidths=1.2, zorder=3)
        title = f"{_quarter_label(model)}: {scenario}"
        synergy = model.paired_synergy()
        if synergy is not None:
            title += f" (paired synergy {synergy:+.1%})"
    else:
        title = "no quarter simulated yet"
    ax.set(xlim=(0, x_max), ylim=(0, y_max),
           xlabel="cooperation index (share crossing, last four quarters)",
           ylabel="capability index")
    ax.set_title(title)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_locator(MaxNLocator(5))
    _legible(ax)
    return figure


def _quarter_label(model: ClusterModel) -> str:
    return model.quarter if model.steps else "2018 (before the first quarter)"
