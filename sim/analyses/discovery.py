"""Scenario discovery: in which region of the sampled inputs do runs end in each
scenario, and where does loose coupling beat tight coupling? PRIM (Friedman & Fisher
1999), as the EMA Workbench implements it (:class:`ema_workbench.analysis.prim.Prim`),
on a sampled experiment.

For each scenario, the cases of interest are the runs that end in it (the emergent
scenario, from each run's indices, paired synergy and thresholds) and the inputs are the
parameters the sample varies. PRIM peels the explored box down to boxes of ever higher
density (share of the runs in the box that are cases) and lower coverage (share of all
cases that are in the box); the peeling and pasting trajectory lists them. The chosen
box is the one of highest coverage among those whose density reaches
:data:`DENSITY_THRESHOLD`; when none does, the analysis says so: no region of the
explored ranges holds the scenario that densely.

Loose beats tight. The sampled coupling range is cut in thirds; a point of the middle
third is *loose*, one of the top third *tight*. Each loose point (its runs' mean
``innovations_total``) is compared with tight points; it *beats tight* when it made more
innovations than their mean. Which tight points:

* its twins, when the design has them: tight points with the same other inputs (a
  ``[points]`` file that lists each sampled point at a low, a middle and a high
  coupling, say). Replicate r has the same seed at every point, so this comparison is
  paired: the same point and seeds, only coupling differs;
* else, as in a ``[sample]``, where each point has its own coupling and no twin, its
  :data:`NEIGHBOURS` nearest tight points in the other sampled inputs (each scaled to its
  sampled range): a comparison of neighbourhoods, which the other inputs' differences
  blur.

PRIM then looks, among the loose points, for the region of the other inputs where loose
beats tight.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim import emergence
from sim.analyses.context import Companions, FigureContext
from sim.analyses.labels import known_thresholds, scenarios
from sim.analyses.panels import prefix
from sim.analyses.tables import Table, check_labels, design_inputs, require, tidy
from sim.experiment.style import OKABE_ITO, SCENARIO_COLOURS, level_colours
from sim.params import Params
from sim.scenarios import SCENARIOS

__all__ = ["DENSITY_THRESHOLD", "DRAWERS", "LOOSE_BEATS_TIGHT", "MASS_MIN", "NEIGHBOURS",
           "PEEL_ALPHA", "PrimResult", "TABLES", "TARGETS", "discovery_boxes_table",
           "discovery_table", "discovery_trajectory_table", "loose_tight_comparison",
           "prim_box", "sampled_inputs"]

#: Density a box must reach to be reported as the region of its target.
DENSITY_THRESHOLD = 0.8
#: Share of the box's points PRIM peels off at each step (the EMA Workbench default).
PEEL_ALPHA = 0.05
#: Smallest share of all points a box may hold (the EMA Workbench default).
MASS_MIN = 0.05
#: Tight points each loose point is compared with.
NEIGHBOURS = 5
#: The name of the loose-beats-tight target in the tables.
LOOSE_BEATS_TIGHT = "Loose beats tight"
#: What the analysis looks for: the scenarios, in :data:`SCENARIOS` order, then loose
#: beating tight.
TARGETS: tuple[str, ...] = (*SCENARIOS, LOOSE_BEATS_TIGHT)
_MEASURE = "innovations_total"


@dataclass(frozen=True)
class PrimResult:
    """One PRIM search: the trajectory of boxes and the one chosen.

    ``trajectory`` has one row per box (``step`` from 0, the explored box, then each
    peel and paste): ``coverage``, ``density``, ``mass``, ``restricted_dimensions`` and
    ``n`` (points in the box); ``limits`` holds each box's lower and upper limit of every
    input, indexed by (step, ``"low"``/``"high"``); ``explored`` the lowest and highest
    value of each input; ``chosen`` is the step of the chosen box, or None when no box
    reaches the density threshold; ``densest`` the step of the densest box.
    """

    trajectory: pd.DataFrame
    limits: pd.DataFrame
    explored: pd.DataFrame
    chosen: int | None
    densest: int

    @property
    def reported(self) -> int:
        """The step the tables describe: the chosen box, else the densest."""
        return self.densest if self.chosen is None else self.chosen

    def restricted(self, step: int) -> list[str]:
        """The inputs whose limits box ``step`` narrows, in input order."""
        low, high = self.limits.loc[(step, "low")], self.limits.loc[(step, "high")]
        return [name for name in self.explored.columns
                if low[name] > self.explored.loc["low", name]
                or high[name] < self.explored.loc["high", name]]

    def box_limits(self) -> list[dict[str, Any]]:
        """The reported box, one mapping per input: ``parameter``, ``low``, ``high``, the
        explored range (``explored_low``, ``explored_high``), whether the box narrows it
        (``restricted``) and whether it reaches the density threshold (``box``)."""
        step = self.reported
        narrowed = set(self.restricted(step))
        return [{"parameter": name,
                 "low": float(self.limits.loc[(step, "low"), name]),
                 "high": float(self.limits.loc[(step, "high"), name]),
                 "explored_low": float(self.explored.loc["low", name]),
                 "explored_high": float(self.explored.loc["high", name]),
                 "restricted": name in narrowed, "box": self.chosen is not None}
                for name in self.explored.columns]

    def describe(self, step: int) -> str:
        """Box ``step`` in words: ``"capability >= 0.61; coupling <= 0.4"``."""
        parts = []
        for name in self.restricted(step):
            low, high = self.limits.loc[(step, "low"), name], self.limits.loc[(step, "high"), name]
            lower = low > self.explored.loc["low", name]
            upper = high < self.explored.loc["high", name]
            if lower and upper:
                parts.append(f"{low:.3g} <= {name} <= {high:.3g}")
            elif lower:
                parts.append(f"{name} >= {low:.3g}")
            else:
                parts.append(f"{name} <= {high:.3g}")
        return "; ".join(parts) if parts else "no restriction (the whole explored space)"


def prim_box(inputs: pd.DataFrame, cases: Sequence[bool] | np.ndarray, *,
             threshold: float = DENSITY_THRESHOLD, peel_alpha: float = PEEL_ALPHA,
             mass_min: float = MASS_MIN) -> PrimResult:
    """Run PRIM for one target: ``inputs`` one row per point (numeric columns), ``cases``
    whether each point is a case of interest. The chosen box has the highest coverage
    among the boxes of density ``>= threshold`` (ties: fewer restricted inputs, then the
    earlier step). Raises ``ValueError`` when there is no case or no input."""
    y = np.asarray(cases, dtype=bool)
    if len(y) != len(inputs):
        raise ValueError("inputs and cases must have one row per point")
    if not y.any():
        raise ValueError("PRIM needs at least one case of interest")
    if inputs.shape[1] == 0:
        raise ValueError("PRIM needs at least one input")
    x = inputs.astype(float).reset_index(drop=True)
    with warnings.catch_warnings():
        # pandas deprecation warnings from inside the workbench, not about this code
        warnings.simplefilter("ignore")
        prim = _prim_module().Prim(x, y.astype(int), peel_alpha=peel_alpha,
                                   paste_alpha=peel_alpha, mass_min=mass_min)
        box = prim.find_box()
    path = box.peeling_trajectory.reset_index(drop=True)
    trajectory = pd.DataFrame({
        "step": np.arange(len(path), dtype="int64"),
        "coverage": path["coverage"].astype(float), "density": path["density"].astype(float),
        "mass": path["mass"].astype(float),
        "restricted_dimensions": path["res_dim"].astype("int64"),
        "n": path["n"].astype("int64")})
    limits = pd.concat(
        {step: lims.reset_index(drop=True).rename(index={0: "low", 1: "high"})[x.columns]
         for step, lims in enumerate(box.box_lims)}).astype(float)
    explored = pd.DataFrame({name: [x[name].min(), x[name].max()] for name in x.columns},
                            index=["low", "high"])
    meeting = trajectory[trajectory["density"] >= threshold]
    chosen = None
    if len(meeting):
        chosen = int(meeting.sort_values(["coverage", "restricted_dimensions", "step"],
                                         ascending=[False, True, True]).iloc[0]["step"])
    densest = int(trajectory.sort_values(["density", "coverage", "step"],
                                         ascending=[False, False, True]).iloc[0]["step"])
    return PrimResult(trajectory, limits, explored, chosen, densest)


def _prim_module() -> Any:
    # imported on first use: the workbench loads its whole framework (seconds), and warns
    # that optional packages for parallel runs and interactive plots are missing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    return prim


def sampled_inputs(runs: pd.DataFrame) -> list[str]:
    """The inputs of a sampled design: the real-valued model parameters the design
    varies (:func:`~sim.analyses.tables.design_inputs`), in the runs table's order."""
    described = Params.describe()
    return design_inputs(runs, [c for c in runs.columns if c in described
                                and described[c]["kind"] is float])


