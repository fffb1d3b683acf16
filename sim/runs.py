"""Running the model: one run, paired runs for synergy, the 2018 baseline.

Helpers above the model and below any experiment machinery, so the CLI, the
experiments and the tests all run the model the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim import metrics
from sim.model import ClusterModel
from sim.params import START_YEAR


def run(seed: int, **parameters: Any) -> ClusterModel:
    """Build a model with ``parameters`` and seed ``seed``, run it to the horizon."""
    model = ClusterModel(rng=seed, **parameters)
    model.run_model()
    return model


def synergy(seed: int, **parameters: Any) -> float:
    """Synergy of a coupled run: its total innovations over those of the same run at
    coupling 0 (same seed, same everything else: common random numbers), minus one."""
    coupled = run(seed, **parameters).summary()["innovations_total"]
    isolated = run(seed, **{**parameters, "coupling": 0.0}).summary()["innovations_total"]
    return metrics.synergy(coupled, isolated)


def baseline_capability_index(seeds: range | list[int] = range(10),
                              **parameters: Any) -> tuple[float, float]:
    """Capability index of the first simulated year (2018) under the default
    calibration: the threshold for 'high capability'. Returns mean and standard
    deviation over ``seeds``."""
    values = [run(seed, until_year=START_YEAR, **parameters).summary()["capability_index"]
              for seed in seeds]
    return float(np.mean(values)), float(np.std(values))
