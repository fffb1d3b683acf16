"""Indices and the scenario classifier on constructed values."""

import math

import networkx as nx
import numpy as np
import pytest

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
    assert scenarios.classify(capability, cooperation, **THRESHOLDS) == expected


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


def test_network_measures_on_two_separate_clusters():
    graph = nx.Graph()
    graph.add_edges_from([(0, 1), (1, 2), (3, 4), (4, 5)], weight=1.0)
    cluster_of = {0: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    measures = metrics.network_measures(graph, cluster_of)
    assert measures["inter_cluster_ties"] == 0
    assert measures["modularity"] == pytest.approx(0.5)
    graph.add_edge(2, 3, weight=1.0)
    crossed = metrics.network_measures(graph, cluster_of)
    assert crossed["inter_cluster_ties"] == 1
    assert crossed["modularity"] < measures["modularity"]
    assert crossed["density"] == pytest.approx(5 / 15)
