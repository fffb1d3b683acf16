"""What the runs are called in the figures: classification thresholds, each run's
scenario and coupling type, the majority label of a cell, synergy, and axis labels.

A run's scenario is always the emergent one, from its indices, its paired synergy and
the thresholds in force (:func:`sim.scenarios.classify`), never from its inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim import metrics, pairing
from sim.params import Params
from sim.scenarios import classify, coupling_type, needs_synergy

__all__ = ["CAPABILITY_LABEL", "COUPLING_LABEL", "END_STATE_INDICES", "FACTORS",
           "INDEX_LABELS", "THRESHOLDS", "THRESHOLD_NAMES", "THRESHOLD_UNITS",
           "coupling_types", "known_thresholds", "letter", "majority", "paired_synergies",
           "scenarios", "snake", "synergy", "thresholds"]

# --- axis labels (with units) -----------------------------------------------------------------
COUPLING_LABEL = "coupling (strength of inter-cluster ties, 0-1)"
CAPABILITY_LABEL = "capability (internal capability input, 0-1)"
INDEX_LABELS = {
    "capability_index": "capability index (innovations per agent per year)",
    "cooperation_index": "cooperation index (share of collaborations crossing)",
    "distinctiveness": "distinctiveness (share of 2018 inter-cluster distance)",
    "synergy": "synergy (innovations relative to coupling 0)",
    "innovations_total": "innovations (2018 to the horizon)",
}
#: The end-state indices the policy and replicates analyses report for every run: the
#: two that classify the scenario, distinctiveness and total innovation.
END_STATE_INDICES: tuple[str, ...] = ("capability_index", "cooperation_index",
                                      "distinctiveness", "innovations_total")

# --- thresholds --------------------------------------------------------------------------------
#: The three classification thresholds the sensitivity analysis moves.
THRESHOLDS: tuple[str, ...] = ("capability_threshold", "cooperation_threshold",
                               "distinctiveness_threshold")
#: Factors applied to each threshold: -25 %, baseline, +25 %.
FACTORS: tuple[float, ...] = (0.75, 1.0, 1.25)
THRESHOLD_NAMES = {"capability_threshold": "capability threshold",
                   "cooperation_threshold": "cooperation threshold",
                   "distinctiveness_threshold": "distinctiveness threshold"}
THRESHOLD_UNITS = {"capability_threshold": "innovations/agent/year",
                   "cooperation_threshold": "share crossing",
                   "distinctiveness_threshold": "share of 2018 distance"}


def thresholds(runs: pd.DataFrame) -> pd.DataFrame:
    """Each run's classification thresholds: the stored column if any, else the
    default of :class:`sim.params.Params` (NaN where that default is derived at run
    time)."""
    defaults = Params()
    columns = {}
    for name in THRESHOLDS:
        default = getattr(defaults, name)
        columns[name] = (runs[name].astype(float) if name in runs.columns
                         else math.nan if default is None else float(default))
    return pd.DataFrame(columns, index=runs.index)


def known_thresholds(runs: pd.DataFrame) -> pd.DataFrame:
    """:func:`thresholds`, refusing runs whose threshold is neither stored nor fixed."""
    table = thresholds(runs)
    for name in THRESHOLDS:
        if table[name].isna().any():
            raise ValueError(
                f"{name} is unknown for some runs: the runs table has no value for it and "
                "Params has no fixed default (the model derives it at run time); re-run "
                "the sweep with a version of the model that stores it, or fix it in the "
                "experiment's [fixed] table")
    return table


# --- labels of runs and cells --------------------------------------------------------------------
def scenarios(runs: pd.DataFrame, limits: pd.DataFrame) -> pd.Series:
    """Each run's scenario under the thresholds ``limits`` (one row per run), with its
    paired synergy from :func:`paired_synergies`.

    Raises ``ValueError`` when a run is high in capability and cooperation under
    ``limits`` but its paired synergy is unknown (moved thresholds can put a run there
    that did not need its twin under its own)."""
    synergies = paired_synergies(runs)
    columns = (runs["capability_index"], runs["cooperation_index"], synergies,
               limits["capability_threshold"], limits["cooperation_threshold"])
    unknown = [needs_synergy(a, b, capability_threshold=t, cooperation_threshold=u)
               and math.isnan(s) for a, b, s, t, u in zip(*columns, strict=True)]
    if any(unknown):
        raise ValueError(
            f"{sum(unknown)} run(s) are high in capability and cooperation but have no "
            "paired synergy, which decides their scenario: neither a stored "
            "paired_synergy (runs of an earlier version of the model, or thresholds "
            "moved beyond the run's own) nor a run at coupling 0 with the same seed and "
            "other inputs in the table; re-run the sweep, or add coupling 0 to its grid")
    return pd.Series([classify(a, b, s, capability_threshold=t, cooperation_threshold=u)
                      for a, b, s, t, u in zip(*columns, strict=True)],
                     index=runs.index, dtype=object)


def paired_synergies(runs: pd.DataFrame) -> pd.Series:
    """Each run's paired synergy (:mod:`sim.pairing`): the ``paired_synergy`` the run
    stored, where it needed one; else over its uncoupled twin when the table holds it
    (the run at coupling 0 with the same seed, replicate and other inputs, for a run
    without a coupling schedule or one switching to 0, as
    :func:`sim.pairing.paired_synergy`); else NaN."""
    stored = (runs["paired_synergy"].astype(float) if "paired_synergy" in runs.columns
              else pd.Series(math.nan, index=runs.index, dtype=float))
    if not stored.isna().any() or not {"coupling", "innovations_total"} <= set(runs.columns):
        return stored
    baselines = _uncoupled_innovations(runs)
    after = (runs["coupling_after"].astype(float) if "coupling_after" in runs.columns
             else pd.Series(math.nan, index=runs.index))
    # a run switching to another coupling than 0 has a twin the table cannot hold
    has_twin = after.isna() | (after == 0.0)
    derived = [pairing.paired_synergy(a, b) if twin and not pd.isna(b) else math.nan
               for a, b, twin in zip(runs["innovations_total"], baselines, has_twin,
                                     strict=True)]
    return stored.fillna(pd.Series(derived, index=runs.index, dtype=float))


def coupling_types(runs: pd.DataFrame, limits: pd.DataFrame) -> pd.Series:
    """Each run's Orton & Weick coupling type under the thresholds ``limits``."""
    return pd.Series([coupling_type(b, d, cooperation_threshold=u, distinctiveness_threshold=v)
                      for b, d, u, v in zip(runs["cooperation_index"], runs["distinctiveness"],
                                            limits["cooperation_threshold"],
                                            limits["distinctiveness_threshold"],
                                            strict=True)],
                     index=runs.index, dtype=object)


