"""The calibration's sampler (sim.inference.smc): the logit scale is the uniform prior,
the tolerance keeps the share it says, the moves leave a known posterior in place, and
the particles depend on the master seed alone."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats

from sim.inference.problem import Prior
from sim.inference.smc import (
    KEEP,
    MAX_MOVES,
    UNMOVED,
    Population,
    candidate_seed,
    first_generation,
    log_prior,
    moves_needed,
    next_generation,
)
from sim.sweep.execute import DaskExecutor, InProcessExecutor


def test_a_logit_maps_onto_the_prior_range_without_overflow() -> None:
    prior = Prior("entry_rate", 0.0, 0.06)
    assert prior.value(0.0) == pytest.approx(0.03)
    assert prior.value(-800.0) == 0.0 and prior.value(800.0) == pytest.approx(0.06)
    grid = np.linspace(-30, 30, 121)
    values = [prior.value(z) for z in grid]
    assert all(a < b or a == b for a, b in zip(values, values[1:], strict=False))


def test_the_standard_logistic_on_the_logit_is_the_uniform_prior() -> None:
    prior = Prior("startup_cash", 1.0, 10.0)
    logits = stats.logistic.rvs(size=20_000, random_state=np.random.default_rng(5))
    values = np.array([prior.value(z) for z in logits])
    # a wrong map (say, no logistic) gives p far below 1e-6 here
    assert stats.kstest(values, stats.uniform(1.0, 9.0).cdf).pvalue > 0.001


def test_the_log_prior_is_the_sum_of_standard_logistic_log_densities() -> None:
    points = np.array([[0.0, 1.5], [-40.0, 3.0], [700.0, -2.0]])
    expected = stats.logistic.logpdf(points).sum(axis=1)
    np.testing.assert_allclose(log_prior(points), expected, rtol=1e-12)


def test_the_number_of_moves_leaves_the_stated_share_unmoved() -> None:
    assert UNMOVED == 0.25 and MAX_MOVES == 10  # the hand-computed cases below assume it
    assert moves_needed(0.5) == 2       # 0.5^2 = 0.25
    assert moves_needed(0.3) == 4       # 0.7^3 = 0.343 > 0.25 >= 0.7^4 = 0.240
    assert moves_needed(0.12) == 10     # 11 needed, bounded
    assert moves_needed(0.0) == 10 and moves_needed(1.0) == 1


@dataclass(frozen=True)
class NormalMean:
    """y ~ N(mu + offset, 0.5) observed at 1, mu's logit has the standard logistic prior;
    the distance is |y - 1| (a second, uninformed parameter when ``dimensions`` is 2)."""

    master_seed: int
    population_size: int
    dimensions: int = 1

    def distance(self, logits: Sequence[float]) -> float:
        return abs(logits[0] + 0.5 * np.random.standard_normal() - 1.0)


def _run(problem: NormalMean, generations: int, executor) -> list[Population]:
    with executor:
        populations = [first_generation(problem, executor)]
        for _ in range(generations - 1):
            populations.append(next_generation(problem, populations[-1], executor))
    return populations


def test_each_generation_keeps_its_share_within_a_falling_tolerance() -> None:
    populations = _run(NormalMean(3, 40), 4, InProcessExecutor())
    assert populations[0].epsilon == math.inf and populations[0].alive == 40
    for before, after in zip(populations, populations[1:], strict=False):
        assert after.alive == math.ceil(KEEP * 40)  # continuous distances: no ties
        assert after.epsilon == np.sort(before.distances)[after.alive - 1]
        assert after.epsilon < before.epsilon
        # the moves keep every particle within the new tolerance
        assert np.all(after.distances <= after.epsilon)
        assert 1 <= after.moves <= MAX_MOVES
        assert after.evaluations <= after.moves * 40
        assert 0.0 < after.move_acceptance <= 1.0


def test_the_particles_depend_on_the_master_seed_alone() -> None:
    one = _run(NormalMean(3, 24, 2), 3, InProcessExecutor())
    shuffled = _run(NormalMean(3, 24, 2), 3, InProcessExecutor(shuffle_seed=9))
    other = _run(NormalMean(4, 24, 2), 3, InProcessExecutor())
    np.testing.assert_array_equal(one[-1].logits, shuffled[-1].logits)
    np.testing.assert_array_equal(one[-1].distances, shuffled[-1].distances)
    assert not np.array_equal(one[-1].logits, other[-1].logits)


def test_a_stored_generation_reads_back_exactly() -> None:
    import json

    population = _run(NormalMean(5, 12, 2), 2, InProcessExecutor())[-1]
    again = Population.from_record(json.loads(json.dumps(population.to_record())))
    np.testing.assert_array_equal(again.logits, population.logits)
    np.testing.assert_array_equal(again.distances, population.distances)
    assert (again.epsilon, again.alive, again.evaluations) == \
        (population.epsilon, population.alive, population.evaluations)


def test_candidate_seeds_depend_on_master_generation_and_index_only() -> None:
    assert candidate_seed(1, 0, 5) == candidate_seed(1, 0, 5)
    seeds = {candidate_seed(1, t, k) for t in (-1, 0, 1) for k in range(50)}
    assert len(seeds) == 150
    assert candidate_seed(2, 0, 5) != candidate_seed(1, 0, 5)


@pytest.mark.slow
def test_the_sampler_finds_a_known_posterior_and_the_same_one_on_two_workers() -> None:
    """The exact posterior of mu (logistic prior times the Gaussian likelihood, on a
    grid) against the last generation at a small tolerance: mean and spread agree, the
    uninformed second parameter keeps its prior's spread, most particles are distinct,
    and two workers give the same particles as one process."""
    grid = np.linspace(-8, 8, 8001)
    exact = stats.logistic.pdf(grid) * stats.norm.pdf(1.0, grid, 0.5)
    exact /= exact.sum()
    mean = float(grid @ exact)
    sd = float(np.sqrt(((grid - mean) ** 2) @ exact))

    problem = NormalMean(7, 400, 2)
    last = _run(problem, 6, InProcessExecutor())[-1]
    assert last.epsilon < 0.1
    mu = last.logits[:, 0]
    assert abs(mu.mean() - mean) < 0.1
    assert abs(mu.std() - sd) < 0.1 * sd + 0.05
    # the ABC posterior at tolerance e is the exact one widened by at most e
    assert abs(last.logits[:, 1].std() - stats.logistic.std()) < 0.35
    assert last.distinct >= problem.population_size / 2

    on_two = _run(problem, 6, DaskExecutor(workers=2))[-1]
    np.testing.assert_array_equal(on_two.logits, last.logits)
