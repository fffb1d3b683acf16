"""Emergent indices of a run: capability, cooperation, distinctiveness, network, synergy.

Pure functions of counts and arrays, so each can be tested on constructed values and
reused by the model, the experiments and the analysis alike.
"""

from __future__ import annotations

import numpy as np

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


def cluster_modularity(weights: np.ndarray, cluster_a: np.ndarray, cluster_b: np.ndarray,
                       clusters: int = 2) -> float:
    """Weighted modularity (Newman) of the collaboration network partitioned by cluster.

    For ties with ends in clusters ``cluster_a`` and ``cluster_b`` and weights ``w``:
    the sum over clusters of (weight of the ties inside it) / (total weight) minus
    ((weighted degree of its members) / (2 x total weight))^2. Agents without ties add
    nothing; 0 without ties (or without weight).
    """
    weights = np.asarray(weights, dtype=float)
    total = float(weights.sum())
    if total <= 0.0:
        return 0.0
    cluster_a, cluster_b = np.asarray(cluster_a), np.asarray(cluster_b)
    inside = cluster_a == cluster_b
    within = np.bincount(cluster_a[inside], weights=weights[inside], minlength=clusters)
    degree = (np.bincount(cluster_a, weights=weights, minlength=clusters)
              + np.bincount(cluster_b, weights=weights, minlength=clusters))
    return float(np.sum(within / total - (degree / (2.0 * total)) ** 2))
