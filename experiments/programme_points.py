"""Write the points files of the programme experiments: for the ``programmes`` analysis
every programme mix at every annual budget, and the point without programmes, at every
state; for ``programme_timing`` every mix at every start year; for
``programme_boundary`` every mix in a column of the phase diagram (capability levels at
each coupling); for the ``robustness`` analysis every mix at one budget, and none, in
each of a set of futures. The files are committed; a test checks that this script still writes
them.

    python experiments/programme_points.py

A mix splits its budget evenly between its programmes, so every mix of one budget costs
the same: the comparison is at equal money.

A future is a Latin hypercube point over coupling, capability and the attention and
coupling-cost constants (the ranges of the published Sobol' study,
experiments/publication/sensitivity_sobol.toml) and ``talent_gain`` (a third to three
times its default: what a training place does is assumed), joined with one particle of the
calibration's posterior (sim/profiles/calibrated.posterior.csv, particle k for future k):
the fitted constants as the data leave them uncertain, the unfitted ones as wide as the
sensitivity analysis varies them, and what a training place and an incubation place do
(``talent_gain``, ``incubation_relief``: assumptions) over ranges that put the ranking of
the programmes to the test.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
POSTERIOR = HERE.parent / "sim" / "profiles" / "calibrated.posterior.csv"

PROGRAMMES = ("cooperation", "incubation", "spin_off", "training", "floor_space")

MIXES: tuple[tuple[str, ...], ...] = (
    ("cooperation",),                              # direction 2
    ("incubation",),                               # direction 3, its two instruments
    ("spin_off",),
    ("training",),                                 # capability investment
    ("floor_space",),                              # the next valley (Pangyo)
    ("incubation", "spin_off"),                    # direction 3
    ("cooperation", "incubation", "spin_off"),     # directions 2 and 3
    PROGRAMMES,                                    # everything, evenly
)
"""The programme mixes compared, each funded with the whole budget split evenly."""

SETTINGS = {
    # KRW billion a year: about a third of, one and a half times, and six times Daedeok's
    # own special-zone budget (data/README.md)
    "publication/programmes_points.csv": {
        "budgets": (10.0, 50.0, 200.0), "coupling": (0.2, 0.7), "capability": (0.5,),
        "mixes": MIXES},
    "quick/programmes_points.csv": {
        "budgets": (50.0,), "coupling": (0.5,), "capability": (0.5,),
        "mixes": tuple((name,) for name in PROGRAMMES)},
}


#: The mixes whose start year and boundary are published: direction 2, direction 3,
#: capability investment (training places) and everything; the boundary adds floor space.
TIMED_MIXES: tuple[tuple[str, ...], ...] = (
    ("cooperation",), ("incubation", "spin_off"), ("training",), PROGRAMMES)

TIMINGS = {
    # every second year from the first the model runs to two years before the horizon
    "publication/programme_timing_points.csv": {
        "budget": 50.0, "starts": (2018, 2020, 2022, 2024, 2026, 2028), "coupling": (0.2,),
        "capability": (0.5,), "mixes": TIMED_MIXES},
    "quick/programme_timing_points.csv": {
        "budget": 50.0, "starts": (2020, 2026), "coupling": (0.5,), "capability": (0.5,),
        "mixes": (("training",),)},
}

BOUNDARIES = {
    # the phase diagram's capability axis in steps of 0.2, at the fitted coupling
    "publication/programme_boundary_points.csv": {
        "budgets": (50.0,), "coupling": (0.2,),
        "capability": (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
        "mixes": (*TIMED_MIXES[:3], ("floor_space",), PROGRAMMES)},
    "quick/programme_boundary_points.csv": {
        "budgets": (50.0,), "coupling": (0.5,), "capability": (0.2, 0.5, 0.8),
        "mixes": (("training",),)},
}

FUTURE_RANGES: dict[str, tuple[float, float]] = {
    "coupling": (0.05, 1.0),
    "capability": (0.2, 0.85),
    "attention_venture": (2.0, 4.5),
    "cross_attention_cost": (1.0, 2.25),
    "coordination_penalty_per_100km": (0.1, 0.225),
    # what a training place (and a project with a university) does: an assumption never
    # fitted, on which the ranking of training places rests; a third to three times its
    # default 0.05
    "talent_gain": (0.016667, 0.15),
    # what an incubation place does, an assumption never fitted: the share of burn an
    # incubated venture saves (default 0.5), from half to one and a half times it. (What a
    # venture founded on a spin-off grant starts with, startup_cash, is fitted: each
    # future's posterior particle carries it.)
    "incubation_relief": (0.25, 0.75),
}
"""The sampled inputs of a future and their ranges."""

FUTURES = {
    "publication/robustness_points.csv": {"futures": 200, "budget": 50.0, "mixes": MIXES,
                                          "seed": 2054},
    "quick/robustness_points.csv": {"futures": 12, "budget": 50.0,
                                    "mixes": (("cooperation",), ("training",)),
                                    "seed": 2054},
}


def future_rows(futures: int, budget: float, mixes: tuple[tuple[str, ...], ...],
                seed: int) -> list[dict[str, float]]:
    """Each future's point without programmes, then each mix at ``budget``."""
    rng = np.random.default_rng(seed)
    # Latin hypercube: one point in each of ``futures`` equal strata of every input
    strata = {name: (rng.permutation(futures) + rng.random(futures)) / futures
              for name in FUTURE_RANGES}
    with POSTERIOR.open(encoding="utf-8", newline="") as handle:
        particles = [{k: float(v) for k, v in row.items() if k != "weight"}
                     for row in csv.DictReader(handle)]
    if futures > len(particles):
        raise ValueError(f"{futures} futures, but the posterior has {len(particles)} particles")
    points = []
    for k in range(futures):
        future = {name: round(low + (high - low) * float(strata[name][k]), 6)
                  for name, (low, high) in FUTURE_RANGES.items()}
        future |= particles[k]
        points.append({**future, **{f"{name}_budget": 0.0 for name in PROGRAMMES}})
        for mix in mixes:
            points.append({**future, **{f"{name}_budget": budget / len(mix) if name in mix
                                        else 0.0 for name in PROGRAMMES}})
    return points


