"""Mechanism checks over 20 seeds at small scale: the model does what its theory says,
by about as much as it did when each effect was measured (scale 0.1, seeds 0-19, on the
hand-set constants of the legacy profile, which these runs keep).

Conditions are compared with common random numbers (the same seeds in each). Each check
states the effect measured and a tolerance of about four standard errors of the mean
paired difference, so a check fails when a mechanism changes, not by an unlucky draw.
"""

import numpy as np
import pytest

from sim.model import baseline_capability_indices
from sim.params import CAPABILITY_BASELINE_2018
from sim.profile import load_profile
from sim.runs import run

SEEDS = range(20)
SCALE = 0.1

pytestmark = pytest.mark.slow


LEGACY = load_profile("legacy")


def _runs(**params):
    return [run(seed, **{**LEGACY, "scale": SCALE, **params}) for seed in SEEDS]


def _values(models, key):
    return np.array([m.summary()[key] for m in models])


@pytest.fixture(scope="module")
def high_capability_by_coupling():
    return {c: _runs(capability=0.9, coupling=c) for c in (0.1, 1.0)}


def test_a_larger_endowment_raises_innovation_and_the_2030_stock():
    low, high = _runs(capability=0.2), _runs(capability=0.8)
    gain = _values(high, "capability_index") - _values(low, "capability_index")
    assert gain.mean() == pytest.approx(0.126, abs=0.035)     # measured 0.141 -> 0.267
    stock = (_values(high, "capability_stock_daedeok")
             - _values(low, "capability_stock_daedeok"))
    # the endowment gap of 0.6 has shrunk to about 0.23 by 2030: depreciation and
    # learning pull the stocks together
    assert stock.mean() == pytest.approx(0.233, abs=0.03)


def test_cooperation_rises_with_coupling_at_high_capability(high_capability_by_coupling):
    rise = (_values(high_capability_by_coupling[1.0], "cooperation_index")
            - _values(high_capability_by_coupling[0.1], "cooperation_index"))
    assert rise.mean() == pytest.approx(0.204, abs=0.02)      # measured 0.030 -> 0.233


def test_coupling_erodes_distinctiveness(high_capability_by_coupling):
    loss = (_values(high_capability_by_coupling[0.1], "distinctiveness")
            - _values(high_capability_by_coupling[1.0], "distinctiveness"))
    assert loss.mean() == pytest.approx(0.243, abs=0.07)      # measured 0.931 -> 0.688


def test_tight_coupling_costs_innovation_at_high_capability(high_capability_by_coupling):
    """With every cost submodule on, full coupling ends with fewer innovations than
    loose coupling: the costs outweigh the gains from recombination."""
    change = (_values(high_capability_by_coupling[1.0], "innovations_total")
              / _values(high_capability_by_coupling[0.1], "innovations_total") - 1)
    assert change.mean() == pytest.approx(-0.098, abs=0.05)   # measured 1998 -> 1801


def test_willingness_to_cross_is_learned_and_grows_with_capability():
    """At full coupling agents learn that crossing pays where capability is high more
    than where it is low: cooperation is earned, not assigned."""
    def propensity(capability):
        return np.array([m.population.cross_propensity[m.population.active()].mean()
                         for m in _runs(capability=capability, coupling=1.0)])

    low, high = propensity(0.1), propensity(0.9)
    assert (high - low).mean() == pytest.approx(0.111, abs=0.04)  # measured 0.17 -> 0.28
    assert high.mean() < 0.5  # below its starting value: crossing fails more than it pays


def test_brain_drain_moves_capability_toward_pangyo():
    def gap(**params):
        models = _runs(capability=0.5, coupling=0.6, **params)
        return (_values(models, "capability_stock_pangyo")
                - _values(models, "capability_stock_daedeok"))

    shift = gap() - gap(brain_drain=False)
    assert shift.mean() == pytest.approx(0.080, abs=0.025)  # measured +0.049 vs -0.031


def test_the_fixed_capability_threshold_is_the_default_2018_baseline():
    """The written-down threshold is what 'python -m sim baseline' computes (scale 1)."""
    assert np.mean(baseline_capability_indices(1.0)) == pytest.approx(
        CAPABILITY_BASELINE_2018, abs=0.0005)
    assert run(3, scale=SCALE, until_year=2018).summary()["capability_threshold"] == (
        CAPABILITY_BASELINE_2018)
