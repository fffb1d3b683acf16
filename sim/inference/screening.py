"""Which parameters can the targets inform? A Morris screening before calibration.

Calibrating every behavioural constant against a handful of firm counts would leave
most posteriors equal to their priors and the sampler wandering in a large space. The
screening runs Morris's elementary-effects design (SALib) over the candidate ranges of
a calibration file's ``[screening]`` table and measures, for each candidate, how much
it moves the calibration distance and each fitted target's standardised error
(mu*, with bootstrap confidence intervals, and sigma for interactions and
non-linearity). The file's ``[priors]`` are then the candidates that matter, chosen by
a person reading this table, who writes the reason beside each prior.

Runs are seeded from the master seed and their position in the design alone, so the
table is the same on any executor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.inference.problem import Calibration, TargetDistance
from sim.inference.smc import candidate_seed

#: Seed stream of the screening's runs (distinct from ABC generations and predictive draws).
_SCREENING_STREAM = 20_000


@dataclass(frozen=True)
class ScreeningRun:
    """One point of the Morris design, with its seed."""

    index: int
    seed: int
    parameters: dict[str, float]
    calibration: Calibration


def screening_run(run: ScreeningRun) -> tuple[int, dict[str, float]]:
    """Simulate one design point (in whatever process runs it)."""
    np.random.seed(run.seed)
    return run.index, run.calibration.simulate(run.parameters)


def screen(calibration: Calibration, ranges: dict[str, tuple[float, float]],
           trajectories: int, levels: int, executor: Any) -> pd.DataFrame:
    """Morris screening of ``ranges`` on the calibration distance and on each fitted
    target's standardised error; one row per (output, parameter), most influential
    first within each output. ``executor`` must be entered."""
    from SALib.analyze import morris as morris_analysis
    from SALib.sample import morris as morris_sample

    names = list(ranges)
    problem = {"num_vars": len(names), "names": names,
               "bounds": [list(ranges[name]) for name in names]}
    design = morris_sample.sample(problem, trajectories, num_levels=levels,
                                  seed=calibration.master_seed)
    runs = [ScreeningRun(k, candidate_seed(calibration.master_seed, _SCREENING_STREAM, k),
                         {name: float(value) for name, value in zip(names, row, strict=True)},
                         calibration)
            for k, row in enumerate(design)]
    simulated = dict(executor.map_unordered(screening_run, runs))
    distance = TargetDistance(calibration.fitted)
    observed = calibration.observed()
    outputs: dict[str, np.ndarray] = {
        "distance": np.array([distance(simulated[k], observed) for k in range(len(runs))])}
    for target in calibration.fitted:
        scale = max((target.high - target.low) / 2.0, 1e-12)
        outputs[target.id] = np.array(
            [(simulated[k].get(target.id, np.nan) - target.value) / scale
             for k in range(len(runs))])
    rows = []
    for output, values in outputs.items():
        finite = np.where(np.isfinite(values), values, np.nanmax(np.abs(values[np.isfinite(
            values)])) if np.isfinite(values).any() else 0.0)
        result = morris_analysis.analyze(problem, design, finite, num_levels=levels,
                                         seed=calibration.master_seed)
        for i, name in enumerate(names):
            rows.append({"output": output, "parameter": name,
                         "mu_star": float(result["mu_star"][i]),
                         "mu_star_conf": float(result["mu_star_conf"][i]),
                         "sigma": float(result["sigma"][i]),
                         "runs": len(runs)})
    table = pd.DataFrame(rows)
    order = {output: i for i, output in enumerate(outputs)}
    table = table.assign(_order=table["output"].map(order))
    table = table.sort_values(["_order", "mu_star"], ascending=[True, False],
                              kind="stable").drop(columns="_order")
    return table.reset_index(drop=True)
