"""What each cost of coupling does to the coupling response, to 2030 and to 2050.

For every configuration (all cost submodules on; each one off in turn; all off; all on
with attention allocated by value, docs/ODD.md 7.7.2) and
every coupling level, runs the model to 2050 with a set of seeds and reads total
innovations at the end of 2030 and of 2050 from the same run. Synergy is paired: total
innovations at coupling c over those of the same configuration and seed at coupling 0,
minus one. Prints the mean synergy with a 95% t-interval over seeds. ``--profile``
starts from a named profile instead of the defaults (``legacy``: the hand-set model).

    python experiments/coupling_costs.py [--seeds 8] [--scale 0.25] [--capability 0.8]
                                         [--workers 2] [--configurations NAME ...]
                                         [--profile NAME]
"""

from __future__ import annotations

import argparse
import itertools
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from sim.emergence import t_interval
from sim.profile import load_profile
from sim.runs import run

COSTS = ("coordination_cost", "limited_attention", "brain_drain", "lock_in")
CONFIGURATIONS: dict[str, dict[str, bool]] = {
    "all costs on": {},
    **{f"{cost} off": {cost: False} for cost in COSTS},
    "all costs off": {cost: False for cost in COSTS},
    "attention by value": {"attention_by_value": True},
}
COUPLINGS = (0.0, 0.2, 0.5, 1.0)
HORIZONS = (2030, 2050)


def innovations(task: tuple[str, float, int, float, float, str | None]
                ) -> tuple[str, float, int, list]:
    """Cumulative innovations at the end of each horizon year, for one run."""
    configuration, coupling, seed, capability, scale, profile = task
    base = load_profile(profile) if profile else {}
    model = run(seed, **{**base, "coupling": coupling, "capability": capability,
                         "scale": scale, "until_year": max(HORIZONS),
                         **CONFIGURATIONS[configuration]})
    by_quarter = {r["quarter"]: r["innovations_cumulative"] for r in model.history}
    return configuration, coupling, seed, [by_quarter[f"{year}Q4"] for year in HORIZONS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--scale", type=float, default=0.25)
    parser.add_argument("--capability", type=float, default=0.8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--configurations", nargs="+", choices=list(CONFIGURATIONS),
                        default=list(CONFIGURATIONS), metavar="NAME",
                        help="the configurations to run (default: all): "
                        + ", ".join(repr(name) for name in CONFIGURATIONS))
    parser.add_argument("--profile", default=None,
                        help="start from this named profile (e.g. legacy) instead of the "
                        "defaults")
    args = parser.parse_args()
    if args.profile:
        load_profile(args.profile)  # an unknown name fails here, before any run
    tasks = [(config, coupling, seed, args.capability, args.scale, args.profile)
             for config, coupling, seed in itertools.product(
                 args.configurations, COUPLINGS, range(args.seeds))]
    with ProcessPoolExecutor(args.workers) as pool:
        results = {(c, k, s): totals for c, k, s, totals in pool.map(innovations, tasks)}
    print(f"synergy at capability {args.capability}, scale {args.scale}, "
          f"{args.seeds} seeds (mean and 95% interval, paired with coupling 0)")
    header = "".join(f"{f'c={c} {y}':>17}" for c in COUPLINGS[1:] for y in HORIZONS)
    print(f"{'configuration':<26}{header}")
    for config in args.configurations:
        cells = []
        for coupling, h in itertools.product(COUPLINGS[1:], range(len(HORIZONS))):
            synergy = np.array([results[config, coupling, s][h]
                                / results[config, 0.0, s][h] - 1
                                for s in range(args.seeds)])
            mean, low, high = t_interval(synergy)
            half = (high - low) / 2
            cells.append(f"{100 * mean:+7.1f}±{100 * half:4.1f}%  ")
        print(f"{config:<26}" + "".join(cells))


if __name__ == "__main__":
    main()