def loose_tight_comparison(runs: pd.DataFrame, inputs: Sequence[str], *,
                           neighbours: int = NEIGHBOURS) -> tuple[pd.DataFrame, dict[str, float]]:
    """Each loose point against its tight twins, or without twins its ``neighbours``
    nearest tight points (see the module's docstring).

    ``runs`` holds the inputs and ``innovations_total``; ``inputs`` names the sampled
    inputs, coupling among them. Returns one row per loose point (its inputs, ``n`` runs,
    ``innovations`` their mean, ``tight`` the mean of the compared tight points' means,
    ``compared`` how many, ``twins`` whether they are twins, ``difference`` and
    ``beats``) and the band edges (``loose_from``, ``loose_to``, ``tight_from``,
    ``tight_to``). Raises ``ValueError`` without coupling or another input."""
    if "coupling" not in inputs:
        raise ValueError("loose beats tight compares coupling bands, but coupling is not "
                         "sampled")
    others = [name for name in inputs if name != "coupling"]
    if not others:
        raise ValueError("loose beats tight compares neighbourhoods in the other sampled "
                         "inputs, but only coupling is sampled")
    points = (runs.groupby(list(inputs), sort=True)[_MEASURE]
              .agg(innovations="mean", n="size").reset_index())
    coupling = points["coupling"].to_numpy(dtype=float)
    low, high = float(coupling.min()), float(coupling.max())
    width = (high - low) / 3
    bands = {"loose_from": low + width, "loose_to": low + 2 * width,
             "tight_from": low + 2 * width, "tight_to": high}
    loose = points[(coupling >= bands["loose_from"]) & (coupling < bands["loose_to"])]
    tight = points[coupling >= bands["tight_from"]]
    span = (points[others].max() - points[others].min()).replace(0.0, 1.0)
    rows = []
    if len(loose) and len(tight):
        scaled_tight = (tight[others] / span).to_numpy(dtype=float)
        values = tight["innovations"].to_numpy(dtype=float)
        k = min(neighbours, len(tight))
        for record in loose.to_dict("records"):
            here = np.array([record[name] for name in others], dtype=float) / span.to_numpy()
            distance = np.sqrt(((scaled_tight - here) ** 2).sum(axis=1))
            twins = np.flatnonzero(distance == 0.0)
            nearest = twins if len(twins) else np.argsort(distance, kind="stable")[:k]
            reference = float(values[nearest].mean())
            rows.append({**{name: record[name] for name in inputs}, "n": int(record["n"]),
                         "innovations": float(record["innovations"]), "tight": reference,
                         "compared": len(nearest), "twins": bool(len(twins)),
                         "difference": float(record["innovations"]) - reference,
                         "beats": bool(record["innovations"] > reference)})
    columns = [*inputs, "n", "innovations", "tight", "compared", "twins", "difference",
               "beats"]
    return pd.DataFrame(rows, columns=columns), bands