def majority(runs: pd.DataFrame, keys: list[str], labels: pd.Series,
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
            table[f"share_{snake(category)}"] = shares[category]
    table["majority"] = [categories[i] for i in best]
    table["certainty"] = shares.to_numpy()[np.arange(len(best)), best]
    table.columns.name = None
    return table.reset_index()


def synergy(runs: pd.DataFrame) -> pd.Series:
    """Each run's innovations over its paired run's at coupling 0, minus one."""
    coupling = runs["coupling"].astype(float)
    if not (coupling == 0.0).any():
        levels = ", ".join(f"{v:g}" for v in sorted(coupling.unique()))
        raise ValueError("synergy needs runs at coupling 0 (the paired baseline), but the "
                         f"results only have coupling {levels}: add 0 to the coupling grid")
    values = [metrics.synergy(a, b) if not pd.isna(b) else math.nan
              for a, b in zip(runs["innovations_total"], _uncoupled_innovations(runs),
                              strict=True)]
    return pd.Series(values, index=runs.index, dtype=float)


def _uncoupled_innovations(runs: pd.DataFrame) -> pd.Series:
    """Each run's paired run's total innovations: the run at coupling 0 with the same
    other inputs, replicate and seed (NaN where the table has none)."""
    parameters = set(Params.describe())
    pair = [c for c in runs.columns if c in parameters and c != "coupling"]
    pair += [c for c in ("replicate", "seed") if c in runs.columns]
    baseline = runs.loc[runs["coupling"].astype(float) == 0.0, pair + ["innovations_total"]]
    baseline = baseline.drop_duplicates(pair).rename(
        columns={"innovations_total": "_baseline"})
    merged = runs[pair].merge(baseline, on=pair, how="left", validate="m:1")
    return pd.Series(merged["_baseline"].to_numpy(dtype=float), index=runs.index)


def snake(label: str) -> str:
    """A label as a column-name part: ``"Loosely coupled synergy"`` ->
    ``"loosely_coupled_synergy"``."""
    return "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_")


def letter(category: str) -> str:
    """One-letter code of a scenario (L, I, H, S, C) or coupling type (L, T, D, N)."""
    return category[0].upper()
