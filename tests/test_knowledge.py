"""Profiles, cognitive distance and the inverted U of innovation odds."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.knowledge import (
    cognitive_distance,
    draw_profiles,
    normalise,
    reach,
    row_sums,
    success_probability,
)


def test_distance_is_zero_for_identical_and_one_for_disjoint_profiles():
    a = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    b = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(cognitive_distance(a, b), [0.0, 1.0], atol=1e-12)


def test_odds_vanish_at_zero_distance_and_beyond_reach():
    d = np.array([0.0, 0.8, 1.0])
    p = success_probability(d, np.full(3, 0.8), np.ones(3), scale=1.0, cap=1.0)
    np.testing.assert_allclose(p, 0.0)


def test_odds_peak_at_half_the_reach():
    d = np.linspace(0, 1, 101)
    p = success_probability(d, np.full(101, 1.0), np.ones(101), scale=1.0, cap=1.0)
    assert d[p.argmax()] == 0.5


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_higher_capability_raises_odds_at_every_distance(distance, low, high):
    """The form d (A - d) must never make capable partners worse at close range."""
    low, high = sorted((low, high))
    reach_low, reach_high = reach(np.array([low, high]), 0.5, 0.8)
    p = success_probability(np.full(2, distance), np.array([reach_low, reach_high]),
                            np.ones(2), scale=1.0, cap=1.0)
    assert p[1] >= p[0]


def test_optimal_distance_grows_with_capability():
    d = np.linspace(0, 1, 201)
    optima = []
    for absorptive in (0.0, 0.5, 1.0):
        a = reach(np.full(201, absorptive), 0.5, 0.8)
        optima.append(d[success_probability(d, a, np.ones(201), 1.0, 1.0).argmax()])
    assert optima[0] < optima[1] < optima[2]


def test_odds_respect_the_cap():
    p = success_probability(np.array([0.5]), np.array([5.0]), np.array([10.0]), 10.0, 0.9)
    assert p[0] == 0.9


def test_drawn_profiles_are_shares_near_their_centres():
    rng = np.random.default_rng(0)
    centre = np.array([0.7, 0.1, 0.1, 0.1])
    tight = draw_profiles(rng, np.tile(centre, (500, 1)), 200.0)
    loose = draw_profiles(rng, np.tile(centre, (500, 1)), 2.0)
    np.testing.assert_allclose(tight.sum(axis=1), 1.0)
    assert (tight >= 0).all()
    spread = [np.abs(x - centre).sum(axis=1).mean() for x in (tight, loose)]
    assert spread[0] < spread[1]


def test_normalise_clips_and_rescales():
    profiles = np.array([[2.0, -1.0, 2.0]])
    np.testing.assert_allclose(normalise(profiles), [[0.5, 0.0, 0.5]])


@settings(max_examples=50, deadline=None)
@given(rows=st.integers(0, 300), domains=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_row_sums_are_the_row_sums(rows: int, domains: int, seed: int) -> None:
    """Column by column, left to right: the same numbers as numpy's own row sums, so
    profiles normalised with it are the profiles of before, bit for bit."""
    profiles = np.random.default_rng(seed).dirichlet(np.ones(domains), size=rows)
    np.testing.assert_array_equal(row_sums(profiles), profiles.sum(axis=1))
