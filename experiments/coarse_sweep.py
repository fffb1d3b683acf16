"""Coarse coupling x capability sweep through the Python API.

Runs every cell of coupling 0..1 x capability 0..1 (step 0.1) with a few seeds at a
small scale, and prints, per cell, the majority scenario (and how many seeds agree).
It marks cells whose emergent scenario differs from the quadrant the inputs alone
would suggest (input capability >= 0.5 and coupling >= 0.5 taken as 'high').

    python experiments/coarse_sweep.py [--seeds 3] [--scale 0.1] [--workers 2]
"""

from __future__ import annotations

import argparse
import collections
import itertools
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from sim.runs import run
from sim.scenarios import (
    HOLLOW_NETWORKING,
    ISOLATED_EXCELLENCE,
    LOOSELY_COUPLED_SYNERGY,
    STAGNATION,
)

SHORT = {LOOSELY_COUPLED_SYNERGY: "L", ISOLATED_EXCELLENCE: "I", HOLLOW_NETWORKING: "H",
         STAGNATION: "S"}
GRID = np.round(np.linspace(0.0, 1.0, 11), 2)


def scenario_of(cell: tuple[float, float, int, float]) -> tuple[float, float, int, str]:
    coupling, capability, seed, scale = cell
    summary = run(seed, coupling=coupling, capability=capability, scale=scale).summary()
    return coupling, capability, seed, summary["scenario"]


def input_quadrant(coupling: float, capability: float) -> str:
    if capability >= 0.5:
        return LOOSELY_COUPLED_SYNERGY if coupling >= 0.5 else ISOLATED_EXCELLENCE
    return HOLLOW_NETWORKING if coupling >= 0.5 else STAGNATION


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    cells = [(c, k, s, args.scale) for c, k, s in
             itertools.product(GRID, GRID, range(args.seeds))]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(scenario_of, cells, chunksize=8))
    by_cell = collections.defaultdict(list)
    for coupling, capability, _, scenario in results:
        by_cell[coupling, capability].append(scenario)

    print(f"Majority scenario per cell ({args.seeds} seeds, scale {args.scale}); "
          "L = loosely coupled synergy, I = isolated excellence, H = hollow networking, "
          "S = stagnation; n = seeds agreeing; * = differs from the input quadrant")
    print("capability \\ coupling " + " ".join(f"{c:>5.1f}" for c in GRID))
    differing = 0
    for capability in GRID[::-1]:
        row = []
        for coupling in GRID:
            votes = collections.Counter(by_cell[coupling, capability])
            scenario, n = votes.most_common(1)[0]
            star = "*" if scenario != input_quadrant(coupling, capability) else " "
            differing += star == "*"
            row.append(f"{SHORT[scenario]}{n}{star:<3}")
        print(f"{capability:>21.1f} " + " ".join(row))
    totals = collections.Counter(s for *_, s in results)
    print("runs per scenario: " + ", ".join(f"{name}: {totals[name]}" for name in SHORT))
    print(f"cells differing from the input quadrant: {differing} of {len(GRID) ** 2}")


if __name__ == "__main__":
    main()