def rows(budgets: tuple[float, ...], coupling: tuple[float, ...],
         capability: tuple[float, ...], mixes: tuple[tuple[str, ...], ...]
         ) -> list[dict[str, float]]:
    """Every state's point without programmes, then each mix at each budget."""
    points = []
    for state_coupling, state_capability in itertools.product(coupling, capability):
        state = {"coupling": state_coupling, "capability": state_capability}
        points.append({**state, **{f"{name}_budget": 0.0 for name in PROGRAMMES}})
        for budget, mix in itertools.product(budgets, mixes):
            share = budget / len(mix)
            points.append({**state, **{f"{name}_budget": share if name in mix else 0.0
                                       for name in PROGRAMMES}})
    return points


def timing_rows(budget: float, starts: tuple[int, ...], coupling: tuple[float, ...],
                capability: tuple[float, ...], mixes: tuple[tuple[str, ...], ...]
                ) -> list[dict[str, float]]:
    """Every state's point without programmes (its start years at the default, which
    a run without programmes never reads), then each mix at ``budget`` from each start
    year."""
    points = []
    for state_coupling, state_capability in itertools.product(coupling, capability):
        state = {"coupling": state_coupling, "capability": state_capability}
        points.append({**state, **{f"{name}_budget": 0.0 for name in PROGRAMMES},
                       **{f"{name}_start": 2026 for name in PROGRAMMES}})
        for mix, start in itertools.product(mixes, starts):
            points.append({**state, **{f"{name}_budget": budget / len(mix) if name in mix
                                       else 0.0 for name in PROGRAMMES},
                           **{f"{name}_start": start for name in PROGRAMMES}})
    return points


def text(points: list[dict[str, float]]) -> str:
    """The CSV of ``points``, numbers written as Python writes them."""
    columns = list(points[0])
    lines = [",".join(columns)]
    lines += [",".join(repr(point[c]) for c in columns) for point in points]
    return "\n".join(lines) + "\n"


def main() -> None:
    for name, setting in SETTINGS.items():
        (HERE / name).write_text(text(rows(**setting)), encoding="utf-8")
    for name, setting in TIMINGS.items():
        (HERE / name).write_text(text(timing_rows(**setting)), encoding="utf-8")
    for name, setting in BOUNDARIES.items():
        (HERE / name).write_text(text(rows(**setting)), encoding="utf-8")
    for name, setting in FUTURES.items():
        (HERE / name).write_text(text(future_rows(**setting)), encoding="utf-8")


if __name__ == "__main__":
    main()
