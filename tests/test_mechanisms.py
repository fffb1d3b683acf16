"""Mechanism checks over 20 seeds at small scale: the model does what its theory says.

These compare conditions with common random numbers (the same seeds in each), so a
check fails only if the mechanism itself is broken, not by an unlucky draw.
"""

import numpy as np
import pytest

from sim.runs import run

SEEDS = range(20)
SCALE = 0.1

pytestmark = pytest.mark.slow


def _summaries(**params):
    return [run(seed, scale=SCALE, **params) for seed in SEEDS]


def _mean(models, key):
    return float(np.mean([m.summary()[key] for m in models]))


@pytest.fixture(scope="module")
def high_capability_by_coupling():
    return {c: _summaries(capability=0.9, coupling=c) for c in (0.1, 0.4, 1.0)}


def test_higher_capability_raises_innovation():
    by_level = {k: [m.summary()["capability_index"] for m in _summaries(capability=k)]
                for k in (0.2, 0.5, 0.8)}
    means = [np.mean(v) for v in by_level.values()]
    assert means[0] < means[1] < means[2]
    paired = np.array(by_level[0.8]) > np.array(by_level[0.2])
    assert paired.mean() >= 0.9


def test_cooperation_rises_with_coupling_at_high_capability(high_capability_by_coupling):
    means = [_mean(models, "cooperation_index")
             for models in high_capability_by_coupling.values()]
    assert means[0] < means[1] < means[2]


def test_coupling_erodes_distinctiveness(high_capability_by_coupling):
    loose = _mean(high_capability_by_coupling[0.1], "distinctiveness")
    tight = _mean(high_capability_by_coupling[1.0], "distinctiveness")
    assert tight < loose


def test_willingness_to_cross_is_learned_and_grows_with_capability():
    """At full coupling agents learn that crossing pays where capability is high, and
    that it does not where capability is low: cooperation is earned, not assigned."""
    def mean_propensity(capability):
        values = []
        for model in _summaries(capability=capability, coupling=1.0):
            pop = model.population
            values.append(pop.cross_propensity[pop.active()].mean())
        return np.mean(values)

    low, high = mean_propensity(0.1), mean_propensity(0.9)
    assert low < 0.5 * high
    assert low < 0.5  # below its starting value: failures taught agents to stay home


def test_capability_threshold_is_the_2018_baseline_at_the_runs_scale():
    """By default 'high capability' means at least the model's own 2018 capability
    index (mean of seeds 0-9, default calibration, same scale)."""
    from sim.model import ClusterModel

    first_years = []
    for seed in range(10):
        model = ClusterModel(rng=seed, scale=SCALE, until_year=2018)
        model.run_model()
        first_years.append(model.summary()["capability_index"])
    summary = run(3, scale=SCALE, until_year=2019).summary()
    assert summary["capability_threshold"] == pytest.approx(np.mean(first_years), rel=1e-12)
    explicit = run(3, scale=SCALE, until_year=2019, capability_threshold=0.5).summary()
    assert explicit["capability_threshold"] == 0.5
