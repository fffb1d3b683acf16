"""Running the model: one run, paired runs for synergy, the 2018 baseline.

Helpers above the model and below any experiment machinery, so the CLI, the
experiments and the tests all run the model the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim import metrics
from sim.model import BASELINE_SEEDS, ClusterModel, Seed, baseline_capability_indices


def run(rng: Seed, **parameters: Any) -> ClusterModel:
    """Build a model with ``parameters`` and seed ``rng`` (as :class:`ClusterModel`
    takes it), run it to the horizon."""
    model = ClusterModel(rng=rng, **parameters)
    model.run_model()
    return model


def synergy(rng: Seed, **parameters: Any) -> float:
    """Synergy of a coupled run with seed ``rng``: its total innovations over those of
    the same run at coupling 0 throughout (no schedule), minus one. The pair shares its
    seed, hence its
    2018 state (the spin-up is uncoupled: it is run once, see
    :meth:`~sim.model.ClusterModel.branch`) and its random stream until the first draw
    that coupling changes (common random numbers in that sense), which removes the
    between-seed variation from the comparison."""
    coupled = ClusterModel(rng=rng, **parameters)
    isolated = coupled.branch(coupling=0.0, coupling_after=None)
    for model in (coupled, isolated):
        model.run_model()
    return metrics.synergy(coupled.summary()["innovations_total"],
                           isolated.summary()["innovations_total"])


def baseline(scale: float = 1.0, seeds: int = BASELINE_SEEDS) -> tuple[float, float]:
    """Mean and standard deviation of the 2018 capability index of the default
    calibration at ``scale`` over seeds ``0 .. seeds-1`` (see
    :func:`sim.model.baseline_capability_indices`)."""
    values = baseline_capability_indices(scale, seeds)
    return float(np.mean(values)), float(np.std(values))
