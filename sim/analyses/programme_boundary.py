"""How far a programme moves the phase diagram's capability boundary (docs/ODD.md, 7.20).

The phase diagram splits the runs at each (coupling, capability) cell by scenario; along
the capability input, the **capability boundary** is where the high-capability scenarios
(Loosely coupled synergy, Coupled without synergy, Isolated excellence: the capability
index at or above its threshold) become the majority. This analysis runs a column of that
diagram (capability at three levels or more, at each coupling of the design) for each
programme mix and without one, at the same seeds, and locates the boundary per mix: the
capability input at which the share of high-capability runs first reaches one half,
interpolated linearly between the levels on either side. A programme that raises
capability moves the boundary down: the clusters need less of their own capability to
end up capable.

The interval is a bootstrap over replicates: each resample draws the replicates once and
uses them for every level and mix of a state, so the shift (the mix's boundary minus the
boundary without programmes) keeps its pairing. A boundary outside the levels run is
reported as such (``where``: ``below 0.2``, ``above 1``), not extrapolated, and so is any
bound of an interval that falls outside.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analyses.context import Companions, FigureContext
from sim.analyses.labels import known_thresholds, majority, snake
from sim.analyses.panels import prefix
from sim.analyses.programmes import (
    BUDGETS,
    NONE,
    STARTS,
    check_programmes,
    programme_labels,
    programme_starts,
)
from sim.analyses.tables import Table, check_labels, design_inputs, require, tidy, with_inputs
from sim.experiment.style import LINE_COLOURS, MARKERS
from sim.params import Params
from sim.scenarios import SCENARIOS

__all__ = ["BOOTSTRAP_RESAMPLES", "BOOTSTRAP_SEED", "DRAWERS", "READINGS", "TABLES", "WITHIN",
           "boundary_table", "crossing", "shares_table"]

BOOTSTRAP_RESAMPLES = 2000
"""Bootstrap resamples of the replicates behind each interval."""
BOOTSTRAP_SEED = 20260
"""Seed of the bootstrap, so that the intervals are the same on every run."""
WITHIN = "within"
"""``where`` of a boundary that lies between the lowest and the highest level run."""
MAJORITY = 0.5
"""The share of high-capability runs that makes a cell high-capability."""

READINGS: dict[str, str] = {
    "majority": "half the runs end high in capability",
    "mean_index": "the mean capability index reaches the threshold",
}
"""The two readings of the boundary: the phase diagram's (a majority of the runs), and the
replicates' mean capability index (smoother where the runs split)."""

_NOT_STATE = {"seed", "replicate", "run_id", "capability", *BUDGETS, *STARTS}


def crossing(levels: Sequence[float], values: Sequence[float],
             level: float = MAJORITY) -> float:
    """The capability level at which ``values`` (one per level, levels increasing) first
    reach ``level`` (by default :data:`MAJORITY`, for shares of high-capability runs),
    interpolated linearly from the level below; ``-inf`` when the lowest level is already
    there, ``inf`` when no level is."""
    levels = np.asarray(levels, dtype=float)
    values = np.asarray(values, dtype=float)
    reached = np.flatnonzero(values >= level)
    if reached.size == 0:
        return np.inf
    first = int(reached[0])
    if first == 0:
        return -np.inf
    below, above = values[first - 1], values[first]
    fraction = (level - below) / (above - below)
    return float(levels[first - 1] + fraction * (levels[first] - levels[first - 1]))


def _where(value: float, levels: Sequence[float]) -> str:
    if value == -np.inf:
        return f"below {min(levels):g}"
    if value == np.inf:
        return f"above {max(levels):g}"
    return WITHIN


def _finite(value: float) -> float:
    return float(value) if np.isfinite(value) else np.nan


def _interval(resampled: np.ndarray) -> tuple[float, float]:
    """The 95 % percentile interval of bootstrap values that may lie beyond the levels
    run (infinite) or be undefined (NaN: a shift between two boundaries beyond the same
    edge). Undefined values are left out when they are at most 5 % of the resamples; above
    that the interval is unknown (NaN, NaN)."""
    undefined = np.isnan(resampled)
    if undefined.mean() > 0.05:
        return np.nan, np.nan
    low, high = np.quantile(resampled[~undefined], [0.025, 0.975], method="inverted_cdf")
    return float(low), float(high)