def wilson_interval(cases: int, n: int) -> tuple[float, float]:
    """95 % Wilson score interval of a share of ``cases`` in ``n`` (NaN for n = 0)."""
    if n == 0:
        return math.nan, math.nan
    z = 1.959963984540054
    share = cases / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class _Search:
    """One target's data and PRIM search (None without cases)."""

    target: str
    n: int
    cases: int
    result: PrimResult | None
    note: str


#: The last searches made, by a fingerprint of the runs they were made from: the three
#: tables of one drawing share them instead of running PRIM three times.
_LAST_SEARCH: dict[str, tuple[list[_Search], dict[str, float], pd.DataFrame]] = {}


def _searches(runs: pd.DataFrame) -> tuple[list[_Search], dict[str, float], pd.DataFrame]:
    """PRIM for every target, the loose/tight band edges and the loose points (made
    once for the same runs)."""
    hashes = pd.util.hash_pandas_object(runs, index=False).to_numpy()
    key = hashlib.sha256(",".join(map(str, runs.columns)).encode() + hashes.tobytes()
                         ).hexdigest()
    if key not in _LAST_SEARCH:
        _LAST_SEARCH.clear()
        _LAST_SEARCH[key] = _search_all(runs)
    return _LAST_SEARCH[key]


def _search_all(runs: pd.DataFrame) -> tuple[list[_Search], dict[str, float], pd.DataFrame]:
    require(runs, ("capability_index", "cooperation_index", _MEASURE))
    inputs = sampled_inputs(runs)
    if not inputs:
        raise ValueError("scenario discovery needs sampled inputs, but no parameter takes "
                         "more than one value over the runs")
    labels = scenarios(runs, known_thresholds(runs)).to_numpy()
    x = runs[inputs].astype(float)
    searches = []
    for scenario in SCENARIOS:
        cases = labels == scenario
        result = prim_box(x, cases) if cases.any() else None
        searches.append(_Search(scenario, len(runs), int(cases.sum()), result,
                                "" if result else "no run ends in this scenario"))
    loose, bands = loose_tight_comparison(runs, inputs)
    others = [name for name in inputs if name != "coupling"]
    beats = loose["beats"].to_numpy(dtype=bool)
    if not len(loose):
        note = "no sampled point is loose or none is tight"
        searches.append(_Search(LOOSE_BEATS_TIGHT, 0, 0, None, note))
    else:
        result = prim_box(loose[others], beats) if beats.any() else None
        searches.append(_Search(LOOSE_BEATS_TIGHT, len(loose), int(beats.sum()), result,
                                "" if result else "no loose point beats the tight points compared"))
    return searches, bands, loose


