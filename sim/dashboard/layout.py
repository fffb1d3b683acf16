"""Where each agent sits in the network picture: a fixed place, no iterative layout.

A force-directed (spring) layout costs seconds on thousands of nodes and moves every
node whenever a tie appears, so a picture redrawn each quarter would both stall and
jump. Here an agent's place is a fixed function of its identity (its row in the
model's arrays), its cluster and its kind: the clusters side by side (Daedeok on
the left, Pangyo on the right), research institutes and universities in each
cluster's core, ventures around it. A
point is drawn uniformly over its region from a hash of the row number (never from the
model's random stream, which the picture must not disturb), so it never moves while
the agent lives, and a venture that relocates simply appears in the other cluster.
Drawing a quarter costs O(agents + ties).
"""

from __future__ import annotations

import numpy as np

from sim.calibration import CLUSTER_NAMES
from sim.population import INSTITUTE, UNIVERSITY, VENTURE, Population

#: Space between the centres of neighbouring clusters' discs, in drawing units (radius 1).
CLUSTER_SPACING = 2.5


def cluster_centres(n: int) -> np.ndarray:
    """(n, 2) centres of ``n`` clusters' discs, side by side in the order of
    :data:`sim.calibration.CLUSTER_NAMES`, centred on the origin."""
    return np.column_stack([CLUSTER_SPACING * (np.arange(n) - (n - 1) / 2), np.zeros(n)])


#: Centre of each cluster's disc (Daedeok left, Pangyo right) in drawing units; radius 1.
CLUSTER_CENTRES: np.ndarray = cluster_centres(len(CLUSTER_NAMES))

# Annulus (inner, outer radius) of each kind, as a share of the cluster's radius:
# research organisations form the core, ventures the rim.
_RINGS = {INSTITUTE: (0.0, 0.28), UNIVERSITY: (0.30, 0.40), VENTURE: (0.45, 1.0)}

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def _uniform(rows: np.ndarray, stream: int) -> np.ndarray:
    """A uniform number in [0, 1) for each row: the SplitMix64 finaliser of
    (row, stream), a fixed, well-mixed hash."""
    with np.errstate(over="ignore"):
        z = rows.astype(np.uint64) * np.uint64(2) + np.uint64(stream)
        z = (z + np.uint64(0x9E3779B97F4A7C15)) & _MASK
        z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK
        z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def node_positions(population: Population, rows: np.ndarray) -> np.ndarray:
    """(len(rows), 2) drawing coordinates of the agents in ``rows``.

    The same row, cluster and kind always give the same point."""
    rows = np.asarray(rows, dtype=np.int64)
    kind = population.kind[rows]
    inner = np.zeros(len(rows))
    outer = np.ones(len(rows))
    for code, (low, high) in _RINGS.items():
        inner[kind == code] = low
        outer[kind == code] = high
    # uniform over the annulus's area: radius from the square root of a uniform draw
    radius = np.sqrt(inner**2 + _uniform(rows, 0) * (outer**2 - inner**2))
    angle = 2.0 * np.pi * _uniform(rows, 1)
    centres = CLUSTER_CENTRES[population.cluster[rows]]
    return centres + radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
