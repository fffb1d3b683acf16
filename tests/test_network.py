"""The tie table: formation, reinforcement, decay, pruning, views."""

import numpy as np

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
