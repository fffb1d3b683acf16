"""Emergent indices of a run: capability, cooperation, distinctiveness, network, synergy.

Pure functions of counts and arrays, so each can be tested on constructed values and
reused by the model, the experiments and the analysis alike.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
from networkx.algorithms.community import modularity

from sim.knowledge import cognitive_distance


def capability_index(innovations: float, agents: float, years: float = 1.0) -> float:
    """Innovations per agent per year: the clusters' realised innovative performance."""
    if agents <= 0 or years <= 0:
        return 0.0
    return float(innovations) / float(agents) / float(years)


def cooperation_index(inter_collaborations: float, collaborations: float) -> float:
    """Share of collaborations that cross clusters (Orton & Weick's responsiveness)."""
    if collaborations <= 0:
        return 0.0
    return float(inter_collaborations) / float(collaborations)


def cluster_distance(mean_profile_a: np.ndarray, mean_profile_b: np.ndarray) -> float:
    """Cognitive distance between two clusters' mean profiles."""
    return float(cognitive_distance(np.atleast_2d(mean_profile_a),
                                    np.atleast_2d(mean_profile_b))[0])


def distinctiveness(distance_now: float, distance_start: float) -> float:
    """Inter-cluster profile distance now relative to its starting value (1 = intact,
    0 = the clusters have become alike)."""
    if distance_start <= 0:
        return 0.0
    return float(distance_now) / float(distance_start)


def synergy(innovations_coupled: float, innovations_isolated: float) -> float:
    """Total innovations at coupling c over those at c = 0 (same seed), minus one."""
    if innovations_isolated <= 0:
        return float("nan")
    return float(innovations_coupled) / float(innovations_isolated) - 1.0


def network_measures(graph: nx.Graph, cluster_of: dict[int, int]) -> dict[str, float]:
    """Ties, inter-cluster ties, density and modularity of the partition by cluster."""
    n = graph.number_of_nodes()
    inter = sum(1 for a, b in graph.edges() if cluster_of[a] != cluster_of[b])
    communities = [{v for v in graph if cluster_of[v] == c} for c in (0, 1)]
    communities = [c for c in communities if c]
    mod = (modularity(graph, communities, weight="weight")
           if graph.number_of_edges() > 0 else 0.0)
    return {
        "ties": graph.number_of_edges(),
        "inter_cluster_ties": inter,
        "density": nx.density(graph) if n > 1 else 0.0,
        "modularity": float(mod),
    }