def discovery_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per target (:data:`TARGETS`): the points searched and the box reported.

    ``runs`` is the number of runs analysed (on every row); ``n`` the points PRIM
    searched (the runs for a scenario, the loose points for loose beats tight) and
    ``cases`` those of interest, ``share`` their share with its 95 % Wilson interval
    (``share_low``, ``share_high``). ``box`` says whether a box reaches
    ``density_threshold``; ``step``, ``coverage``, ``density``, ``mass``,
    ``restricted_dimensions`` and ``restricted`` (in words) describe the chosen box, or,
    when ``box`` is false, the densest box of the trajectory (step -1 and NaN without
    cases). For loose beats tight: ``difference_mean``, ``difference_low``,
    ``difference_high``, the mean over loose points of their innovations minus the mean of
    the tight points they are compared with (a 95 % t-interval; neighbourhoods may share
    points, which it ignores), ``twins`` the share of loose points compared with twins,
    ``neighbours`` the nearest tight points compared otherwise, and the coupling bands
    (``loose_from`` to ``loose_to``, ``tight_from`` to ``tight_to``); NaN and 0 on the
    scenarios' rows.
    """
    searches, bands, loose = _searches(runs)
    rows = []
    for search in searches:
        low, high = wilson_interval(search.cases, search.n)
        row: dict[str, Any] = {
            "target": search.target, "runs": len(runs), "n": search.n,
            "cases": search.cases,
            "share": search.cases / search.n if search.n else math.nan,
            "share_low": low, "share_high": high, "density_threshold": DENSITY_THRESHOLD}
        result = search.result
        if result is None:
            row |= {"box": False, "step": -1, "coverage": math.nan, "density": math.nan,
                    "mass": math.nan, "restricted_dimensions": 0, "restricted": search.note}
        else:
            step = result.reported
            stats = result.trajectory.iloc[step]
            text = result.describe(step)
            if result.chosen is None:
                text = (f"no box reaches density {DENSITY_THRESHOLD:g} in the explored "
                        f"ranges; the densest: {text}")
            row |= {"box": result.chosen is not None, "step": step,
                    "coverage": float(stats["coverage"]), "density": float(stats["density"]),
                    "mass": float(stats["mass"]),
                    "restricted_dimensions": int(stats["restricted_dimensions"]),
                    "restricted": text}
        lbt = search.target == LOOSE_BEATS_TIGHT
        mean, low, high = (emergence.t_interval(loose["difference"].to_numpy(dtype=float))
                           if lbt else (math.nan,) * 3)
        twins = (float(loose["twins"].mean()) if lbt and len(loose) else math.nan)
        row |= {"difference_mean": mean, "difference_low": low, "difference_high": high,
                "twins": twins, "neighbours": NEIGHBOURS if lbt else 0,
                **{edge: value if lbt else math.nan for edge, value in bands.items()}}
        rows.append(row)
    table = pd.DataFrame(rows)
    return tidy(table, None)


def discovery_trajectory_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Every target's peeling and pasting trajectory: one row per target and ``step``
    (0: the explored box) with ``coverage``, ``density``, ``mass``,
    ``restricted_dimensions``, ``n`` points in the box, ``chosen`` (the reported box
    of :func:`discovery_table`, chosen or densest) and ``runs`` analysed. Targets
    without cases have no rows."""
    searches, _bands, _loose = _searches(runs)
    parts = []
    for search in searches:
        if search.result is None:
            continue
        part = search.result.trajectory.copy()
        part.insert(0, "target", search.target)
        part["chosen"] = part["step"] == search.result.reported
        part["runs"] = len(runs)
        parts.append(part)
    return tidy(pd.concat(parts, ignore_index=True), None)


