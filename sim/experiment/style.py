"""How the figures look and are written: palette, fonts, markers, resolution, and
:func:`save_figure`.

Light on purpose: it imports matplotlib and the scenario names only, so the dashboard
takes its colours from here without loading the tables or the sweep's storage.

Saving is deterministic: the PNG carries no software stamp, the SVG no date, text is
drawn as paths with matplotlib's own DejaVu fonts, and the SVG ids are seeded by a
fixed salt. The SVG is drawn from the layout the PNG was drawn with, snapped to a
fine grid (:data:`LAYOUT_GRID`): the layout engine's constraint solver can vary in the
last bits from one drawing to the next, and the SVG names each clip path by a hash of its
exact box. Drawing the same figure twice writes the same bytes.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from matplotlib import font_manager

from sim.scenarios import COUPLING_TYPES, SCENARIOS

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure, FigureBase

__all__ = ["COUPLING_TYPE_COLOURS", "DPI", "LAYOUT_GRID", "LINE_COLOURS", "MARKERS",
           "OKABE_ITO", "SCENARIO_COLOURS", "STYLE", "level_colours", "replace_atomically",
           "save_figure",
           "snap_layout", "use_matplotlib_fonts"]

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky blue": "#56B4E9",
             "bluish green": "#009E73", "yellow": "#F0E442", "blue": "#0072B2",
             "vermillion": "#D55E00", "reddish purple": "#CC79A7"}
#: One fixed colour per scenario, in the order of :data:`sim.scenarios.SCENARIOS`.
#: Hues far apart, so that the lighter (less certain) shades stay apart too; 'Coupled
#: without synergy' is black, its lighter shades grey, a hue none of the others has.
SCENARIO_COLOURS: dict[str, str] = dict(zip(SCENARIOS, (
    OKABE_ITO["bluish green"], OKABE_ITO["blue"], OKABE_ITO["orange"],
    OKABE_ITO["reddish purple"], OKABE_ITO["black"]), strict=True))
#: One fixed colour per Orton & Weick coupling type, in the order of
#: :data:`sim.scenarios.COUPLING_TYPES`.
COUPLING_TYPE_COLOURS: dict[str, str] = dict(zip(COUPLING_TYPES, (
    OKABE_ITO["bluish green"], OKABE_ITO["vermillion"], OKABE_ITO["sky blue"],
    OKABE_ITO["black"]), strict=True))
#: Colours of the lines of one panel, one per level (e.g. of capability), in order.
LINE_COLOURS: tuple[str, ...] = (
    OKABE_ITO["black"], OKABE_ITO["orange"], OKABE_ITO["sky blue"],
    OKABE_ITO["bluish green"], OKABE_ITO["blue"], OKABE_ITO["vermillion"],
    OKABE_ITO["reddish purple"])
#: Markers of those lines, in the same order.
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X")

#: matplotlib settings every figure is drawn and saved with.
STYLE: dict[str, Any] = {
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
    "xtick.labelsize": 8, "ytick.labelsize": 8, "figure.titlesize": 12,
    "axes.spines.top": False, "axes.spines.right": False,
    # the salt seeds the SVG ids: the published SVG files were written with this one
    "svg.hashsalt": "sim.figures", "svg.fonttype": "path", "path.simplify": False,
}
#: Resolution of the PNG files, in dots per inch.
DPI = 200
#: Where the layout engine placed each panel and subfigure, rounded to this fraction of
#: its parent before the SVG is written: far below anything visible (1e-7 of an 18-inch
#: figure is 1.3e-4 pt), far above the solver's noise (a few 1e-16).
LAYOUT_GRID = 1e-7


def level_colours(n: int) -> list[Any]:
    """One colour per level of ``n``: :data:`LINE_COLOURS` while they last, else
    evenly spaced viridis shades."""
    if n <= len(LINE_COLOURS):
        return list(LINE_COLOURS[:n])
    cmap = matplotlib.colormaps["viridis"]
    return [cmap(v) for v in np.linspace(0.0, 0.9, n)]


def use_matplotlib_fonts() -> None:
    """Draw with the DejaVu fonts matplotlib ships, never another copy on the machine.

    A fresh font cache lists matplotlib's own fonts first, and they win ties; but a cache
    written by another installation can list only the system's (Debian's
    fonts-dejavu-core), a different version whose glyphs are numbered differently, and
    the SVG bytes would then depend on the machine. Reorder the font list so that
    matplotlib's fonts come first again."""
    manager = font_manager.fontManager
    shipped = Path(matplotlib.get_data_path(), "fonts", "ttf").resolve()

    def is_shipped(path: str | Path) -> bool:
        return Path(path).resolve().parent == shipped

    if is_shipped(manager.findfont(font_manager.FontProperties(family="DejaVu Sans"))):
        return
    listed = {Path(entry.fname).resolve() for entry in manager.ttflist}
    for path in sorted(shipped.glob("*.ttf")):
        if path.resolve() not in listed:
            manager.addfont(str(path))
    manager.ttflist.sort(key=lambda entry: not is_shipped(entry.fname))  # stable
    manager._findfont_cached.cache_clear()  # forget fonts found in the old order


