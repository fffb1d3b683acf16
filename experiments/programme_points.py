"""Write the points files of the programme experiments: for the ``programmes`` analysis
every programme mix at every annual budget, and the point without programmes, at every
state; for the ``robustness`` analysis every mix at one budget, and none, in each of a
set of futures. The files are committed; a test checks that this script still writes
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
sensitivity analysis varies them.
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


def text(points: list[dict[str, float]]) -> str:
    """The CSV of ``points``, numbers written as Python writes them."""
    columns = list(points[0])
    lines = [",".join(columns)]
    lines += [",".join(repr(point[c]) for c in columns) for point in points]
    return "\n".join(lines) + "\n"


def main() -> None:
    for name, setting in SETTINGS.items():
        (HERE / name).write_text(text(rows(**setting)), encoding="utf-8")
    for name, setting in FUTURES.items():
        (HERE / name).write_text(text(future_rows(**setting)), encoding="utf-8")


if __name__ == "__main__":
    main()
