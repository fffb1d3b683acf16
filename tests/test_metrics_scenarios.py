"""Indices and the scenario classifier on constructed values."""

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import metrics, scenarios

THRESHOLDS = {"capability_threshold": 0.2, "cooperation_threshold": 0.1}


@pytest.mark.parametrize("capability, cooperation, expected", [
    (0.30, 0.20, scenarios.LOOSELY_COUPLED_SYNERGY),
    (0.30, 0.05, scenarios.ISOLATED_EXCELLENCE),
    (0.10, 0.20, scenarios.HOLLOW_NETWORKING),
    (0.10, 0.05, scenarios.STAGNATION),
    (0.20, 0.10, scenarios.LOOSELY_COUPLED_SYNERGY),  # thresholds count as high
    (0.1999, 0.0999, scenarios.STAGNATION),
])
def test_classifier_quadrants(capability, cooperation, expected):
    # a positive paired synergy: the high-high quadrant keeps the paper's name
    assert scenarios.classify(capability, cooperation, 0.1, **THRESHOLDS) == expected


@pytest.mark.parametrize("cooperation, distinct, expected", [
    (0.2, 0.8, "loosely coupled"), (0.2, 0.2, "tightly coupled"),
    (0.0, 0.8, "decoupled"), (0.0, 0.2, "non-coupled"),
])
def test_orton_weick_coupling_types(cooperation, distinct, expected):
    kind = scenarios.coupling_type(cooperation, distinct, cooperation_threshold=0.1,
                                   distinctiveness_threshold=0.5)
    assert kind == expected and kind in scenarios.COUPLING_TYPES


def test_capability_index_is_innovations_per_agent_per_year():
    assert metrics.capability_index(50, 100, years=0.5) == 1.0
    assert metrics.capability_index(5, 0) == 0.0


def test_cooperation_index_is_a_share():
    assert metrics.cooperation_index(3, 12) == 0.25
    assert metrics.cooperation_index(0, 0) == 0.0


def test_distinctiveness_relative_to_start():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    start = metrics.cluster_distance(a, b)
    assert start == pytest.approx(1.0)
    assert metrics.distinctiveness(metrics.cluster_distance(a, a), start) == 0.0
    assert metrics.distinctiveness(0.25, 0.5) == 0.5


def test_synergy():
    assert metrics.synergy(120, 100) == pytest.approx(0.2)
    assert math.isnan(metrics.synergy(5, 0))


def test_cluster_modularity_by_hand():
    # two chains of two ties, one per cluster: total weight 4, each cluster holds 2 of it
    # and has weighted degree 4, so Q = 2 x (2/4 - (4/8)^2) = 0.5
    a, b = np.array([0, 1, 3, 4]), np.array([1, 2, 4, 5])
    cluster = np.array([0, 0, 0, 1, 1, 1])
    weights = np.ones(4)
    assert metrics.cluster_modularity(weights, cluster[a], cluster[b]) == pytest.approx(0.5)
    # one tie across: total 5, each cluster holds 2 and has degree 5: 2 x (2/5 - 1/4) = 0.3
    crossed = metrics.cluster_modularity(np.ones(5), cluster[np.append(a, 2)],
                                         cluster[np.append(b, 3)])
    assert crossed == pytest.approx(0.3)
    assert metrics.cluster_modularity(np.empty(0), np.empty(0, int), np.empty(0, int)) == 0.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11),
                          st.floats(0.05, 1.0)), min_size=1, max_size=40),
       st.lists(st.integers(0, 1), min_size=12, max_size=12))
def test_cluster_modularity_is_networkx_modularity(ties, cluster):
    """The same number as networkx's weighted modularity of the partition by cluster."""
    graph = nx.Graph()
    graph.add_nodes_from(range(12))
    graph.add_weighted_edges_from((u, v, w) for u, v, w in ties if u != v)
    if graph.number_of_edges() == 0:
        return
    u, v, w = (np.array(column) for column in zip(*graph.edges(data="weight"), strict=True))
    cluster = np.array(cluster)
    communities = [c for c in ({n for n in graph if cluster[n] == k} for k in (0, 1)) if c]
    expected = nx.algorithms.community.modularity(graph, communities, weight="weight")
    assert metrics.cluster_modularity(w, cluster[u], cluster[v]) == pytest.approx(
        expected, rel=1e-12, abs=1e-12)
