"""Is the outcome more than its inputs? Diagnostics over a sweep's runs table.

Pure functions over pandas tables (no drawing, no model runs); :mod:`sim.analyses` turns
their results into the figures' tables and draws them.

Two questions a reviewer asks of an agent-based model's phase diagram:

- **How much of each emergent index do the inputs explain?** :func:`explained_variance`
  fits the run-level index by ordinary least squares on the two swept inputs, linearly
  (``[1, c, k]``) or flexibly (``[1, c, k, ck, c^2, k^2]``), and returns R^2. What the
  fit leaves unexplained is what the agents' interactions add (and the noise between
  replicates).
- **How well does an input-only rule predict the scenario?** :func:`best_quadrant_rule`
  searches the two cut points of the rule "scenario = quadrant of (coupling >= a,
  capability >= b)" that match the most runs' emergent scenarios;
  :func:`rule_accuracy` scores a given rule.

And one about time (:func:`paired_differences`): does a run's end state depend on the
path its inputs took (hysteresis), beyond where they ended?
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim import scenarios

__all__ = ["DESIGNS", "QUADRANTS", "QuadrantRule", "best_quadrant_rule", "explained_variance",
           "paired_differences", "quadrant_scenarios", "rule_accuracy", "t_interval"]

#: Regressors of each fit, as functions of coupling ``c`` and capability ``k``.
DESIGNS: dict[str, str] = {
    "linear": "[1, c, k]",
    "quadratic": "[1, c, k, c*k, c^2, k^2]",
}

#: The scenario the quadrant rule gives each quadrant, keyed by (high capability, high
#: coupling): the source paper's 2x2 plan read off the inputs.
QUADRANTS: dict[tuple[bool, bool], str] = {
    (True, True): scenarios.LOOSELY_COUPLED_SYNERGY,
    (True, False): scenarios.ISOLATED_EXCELLENCE,
    (False, True): scenarios.HOLLOW_NETWORKING,
    (False, False): scenarios.STAGNATION,
}


def _design_matrix(coupling: np.ndarray, capability: np.ndarray, design: str) -> np.ndarray:
    c, k = coupling, capability
    one = np.ones_like(c)
    if design == "linear":
        return np.column_stack([one, c, k])
    if design == "quadratic":
        return np.column_stack([one, c, k, c * k, c * c, k * k])
    raise ValueError(f"unknown design {design!r} (expected one of {', '.join(DESIGNS)})")


def explained_variance(index: Sequence[float] | np.ndarray,
                       coupling: Sequence[float] | np.ndarray,
                       capability: Sequence[float] | np.ndarray,
                       design: str = "linear") -> tuple[float, int]:
    """R^2 of the OLS fit of a run-level index on the inputs, and the runs fitted.

    ``design`` is ``"linear"`` (regressors ``[1, coupling, capability]``) or
    ``"quadratic"`` (adds ``coupling*capability``, ``coupling^2``, ``capability^2``).
    Runs whose index is NaN are left out. R^2 = 1 - SS_residual / SS_total; it is NaN
    when fewer than two runs remain or the index does not vary (nothing to explain).
    A design that cannot separate its regressors (one coupling level, say) is fitted by
    the minimum-norm least-squares solution, which gives the same fitted values.
    """
    y = np.asarray(index, dtype=float)
    c = np.asarray(coupling, dtype=float)
    k = np.asarray(capability, dtype=float)
    if not y.shape == c.shape == k.shape:
        raise ValueError("index, coupling and capability must have one value per run")
    kept = np.isfinite(y)
    y, c, k = y[kept], c[kept], k[kept]
    X = _design_matrix(c, k, design)
    n = len(y)
    if n < 2:
        return math.nan, n
    total = float(((y - y.mean()) ** 2).sum())
    # relative to the index's own size: a constant index fitted exactly still has a
    # rounding-level total sum of squares, which must not read as variation
    if total <= (1e-12 * max(1.0, float(np.abs(y).max()))) ** 2 * n:
        return math.nan, n
    coefficients, *_ = np.linalg.lstsq(X, y, rcond=None)
    residual = float(((y - X @ coefficients) ** 2).sum())
    return 1.0 - residual / total, n


@dataclass(frozen=True)
class QuadrantRule:
    """The input-only rule "scenario = quadrant of (coupling >= a, capability >= b)".

    High capability and high coupling give 'Loosely coupled synergy', high capability
    and low coupling 'Isolated excellence', low capability and high coupling 'Hollow
    networking', both low 'Stagnation'. ``accuracy`` is the share of runs whose
    emergent scenario equals the rule's; ``runs`` how many runs were scored. No rule
    predicts 'Coupled without synergy': the paper's plan, read off the inputs, promises
    synergy wherever capability and coupling are high, so runs that end there without
    it count against every rule.
    """

    coupling_cut: float
    capability_cut: float
    accuracy: float
    runs: int


def quadrant_scenarios(coupling: Sequence[float] | np.ndarray,
                       capability: Sequence[float] | np.ndarray,
                       coupling_cut: float, capability_cut: float) -> np.ndarray:
    """The scenario the quadrant rule assigns to each run (an array of labels)."""
    high_coupling = np.asarray(coupling, dtype=float) >= coupling_cut
    high_capability = np.asarray(capability, dtype=float) >= capability_cut
    return np.where(high_capability,
                    np.where(high_coupling, QUADRANTS[True, True], QUADRANTS[True, False]),
                    np.where(high_coupling, QUADRANTS[False, True], QUADRANTS[False, False]),
                    ).astype(object)


def rule_accuracy(coupling: Sequence[float] | np.ndarray,
                  capability: Sequence[float] | np.ndarray,
                  scenarios: Sequence[str] | np.ndarray,
                  coupling_cut: float, capability_cut: float) -> QuadrantRule:
    """Score the quadrant rule with cut points ``coupling_cut`` and ``capability_cut``
    against the runs' emergent ``scenarios``."""
    scenarios = np.asarray(scenarios, dtype=object)
    if len(scenarios) == 0:
        raise ValueError("no runs to score the rule on")
    predicted = quadrant_scenarios(coupling, capability, coupling_cut, capability_cut)
    return QuadrantRule(float(coupling_cut), float(capability_cut),
                        float(np.mean(predicted == scenarios)), len(scenarios))