def _labelled(runs: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The runs with their state (every varied input but capability, the budgets and
    the start years), programme, budget, start year and high-capability flag."""
    require(runs, ("run_id", "replicate", "seed", "scenario", "capability_index"))
    runs = with_inputs(runs, (*BUDGETS, *STARTS, "capability"))
    inputs = [c for c in runs.columns if c in Params.describe() and c not in _NOT_STATE]
    varied = design_inputs(runs, inputs)
    state = (runs[varied].apply(lambda row: ", ".join(f"{n}={row[n]:g}" for n in varied),
                                axis=1) if varied
             else pd.Series("as calibrated", index=runs.index))
    programme, budget = programme_labels(runs)
    threshold = known_thresholds(runs)["capability_threshold"]
    if threshold.nunique() != 1:
        raise ValueError("the boundary analysis reads one capability threshold, but the "
                         "runs have several: fix capability_threshold in the experiment")
    runs = runs.assign(state=state, programme=programme, budget=budget,
                       start=programme_starts(runs), threshold=threshold,
                       high=runs["capability_index"].astype(float) >= threshold)
    levels = sorted(runs["capability"].astype(float).unique())
    if len(levels) < 3:
        raise ValueError("the boundary analysis locates the capability boundary between "
                         f"capability levels, but the runs have {len(levels)}: run 3 or "
                         "more")
    missing = sorted(set(runs["state"]) - set(runs.loc[runs["programme"] == NONE, "state"]))
    if missing:
        raise ValueError(f"no run without programmes at {missing[0]}: every state needs "
                         "its column of the phase diagram with every budget at 0")
    return runs, levels


def shares_table(runs: pd.DataFrame, series: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per state, programme, budget, start year and capability level: runs ``n``, the
    share of each scenario, the majority scenario (ties to the first in
    :data:`sim.scenarios.SCENARIOS` order) and its share (:func:`sim.analyses.labels.
    majority`, as the phase diagram's cells), the share of high-capability runs and the
    mean capability index."""
    runs, _levels = _labelled(runs)
    keys = ["state", "programme", "budget", "start", "capability"]
    table = majority(runs, keys, runs["scenario"], SCENARIOS, share_columns=True)
    means = (runs.assign(high=runs["high"].astype(float),
                         index=runs["capability_index"].astype(float))
             .groupby(keys, sort=True)[["high", "index"]].mean()
             .rename(columns={"high": "share_high", "index": "mean_capability_index"})
             .reset_index())
    return tidy(table.merge(means, on=keys, how="left", validate="1:1"), keys)


def boundary_table(runs: pd.DataFrame, series: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per state, programme, budget, start year and reading of the boundary
    (:data:`READINGS`): the capability boundary (:func:`crossing`), its 95 % bootstrap
    interval, ``where`` it lies (:data:`WITHIN` or beyond the levels run), and its shift
    from the boundary without programmes with the shift's interval (NaN where a boundary
    or bound lies beyond the levels run); ``replicates`` and ``runs`` behind the row."""
    runs, levels = _labelled(runs)
    threshold = float(runs["threshold"].iloc[0])
    replicates = sorted(runs["replicate"].unique())
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    draws = rng.integers(0, len(replicates), size=(BOOTSTRAP_RESAMPLES, len(replicates)))
    readings = {"majority": ("high", MAJORITY), "mean_index": ("capability_index", threshold)}
    rows = []
    for state, at_state in runs.groupby("state", sort=True):
        for reading, (column, level) in readings.items():
            curves = {}
            for key, mix in at_state.groupby(["programme", "budget", "start"], sort=True):
                # replicates x levels (NaN: not run)
                matrix = (mix.assign(value=mix[column].astype(float))
                          .pivot_table(index="replicate", columns="capability",
                                       values="value", aggfunc="mean")
                          .reindex(index=replicates, columns=levels).to_numpy(dtype=float))
                point = crossing(levels, np.nanmean(matrix, axis=0), level)
                resampled = np.array([crossing(levels, np.nanmean(matrix[draw], axis=0),
                                               level) for draw in draws])
                curves[key] = (point, resampled)
            none_point, none_resampled = next(v for k, v in curves.items() if k[0] == NONE)
            for (programme, budget, start), (point, resampled) in curves.items():
                with np.errstate(invalid="ignore"):  # both beyond one edge: no shift
                    shift = point - none_point if programme != NONE else 0.0
                    shifts = (resampled - none_resampled if programme != NONE
                              else np.zeros(1))
                low, high = _interval(resampled)
                shift_low, shift_high = _interval(shifts)
                rows.append({
                    "state": state, "programme": programme, "budget": budget,
                    "start": int(start), "reading": reading, "boundary": _finite(point),
                    "boundary_low": _finite(low), "boundary_high": _finite(high),
                    "where": _where(point, levels), "shift": _finite(shift),
                    "shift_low": _finite(shift_low), "shift_high": _finite(shift_high),
                    "replicates": len(replicates), "runs": len(runs)})
    table = pd.DataFrame(rows)
    table["_none"] = table["programme"] != NONE
    table["_reading"] = table["reading"].map(list(READINGS).index)
    return tidy(table, ["state", "_reading", "_none", "programme", "budget", "start"]).drop(
        columns=["_none", "_reading"])


def _draw_boundary(table: pd.DataFrame, context: FigureContext,
                   companions: Companions) -> Figure:
    shares = companions.get("policy_boundary_shares")
    states = sorted(table["state"].unique())
    readings = [r for r in READINGS if r in set(table["reading"])]
    figure = Figure(figsize=(18, 1.8 + 3.8 * len(states)), layout="constrained")
    axes = figure.subplots(len(states), 2 + len(readings), squeeze=False,
                           gridspec_kw={"width_ratios": [1.0, 1.0] + [1.1] * len(readings)})
    mixes = list(table[["programme", "budget", "start"]].drop_duplicates()
                 .itertuples(index=False))
    colour = {mix: LINE_COLOURS[i % len(LINE_COLOURS)] for i, mix in enumerate(mixes)}
    levels = sorted(shares["capability"].unique()) if shares is not None else [0.0, 1.0]
    curves = (("share_high", "share of runs high in capability", MAJORITY),
              ("mean_capability_index", "mean capability index", None))
    for row, state in enumerate(states):
        for axis, (column, ylabel, level) in zip(axes[row][:2], curves, strict=True):
            for i, mix in enumerate(mixes):
                if shares is None:
                    break
                programme, budget, start = mix
                curve = shares[(shares["state"] == state) & (shares["programme"] == programme)
                               & (shares["budget"] == budget) & (shares["start"] == start)]
                curve = curve.sort_values("capability")
                axis.plot(curve["capability"], curve[column],
                          f"{MARKERS[i % len(MARKERS)]}-", markersize=4, color=colour[mix],
                          linewidth=1.8 if programme == NONE else 1.0,
                          label=programme if programme == NONE
                          else f"{programme}, {budget:g} KRW bn a year")
            if level is not None:
                axis.axhline(level, color="0.5", linewidth=0.8, linestyle="--")
                axis.set_ylim(-0.03, 1.03)
            else:
                limits = context.threshold("capability_threshold")
                if limits is not None and limits[0] == limits[1]:
                    axis.axhline(limits[0], color="0.5", linewidth=0.8, linestyle="--")
            axis.set_xlabel("capability (input)")
            axis.set_ylabel(ylabel)
            axis.set_title(f"{state}: {ylabel} by capability", fontsize="medium")
            axis.grid(True, color="0.9", linewidth=0.6)
        for axis, reading in zip(axes[row][2:], readings, strict=True):
            part = table[(table["state"] == state) & (table["reading"] == reading)]
            part = part.reset_index(drop=True)
            for i, line in part.iterrows():
                mix = (line["programme"], line["budget"], line["start"])
                shade = colour.get(mix, "0.3")
                if line["where"] == WITHIN:
                    axis.plot([line["boundary"]], [i], "o", color=shade, markersize=5)
                    if np.isfinite(line["boundary_low"]) and np.isfinite(line["boundary_high"]):
                        axis.plot([line["boundary_low"], line["boundary_high"]], [i, i],
                                  color=shade, linewidth=1.2)
                else:  # beyond the levels run: an arrow at the edge, no number
                    below = str(line["where"]).startswith("below")
                    axis.plot([levels[0] if below else levels[-1]], [i],
                              "<" if below else ">", color=shade, markersize=7)
                axis.annotate(_boundary_text(line), (levels[-1] + 0.04, i), va="center",
                              fontsize=7)
            axis.set_xlim(levels[0] - 0.05, levels[-1] + 0.75)
            axis.set_xticks(levels)
            axis.set_yticks(range(len(part)), [
                p if p == NONE else f"{p}, {b:g}".replace("+", "+\n")
                for p, b in zip(part["programme"], part["budget"], strict=True)], fontsize=7)
            axis.invert_yaxis()
            axis.set_xlabel("capability boundary (input)")
            axis.set_title(f"boundary: {READINGS[reading]}\n(95 % bootstrap interval)",
                           fontsize="medium")
            axis.grid(True, axis="x", color="0.9", linewidth=0.6)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", frameon=False,
                  ncols=min(len(mixes), 3), title="programme (mix)")
    replicates = int(table["replicates"].max())
    figure.suptitle(f"{prefix(context.experiment)}Where the clusters end capable by "
                    f"{context.horizon}Q4, with and without each programme\nthe phase "
                    f"diagram's capability axis, {replicates} replicates per cell at the same "
                    "seeds; dashed: a majority, and the capability threshold")
    return figure


def _boundary_text(line: pd.Series) -> str:
    """The boundary and its shift in words, each with its interval; a bound beyond the
    levels run (or unknown) reads 'beyond'."""
    def bound(value: float) -> str:
        return f"{value:.2f}" if np.isfinite(value) else "beyond"

    if line["where"] != WITHIN:
        return str(line["where"])
    text = (f"{line['boundary']:.2f} [{bound(line['boundary_low'])}, "
            f"{bound(line['boundary_high'])}]")
    if line["programme"] != NONE and np.isfinite(line["shift"]):
        text += (f"; shift {line['shift']:+.2f} [{bound(line['shift_low'])}, "
                 f"{bound(line['shift_high'])}]")
    return text


def _check_boundary(name: str, table: pd.DataFrame) -> None:
    check_programmes(name, table["programme"], none=True)
    check_labels(name, table["reading"], tuple(READINGS))
    bad = [w for w in table["where"].unique()
           if w != WITHIN and not str(w).startswith(("below ", "above "))]
    if bad:
        raise ValueError(f"the {name} table has an unknown 'where' {bad[0]!r}")


def _check_shares(name: str, table: pd.DataFrame) -> None:
    check_programmes(name, table["programme"], none=True)
    check_labels(name, table["majority"], SCENARIOS)


_KEYS = {"state": "text", "programme": "text", "budget": "number", "start": "integer"}

TABLES: dict[str, Table] = {
    "policy_boundary": Table(
        compute=boundary_table,
        columns={**_KEYS, "reading": "text", "boundary": "number", "boundary_low": "number",
                 "boundary_high": "number", "where": "text", "shift": "number",
                 "shift_low": "number", "shift_high": "number", "replicates": "integer",
                 "runs": "integer"},
        check=_check_boundary, runs=lambda table: table["runs"].unique()),
    "policy_boundary_shares": Table(
        compute=shares_table,
        columns={**_KEYS, "capability": "number", "n": "integer", "share_high": "number",
                 "mean_capability_index": "number",
                 **{f"share_{snake(s)}": "number" for s in SCENARIOS},
                 "majority": "text", "certainty": "number"},
        check=_check_shares),
}
"""The tables of this analysis: the boundary per mix, and the shares it is read from."""

DRAWERS: dict[str, Callable[[pd.DataFrame, FigureContext, Companions], Figure]] = {
    "policy_boundary": _draw_boundary,
}
"""The figure of this analysis."""
