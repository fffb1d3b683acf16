"""Global sensitivity of the emergent outcomes to the varied parameters: Morris elementary
effects or Sobol' indices (SALib), beside the share of each outcome's variance that is
the model's own randomness.

An experiment with ``analysis = "sensitivity"`` samples its parameters with ``[sample]
method = "morris"`` or ``method = "sobol"`` (the registry checks it before any run). The
indices follow from the structure of that sample, so the analysis reads the design from
the results' manifest (:meth:`sim.experiment.design.Experiment.design_record`) and the outputs
in design order (``point``).

Outputs (:func:`run_outputs`): the capability index, cooperation index, distinctiveness
and innovations at the horizon; one indicator per scenario, 1 when the run ended in it (its
emergent scenario, from its indices, paired synergy and thresholds:
:func:`sim.analyses.labels.scenarios`);
and synergy only when every run has its paired run at coupling 0 (same other parameters
and seed). A Morris or Sobol design never has those pairs unless it fixes coupling at 0,
so synergy is left out of its table, and the figure says so.

For each output the replicates of each point are averaged, and SALib analyses those means
(:func:`indices_table`):

* Morris: ``mu_star`` (mean absolute elementary effect, in the output's units per step of
  levels / (2 (levels - 1)) of a parameter's range) with ``conf`` the half-width of its
  95 % bootstrap interval, ``mu`` (signed mean: effects of both signs cancel in it) and
  ``sigma`` (spread of the effects: non-linearity or interactions);
* Sobol: ``S1`` (first-order) and ``ST`` (total) indices with ``conf`` the half-width of
  their 95 % bootstrap intervals, and ``S2`` (second-order, per pair of parameters) when
  the design has ``second_order = true``.

Beside them, ``stochastic_share``: the mean over the points of the variance across
replicates, over the variance of all runs (both unbiased, ddof 1). A large share means
that much of what a single run shows is noise, and that the indices rest on means of few
replicates; it is an estimate, which may exceed 1 when the parameters explain almost
none of the variance; NaN with one replicate. Bootstrap resamples are drawn from a fixed
seed (:data:`BOOTSTRAP_SEED`), so the same runs give the same table.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.analyses.context import Companions, FigureContext
from sim.analyses.labels import (
    END_STATE_INDICES,
    INDEX_LABELS,
    known_thresholds,
    scenarios,
    snake,
    synergy,
)
from sim.analyses.panels import prefix
from sim.analyses.tables import Table, check_labels, require, tidy, with_inputs
from sim.experiment.style import MARKERS, OKABE_ITO, level_colours
from sim.params import Params
from sim.scenarios import SCENARIOS

__all__ = ["BOOTSTRAP_SEED", "CONFIDENCE", "DRAWERS", "INDICES", "MEASURES", "RESAMPLES",
           "TABLES", "indices_table", "run_outputs", "sensitivity_table"]

#: The run-level indices analysed, as stored in the runs table.
INDICES: tuple[str, ...] = END_STATE_INDICES
#: The measures each method reports, in the table's order.
MEASURES: dict[str, tuple[str, ...]] = {"morris": ("mu_star", "mu", "sigma"),
                                        "sobol": ("S1", "ST", "S2")}
#: Seed of SALib's bootstrap resamples (a constant: the table must not change between
#: two drawings of the same runs).
BOOTSTRAP_SEED = 2030
#: Bootstrap resamples behind each interval (SALib's default is 100; a thousand steadies
#: the intervals' second digit at no noticeable cost).
RESAMPLES = 1_000
#: Level of the intervals.
CONFIDENCE = 0.95
#: ``partner`` of the measures of one parameter (a CSV cell cannot be empty text).
NO_PARTNER = "-"

_SCENARIO_OUTPUTS: dict[str, str] = {f"scenario_{snake(s)}": s for s in SCENARIOS}
_OUTPUT_LABELS: dict[str, str] = {
    **{name: INDEX_LABELS[name] for name in INDICES},
    **{name: f"ends in {scenario} (1 or 0)" for name, scenario in _SCENARIO_OUTPUTS.items()},
    "synergy": INDEX_LABELS["synergy"],
}
_OUTPUT_ORDER: tuple[str, ...] = (*INDICES, *_SCENARIO_OUTPUTS, "synergy")
_COLUMNS: dict[str, str] = {
    "method": "text", "output": "text", "measure": "text", "parameter": "text",
    "partner": "text", "value": "number", "conf": "number", "stochastic_share": "number",
    "points": "integer", "replicates": "integer", "runs": "integer"}


# --- tables ------------------------------------------------------------------------------------
def run_outputs(runs: pd.DataFrame) -> pd.DataFrame:
    """Each run's outputs, one column per output (index aligned with ``runs``): the
    :data:`INDICES`, one 0/1 indicator per scenario (``scenario_<name>``), and
    ``synergy`` when every run has its paired run at coupling 0."""
    require(runs, INDICES)
    outputs = runs[list(INDICES)].astype(float)
    labels = scenarios(runs, known_thresholds(runs))
    for name, scenario in _SCENARIO_OUTPUTS.items():
        outputs[name] = (labels == scenario).astype(float)
    if _paired_at_coupling_zero(runs):
        outputs["synergy"] = synergy(with_inputs(runs, ("coupling",)))
    return outputs


def _paired_at_coupling_zero(runs: pd.DataFrame) -> bool:
    """Whether every run has a run at coupling 0 with the same other parameters,
    replicate and seed (the baseline of its synergy)."""
    runs = with_inputs(runs, ("coupling",))
    zero = runs["coupling"].astype(float) == 0.0
    if not zero.any():
        return False
    parameters = set(Params.describe())
    keys = [c for c in runs.columns if c in parameters and c != "coupling"]
    keys += [c for c in ("replicate", "seed") if c in runs.columns]
    baselines = set(map(tuple, runs.loc[zero, keys].astype(str).to_numpy()))
    return all(row in baselines for row in map(tuple, runs[keys].astype(str).to_numpy()))


def sensitivity_table(runs: pd.DataFrame, design: Mapping[str, Any]) -> pd.DataFrame:
    """The sensitivity of every output of :func:`run_outputs` to the design's parameters
    (see :func:`indices_table`)."""
    return indices_table(runs, run_outputs(runs), design)


def indices_table(runs: pd.DataFrame, outputs: pd.DataFrame,
                  design: Mapping[str, Any]) -> pd.DataFrame:
    """Morris or Sobol indices of each column of ``outputs`` (one row per run, aligned
    with ``runs``), from the means over each point's replicates.

    ``design`` is the design as the manifest records it: ``method`` (morris or sobol),
    ``parameters`` in the sample's column order, ``ranges``, ``points``, and the method's
    settings (``levels``; ``second_order``). ``runs`` needs ``point``, ``replicate`` and
    the parameters' columns, and must hold every point with the same number of
    replicates.

    One row per (output, measure, parameter, partner): ``value`` and ``conf`` (the
    half-width of its :data:`CONFIDENCE` bootstrap interval; NaN for Morris's mu and
    sigma), with the output's ``stochastic_share``, the design's ``points``, the
    ``replicates`` per point and the ``runs``. An output with a non-finite mean at some
    point, or (Sobol) the same mean at every point, has NaN indices. Raises
    ``ValueError`` for another method, or for runs that are not the design's.
    """
    method = design.get("method")
    if method not in MEASURES:
        raise ValueError(f"the sensitivity analysis needs a morris or sobol design, got "
                         f"{method!r}")
    names = list(design["parameters"])
    require(runs, ("point", "replicate", *names))
    if len(outputs) != len(runs):
        raise ValueError(f"{len(outputs)} rows of outputs for {len(runs)} runs")
    expected = int(design["points"])
    point = runs["point"].to_numpy(dtype=int)
    counts = np.bincount(point, minlength=expected) if len(point) else np.zeros(expected)
    missing = int((counts[:expected] == 0).sum())
    if len(counts) > expected or missing:
        raise ValueError(f"the sensitivity analysis needs every one of the design's "
                         f"{expected} points, but {missing} have no run and "
                         f"{max(len(counts) - expected, 0)} runs lie outside the design "
                         "(an unfinished sweep? run it again to complete it)")
    if counts.min() != counts.max():
        raise ValueError(f"the points have {counts.min()} to {counts.max()} replicates; "
                         "the sensitivity analysis needs the same number at every point")
    frame = outputs.reset_index(drop=True).assign(_point=point)
    means = frame.groupby("_point", sort=True).mean()
    within = frame.groupby("_point", sort=True).var(ddof=1).mean()
    total = frame.drop(columns="_point").var(ddof=1)
    inputs = (runs.reset_index(drop=True).assign(_point=point)
              .groupby("_point", sort=True)[names].first().to_numpy(dtype=float))
    problem = {"num_vars": len(names), "names": names,
               "bounds": [[float(low), float(high)] for low, high in design["ranges"]]}
    rows = []
    for output in outputs.columns:
        y = means[output].to_numpy(dtype=float)
        share = (float(within[output] / total[output])
                 if total[output] > 0 and math.isfinite(within[output]) else math.nan)
        if method == "morris":
            found = _morris(problem, inputs, y, int(design["levels"]))
        else:
            found = _sobol(problem, y, bool(design["second_order"]))
        for measure, parameter, partner, value, conf in found:
            rows.append({"method": method, "output": output, "measure": measure,
                         "parameter": parameter, "partner": partner, "value": value,
                         "conf": conf, "stochastic_share": share})
    table = pd.DataFrame(rows, columns=["method", "output", "measure", "parameter",
                                        "partner", "value", "conf",
                                        "stochastic_share"]).astype(
        {"value": float, "conf": float, "stochastic_share": float})
    table = table.assign(points=expected, replicates=int(counts.max()), runs=len(runs))
    order = {m: i for i, m in enumerate(MEASURES[method])}
    table = table.assign(_measure=table["measure"].map(order))
    table = tidy(table, ["output", "_measure", "parameter", "partner"])
    return table.drop(columns="_measure")


_Found = list[tuple[str, str, str, float, float]]


def _morris(problem: dict[str, Any], inputs: np.ndarray, y: np.ndarray,
            levels: int) -> _Found:
    """mu*, mu and sigma of each parameter (NaN when an output mean is not finite)."""
    names = problem["names"]
    if not np.isfinite(y).all():
        return [(m, n, NO_PARTNER, math.nan, math.nan) for m in MEASURES["morris"]
                for n in names]
    from SALib.analyze import morris

    result = morris.analyze(problem, inputs, y, num_resamples=RESAMPLES,
                            conf_level=CONFIDENCE, num_levels=levels, seed=BOOTSTRAP_SEED)
    found: _Found = []
    for i, name in enumerate(names):
        found += [("mu_star", name, NO_PARTNER, float(result["mu_star"][i]),
                   float(result["mu_star_conf"][i])),
                  ("mu", name, NO_PARTNER, float(result["mu"][i]), math.nan),
                  ("sigma", name, NO_PARTNER, float(result["sigma"][i]), math.nan)]
    return found


def _sobol(problem: dict[str, Any], y: np.ndarray, second_order: bool) -> _Found:
    """S1 and ST of each parameter, and S2 of each pair with second order (NaN when an
    output mean is not finite or the means do not vary: no variance to share out)."""
    names = problem["names"]
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]] if second_order \
        else []
    if not np.isfinite(y).all() or np.ptp(y) == 0:
        return ([(m, n, NO_PARTNER, math.nan, math.nan) for m in ("S1", "ST")
                 for n in names]
                + [("S2", a, b, math.nan, math.nan) for a, b in pairs])
    from SALib.analyze import sobol

    with warnings.catch_warnings():
        # a small base sample is what a quick design is; its width is in the intervals
        warnings.simplefilter("ignore", RuntimeWarning)
        result = sobol.analyze(problem, y, calc_second_order=second_order,
                               num_resamples=RESAMPLES, conf_level=CONFIDENCE,
                               seed=BOOTSTRAP_SEED)
    found: _Found = []
    for measure in ("S1", "ST"):
        found += [(measure, name, NO_PARTNER, float(result[measure][i]),
                   float(result[f"{measure}_conf"][i])) for i, name in enumerate(names)]
    for a, b in pairs:
        i, j = names.index(a), names.index(b)
        found.append(("S2", a, b, float(result["S2"][i, j]), float(result["S2_conf"][i, j])))
    return found


def _check_sensitivity(name: str, table: pd.DataFrame) -> None:
    check_labels(name, table["method"], tuple(MEASURES))
    for method, part in table.groupby("method"):
        check_labels(name, part["measure"], MEASURES[str(method)])


# --- figure ------------------------------------------------------------------------------------
def _draw_sensitivity(table: pd.DataFrame, context: FigureContext) -> Figure:
    method = str(table["method"].iloc[0])
    outputs = [o for o in _OUTPUT_ORDER if o in set(table["output"])]
    outputs += sorted(set(table["output"]) - set(outputs))
    parameters = list(dict.fromkeys(table.loc[table["partner"] == NO_PARTNER,
                                              "parameter"]))
    columns = 3 if len(outputs) > 4 else 2
    rows = math.ceil(len(outputs) / columns)
    height = 3.3 * rows + 1.2 + (0.12 * len(parameters) * rows if method == "sobol" else 0)
    figure = Figure(figsize=(13, height), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    colours = dict(zip(parameters, level_colours(len(parameters)), strict=True))
    for axis, output in zip(axes, outputs, strict=False):
        part = table[table["output"] == output]
        share = part["stochastic_share"].iloc[0]
        noise = ("" if not math.isfinite(share)
                 else f"\nstochastic share of the variance {share:.0%}")
        axis.set_title(f"{_OUTPUT_LABELS.get(output, output)}{noise}", fontsize=9)
        if part["value"].isna().all():
            axis.text(0.5, 0.5, "no index: the output does not vary over the design",
                      ha="center", va="center", transform=axis.transAxes, fontsize=8,
                      color="0.4")
            axis.set_axis_off()
        elif method == "morris":
            _morris_panel(axis, part, parameters, colours)
        else:
            _sobol_panel(axis, part, parameters)
    for axis in axes[len(outputs):]:
        axis.set_axis_off()
    if method == "morris":
        handles = [Line2D([], [], linestyle="", marker=MARKERS[i % len(MARKERS)],
                          color=colours[p], label=p) for i, p in enumerate(parameters)]
        figure.legend(handles=handles, loc="outside lower center", title="parameter",
                      ncols=min(len(handles), 4), frameon=False)
    else:
        handles = [Line2D([], [], linewidth=6, color=OKABE_ITO["sky blue"], label="S1"),
                   Line2D([], [], linewidth=6, color=OKABE_ITO["blue"], label="ST")]
        figure.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False,
                      title=f"index ({CONFIDENCE:.0%} bootstrap interval)")
    first = table.iloc[0]
    what = ("Morris screening: mean absolute elementary effect mu* and its spread sigma"
            if method == "morris" else "Sobol' indices: first-order S1 and total ST")
    lines = [f"{prefix(context.experiment)}{what} at {context.horizon}Q4",
             f"{int(first['points'])} points x {int(first['replicates'])} replicates "
             f"({int(first['runs'])} runs), indices of each point's mean over its "
             "replicates; stochastic share: mean variance across replicates over the "
             "variance of all runs"]
    if "synergy" not in outputs:
        lines.append("synergy left out: no run has its paired run at coupling 0 (same "
                     "other parameters and seed)")
    figure.suptitle("\n".join(lines), fontsize=10)
    return figure


def _morris_panel(axis: Any, part: pd.DataFrame, parameters: Sequence[str],
                  colours: Mapping[str, Any]) -> None:
    values = part.pivot_table(index="parameter", columns="measure", values="value",
                              dropna=False)
    conf = part[part["measure"] == "mu_star"].set_index("parameter")["conf"]
    top = 0.0
    for i, parameter in enumerate(parameters):
        if parameter not in values.index:
            continue
        mu_star, sigma = values.loc[parameter, "mu_star"], values.loc[parameter, "sigma"]
        axis.errorbar(mu_star, sigma, xerr=conf.get(parameter, math.nan),
                      marker=MARKERS[i % len(MARKERS)], color=colours[parameter],
                      markersize=5, linestyle="", elinewidth=0.8, capsize=2)
        top = max(top, mu_star + conf.get(parameter, 0.0), sigma)
    top = top * 1.08 if top > 0 else 1.0
    # above the diagonal a parameter acts mostly through non-linearity or interactions
    axis.plot([0, top], [0, top], color="0.6", linestyle=":", linewidth=0.9, zorder=0)
    axis.set_xlim(0, top)
    axis.set_ylim(0, top)
    axis.set_xlabel("mu* (mean |elementary effect|)")
    axis.set_ylabel("sigma (spread of the effects)")
    axis.grid(True, color="0.9", linewidth=0.6)


def _sobol_panel(axis: Any, part: pd.DataFrame, parameters: Sequence[str]) -> None:
    y = np.arange(len(parameters), dtype=float)
    for offset, measure, colour in ((-0.18, "S1", OKABE_ITO["sky blue"]),
                                    (0.18, "ST", OKABE_ITO["blue"])):
        rows = part[part["measure"] == measure].set_index("parameter").reindex(parameters)
        axis.barh(y + offset, rows["value"].to_numpy(dtype=float), height=0.34,
                  xerr=rows["conf"].to_numpy(dtype=float), color=colour,
                  error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "0.2"})
    axis.axvline(0.0, color="0.3", linewidth=0.8)
    axis.set_yticks(y, parameters, fontsize=7)
    axis.invert_yaxis()
    axis.set_xlabel("share of the variance of the means")
    axis.grid(True, axis="x", color="0.9", linewidth=0.6)


TABLES: dict[str, Table] = {
    "sensitivity": Table(
        compute=lambda runs, _series, design: sensitivity_table(runs, design),
        columns=_COLUMNS, check=_check_sensitivity,
        runs=lambda table: table["runs"].unique(), takes_design=True),
}
"""The table of this analysis."""

DRAWERS: dict[str, Callable[[pd.DataFrame, FigureContext, Companions], Figure]] = {
    "sensitivity": lambda table, context, _extra: _draw_sensitivity(table, context),
}
"""The figure of this analysis, drawn from its table and context."""