def _cuts(values: np.ndarray) -> np.ndarray:
    """Candidate cut points of one input: its smallest value (every run high), the
    midpoints between consecutive distinct values, and +inf (no run high)."""
    distinct = np.unique(values)
    return np.concatenate([distinct[:1], (distinct[1:] + distinct[:-1]) / 2, [math.inf]])


def best_quadrant_rule(coupling: Sequence[float] | np.ndarray,
                       capability: Sequence[float] | np.ndarray,
                       scenarios: Sequence[str] | np.ndarray) -> QuadrantRule:
    """The quadrant rule that matches the most runs' emergent scenarios.

    Each cut point is searched over every midpoint between consecutive distinct values
    of its input and the two extremes (its smallest value: every run high; +inf: none),
    which covers every distinct way a threshold can split the runs. Ties go to the
    smallest coupling cut, then the smallest capability cut.
    """
    c = np.asarray(coupling, dtype=float)
    k = np.asarray(capability, dtype=float)
    s = np.asarray(scenarios, dtype=object)
    if not len(c) == len(k) == len(s):
        raise ValueError("coupling, capability and scenarios must have one value per run")
    if len(s) == 0:
        raise ValueError("no runs to search a rule on")
    coupling_cuts, capability_cuts = _cuts(c), _cuts(k)
    k_values = np.unique(k)
    k_rank = np.searchsorted(k_values, k)  # capability cut j: runs of rank >= j are high
    best = (-1, 0, 0)
    for i, a in enumerate(coupling_cuts):
        high_coupling = c >= a
        fits_high = s == np.where(high_coupling, QUADRANTS[True, True], QUADRANTS[True, False])
        fits_low = s == np.where(high_coupling, QUADRANTS[False, True], QUADRANTS[False, False])
        high = np.bincount(k_rank, weights=fits_high, minlength=len(k_values))
        low = np.bincount(k_rank, weights=fits_low, minlength=len(k_values))
        # runs below cut j are scored as low capability, the others as high
        correct = (np.concatenate([[0.0], np.cumsum(low)])
                   + high.sum() - np.concatenate([[0.0], np.cumsum(high)]))
        j = int(np.argmax(correct))  # first maximum: the smallest capability cut
        if round(correct[j]) > best[0]:
            best = (round(correct[j]), i, j)
    hits, i, j = best
    return QuadrantRule(float(coupling_cuts[i]), float(capability_cuts[j]), hits / len(s),
                        len(s))


def t_interval(values: Sequence[float] | np.ndarray) -> tuple[float, float, float]:
    """Mean and 95 % t-interval of the mean of the values that are not NaN; the
    interval is the mean itself for one value, and all three are NaN for none."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if n == 1:
        return mean, mean, mean
    half = float(stats.t.ppf(0.975, n - 1)) * float(values.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


def paired_differences(treated: pd.DataFrame, reference: pd.DataFrame,
                       pair_on: Sequence[str], measures: Sequence[str]) -> pd.DataFrame:
    """Each treated run's measures minus those of its reference run.

    A treated run is paired with the reference run that has the same values in every
    ``pair_on`` column (the same replicate and seed, and every input but the one
    compared); treated runs without a reference are left out. Returns one row per pair,
    the ``pair_on`` columns and one difference column per measure. Raises ValueError if
    a treated run would have two references.
    """
    left = treated[[*pair_on, *measures]]
    right = reference[[*pair_on, *measures]]
    if right.duplicated(list(pair_on)).any():
        raise ValueError("two reference runs share the pairing keys "
                         f"{', '.join(pair_on)}; cannot pair runs")
    merged = left.merge(right, on=list(pair_on), how="inner", suffixes=("", "_reference"),
                        validate="m:1")
    differences = merged[list(pair_on)].copy()
    for measure in measures:
        differences[measure] = (merged[measure].astype(float)
                                - merged[f"{measure}_reference"].astype(float))
    return differences