def discovery_boxes_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The limits of each target's reported box (chosen, else densest): one row per
    target and input (``parameter``), with ``low`` and ``high``, the explored range
    (``explored_low``, ``explored_high``), whether the box narrows it (``restricted``),
    ``box`` (the box reaches the density threshold) and ``runs`` analysed. Targets
    without cases have no rows."""
    searches, _bands, _loose = _searches(runs)
    rows = []
    for search in searches:
        result = search.result
        if result is None:
            continue
        rows += [{"target": search.target, **limits, "runs": len(runs)}
                 for limits in result.box_limits()]
    return tidy(pd.DataFrame(rows), None)


# --- the figure -------------------------------------------------------------------------------
_TARGET_COLOURS = {**SCENARIO_COLOURS, LOOSE_BEATS_TIGHT: OKABE_ITO["vermillion"]}


def _draw_discovery(table: pd.DataFrame, context: FigureContext,
                    trajectory: pd.DataFrame | None, boxes: pd.DataFrame | None) -> Figure:
    targets = [t for t in TARGETS if t in set(table["target"])]
    figure = Figure(figsize=(4.0 * len(targets) + 1.0, 9.6), layout="constrained")
    axes = figure.subplots(2, len(targets), squeeze=False,
                           gridspec_kw={"height_ratios": [1.0, 1.0]})
    threshold = float(table["density_threshold"].iloc[0])
    for column, target in enumerate(targets):
        row = table[table["target"] == target].iloc[0]
        colour = _TARGET_COLOURS[target]
        top, bottom = axes[0, column], axes[1, column]
        top.axhline(threshold, color="0.5", linestyle=":", linewidth=1.0)
        part = (trajectory[trajectory["target"] == target] if trajectory is not None
                else pd.DataFrame())
        if len(part):
            dims = part["restricted_dimensions"].to_numpy(dtype=int)
            shades = level_colours(int(dims.max()) + 1)
            top.plot(part["coverage"], part["density"], color="0.75", linewidth=0.8,
                     zorder=1)
            top.scatter(part["coverage"], part["density"], c=[shades[d] for d in dims],
                        s=16, zorder=2)
            chosen = part[part["chosen"]]
            top.scatter(chosen["coverage"], chosen["density"], s=110, facecolors="none",
                        edgecolors=colour, linewidths=2.0, zorder=3)
            for d in sorted(set(dims)):
                top.scatter([], [], color=shades[d], s=16, label=f"{d}")
            top.legend(title="restricted\ninputs", frameon=False, fontsize=7,
                       title_fontsize=7, loc="lower left")
        top.set_xlim(-0.02, 1.02)
        top.set_ylim(-0.02, 1.05)
        top.set_xlabel("coverage (share of the cases in the box)")
        top.set_ylabel("density (share of the box that are cases)")
        top.set_title(f"{target}\n{int(row['cases'])} of {int(row['n'])} "
                      f"{'points' if target == LOOSE_BEATS_TIGHT else 'runs'}",
                      fontsize=9, color="black")
        top.grid(True, color="0.92", linewidth=0.6)
        _draw_box(bottom, row, boxes[boxes["target"] == target] if boxes is not None
                  else pd.DataFrame(), colour)
    lbt = table[table["target"] == LOOSE_BEATS_TIGHT]
    detail = ""
    if len(lbt) and int(lbt["n"].iloc[0]) > 0:
        r = lbt.iloc[0]
        if r["twins"] == 1.0:
            compared = "its twins (same other inputs and seeds)"
        else:
            compared = (f"its {int(r['neighbours'])} nearest in the other inputs"
                        + (f" (its twins for {r['twins']:.0%} of the points)"
                           if r["twins"] > 0 else ""))
        detail = (f"\nLoose beats tight: a point with coupling in [{r['loose_from']:.2f}, "
                  f"{r['loose_to']:.2f}) made more innovations than the mean of the points "
                  f"with coupling >= {r['tight_from']:.2f} compared with it, {compared}: "
                  f"{r['share']:.0%} of "
                  f"{int(r['n'])} loose points [{r['share_low']:.0%}, {r['share_high']:.0%}]; "
                  f"difference {r['difference_mean']:+.1f} innovations "
                  f"[{r['difference_low']:+.1f}, {r['difference_high']:+.1f}]")
    among = f", {context.runs} runs" if context.runs is not None else ""
    figure.suptitle(
        f"{prefix(context.experiment)}Scenario discovery with PRIM ({context.horizon}Q4"
        f"{among}): top, the peeling trajectory (circled: the reported box); bottom, its "
        f"limits on each input's explored range. A box is reported as the region of its "
        f"target when its density reaches {threshold:g}" + detail, fontsize=10)
    return figure


def _draw_box(axis: Any, row: pd.Series, limits: pd.DataFrame, colour: str) -> None:
    """The reported box of one target: each input's explored range (grey) and the box's
    limits on it (coloured), scaled to [0, 1]."""
    axis.set_xlim(-0.02, 1.02)
    axis.set_xlabel("position in the explored range (0: lowest, 1: highest)")
    if limits.empty:
        axis.set_yticks([])
        axis.text(0.5, 0.5, str(row["restricted"]), ha="center", va="center", wrap=True,
                  fontsize=8, transform=axis.transAxes)
        return
    names = list(limits["parameter"])
    for y, record in enumerate(limits.to_dict("records")):
        span = record["explored_high"] - record["explored_low"]
        low = (record["low"] - record["explored_low"]) / span if span else 0.0
        high = (record["high"] - record["explored_low"]) / span if span else 1.0
        axis.barh(y, 1.0, left=0.0, height=0.6, color="0.9")
        axis.barh(y, high - low, left=low, height=0.6,
                  color=colour if record["restricted"] else "0.6",
                  alpha=1.0 if record["box"] else 0.45)
        if record["restricted"]:
            axis.text(min(high + 0.02, 0.98), y, f"{record['low']:.3g}-{record['high']:.3g}",
                      va="center", ha="left" if high < 0.8 else "right", fontsize=7)
    axis.set_yticks(range(len(names)), names, fontsize=7)
    axis.set_ylim(len(names) - 0.5, -0.5)
    found = "box" if bool(row["box"]) else "no box reaches the threshold; densest"
    axis.set_title(f"{found}: coverage {row['coverage']:.2f}, density {row['density']:.2f}"
                   f", mass {row['mass']:.2f}", fontsize=8)


def _check_targets(name: str, table: pd.DataFrame) -> None:
    check_labels(name, table["target"], TARGETS)


def _runs_analysed(table: pd.DataFrame) -> np.ndarray:
    return table["runs"].unique()


TABLES: dict[str, Table] = {
    "discovery": Table(
        compute=lambda runs, _series: discovery_table(runs),
        columns={"target": "text", "runs": "integer", "n": "integer", "cases": "integer",
                 "share": "number", "share_low": "number", "share_high": "number",
                 "density_threshold": "number", "box": "flag", "step": "integer",
                 "coverage": "number", "density": "number", "mass": "number",
                 "restricted_dimensions": "integer", "restricted": "text",
                 "difference_mean": "number", "difference_low": "number",
                 "difference_high": "number", "twins": "number", "neighbours": "integer",
                 "loose_from": "number", "loose_to": "number", "tight_from": "number",
                 "tight_to": "number"},
        check=_check_targets, runs=_runs_analysed),
    "discovery_trajectory": Table(
        compute=lambda runs, _series: discovery_trajectory_table(runs),
        columns={"target": "text", "step": "integer", "coverage": "number",
                 "density": "number", "mass": "number", "restricted_dimensions": "integer",
                 "n": "integer", "chosen": "flag", "runs": "integer"},
        check=_check_targets, runs=_runs_analysed),
    "discovery_boxes": Table(
        compute=lambda runs, _series: discovery_boxes_table(runs),
        columns={"target": "text", "parameter": "text", "low": "number", "high": "number",
                 "explored_low": "number", "explored_high": "number", "restricted": "flag",
                 "box": "flag", "runs": "integer"},
        check=_check_targets, runs=_runs_analysed),
}
"""The tables of this analysis: the box of each target, the trajectories and the boxes'
limits."""

DRAWERS: dict[str, Callable[[pd.DataFrame, FigureContext, Companions], Figure]] = {
    "discovery": lambda table, context, extra: _draw_discovery(
        table, context, extra.get("discovery_trajectory"), extra.get("discovery_boxes")),
}
"""The figure of this analysis, drawn from its table, context and companion tables."""
