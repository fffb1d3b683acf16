"""Pieces several figures draw: maps of the majority label per cell, the certainty
colour bar, legends of categories, threshold lines and title fragments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import cm
from matplotlib.collections import PatchCollection
from matplotlib.colors import ListedColormap, Normalize, to_rgb
from matplotlib.patches import Patch, Rectangle

from sim.analyses.context import Span
from sim.analyses.labels import CAPABILITY_LABEL, COUPLING_LABEL, letter

__all__ = ["cells", "certainty_colourbar", "describe", "label_axes", "majority_map",
           "patches", "prefix", "quarter_position", "span_of_counts", "threshold_line"]


def majority_map(ax: Any, table: pd.DataFrame, categories: Sequence[str],
                 colours: dict[str, str], *, annotate: bool,
                 marked: np.ndarray | None = None) -> None:
    """Cells coloured by their majority; lighter where the majority is less certain.
    ``annotate`` writes the majority's letter and count in each cell (small grids);
    ``marked`` puts a ring on the cells where it is true."""
    floor = 1.0 / len(categories)
    rgb = np.array([_blend(colours[m], _strength(c, floor))
                    for m, c in zip(table["majority"], table["certainty"], strict=True)])
    cells(ax, table["coupling"], table["capability"], rgb.reshape(-1, 3))
    n_x, n_y = table["coupling"].nunique(), table["capability"].nunique()
    if annotate and n_x <= 15 and n_y <= 15:
        size = 7 if max(n_x, n_y) <= 11 else 5.5
        counts = (table["certainty"] * table["n"]).round().astype(int)
        for x, y, m, k, n, colour in zip(table["coupling"], table["capability"],
                                         table["majority"], counts, table["n"], rgb,
                                         strict=True):
            ink = "white" if _luminance(colour) < 0.5 else "black"
            ax.text(x, y, f"{letter(m)} {k}/{n}", ha="center", va="center", fontsize=size,
                    color=ink)
    if marked is not None and marked.any():
        ax.scatter(table["coupling"].to_numpy(dtype=float)[marked],
                   table["capability"].to_numpy(dtype=float)[marked], s=22,
                   facecolors="white", edgecolors="black", linewidths=0.8, zorder=3)


def cells(ax: Any, x: pd.Series, y: pd.Series, colours: np.ndarray) -> None:
    """Draw one rectangle per (x, y) cell of a grid, or one marker per point when the
    points do not form a grid (a sampled design)."""
    xs, ys = np.sort(x.unique()), np.sort(y.unique())
    x_values, y_values = x.to_numpy(dtype=float), y.to_numpy(dtype=float)
    if len(xs) * len(ys) <= 2 * len(x):
        x_edges, y_edges = _edges(xs), _edges(ys)
        xi, yi = np.searchsorted(xs, x_values), np.searchsorted(ys, y_values)
        line = 0.6 if len(x) <= 400 else 0.0
        # one collection of rectangles: a patch per cell costs seconds on a 21 x 21 grid
        ax.add_collection(PatchCollection(
            [Rectangle((x_edges[i], y_edges[j]), x_edges[i + 1] - x_edges[i],
                       y_edges[j + 1] - y_edges[j]) for i, j in zip(xi, yi, strict=True)],
            facecolors=colours, edgecolors="white", linewidths=line))
        ax.set_xlim(x_edges[0], x_edges[-1])
        ax.set_ylim(y_edges[0], y_edges[-1])
        if len(xs) <= 11:
            ax.set_xticks(xs, [f"{v:g}" for v in xs])
        if len(ys) <= 11:
            ax.set_yticks(ys, [f"{v:g}" for v in ys])
    else:
        ax.scatter(x_values, y_values, c=colours, s=36, edgecolors="0.3", linewidths=0.3)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
    ax.spines[["top", "right"]].set_visible(True)


def _edges(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if len(values) == 1:
        return np.array([values[0] - 0.05, values[0] + 0.05])
    middles = (values[1:] + values[:-1]) / 2
    return np.concatenate([[values[0] - (values[1] - values[0]) / 2], middles,
                           [values[-1] + (values[-1] - values[-2]) / 2]])


def _strength(certainty: float, floor: float) -> float:
    """How much of the category colour a cell shows: 0.2 at the lowest certainty
    possible (1 / number of categories), 1 at certainty 1."""
    span = max(1.0 - floor, 1e-9)
    return 0.2 + 0.8 * min(max((certainty - floor) / span, 0.0), 1.0)


def _blend(colour: str, strength: float) -> np.ndarray:
    return 1.0 - strength * (1.0 - np.array(to_rgb(colour)))


def _luminance(rgb: np.ndarray) -> float:
    return float(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])


def certainty_colourbar(container: Any, ax: Any, n_categories: int,
                        shrink: float = 0.6, cax: Any = None) -> None:
    """The colour bar of certainty (colour strength) for ``n_categories`` categories,
    next to ``ax`` or in ``cax``."""
    floor = 1.0 / n_categories
    levels = np.linspace(floor, 1.0, 256)
    cmap = ListedColormap([_blend("#333333", _strength(c, floor)) for c in levels])
    mappable = cm.ScalarMappable(norm=Normalize(floor, 1.0), cmap=cmap)
    if cax is not None:
        bar = container.colorbar(mappable, cax=cax)
        cax.set_title("certainty: share of\nruns in the majority\n(colour strength)",
                      fontsize=8, loc="left")
    else:
        bar = container.colorbar(mappable, ax=ax, shrink=shrink, aspect=25, pad=0.02)
        bar.set_label("certainty: share of runs in the majority\n(colour strength)")
    ticks = [t for t in (0.25, 0.5, 0.75, 1.0) if t >= floor - 1e-12]
    bar.set_ticks(ticks, labels=[f"{t:g}" for t in ticks])


def patches(categories: Sequence[str], colours: dict[str, str],
            letters: bool = False) -> list[Patch]:
    """Legend entries, one coloured patch per category (with its letter if asked)."""
    return [Patch(facecolor=colours[c], edgecolor="none",
                  label=f"{letter(c)}  {c}" if letters else c) for c in categories]


def label_axes(ax: Any) -> None:
    """Coupling on the x axis, capability on the y axis, with units."""
    ax.set_xlabel(COUPLING_LABEL)
    ax.set_ylabel(CAPABILITY_LABEL)


def threshold_line(ax: Any, span: Span | None, label: str) -> None:
    """A dotted line at the threshold, when every run had the same one."""
    if span is not None and span[0] == span[1]:
        value = span[0]
        ax.axhline(value, color="0.5", linestyle=":", linewidth=1.0, zorder=0)
        ax.annotate(f"{label} {value:.4g}", xy=(1.0, value),
                    xycoords=("axes fraction", "data"), xytext=(-2, 2),
                    textcoords="offset points", ha="right", va="bottom", fontsize=7,
                    color="0.4")


def span_of_counts(counts: pd.Series) -> str:
    """Replicates (or runs) per point as a title prints them: ``"8"``, or ``"3-5"``
    when the points differ."""
    low, high = counts.min(), counts.max()
    return f"{low}" if low == high else f"{low}-{high}"


def quarter_position(quarter: str) -> float:
    """A quarter ``YEARQn`` as a position on a time axis in years."""
    year, q = str(quarter).upper().split("Q")
    return int(year) + (int(q) - 1) / 4


def prefix(name: str) -> str:
    """The experiment's name as the start of a title, or nothing."""
    return f"{name}: " if name else ""


def describe(span: Span | None) -> str:
    """A threshold's span as a title prints it."""
    if span is None:
        return "(not stored)"
    lo, hi = span
    return f"{lo:.4g}" if lo == hi else f"{lo:.4g}-{hi:.4g}"
