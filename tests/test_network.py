"""The tie table: formation, reinforcement, decay, pruning, views."""

import math

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from sim.network import TieTable, pair_keys


def test_pair_key_ignores_order():
    assert pair_keys(np.array([3]), np.array([9]))[0] == pair_keys(np.array([9]), np.array([3]))[0]


def test_new_ties_start_at_initial_and_repeats_reinforce_capped():
    ties = TieTable()
    ties.strengthen(np.array([1, 2]), np.array([2, 3]), gain=0.3, initial=0.3)
    assert len(ties) == 2
    assert ties.weight(1, 2) == 0.3 and ties.weight(3, 2) == 0.3
    ties.strengthen(np.array([2, 2, 2]), np.array([1, 1, 1]), gain=0.3, initial=0.3)
    assert ties.weight(1, 2) == 1.0  # 0.3 + 0.9, capped
    assert ties.weight(1, 3) == 0.0


def test_decay_prunes_below_the_floor():
    ties = TieTable()
    ties.strengthen(np.array([0, 0]), np.array([1, 2]), gain=0.0, initial=0.3)
    ties.strengthen(np.array([0]), np.array([1]), gain=0.5, initial=0.3)
    ties.decay(rate=0.5, floor=0.2)
    assert ties.weight(0, 1) == 0.4
    assert ties.weight(0, 2) == 0.0
    assert len(ties) == 1


def test_dropping_agents_removes_their_ties():
    ties = TieTable()
    ties.strengthen(np.array([0, 1, 2]), np.array([1, 2, 3]), gain=0.0, initial=0.3)
    gone = np.zeros(4, dtype=bool)
    gone[2] = True
    ties.drop_agents(gone)
    assert ties.partners(1) == {0: 0.3}
    assert len(ties) == 1


def test_crossing_and_networkx_view():
    ties = TieTable()
    ties.strengthen(np.array([0, 0]), np.array([1, 2]), gain=0.0, initial=0.5)
    cluster = np.array([0, 0, 1])
    assert ties.crossing(cluster).tolist() == [False, True]
    graph = ties.to_networkx(np.arange(4))
    assert graph.number_of_nodes() == 4 and graph.number_of_edges() == 2
    assert graph[0][2]["weight"] == 0.5


def test_activity_is_proportional_to_weight():
    ties = TieTable()
    ties.strengthen(np.arange(0, 2000, 2), np.arange(1, 2001, 2), gain=0.0, initial=0.2)
    rng = np.random.default_rng(1)
    share = len(ties.active(rng, activity=0.5)) / len(ties)
    assert 0.07 < share < 0.13  # expected 0.1


# --- Stateful check against a plain dict ------------------------------------------------

N_AGENTS = 8
CLUSTER = np.arange(N_AGENTS) % 3  # a fixed clustering for the crossing() check

agents = st.integers(0, N_AGENTS - 1)
# Ordered pairs of distinct agents, both orders reachable (the model never makes self-ties).
pairs = st.tuples(agents, st.integers(1, N_AGENTS - 1)).map(
    lambda t: (t[0], (t[0] + t[1]) % N_AGENTS))
gains = st.floats(0.0, 1.0)
initials = st.floats(0.0, 1.0, exclude_min=True)
rates = st.floats(0.0, 1.0)
floors = st.floats(0.0, 1.0, exclude_min=True)


