"""Figures of a finished sweep: the analysis layer.

Reads a results directory (:func:`sim.sweep.storage.read_results`) and never runs the
model. :func:`draw` dispatches on the manifest's ``experiment.analysis``:

=====================  ===============================================
analysis               figures
=====================  ===============================================
``phase_diagram``      ``phase_diagram`` (and its table
                       ``phase_diagram_emergence``), ``threshold_sensitivity``
``coupling_response``  ``coupling_response``
``trajectories``       ``trajectories`` (needs ``series = true``)
``hysteresis``         ``hysteresis`` (coupling switched in ``switch_year``)
``none``               (none)
=====================  ===============================================

Every figure ``NAME`` is written as ``NAME.png`` (200 dpi), ``NAME.svg`` (byte-identical
from one drawing to the next) and ``NAME.csv``: the exact numbers drawn, one tidy table,
rows sorted by their keys and floats rounded to 12 significant digits. A figure may also
draw numbers of another shape, kept as a companion table ``COMPANION.csv`` next to its
own (:data:`COMPANIONS`): the phase diagram states how much of the emergent indices and
scenarios its inputs alone explain (``phase_diagram_emergence.csv``,
:func:`emergence_table`).

A figure is drawn in two steps. Each ``*_table`` function computes one figure's table
from the runs table alone, so the numbers can be checked or reused without drawing;
:func:`figure_from_table` then draws the figure from that table and a
:class:`FigureContext`, the few facts its title and threshold lines need besides the
numbers (experiment name, horizon, number of runs, classification thresholds).
:func:`draw` does both from a results directory. :func:`redraw` does the second step
alone from the CSV files (the committed ``figures/*.csv``), taking the context from the
experiment files that made them, so a published figure can be rebuilt without its runs.

Command line: ``python -m sim figures RESULTS_DIR [--out DIR]``, or
``python -m sim figures --from-csv FIGURES_DIR --out DIR [--experiments DIR]``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import cm, font_manager, ticker
from matplotlib.colors import ListedColormap, Normalize, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from sim import emergence, metrics
from sim.params import Params
from sim.scenarios import COUPLING_TYPES, SCENARIOS, classify, coupling_type
from sim.sweep.design import Experiment, load
from sim.sweep.storage import read_results

__all__ = ["ANALYSES", "COMPANIONS", "COUPLING_TYPE_COLOURS", "FACTORS", "FigureContext",
           "FIXED_RULE", "HYSTERESIS_MEASURES", "SCENARIO_COLOURS", "THRESHOLDS",
           "coupling_response_table", "draw", "emergence_table", "figure_from_table",
           "hysteresis_table", "phase_diagram_table", "read_contexts", "read_table",
           "redraw", "representative_runs", "threshold_table", "trajectories_table"]

# --- style -------------------------------------------------------------------------------
#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky blue": "#56B4E9",
             "bluish green": "#009E73", "yellow": "#F0E442", "blue": "#0072B2",
             "vermillion": "#D55E00", "reddish purple": "#CC79A7"}
#: One fixed colour per scenario, in the order of :data:`sim.scenarios.SCENARIOS`.
#: Hues far apart, so that the lighter (less certain) shades stay apart too.
SCENARIO_COLOURS: dict[str, str] = dict(zip(SCENARIOS, (
    OKABE_ITO["bluish green"], OKABE_ITO["blue"], OKABE_ITO["orange"],
    OKABE_ITO["reddish purple"]), strict=True))
#: One fixed colour per Orton & Weick coupling type, in the order of
#: :data:`sim.scenarios.COUPLING_TYPES`.
COUPLING_TYPE_COLOURS: dict[str, str] = dict(zip(COUPLING_TYPES, (
    OKABE_ITO["bluish green"], OKABE_ITO["vermillion"], OKABE_ITO["sky blue"],
    OKABE_ITO["black"]), strict=True))
_LINE_COLOURS = (OKABE_ITO["black"], OKABE_ITO["orange"], OKABE_ITO["sky blue"],
                 OKABE_ITO["bluish green"], OKABE_ITO["blue"], OKABE_ITO["vermillion"],
                 OKABE_ITO["reddish purple"])
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")

_STYLE = {
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
    "xtick.labelsize": 8, "ytick.labelsize": 8, "figure.titlesize": 12,
    "axes.spines.top": False, "axes.spines.right": False,
    "svg.hashsalt": "sim.figures", "svg.fonttype": "path", "path.simplify": False,
}
DPI = 200

# --- labels (with units) ------------------------------------------------------------------
_COUPLING_LABEL = "coupling (strength of inter-cluster ties, 0-1)"
_CAPABILITY_LABEL = "capability (internal capability input, 0-1)"
_INDEX_LABELS = {
    "capability_index": "capability index (innovations per agent per year)",
    "cooperation_index": "cooperation index (share of collaborations crossing)",
    "distinctiveness": "distinctiveness (share of 2018 inter-cluster distance)",
    "synergy": "synergy (innovations relative to coupling 0)",
}

# --- thresholds -----------------------------------------------------------------------------
#: The three classification thresholds the sensitivity analysis moves.
THRESHOLDS: tuple[str, ...] = ("capability_threshold", "cooperation_threshold",
                               "distinctiveness_threshold")
#: Factors applied to each threshold: -25 %, baseline, +25 %.
FACTORS: tuple[float, ...] = (0.75, 1.0, 1.25)
_THRESHOLD_NAMES = {"capability_threshold": "capability threshold",
                    "cooperation_threshold": "cooperation threshold",
                    "distinctiveness_threshold": "distinctiveness threshold"}
_THRESHOLD_UNITS = {"capability_threshold": "innovations/agent/year",
                    "cooperation_threshold": "share crossing",
                    "distinctiveness_threshold": "share of 2018 distance"}

_SIG_DIGITS = 12


#: The figures each analysis draws, in the order they are drawn.
ANALYSES: dict[str, tuple[str, ...]] = {
    "phase_diagram": ("phase_diagram", "threshold_sensitivity"),
    "coupling_response": ("coupling_response",),
    "trajectories": ("trajectories",),
    "hysteresis": ("hysteresis",),
    "none": (),
}
#: Tables a figure draws besides its own, written next to it as ``NAME.csv``.
COMPANIONS: dict[str, tuple[str, ...]] = {"phase_diagram": ("phase_diagram_emergence",)}
#: Cut points (coupling, capability) of the input-only rule an earlier version of the
#: phase diagram was summarised by; the emergence table scores it for comparison.
FIXED_RULE: tuple[float, float] = (0.25, 0.45)

Span = tuple[float, float]
"""Lowest and highest value of a threshold over the runs behind a figure."""


@dataclass(frozen=True)
class FigureContext:
    """What a figure shows besides the numbers of its table.

    ``experiment`` prefixes the title; ``horizon`` is the last simulated year (a range
    ``"2025-2030"`` when the runs differ); ``runs`` is the number of runs behind the
    figure (None: the sum of the table's ``n`` where it has one, else not shown);
    ``thresholds`` maps a classification threshold (:data:`THRESHOLDS`) to its lowest and
    highest value over the runs, or to None when unknown. A threshold left out of the
    mapping takes its :class:`sim.params.Params` default, which is unknown for the
    capability threshold (the model derives it at run time from the scale). Threshold
    lines are drawn where the lowest and highest value coincide.
    """

    experiment: str = ""
    horizon: str = field(default_factory=lambda: str(Params().until_year))
    runs: int | None = None
    thresholds: Mapping[str, Span | None] = field(default_factory=dict)

    def threshold(self, name: str) -> Span | None:
        """Lowest and highest value of one threshold, or None when it is unknown."""
        if name in self.thresholds:
            return self.thresholds[name]
        default = getattr(Params(), name)
        return None if default is None else (float(default), float(default))


# =========================================================================================
# Public entry points
# =========================================================================================
def draw(results_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Draw every figure of the analysis the results' manifest names into ``out_dir``.

    Returns the paths written (for each figure its ``.png``, ``.svg`` and ``.csv``).
    Raises ``ValueError`` when the results cannot support the analysis (no coupling 0 for
    a coupling response, no series for trajectories, no runs, unknown analysis).
    """
    manifest, runs, series = read_results(results_dir)
    analysis = manifest.get("experiment", {}).get("analysis", "none")
    if analysis not in ANALYSES:
        raise ValueError(f"unknown analysis {analysis!r} in {Path(results_dir) / 'manifest.json'}"
                         f" (expected one of {', '.join(sorted(ANALYSES))})")
    if analysis == "none":
        return []
    if runs.empty:
        raise ValueError(f"{results_dir} holds no runs: nothing to draw")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    context = _context_from_runs(runs, manifest.get("experiment", {}).get("name", ""))
    written: list[Path] = []
    for name in ANALYSES[analysis]:
        table = _TABLES[name](runs, series)
        companions = {extra: _TABLES[extra](runs, series) for extra in COMPANIONS.get(name, ())}
        written += _save(figure_from_table(name, table, context, companions), table, out,
                         name, companions)
    return written


def figure_from_table(figure: str, table: pd.DataFrame,
                      context: FigureContext | None = None,
                      companions: Mapping[str, pd.DataFrame] | None = None) -> Figure:
    """Draw one figure from its table and its context.

    ``figure`` is a figure name (``phase_diagram``, ``threshold_sensitivity``,
    ``coupling_response``, ``trajectories``, ``hysteresis``); ``table`` is its table as
    the matching ``*_table`` function returns it or as :func:`read_table` reads it back
    from its CSV. ``companions`` maps the names of the figure's companion tables
    (:data:`COMPANIONS`) to those tables; a companion left out leaves its part out of
    the figure (the phase diagram without its emergence line, as drawn before that
    table existed). The figure is a plain :class:`matplotlib.figure.Figure` (no pyplot
    state): Jupyter displays it (with ``%matplotlib inline``), ``figure.savefig`` writes
    it. Raises ``ValueError`` for an unknown figure or companion, or a table without
    the columns it should have.
    """
    _check_table(figure, table)
    companions = dict(companions or {})
    unknown = sorted(set(companions) - set(COMPANIONS.get(figure, ())))
    if unknown:
        raise ValueError(f"the {figure} figure has no companion table {unknown[0]!r} "
                         f"(it has: {', '.join(COMPANIONS.get(figure, ())) or 'none'})")
    for name, extra in companions.items():
        _check_table(name, extra)
    _use_matplotlib_fonts()
    with matplotlib.rc_context(_STYLE):
        return _DRAWERS[figure](table, context or FigureContext(), companions)


def _use_matplotlib_fonts() -> None:
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


# Every float must read back as the value written, so that a redrawn CSV is
# byte-identical to the one read: pandas 3 parses so by default, pandas 2 when asked.
_EXACT_FLOATS: dict[str, Any] = (
    {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"})


def read_table(figure: str, path: str | Path) -> pd.DataFrame:
    """Read a figure's CSV, as :func:`draw` wrote it, with the column types drawing needs.

    ``figure`` names a figure or a companion table (:data:`COMPANIONS`). Raises
    ``ValueError`` naming the file when it is missing or unreadable, or when its columns
    or values are not those of the figure's table.
    """
    path = Path(path)
    kinds = _schema(figure)
    if not path.is_file():
        raise ValueError(f"{path}: no such file (the data of the {figure} figure)")
    text = {column: str for column, kind in kinds.items() if kind == "text"}
    try:
        table = pd.read_csv(path, dtype=text, **_EXACT_FLOATS)
    except (ValueError, OSError, UnicodeDecodeError) as error:
        detail = " ".join(str(error).split())  # pandas' messages may span lines
        raise ValueError(f"{path}: not a readable CSV table ({detail})") from None
    try:
        _check_table(figure, table)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    return table


def read_contexts(figures_dir: str | Path,
                  experiments_dir: str | Path) -> dict[str, FigureContext]:
    """The context of every figure the experiment files (``*.toml``) in
    ``experiments_dir`` draw, by figure name, with the figures' data in ``figures_dir``.

    Each experiment file gives its figures' experiment name, horizon, number of runs and
    the thresholds it sets (the :class:`sim.params.Params` defaults otherwise). The data
    give the capability threshold, which the model derives at run time from the scale
    unless it is set: the phase-diagram figure takes its thresholds from the baseline
    rows (factor 1.0) of ``threshold_sensitivity.csv``, and the other experiments take
    the capability threshold found there when they run at the same scale (it is unknown
    for them otherwise, and their threshold line is left out).

    Raises ``ValueError`` naming the file at fault when a file is missing or malformed,
    when two experiments draw the same figure, or when a figure's data do not come from
    its experiment (another number of runs, run ids the experiment does not make).
    """
    return {name: context for name, _table, context, _extra in _load(figures_dir,
                                                                        experiments_dir)}


def redraw(figures_dir: str | Path, out_dir: str | Path,
           experiments_dir: str | Path) -> list[Path]:
    """Draw figures again from their data alone, without the runs.

    For every figure the experiment files in ``experiments_dir`` draw, its table
    ``figures_dir/NAME.csv`` (:func:`read_table`) and its context
    (:func:`read_contexts`) give ``out_dir/NAME.png``, ``NAME.svg`` and ``NAME.csv``,
    exactly as :func:`draw` writes them from the runs. Its companion tables
    (:data:`COMPANIONS`) are read from ``figures_dir`` too and written again next to it;
    a companion not found there is left out of the figure (figures published before the
    companion existed are redrawn as they were). With ``figures`` and
    ``experiments/publication`` this rebuilds the published figures.

    Every input is read and checked before anything is written. Returns the paths
    written. Raises ``ValueError`` naming the file at fault (see :func:`read_table` and
    :func:`read_contexts`).
    """
    loaded = _load(figures_dir, experiments_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, table, context, companions in loaded:
        written += _save(figure_from_table(name, table, context, companions), table, out,
                         name, companions)
    return written


# =========================================================================================
# Tables (the numbers each figure draws)
# =========================================================================================
def phase_diagram_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (coupling, capability) cell: n, the share of each scenario, the
    majority scenario (ties go to the first in :data:`SCENARIOS` order), its share
    (certainty) and the means of the capability and cooperation indices and of
    distinctiveness. Other varied parameters, if any, are pooled within a cell."""
    runs = _with_inputs(runs, ("coupling", "capability"))
    _require(runs, ("scenario", "capability_index", "cooperation_index", "distinctiveness"))
    table = _majority(runs, ["coupling", "capability"], runs["scenario"], SCENARIOS,
                      share_columns=True)
    means = (runs.groupby(["coupling", "capability"], sort=True)
             [["capability_index", "cooperation_index", "distinctiveness"]].mean()
             .add_prefix("mean_").reset_index())
    table = table.merge(means, on=["coupling", "capability"], how="left", validate="1:1")
    return _tidy(table, ["coupling", "capability"])


def threshold_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Majority per cell when each threshold is moved by -25 % and +25 %.

    One row per (threshold, factor, coupling, capability). The capability and
    cooperation thresholds reclassify the scenario (:func:`sim.scenarios.classify`); the
    distinctiveness threshold reclassifies the Orton & Weick coupling type
    (:func:`sim.scenarios.coupling_type`), so its rows hold coupling types. ``changed``
    says whether the majority differs from the one at factor 1.0.
    """
    runs = _with_inputs(runs, ("coupling", "capability"))
    _require(runs, ("capability_index", "cooperation_index", "distinctiveness"))
    base = _known_thresholds(runs)
    keys = ["coupling", "capability"]
    frames = []
    for threshold in THRESHOLDS:
        baseline = None
        for factor in FACTORS:
            moved = base.copy()
            moved[threshold] = base[threshold] * factor
            if threshold == "distinctiveness_threshold":
                labels = _coupling_types(runs, moved)
                categories, kind = COUPLING_TYPES, "coupling type"
            else:
                labels = _scenarios(runs, moved)
                categories, kind = SCENARIOS, "scenario"
            cells = _majority(runs, keys, labels, categories)
            value = moved[threshold].groupby([runs[k] for k in keys], sort=True).mean()
            cells = cells.merge(value.rename("threshold_value").reset_index(), on=keys,
                                validate="1:1")
            cells.insert(0, "classification", kind)
            cells.insert(0, "factor", factor)
            cells.insert(0, "threshold", threshold)
            if factor == 1.0:
                baseline = cells.set_index(keys)["majority"]
            frames.append(cells)
        for i in range(len(frames) - len(FACTORS), len(frames)):
            reference = baseline.reindex(pd.MultiIndex.from_frame(frames[i][keys]))
            frames[i]["changed"] = frames[i]["majority"].to_numpy() != reference.to_numpy()
    table = pd.concat(frames, ignore_index=True)
    columns = ["threshold", "factor", "threshold_value", "coupling", "capability",
               "classification", "n", "majority", "certainty", "changed"]
    return _tidy(table[columns], ["threshold", "factor", "coupling", "capability"])


def coupling_response_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Synergy, cooperation index and distinctiveness per (capability, coupling): n and
    the mean with a 95 % t-interval over the runs (replicates; other varied parameters
    pooled).

    Synergy of a run is its ``innovations_total`` over that of its paired run at coupling
    0 (same parameters otherwise, same replicate and seed), minus one; it is NaN (and left
    out of the mean) when the paired run made no innovation. Raises ``ValueError`` if no
    run has coupling 0.
    """
    runs = _with_inputs(runs, ("coupling", "capability"))
    _require(runs, ("innovations_total", "cooperation_index", "distinctiveness",
                    "replicate"))
    runs = runs.assign(synergy=_synergy(runs))
    rows = []
    for (capability, coupling), group in runs.groupby(["capability", "coupling"], sort=True):
        row: dict[str, Any] = {"capability": capability, "coupling": coupling,
                               "n": len(group)}
        for measure in ("synergy", "cooperation_index", "distinctiveness"):
            mean, low, high = emergence.t_interval(group[measure].to_numpy(dtype=float))
            row |= {f"{measure}_mean": mean, f"{measure}_low": low, f"{measure}_high": high}
        rows.append(row)
    return _tidy(pd.DataFrame(rows), ["capability", "coupling"])


def representative_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """One run per scenario reached: among the runs ending in it, the one closest
    (Euclidean, each index divided by its standard deviation over all runs) to the
    scenario's median (capability index, cooperation index); ties go to the smallest
    ``run_id``. Rows in :data:`SCENARIOS` order."""
    _require(runs, ("run_id", "scenario", "capability_index", "cooperation_index"))
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
        ranking = pd.DataFrame({"distance": distance.map(_round),
                                "run_id": runs.loc[mask, "run_id"]})
        chosen.append(ranking.sort_values(["distance", "run_id"]).index[0])
    return runs.loc[chosen]


def trajectories_table(runs: pd.DataFrame, series: pd.DataFrame | None) -> pd.DataFrame:
    """Quarterly series of each scenario's representative run (see
    :func:`representative_runs`), as a long table: run_id, scenario, coupling,
    capability, quarter and the plotted series. Raises ``ValueError`` without series."""
    if series is None:
        raise ValueError("trajectories need the per-quarter series, and these results "
                         "have none: run the experiment with series = true in its "
                         "[experiment] table")
    runs = _with_inputs(runs, ("coupling", "capability"))
    _require(series, ("run_id", "quarter", *_TRAJECTORY_SERIES), what="series table")
    chosen = representative_runs(runs)[["run_id", "scenario", "coupling", "capability"]]
    table = chosen.merge(series[["run_id", "quarter", *_TRAJECTORY_SERIES]], on="run_id",
                         how="left", validate="1:m")
    missing = sorted(set(chosen["run_id"]) - set(series["run_id"]))
    if missing:
        raise ValueError(f"the series table has no rows for run(s) {', '.join(missing)}")
    order = {s: i for i, s in enumerate(SCENARIOS)}
    table = table.assign(_order=table["scenario"].map(order))
    table = table.sort_values(["_order", "quarter"], kind="stable").drop(columns="_order")
    return _tidy(table, None)


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
    emergent one, from its indices and thresholds, never from its inputs.
    """
    runs = _with_inputs(runs, ("coupling", "capability"))
    _require(runs, _EMERGENCE_INDICES)
    scenarios = _scenarios(runs, _known_thresholds(runs)).to_numpy()
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
    best = emergence.best_quadrant_rule(coupling, capability, scenarios)
    fixed = emergence.rule_accuracy(coupling, capability, scenarios, *FIXED_RULE)
    for prefix, rule, how in (("best_rule", best, "the cut points that maximise it"),
                              ("fixed_rule", fixed, "the earlier version's cut points")):
        rule_text = ("share of runs whose emergent scenario is the quadrant of "
                     "(coupling >= a, capability >= b), with " + how)
        rows += [(f"{prefix}_accuracy", "scenario", rule.accuracy, rule.runs, rule_text),
                 (f"{prefix}_coupling_cut", "scenario", rule.coupling_cut, rule.runs,
                  f"a of the {prefix.replace('_', ' ')}"),
                 (f"{prefix}_capability_cut", "scenario", rule.capability_cut, rule.runs,
                  f"b of the {prefix.replace('_', ' ')}")]
    table = pd.DataFrame(rows, columns=["quantity", "index", "value", "n", "description"])
    return _tidy(table.astype({"value": float, "n": int}), None)


def hysteresis_table(runs: pd.DataFrame) -> pd.DataFrame:
    """End state by coupling path, and each path's effect against the constant path.

    One row per (capability, coupling_after, coupling): the path from ``coupling``
    (before ``switch_year``) to ``coupling_after`` (from then on), labelled
    ``constant``, ``lowered`` or ``raised``; ``n`` runs; for each of
    :data:`HYSTERESIS_MEASURES` the mean with a 95 % t-interval (``*_mean``, ``*_low``,
    ``*_high``); the share of runs in each scenario at the horizon (``share_*``, from the
    indices and thresholds). A path that ends where it started elsewhere is compared
    with the constant path at its final coupling, run by run: each run is paired with
    the constant-path run of the same replicate, seed and other inputs, and
    ``*_effect_mean``, ``*_effect_low``, ``*_effect_high`` are the mean paired
    difference (path minus constant) with its 95 % t-interval over ``pairs`` pairs
    (NaN and 0 pairs on constant rows). An interval that excludes 0 is path dependence.

    Runs whose ``coupling_after`` is missing keep their coupling (a constant path).
    Other varied inputs are pooled within a row, each run still paired with its own
    twin. Raises ``ValueError`` if the runs switch at several years, if no run switches
    coupling, or if a switched path has no constant path to be compared with.
    """
    runs = _with_inputs(runs, ("coupling", "capability", "switch_year"))
    _require(runs, ("coupling_after", "replicate", *HYSTERESIS_MEASURES))
    years = sorted(runs["switch_year"].unique())
    if len(years) != 1:
        raise ValueError("the hysteresis analysis compares paths switched in one year, but "
                         f"the runs switch in {', '.join(str(int(y)) for y in years)}")
    after = runs["coupling_after"].astype(float)
    runs = runs.assign(coupling_after=after.fillna(runs["coupling"].astype(float)),
                       _scenario=_scenarios(runs, _known_thresholds(runs)))
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
            row[f"share_{_snake(scenario)}"] = float(shares.get(scenario, 0.0))
        rows.append(row)
    table = pd.DataFrame(rows)
    return _tidy(table, ["capability", "coupling_after", "coupling"])


# =========================================================================================
# Figures
# =========================================================================================
def _draw_phase_diagram(table: pd.DataFrame, context: FigureContext,
                        companions: Companions) -> Figure:
    explained = companions.get("phase_diagram_emergence")
    height = 6.2 if explained is None else 6.6
    figure = Figure(figsize=(12.5, height), layout="constrained")
    left, right = figure.subfigures(1, 2, width_ratios=[1.05, 1.0], wspace=0.02)

    ax = left.subplots()
    _majority_map(ax, table, SCENARIOS, SCENARIO_COLOURS, annotate=True)
    ax.set_title("Majority scenario of the runs in each cell")
    _label_axes(ax)
    _certainty_colourbar(left, ax, len(SCENARIOS))
    ax.legend(handles=_patches(SCENARIOS, SCENARIO_COLOURS, letters=True),
              loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False,
              title="majority scenario (in each cell: its letter, runs in it / runs)")

    axes = right.subplots(2, 2, sharex=True, sharey=True)
    norm = Normalize(0.0, 1.0)
    cmap = matplotlib.colormaps["viridis"]
    for axis, scenario in zip(axes.flat, SCENARIOS, strict=True):
        share = table[f"share_{_snake(scenario)}"].to_numpy()
        _cells(axis, table["coupling"], table["capability"], cmap(norm(share)))
        axis.set_title(scenario, color=SCENARIO_COLOURS[scenario], fontweight="bold")
    for axis in axes[1]:
        axis.set_xlabel("coupling (0-1)")
    for axis in axes[:, 0]:
        axis.set_ylabel("capability (0-1)")
    mappable = cm.ScalarMappable(norm=norm, cmap=cmap)
    right.colorbar(mappable, ax=axes, shrink=0.8, label="share of runs in the scenario")
    right.suptitle("Share of runs ending in each scenario")

    per_cell = table["n"]
    n_text = (f"{per_cell.min()}" if per_cell.min() == per_cell.max()
              else f"{per_cell.min()}-{per_cell.max()}")
    runs = context.runs if context.runs is not None else int(per_cell.sum())
    figure.suptitle(
        f"{_prefix(context.experiment)}Emergent scenario at {context.horizon}Q4 by coupling "
        f"and capability\n{runs} runs, {len(table)} cells, {n_text} "
        f"run{'s' * (n_text != '1')} per cell; high capability: capability index >= "
        f"{_describe(context.threshold('capability_threshold'))} innovations/agent/year; "
        "high cooperation: cooperation index >= "
        f"{_describe(context.threshold('cooperation_threshold'))}"
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
            cells = part[part["factor"] == factor]
            marked = cells["changed"].to_numpy() if factor != 1.0 else None
            _majority_map(axis, cells, categories, colours, annotate=False, marked=marked)
            value = _describe(_span(cells["threshold_value"]))
            if factor != 1.0:
                changed = cells["changed"].mean() if len(cells) else 0.0
                axis.set_title(f"{factor - 1:+.0%} ({value}):\nmajority changed in "
                               f"{changed:.0%} of cells")
            else:
                axis.set_title(f"baseline ({value})\n")
            axis.set_xlabel("coupling (0-1)")
        for axis in axes[1:]:
            axis.tick_params(labelleft=False)
        axes[0].set_ylabel("capability (0-1)")
        what = "coupling type" if is_type else "scenario"
        subfigure.suptitle(f"{_THRESHOLD_NAMES[threshold].capitalize()} "
                           f"({_THRESHOLD_UNITS[threshold]}) moved: majority {
                               "Orton & Weick " if is_type else ""}{what}",
                           fontsize=11, fontweight="bold")
        info = subfigure.add_subplot(grid[0, -1])
        info.axis("off")
        handles = _patches(categories, colours) + [Line2D(
            [], [], linestyle="none", marker="o", markersize=5, markerfacecolor="white",
            markeredgecolor="black", label="majority changed")]
        info.legend(handles=handles, loc="upper left", title=f"majority {what}",
                    frameon=False, alignment="left", borderaxespad=0.0)
        _certainty_colourbar(subfigure, None, len(categories),
                             cax=info.inset_axes((0.02, 0.0, 0.08, 0.38)))
    figure.suptitle(f"{_prefix(context.experiment)}Threshold sensitivity: each "
                    "classification threshold moved by -25 % and +25 % (same runs, "
                    "reclassified)", fontsize=12)
    return figure


def _draw_coupling_response(table: pd.DataFrame, context: FigureContext) -> Figure:
    figure = Figure(figsize=(13, 4.8), layout="constrained")
    axes = figure.subplots(1, 3, sharex=True)
    levels = sorted(table["capability"].unique())
    colours = _level_colours(len(levels))
    for i, capability in enumerate(levels):
        part = table[table["capability"] == capability].sort_values("coupling")
        for axis, measure in zip(axes, _RESPONSE_MEASURES, strict=True):
            x = part["coupling"].to_numpy(dtype=float)
            axis.fill_between(x, part[f"{measure}_low"], part[f"{measure}_high"],
                              color=colours[i], alpha=0.18, linewidth=0)
            axis.plot(x, part[f"{measure}_mean"], color=colours[i],
                      marker=_MARKERS[i % len(_MARKERS)], markersize=4, linewidth=1.5,
                      label=f"{capability:g}")
    axes[0].axhline(0.0, color="0.3", linewidth=0.8, zorder=0)
    axes[0].yaxis.set_major_formatter(ticker.PercentFormatter(1.0))
    _threshold_line(axes[1], context.threshold("cooperation_threshold"),
                    "cooperation threshold")
    _threshold_line(axes[2], context.threshold("distinctiveness_threshold"),
                    "distinctiveness threshold")
    titles = ("Synergy (each run vs. its seed at coupling 0)",
              "Cooperation index", "Distinctiveness")
    for axis, measure, title in zip(axes, _RESPONSE_MEASURES, titles, strict=True):
        axis.set_title(title)
        axis.set_ylabel(_INDEX_LABELS[measure])
        axis.set_xlabel(_COUPLING_LABEL)
        axis.set_xlim(-0.02, 1.02)
        axis.grid(True, color="0.9", linewidth=0.6)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside right upper", title="capability",
                  frameon=False)
    n = table["n"]
    n_text = f"{n.min()}" if n.min() == n.max() else f"{n.min()}-{n.max()}"
    figure.suptitle(f"{_prefix(context.experiment)}Response to coupling at "
                    f"{context.horizon}Q4: mean and 95 % t-interval over {n_text} "
                    "replicates per point")
    return figure


def _draw_trajectories(table: pd.DataFrame, context: FigureContext) -> Figure:
    figure = Figure(figsize=(13, 7.6), layout="constrained")
    axes = figure.subplots(2, 3, sharex=True)
    panels = [
        (axes[0, 0], "Innovations per quarter", "innovations per quarter",
         (("innovations", "-"), ("innovations_inter", "--"))),
        (axes[0, 1], "Capability index (last four quarters)",
         _INDEX_LABELS["capability_index"],
         (("capability_index", "-"),)),
        (axes[0, 2], "Cooperation index (last four quarters)",
         _INDEX_LABELS["cooperation_index"],
         (("cooperation_index", "-"),)),
        (axes[1, 0], "Distinctiveness", _INDEX_LABELS["distinctiveness"],
         (("distinctiveness", "-"),)),
        (axes[1, 1], "Ventures alive", "ventures alive (count)",
         (("ventures_daedeok", "-"), ("ventures_pangyo", "--"))),
    ]
    reached = [s for s in SCENARIOS if s in set(table["scenario"])]
    for rank, scenario in enumerate(reached):
        width = 2.6 - 0.45 * rank  # later lines thinner: coinciding curves stay visible
        part = table[table["scenario"] == scenario]
        x = part["quarter"].map(_quarter_position).to_numpy()
        for axis, _title, _ylabel, curves in panels:
            for column, style in curves:
                axis.plot(x, part[column].to_numpy(dtype=float), linestyle=style,
                          color=SCENARIO_COLOURS[scenario], linewidth=width)
    _threshold_line(axes[0, 1], context.threshold("capability_threshold"), "threshold")
    _threshold_line(axes[0, 2], context.threshold("cooperation_threshold"), "threshold")
    _threshold_line(axes[1, 0], context.threshold("distinctiveness_threshold"), "threshold")
    first, last = (_quarter_position(q) for q in (table["quarter"].min(),
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
    figure.suptitle(f"{_prefix(context.experiment)}Trajectories of one representative run "
                    f"per scenario (closest to the scenario's median end point){among}")
    return figure


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
                _threshold_line(axis, thresholds[measure], "threshold")
            axis.set_title(title)
            axis.set_ylabel(unit)
            axis.grid(True, axis="y", color="0.9", linewidth=0.6)
        shares = axes[-1]
        bottom = np.zeros(len(rows))
        for scenario in SCENARIOS:
            height = np.array([r[f"share_{_snake(scenario)}"] for r in rows])
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
            info.legend(handles=_patches(SCENARIOS, SCENARIO_COLOURS), title="scenario",
                        frameon=False, loc="lower left", alignment="left",
                        borderaxespad=0.0)
        text = subfigure.add_subplot(grid[1, :])
        text.axis("off")
        effects = [_effect_line(r) for r in rows if r["path"] != "constant"]
        text.text(0.0, 1.0, "\n".join(effects) or "no path switches coupling here",
                  transform=text.transAxes, ha="left", va="top", fontsize=8)
        subfigure.suptitle(f"capability {capability:g}", fontsize=11, fontweight="bold")
    n = table["n"]
    n_text = f"{n.min()}" if n.min() == n.max() else f"{n.min()}-{n.max()}"
    year = int(table["switch_year"].iloc[0])
    among = f", {context.runs} runs" if context.runs is not None else ""
    figure.suptitle(
        f"{_prefix(context.experiment)}End state at {context.horizon}Q4 by coupling path "
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


_TRAJECTORY_SERIES: tuple[str, ...] = (
    "innovations", "innovations_inter", "capability_index", "cooperation_index",
    "distinctiveness", "ventures_daedeok", "ventures_pangyo")

_RESPONSE_MEASURES: tuple[str, ...] = ("synergy", "cooperation_index", "distinctiveness")

#: The emergent indices whose share explained by the inputs the emergence table reports.
_EMERGENCE_INDICES: tuple[str, ...] = ("capability_index", "cooperation_index",
                                       "distinctiveness")
_EMERGENCE_QUANTITIES: tuple[str, ...] = (
    *(f"r2_{design}" for design in emergence.DESIGNS),
    *(f"{rule}_{what}" for rule in ("best_rule", "fixed_rule")
      for what in ("accuracy", "coupling_cut", "capability_cut")))

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

#: Each figure's table from the runs table and the series (None when not stored).
_TABLES: dict[str, Callable[[pd.DataFrame, pd.DataFrame | None], pd.DataFrame]] = {
    "phase_diagram": lambda runs, _series: phase_diagram_table(runs),
    "threshold_sensitivity": lambda runs, _series: threshold_table(runs),
    "coupling_response": lambda runs, _series: coupling_response_table(runs),
    "trajectories": trajectories_table,
    "hysteresis": lambda runs, _series: hysteresis_table(runs),
    "phase_diagram_emergence": lambda runs, _series: emergence_table(runs),
}
Companions = Mapping[str, pd.DataFrame]
#: Each figure drawn from its table, context and companion tables.
_DRAWERS: dict[str, Callable[[pd.DataFrame, FigureContext, Companions], Figure]] = {
    "phase_diagram": _draw_phase_diagram,
    "threshold_sensitivity": lambda table, context, _extra: _draw_threshold_sensitivity(
        table, context),
    "coupling_response": lambda table, context, _extra: _draw_coupling_response(
        table, context),
    "trajectories": lambda table, context, _extra: _draw_trajectories(table, context),
    "hysteresis": lambda table, context, _extra: _draw_hysteresis(table, context),
}




# =========================================================================================
# Drawing helpers
# =========================================================================================
def _majority_map(ax: Any, table: pd.DataFrame, categories: Sequence[str],
                  colours: dict[str, str], *, annotate: bool,
                  marked: np.ndarray | None = None) -> None:
    """Cells coloured by their majority; lighter where the majority is less certain.
    ``annotate`` writes the majority's letter and count in each cell (small grids);
    ``marked`` puts a ring on the cells where it is true."""
    floor = 1.0 / len(categories)
    rgb = np.array([_blend(colours[m], _strength(c, floor))
                    for m, c in zip(table["majority"], table["certainty"], strict=True)])
    _cells(ax, table["coupling"], table["capability"], rgb.reshape(-1, 3))
    n_x, n_y = table["coupling"].nunique(), table["capability"].nunique()
    if annotate and n_x <= 15 and n_y <= 15:
        size = 7 if max(n_x, n_y) <= 11 else 5.5
        counts = (table["certainty"] * table["n"]).round().astype(int)
        for x, y, m, k, n, colour in zip(table["coupling"], table["capability"],
                                         table["majority"], counts, table["n"], rgb,
                                         strict=True):
            ink = "white" if _luminance(colour) < 0.5 else "black"
            ax.text(x, y, f"{_letter(m)} {k}/{n}", ha="center", va="center", fontsize=size,
                    color=ink)
    if marked is not None and marked.any():
        ax.scatter(table["coupling"].to_numpy(dtype=float)[marked],
                   table["capability"].to_numpy(dtype=float)[marked], s=22,
                   facecolors="white", edgecolors="black", linewidths=0.8, zorder=3)


def _cells(ax: Any, x: pd.Series, y: pd.Series, colours: np.ndarray) -> None:
    """Draw one rectangle per (x, y) cell of a grid, or one marker per point when the
    points do not form a grid (a sampled design)."""
    xs, ys = np.sort(x.unique()), np.sort(y.unique())
    x_values, y_values = x.to_numpy(dtype=float), y.to_numpy(dtype=float)
    if len(xs) * len(ys) <= 2 * len(x):
        x_edges, y_edges = _edges(xs), _edges(ys)
        xi, yi = np.searchsorted(xs, x_values), np.searchsorted(ys, y_values)
        line = 0.6 if len(x) <= 400 else 0.0
        for i, j, colour in zip(xi, yi, colours, strict=True):
            ax.add_patch(Rectangle((x_edges[i], y_edges[j]), x_edges[i + 1] - x_edges[i],
                                   y_edges[j + 1] - y_edges[j], facecolor=colour,
                                   edgecolor="white", linewidth=line))
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


def _certainty_colourbar(container: Any, ax: Any, n_categories: int,
                         shrink: float = 0.6, cax: Any = None) -> None:
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


def _patches(categories: Sequence[str], colours: dict[str, str],
             letters: bool = False) -> list[Patch]:
    return [Patch(facecolor=colours[c], edgecolor="none",
                  label=f"{_letter(c)}  {c}" if letters else c) for c in categories]


def _letter(category: str) -> str:
    """One-letter code of a scenario (L, I, H, S) or coupling type (L, T, D, N)."""
    return category[0].upper()


def _label_axes(ax: Any) -> None:
    ax.set_xlabel(_COUPLING_LABEL)
    ax.set_ylabel(_CAPABILITY_LABEL)


def _threshold_line(ax: Any, span: Span | None, label: str) -> None:
    """A dotted line at the threshold, when every run had the same one."""
    if span is not None and span[0] == span[1]:
        value = span[0]
        ax.axhline(value, color="0.5", linestyle=":", linewidth=1.0, zorder=0)
        ax.annotate(f"{label} {value:.4g}", xy=(1.0, value),
                    xycoords=("axes fraction", "data"), xytext=(-2, 2),
                    textcoords="offset points", ha="right", va="bottom", fontsize=7,
                    color="0.4")


def _level_colours(n: int) -> list[Any]:
    if n <= len(_LINE_COLOURS):
        return list(_LINE_COLOURS[:n])
    cmap = matplotlib.colormaps["viridis"]
    return [cmap(v) for v in np.linspace(0.0, 0.9, n)]


def _quarter_position(quarter: str) -> float:
    year, q = str(quarter).upper().split("Q")
    return int(year) + (int(q) - 1) / 4


def _prefix(name: str) -> str:
    return f"{name}: " if name else ""


def _horizon(runs: pd.DataFrame) -> str:
    if "until_year" in runs and runs["until_year"].nunique() == 1:
        return str(int(runs["until_year"].iloc[0]))
    if "until_year" in runs:
        return f"{int(runs['until_year'].min())}-{int(runs['until_year'].max())}"
    return str(Params().until_year)


def _describe(span: Span | None) -> str:
    if span is None:
        return "(not stored)"
    lo, hi = span
    return f"{lo:.4g}" if lo == hi else f"{lo:.4g}-{hi:.4g}"


def _save(figure: Figure, table: pd.DataFrame, out: Path, name: str,
          companions: Mapping[str, pd.DataFrame] | None = None) -> list[Path]:
    """Write the figure as PNG and SVG, its table and then its companions as CSV."""
    png, svg, csv = (out / f"{name}.{ext}" for ext in ("png", "svg", "csv"))
    # the style again: some of it (the SVG hash salt, text as paths) is read on saving
    with matplotlib.rc_context(_STYLE):
        figure.savefig(png, dpi=DPI, metadata={"Software": None}, facecolor="white")
        figure.set_layout_engine("none")  # keep the layout just computed: the SVG matches
        figure.savefig(svg, metadata={"Date": None}, facecolor="white")
    table.to_csv(csv, index=False, lineterminator="\n")
    written = [png, svg, csv]
    for extra, extra_table in (companions or {}).items():
        written.append(out / f"{extra}.csv")
        extra_table.to_csv(written[-1], index=False, lineterminator="\n")
    return written


# =========================================================================================
# Contexts and tables read back
# =========================================================================================
def _span(values: pd.Series) -> Span | None:
    """Lowest and highest value, rounded like the tables; None if any is unknown."""
    if values.empty or values.isna().any():
        return None
    return _round(float(values.min())), _round(float(values.max()))


def _context_from_runs(runs: pd.DataFrame, experiment: str) -> FigureContext:
    thresholds = _thresholds(runs)
    return FigureContext(experiment=experiment, horizon=_horizon(runs), runs=len(runs),
                         thresholds={name: _span(thresholds[name]) for name in THRESHOLDS})


def _load(figures_dir: str | Path, experiments_dir: str | Path,
          ) -> list[tuple[str, pd.DataFrame, FigureContext, dict[str, pd.DataFrame]]]:
    """Every figure the experiment files draw: its name, table (read from
    ``figures_dir``), context and the companion tables found, checked against each
    other."""
    figures_dir, experiments_dir = Path(figures_dir), Path(experiments_dir)
    experiments = _experiment_files(experiments_dir)
    owners: dict[str, Path] = {}
    for path, experiment in experiments:
        for name in ANALYSES[experiment.analysis]:
            if name in owners:
                raise ValueError(f"{owners[name]} and {path} both draw the {name} figure; "
                                 f"keep one of them in {experiments_dir}")
            owners[name] = path
    if not owners:
        raise ValueError(f"the experiment files in {experiments_dir} draw no figure "
                         "(every analysis is 'none')")
    tables = {name: read_table(name, figures_dir / f"{name}.csv") for name in owners}
    companions = {name: {extra: read_table(extra, figures_dir / f"{extra}.csv")
                         for extra in COMPANIONS.get(name, ())
                         if (figures_dir / f"{extra}.csv").exists()}
                  for name in owners}
    baseline = _baseline(experiments, tables)
    loaded = []
    for path, experiment in experiments:
        specs = pd.DataFrame([spec.parameters for spec in experiment.runs()])
        if experiment.analysis == "phase_diagram":
            base = tables["threshold_sensitivity"]
            base = base[base["factor"] == 1.0]
            spans = {name: _span(base.loc[base["threshold"] == name, "threshold_value"])
                     for name in THRESHOLDS}
        else:
            spans = _experiment_thresholds(specs, baseline)
        context = FigureContext(experiment=experiment.name, horizon=_horizon(specs),
                                runs=len(specs), thresholds=spans)
        for name in ANALYSES[experiment.analysis]:
            _check_origin(tables[name], experiment, figures_dir / f"{name}.csv", path)
            for extra, extra_table in companions[name].items():
                _check_origin(extra_table, experiment, figures_dir / f"{extra}.csv", path)
            loaded.append((name, tables[name], context, companions[name]))
    return loaded


def _experiment_files(directory: Path) -> list[tuple[Path, Experiment]]:
    if not directory.is_dir():
        raise ValueError(f"{directory}: no such folder of experiment files")
    paths = sorted(directory.glob("*.toml"))
    if not paths:
        raise ValueError(f"no experiment files (*.toml) in {directory}")
    return [(path, load(path)) for path in paths]  # ExperimentError names the file


def _baseline(experiments: list[tuple[Path, Experiment]],
              tables: dict[str, pd.DataFrame]) -> tuple[float, float] | None:
    """(scale, capability threshold) read from the threshold-sensitivity data, when its
    experiment runs at one scale and leaves the threshold to the model's 2018 baseline;
    None otherwise."""
    for _path, experiment in experiments:
        if experiment.analysis != "phase_diagram":
            continue
        specs = pd.DataFrame([spec.parameters for spec in experiment.runs()])
        scales = _with_inputs(specs, ("scale",))["scale"].astype(float).unique()
        if "capability_threshold" in specs.columns or len(scales) != 1:
            return None
        table = tables["threshold_sensitivity"]
        values = table.loc[(table["threshold"] == "capability_threshold")
                           & (table["factor"] == 1.0), "threshold_value"].unique()
        return (float(scales[0]), float(values[0])) if len(values) == 1 else None
    return None


def _experiment_thresholds(specs: pd.DataFrame,
                           baseline: tuple[float, float] | None) -> dict[str, Span | None]:
    """Each threshold's span over an experiment's runs (one row of parameters per run):
    the value set, else the default, else (capability) the baseline at the run's scale."""
    thresholds = _thresholds(specs)
    if baseline is not None:
        scale = _with_inputs(specs, ("scale",))["scale"].astype(float)
        unset = thresholds["capability_threshold"].isna() & (scale == baseline[0])
        thresholds.loc[unset, "capability_threshold"] = baseline[1]
    return {name: _span(thresholds[name]) for name in THRESHOLDS}


def _check_origin(table: pd.DataFrame, experiment: Experiment, csv: Path,
                  source: Path) -> None:
    """Refuse data that cannot come from the experiment: a figure redrawn with another
    experiment's name, horizon and run count would be mislabelled."""
    runs = len(experiment.runs())
    if "threshold" in table.columns:
        counts = table.groupby(["threshold", "factor"])["n"].sum().unique()
    elif "quantity" in table.columns:  # the emergence table: rules score every run
        counts = table.loc[table["index"] == "scenario", "n"].unique()
    elif "n" in table.columns:
        counts = np.array([table["n"].sum()])
    else:
        unknown = sorted(set(table["run_id"]) - {spec.run_id for spec in experiment.runs()})
        if unknown:
            raise ValueError(f"{csv}: run(s) {', '.join(unknown)} are not runs of the "
                             f"experiment {source}; the data come from another experiment")
        return
    if len(counts) != 1 or int(counts[0]) != runs:
        found = "-".join(str(int(c)) for c in sorted(counts))
        raise ValueError(f"{csv}: {found} runs, but the experiment {source} makes {runs}; "
                         "the data come from another experiment")


def _schema(figure: str) -> dict[str, str]:
    """Each column of a figure's table and its kind: number, integer, text or flag."""
    if figure == "phase_diagram":
        return {"coupling": "number", "capability": "number", "n": "integer",
                **{f"share_{_snake(s)}": "number" for s in SCENARIOS},
                "majority": "text", "certainty": "number",
                "mean_capability_index": "number", "mean_cooperation_index": "number",
                "mean_distinctiveness": "number"}
    if figure == "threshold_sensitivity":
        return {"threshold": "text", "factor": "number", "threshold_value": "number",
                "coupling": "number", "capability": "number", "classification": "text",
                "n": "integer", "majority": "text", "certainty": "number",
                "changed": "flag"}
    if figure == "coupling_response":
        return {"capability": "number", "coupling": "number", "n": "integer",
                **{f"{m}_{s}": "number" for m in _RESPONSE_MEASURES
                   for s in ("mean", "low", "high")}}
    if figure == "trajectories":
        return {"run_id": "text", "scenario": "text", "coupling": "number",
                "capability": "number", "quarter": "text",
                **{s: "number" for s in _TRAJECTORY_SERIES}}
    if figure == "phase_diagram_emergence":
        return {"quantity": "text", "index": "text", "value": "number", "n": "integer",
                "description": "text"}
    if figure == "hysteresis":
        return {"capability": "number", "switch_year": "integer",
                "coupling_after": "number", "coupling": "number", "path": "text",
                "n": "integer",
                **{f"{m}_{s}": "number" for m in HYSTERESIS_MEASURES
                   for s in ("mean", "low", "high")},
                "pairs": "integer",
                **{f"{m}_effect_{s}": "number" for m in HYSTERESIS_MEASURES
                   for s in ("mean", "low", "high")},
                **{f"share_{_snake(s)}": "number" for s in SCENARIOS}}
    known = [*_DRAWERS, *(name for names in COMPANIONS.values() for name in names)]
    raise ValueError(f"unknown figure {figure!r} (expected one of {', '.join(known)})")


_KINDS: dict[str, tuple[str, Callable[[pd.Series], bool]]] = {
    "number": ("numbers", lambda v: pd.api.types.is_numeric_dtype(v)
               and not pd.api.types.is_bool_dtype(v)),
    "integer": ("whole numbers", lambda v: pd.api.types.is_integer_dtype(v)
                and not pd.api.types.is_bool_dtype(v)),
    "text": ("text", lambda v: bool(v.map(lambda x: isinstance(x, str)).all())),
    "flag": ("True or False", pd.api.types.is_bool_dtype),
}
_QUARTER = re.compile(r"\d{4}Q[1-4]")


def _check_table(figure: str, table: pd.DataFrame) -> None:
    """Raise ValueError unless ``table`` has the columns, types and labels the figure
    draws (the message names the first problem)."""
    kinds = _schema(figure)
    missing = [c for c in kinds if c not in table.columns]
    unexpected = [str(c) for c in table.columns if c not in kinds]
    if missing or unexpected:
        problems = ([f"lacks column(s) {', '.join(missing)}"] if missing else []) + (
            [f"has unexpected column(s) {', '.join(unexpected)}"] if unexpected else [])
        raise ValueError(f"the {figure} table {' and '.join(problems)}")
    if table.empty:
        raise ValueError(f"the {figure} table has no rows")
    for column, kind in kinds.items():
        words, accepts = _KINDS[kind]
        if not accepts(table[column]):
            raise ValueError(f"column {column!r} of the {figure} table should hold {words}")
    inputs = [c for c in ("coupling", "capability", "coupling_after") if c in kinds]
    if table[inputs].isna().any().any():
        raise ValueError(f"the {figure} table has rows without {' or '.join(inputs)}")
    if figure == "threshold_sensitivity":
        for threshold in THRESHOLDS:
            categories = COUPLING_TYPES if threshold == "distinctiveness_threshold" else SCENARIOS
            rows = table[table["threshold"] == threshold]
            _check_labels(figure, rows["majority"], categories)
            for factor in FACTORS:
                if not (rows["factor"] == factor).any():
                    raise ValueError(f"the {figure} table has no rows for {threshold} at "
                                     f"factor {factor:g}")
        _check_labels(figure, table["threshold"], THRESHOLDS)
    elif figure in ("phase_diagram", "trajectories"):
        column = "majority" if figure == "phase_diagram" else "scenario"
        _check_labels(figure, table[column], SCENARIOS)
    elif figure == "phase_diagram_emergence":
        _check_labels(figure, table["quantity"], _EMERGENCE_QUANTITIES)
        _check_labels(figure, table["index"], (*_EMERGENCE_INDICES, "scenario"))
        rows = set(zip(table["quantity"], table["index"], strict=True))
        if len(rows) != len(table):
            raise ValueError(f"the {figure} table repeats a (quantity, index) row")
    elif figure == "hysteresis":
        _check_labels(figure, table["path"], _PATHS)
        expected = np.select([table["coupling"] == table["coupling_after"],
                              table["coupling"] > table["coupling_after"]],
                             ["constant", "lowered"], "raised")
        if (table["path"].to_numpy() != expected).any():
            raise ValueError(f"the {figure} table has a path label that does not match "
                             "its coupling and coupling_after")
    if figure == "trajectories":
        bad = [q for q in table["quarter"] if not _QUARTER.fullmatch(q)]
        if bad:
            raise ValueError(f"the {figure} table has quarter {bad[0]!r}; expected "
                             "YEARQn, e.g. 2030Q4")


def _check_labels(figure: str, values: pd.Series, known: Sequence[str]) -> None:
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"the {figure} table has unknown label(s) "
                         f"{', '.join(map(repr, unknown))} in column {values.name!r}; "
                         f"expected one of {', '.join(known)}")


# =========================================================================================
# Computation helpers
# =========================================================================================
def _require(frame: pd.DataFrame, columns: Sequence[str], what: str = "runs table") -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"the {what} lacks column(s) {', '.join(missing)}")


def _with_inputs(runs: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """The runs table with every named input as a column (its default if not stored)."""
    defaults = Params()
    missing = {n: getattr(defaults, n) for n in names if n not in runs.columns}
    return runs.assign(**missing) if missing else runs


def _thresholds(runs: pd.DataFrame) -> pd.DataFrame:
    """Each run's classification thresholds: the stored column if any, else the
    default of :class:`sim.params.Params`."""
    defaults = Params()
    columns = {}
    for name in THRESHOLDS:
        default = getattr(defaults, name)
        columns[name] = (runs[name].astype(float) if name in runs.columns
                         else math.nan if default is None else float(default))
    return pd.DataFrame(columns, index=runs.index)


def _known_thresholds(runs: pd.DataFrame) -> pd.DataFrame:
    """:func:`_thresholds`, refusing runs whose threshold is neither stored nor fixed."""
    thresholds = _thresholds(runs)
    for name in THRESHOLDS:
        if thresholds[name].isna().any():
            raise ValueError(
                f"{name} is unknown for some runs: the runs table has no value for it and "
                "Params has no fixed default (the model derives it at run time); re-run "
                "the sweep with a version of the model that stores it, or fix it in the "
                "experiment's [fixed] table")
    return thresholds


def _scenarios(runs: pd.DataFrame, thresholds: pd.DataFrame) -> pd.Series:
    return pd.Series([classify(a, b, capability_threshold=t, cooperation_threshold=u)
                      for a, b, t, u in zip(runs["capability_index"], runs["cooperation_index"],
                                            thresholds["capability_threshold"],
                                            thresholds["cooperation_threshold"], strict=True)],
                     index=runs.index, dtype=object)


def _coupling_types(runs: pd.DataFrame, thresholds: pd.DataFrame) -> pd.Series:
    return pd.Series([coupling_type(b, d, cooperation_threshold=u, distinctiveness_threshold=v)
                      for b, d, u, v in zip(runs["cooperation_index"], runs["distinctiveness"],
                                            thresholds["cooperation_threshold"],
                                            thresholds["distinctiveness_threshold"],
                                            strict=True)],
                     index=runs.index, dtype=object)


def _majority(runs: pd.DataFrame, keys: list[str], labels: pd.Series,
              categories: Sequence[str], *, share_columns: bool = False) -> pd.DataFrame:
    """Per cell: n, (optionally) the share of each category, the majority (ties to the
    first category in ``categories``) and its share."""
    unknown = sorted(set(labels) - set(categories))
    if unknown:
        raise ValueError(f"unknown label(s) {', '.join(map(repr, unknown))}; expected "
                         f"one of {', '.join(categories)}")
    frame = runs[keys].assign(_label=labels.to_numpy())
    counts = (frame.groupby(keys + ["_label"], sort=True).size()
              .unstack("_label", fill_value=0)
              .reindex(columns=list(categories), fill_value=0))
    n = counts.sum(axis=1)
    shares = counts.div(n, axis=0)
    best = counts.to_numpy().argmax(axis=1)  # first maximum: the categories' order
    table = pd.DataFrame({"n": n.astype(int)}, index=counts.index)
    if share_columns:
        for category in categories:
            table[f"share_{_snake(category)}"] = shares[category]
    table["majority"] = [categories[i] for i in best]
    table["certainty"] = shares.to_numpy()[np.arange(len(best)), best]
    table.columns.name = None
    return table.reset_index()


def _synergy(runs: pd.DataFrame) -> pd.Series:
    """Each run's innovations over its paired run's at coupling 0, minus one."""
    coupling = runs["coupling"].astype(float)
    if not (coupling == 0.0).any():
        levels = ", ".join(f"{v:g}" for v in sorted(coupling.unique()))
        raise ValueError("synergy needs runs at coupling 0 (the paired baseline), but the "
                         f"results only have coupling {levels}: add 0 to the coupling grid")
    parameters = set(Params.describe())
    pair = [c for c in runs.columns if c in parameters and c != "coupling"]
    pair += [c for c in ("replicate", "seed") if c in runs.columns]
    baseline = runs.loc[coupling == 0.0, pair + ["innovations_total"]]
    baseline = baseline.drop_duplicates(pair).rename(
        columns={"innovations_total": "_baseline"})
    merged = runs[pair + ["innovations_total"]].merge(baseline, on=pair, how="left",
                                                       validate="m:1")
    values = [metrics.synergy(a, b) if not pd.isna(b) else math.nan
              for a, b in zip(merged["innovations_total"], merged["_baseline"], strict=True)]
    return pd.Series(values, index=runs.index, dtype=float)


def _snake(label: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_")


def _round(value: Any) -> Any:
    if isinstance(value, float | np.floating) and math.isfinite(value):
        return float(f"{value:.{_SIG_DIGITS}g}")
    return value


def _tidy(table: pd.DataFrame, keys: list[str] | None) -> pd.DataFrame:
    """Rows sorted by their keys, floats rounded to 12 significant digits."""
    if keys:
        table = table.sort_values(keys, kind="stable")
    table = table.reset_index(drop=True)
    for column in table.columns:
        if pd.api.types.is_float_dtype(table[column]):
            table[column] = table[column].map(_round).astype(float)
    return table

