"""The collaboration network: weighted, undirected ties kept as sorted numpy arrays.

Ties are stored once per pair (``a < b``) in arrays sorted by a pair key, so the whole
network can decay, be pruned and be reinforced in a few vectorised operations each
quarter. :meth:`TieTable.to_networkx` gives the same network as a networkx graph for
inspection, drawing and network measures.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

_SHIFT = 31
_KEY = np.int64(1) << _SHIFT  # keys are non-negative, so shift and mask split them


def pair_keys(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """An integer key per unordered pair, the same for (i, j) and (j, i)."""
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    return np.minimum(i, j) * _KEY + np.maximum(i, j)


class TieTable:
    """Weighted ties between agents, addressed by the agents' array indices."""

    def __init__(self) -> None:
        self.keys = np.empty(0, dtype=np.int64)
        self.weights = np.empty(0, dtype=float)
        self.born = np.empty(0, dtype=np.int64)  # step in which each tie formed

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def ends(self) -> tuple[np.ndarray, np.ndarray]:
        """The two agent indices of every tie (``a < b``)."""
        return self.keys >> _SHIFT, self.keys & (_KEY - 1)

    def weight(self, i: int, j: int) -> float:
        """Weight of the tie between ``i`` and ``j`` (0 when there is none)."""
        key = pair_keys(np.array([i]), np.array([j]))[0]
        pos = np.searchsorted(self.keys, key)
        if pos < len(self.keys) and self.keys[pos] == key:
            return float(self.weights[pos])
        return 0.0

    def ages(self, now: int) -> np.ndarray:
        """Age of every tie at step ``now``, in steps."""
        return now - self.born

    def decay(self, rate: float | np.ndarray, floor: float) -> None:
        """Every tie loses ``rate`` of its weight (one rate, or one per tie); ties below
        ``floor`` are dropped."""
        self.weights *= 1.0 - rate
        self._keep(self.weights >= floor)

    def strengthen(self, i: np.ndarray, j: np.ndarray, gain: float, initial: float,
                   now: int = 0) -> None:
        """Add ``gain`` to the ties (i, j) (capped at 1); absent ties start at ``initial``
        and are born at step ``now``.

        A pair listed several times gains once per listing.
        """
        if len(i) == 0:
            return
        # np.unique(..., return_counts=True), without its generality
        keys = np.sort(pair_keys(i, j))
        first = np.empty(len(keys), dtype=bool)
        first[0] = True
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        starts = first.nonzero()[0]
        bounds = np.concatenate([starts, [len(keys)]])
        counts = bounds[1:] - bounds[:-1]
        keys = keys[starts]
        pos = np.searchsorted(self.keys, keys)
        if len(self.keys):
            # a key past the end is compared with the last one, which is smaller
            found = self.keys[np.minimum(pos, len(self.keys) - 1)] == keys
        else:
            found = np.zeros(len(keys), dtype=bool)
        at = pos[found]
        self.weights[at] = np.minimum(1.0, self.weights[at] + gain * counts[found])
        new = ~found
        new_keys = keys[new]
        if len(new_keys) == 0:
            return
        new_weights = np.minimum(1.0, initial + gain * (counts[new] - 1))
        # both key lists are sorted and disjoint: the new ties go to their searchsorted
        # places (shifted by the new ties before them), so the table stays sorted
        # without sorting it again; one placement serves all three columns
        slots = pos[new] + np.arange(len(new_keys))
        kept = np.ones(len(self.keys) + len(new_keys), dtype=bool)
        kept[slots] = False
        self.keys = _merged(self.keys, new_keys, slots, kept)
        self.weights = _merged(self.weights, new_weights, slots, kept)
        self.born = _merged(self.born, now, slots, kept)

    def drop_agents(self, gone: np.ndarray) -> None:
        """Remove every tie of the agents flagged in the boolean array ``gone``."""
        a, b = self.ends
        self._keep(~(gone[a] | gone[b]))

    def renumber(self, new_index: np.ndarray) -> None:
        """Move every tie to its agents' new indices. ``new_index`` must keep the order
        of the agents it maps (as :meth:`sim.population.Population.compact` does), so
        the pair keys stay sorted; ties of unmapped agents (-1) must be gone already."""
        a, b = self.ends
        self.keys = pair_keys(new_index[a], new_index[b])

    def _keep(self, mask: np.ndarray) -> None:
        self.keys, self.weights, self.born = (self.keys[mask], self.weights[mask],
                                              self.born[mask])

    def active(self, rng: np.random.Generator, activity: float) -> np.ndarray:
        """Indices of the ties that run a joint project this quarter
        (chance ``activity * weight``)."""
        return np.flatnonzero(rng.random(len(self.keys)) < activity * self.weights)

    def crossing(self, cluster: np.ndarray) -> np.ndarray:
        """Boolean mask of the ties whose ends sit in different clusters."""
        a, b = self.ends
        return cluster[a] != cluster[b]

    def partners(self, i: int) -> dict[int, float]:
        """The partners of agent ``i`` and the weights of their ties."""
        a, b = self.ends
        mask = (a == i) | (b == i)
        other = np.where(a[mask] == i, b[mask], a[mask])
        return dict(zip(other.tolist(), self.weights[mask].tolist(), strict=True))

    def to_networkx(self, nodes: np.ndarray | None = None) -> nx.Graph:
        """The ties as a weighted networkx graph (nodes: agent indices)."""
        graph = nx.Graph()
        if nodes is not None:
            graph.add_nodes_from(np.asarray(nodes).tolist())
        a, b = self.ends
        graph.add_weighted_edges_from(
            zip(a.tolist(), b.tolist(), self.weights.tolist(), strict=True))
        return graph


def _merged(column: np.ndarray, new: np.ndarray | float, slots: np.ndarray,
            kept: np.ndarray) -> np.ndarray:
    """``column`` with ``new`` placed at ``slots`` of the longer array (``kept`` marks
    the places of the old entries, in order)."""
    merged = np.empty(len(kept), dtype=column.dtype)
    merged[slots] = new
    merged[kept] = column
    return merged