class TieTableMachine(RuleBasedStateMachine):
    """Drive a TieTable and a dict {(a, b): [weight, born]} (a < b) side by side."""

    def __init__(self) -> None:
        super().__init__()
        self.ties = TieTable()
        self.model: dict[tuple[int, int], list] = {}
        self.now = 0

    @rule(listed=st.lists(pairs, max_size=12), gain=gains, initial=initials)
    def strengthen(self, listed, gain, initial):
        counts: dict[tuple[int, int], int] = {}
        for i, j in listed:
            pair = (min(i, j), max(i, j))
            counts[pair] = counts.get(pair, 0) + 1
        for pair, k in counts.items():
            if pair in self.model:  # gains once per listing, keeps its birth step
                self.model[pair][0] = min(1.0, self.model[pair][0] + gain * k)
            else:  # starts at initial, the other k - 1 listings add gain; born now
                self.model[pair] = [min(1.0, initial + gain * (k - 1)), self.now]
        i = np.array([p[0] for p in listed], dtype=np.int64)
        j = np.array([p[1] for p in listed], dtype=np.int64)
        self.ties.strengthen(i, j, gain=gain, initial=initial, now=self.now)

    def _decay_model(self, rate_of, floor):
        for pair in list(self.model):
            self.model[pair][0] *= 1.0 - rate_of[pair]
            if self.model[pair][0] < floor:
                del self.model[pair]

    @rule(rate=rates, floor=floors)
    def decay_scalar(self, rate, floor):
        self._decay_model(dict.fromkeys(self.model, rate), floor)
        self.ties.decay(rate, floor)

    @rule(data=st.data(), floor=floors)
    def decay_per_tie(self, data, floor):
        n = len(self.ties)
        rate = np.array(data.draw(st.lists(rates, min_size=n, max_size=n), label="rates"))
        a, b = self.ties.ends  # rate k belongs to the tie stored at position k
        stored = zip(a.tolist(), b.tolist(), strict=True)
        self._decay_model(dict(zip(stored, rate.tolist(), strict=True)), floor)
        self.ties.decay(rate, floor)

    @rule(gone=st.lists(st.booleans(), min_size=N_AGENTS, max_size=N_AGENTS))
    def drop_agents(self, gone):
        for a, b in list(self.model):
            if gone[a] or gone[b]:
                del self.model[(a, b)]
        self.ties.drop_agents(np.array(gone))

    @rule(steps=st.integers(1, 5))
    def advance_time(self, steps):
        self.now += steps

    @invariant()
    def arrays_aligned_and_keys_strictly_increasing(self):
        t = self.ties
        assert len(t.keys) == len(t.weights) == len(t.born) == len(t)
        assert np.all(np.diff(t.keys) > 0), t.keys  # sorted and unique (searchsorted)

    @invariant()
    def table_equals_model(self):
        a, b = self.ties.ends
        assert np.all(a < b)
        stored = {(x, y): [w, born] for x, y, w, born in zip(
            a.tolist(), b.tolist(), self.ties.weights.tolist(), self.ties.born.tolist(),
            strict=True)}
        assert stored.keys() == self.model.keys()
        for pair, (w, born) in self.model.items():
            assert math.isclose(stored[pair][0], w, rel_tol=1e-12, abs_tol=1e-15), pair
            assert stored[pair][1] == born, pair

    @invariant()
    def weights_in_unit_interval_and_ages(self):
        assert np.all((self.ties.weights > 0) & (self.ties.weights <= 1))
        a, b = self.ties.ends
        expected = [self.now - self.model[p][1] if p in self.model else None
                    for p in zip(a.tolist(), b.tolist(), strict=True)]
        assert self.ties.ages(self.now).tolist() == expected

    @invariant()
    def lookups_agree_with_model(self):
        for i in range(N_AGENTS):
            for j in range(N_AGENTS):
                w = self.model.get((min(i, j), max(i, j)), [0.0])[0]
                assert math.isclose(self.ties.weight(i, j), w, abs_tol=1e-15), (i, j)
            expected = {(b if a == i else a): w for (a, b), (w, _) in self.model.items()
                        if i in (a, b)}
            got = self.ties.partners(i)
            assert got.keys() == expected.keys(), i
            assert all(math.isclose(got[k], expected[k], abs_tol=1e-15) for k in got), i

    @invariant()
    def views_agree_with_model(self):
        graph = self.ties.to_networkx(np.arange(N_AGENTS))
        assert sorted(graph.nodes) == list(range(N_AGENTS))
        edges = {(min(u, v), max(u, v)): d["weight"] for u, v, d in graph.edges(data=True)}
        assert edges.keys() == self.model.keys()
        assert all(math.isclose(edges[p], self.model[p][0], abs_tol=1e-15) for p in edges)
        a, b = self.ties.ends
        assert self.ties.crossing(CLUSTER).tolist() == (CLUSTER[a] != CLUSTER[b]).tolist()


TieTableMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=30, deadline=None)
# 200 sequences of 30 steps take half a minute: part of the full suite (make test-all)
TestTieTableAgainstDict = pytest.mark.slow(TieTableMachine.TestCase)