def save_figure(figure: Figure, table: pd.DataFrame, out_dir: str | Path, name: str,
                companions: Mapping[str, pd.DataFrame] | None = None) -> list[Path]:
    """Write a figure and the numbers it draws into ``out_dir`` (made if missing).

    Writes ``NAME.png`` (:data:`DPI` dots per inch), ``NAME.svg`` and ``NAME.csv`` (the
    table, without its index, one ``\\n`` per line), then each companion table as
    ``COMPANION.csv``, and returns those paths in that order. The same figure and
    tables give the same bytes every time.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    png, svg, csv = (out / f"{name}.{ext}" for ext in ("png", "svg", "csv"))
    # the style again: some of it (the SVG hash salt, text as paths) is read on saving
    with matplotlib.rc_context(STYLE):
        replace_atomically(png, lambda tmp: figure.savefig(
            tmp, dpi=DPI, metadata={"Software": None}, facecolor="white"))
        figure.set_layout_engine("none")  # keep the layout just computed: the SVG matches
        snap_layout(figure)
        replace_atomically(svg, lambda tmp: figure.savefig(
            tmp, metadata={"Date": None}, facecolor="white"))
    replace_atomically(csv, lambda tmp: table.to_csv(tmp, index=False, lineterminator="\n"))
    written = [png, svg, csv]
    for extra, extra_table in (companions or {}).items():
        written.append(out / f"{extra}.csv")
        replace_atomically(written[-1], lambda tmp, frame=extra_table: frame.to_csv(
            tmp, index=False, lineterminator="\n"))
    return written


def replace_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` through ``write(temporary)`` and rename the temporary file onto it:
    a kill or a full disk leaves the old file whole, never a truncated one. The
    temporary file is in the same folder and ends with the same name (its extension
    tells matplotlib the format); it is removed if writing fails."""
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def snap_layout(figure: FigureBase) -> None:
    """Round the position of every subfigure and panel of ``figure`` (each in its
    parent's coordinates) to :data:`LAYOUT_GRID`, so that a layout the solver found with
    other last bits is drawn the same. Call it after the layout engine has run and has
    been switched off (``figure.set_layout_engine("none")``), or the next drawing moves
    everything again."""
    for subfigure in figure.subfigs:
        subfigure.bbox_relative.set_points(_on_grid(subfigure.bbox_relative.get_points()))
        snap_layout(subfigure)
    if figure is figure.figure:  # the root lists every panel, its subfigures' too
        for axes in figure.axes:
            # the original position: a fixed-aspect panel's active one follows from it
            box = axes.get_position(original=True)
            axes.set_position(box.from_extents(*_on_grid(box.get_points()).ravel()),
                              which="both")


def _on_grid(points: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(points) / LAYOUT_GRID) * LAYOUT_GRID
