"""Per-agent state in columns: the arrays the model owns and the agents' rules update.

Each row is one organisation: its state in the columns, the ``unique_id`` of its Mesa
agent in ``agent_id``, and its Mesa agent in ``agent``, which holds its row as
``index``. The model's vectorised rules act on whole columns at once, so a row needs no
agent object to take part: a venture founded during a run gets its object only when
something asks for the model's agents (``None`` in ``agent`` until then; see
:meth:`sim.model.ClusterModel.seat_newcomers`). An exited venture keeps its row with
``alive = False`` until the model compacts the population (:meth:`Population.compact`),
which drops such rows and renumbers the living ones in order, their agents' ``index``
with them: the population is the one owner of which row is which agent.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

INSTITUTE, UNIVERSITY, VENTURE, AGENCY = 0, 1, 2, 3
NEVER = np.iinfo(np.int32).min
"""``incubated_until`` of a venture never incubated."""

KIND_NAMES: tuple[str, ...] = ("research institute", "university", "venture",
                               "support agency")

_COLUMNS: dict[str, np.dtype] = {
    "kind": np.dtype(np.int8),
    "cluster": np.dtype(np.int8),
    "alive": np.dtype(bool),
    "absorptive": np.dtype(float),
    "cross_propensity": np.dtype(float),
    "cash": np.dtype(float),
    "revenue": np.dtype(float),
    "stage": np.dtype(np.int8),
    "age": np.dtype(np.int32),
    "success_record": np.dtype(float),
    "incubated_until": np.dtype(np.int32),
    "innovations": np.dtype(np.int64),
    # the unique_id its Mesa agent has, or will have once made (given when the row is)
    "agent_id": np.dtype(np.int64),
}


class Seated(Protocol):
    """An agent with a row in a :class:`Population` (a
    :class:`~sim.agents.base.ClusterAgent`)."""

    index: int | None  # its row; None once the row was dropped


class Population:
    """Column store of every agent's state (see ``_COLUMNS`` and the profiles), and of
    each row's agent (``agent``)."""

    kind: np.ndarray
    cluster: np.ndarray
    alive: np.ndarray
    absorptive: np.ndarray
    cross_propensity: np.ndarray
    cash: np.ndarray
    revenue: np.ndarray
    stage: np.ndarray
    age: np.ndarray
    success_record: np.ndarray
    incubated_until: np.ndarray
    innovations: np.ndarray
    agent_id: np.ndarray

    def __init__(self, n_domains: int) -> None:
        # Columns live in buffers with spare room, so a quarter's new ventures are
        # written in place instead of copying every column; the attributes are views
        # of the first len(self) rows.
        self._n = 0
        self._buffers: dict[str, np.ndarray] = {
            name: np.empty(0, dtype=dtype) for name, dtype in _COLUMNS.items()}
        self._buffers["profile"] = np.empty((0, n_domains))
        self._buffers["home"] = np.empty((0, n_domains))
        #: Each row's Mesa agent (None until seated), dropped and renumbered with the
        #: rows; rows seated in order, so the unseated ones follow every seated one. A list,
        #: not an object array: numpy arrays hide their references from
        #: the cycle collector, and agent -> model -> population -> agent is a cycle
        #: that would then never be freed.
        self.agent: list[Seated | None] = []
        self._expose()

    profile: np.ndarray
    home: np.ndarray

    def __len__(self) -> int:
        return self._n

    def append(self, profile: np.ndarray, **columns: np.ndarray | float | int) -> np.ndarray:
        """Add ``len(profile)`` rows; unspecified columns start at zero (``alive`` at
        True, ``incubated_until`` at ``NEVER``). Returns the new rows' indices."""
        unknown = set(columns) - set(_COLUMNS)
        if unknown:
            raise TypeError(f"unknown population columns: {sorted(unknown)}")
        n = len(profile)
        start, end = self._n, self._n + n
        if end > len(self._buffers["kind"]):
            self._grow(max(end, 2 * len(self._buffers["kind"]), 64))
        defaults = {"alive": True, "incubated_until": NEVER}
        for name, dtype in _COLUMNS.items():
            value = columns.get(name, defaults.get(name, 0))
            self._buffers[name][start:end] = np.asarray(value, dtype=dtype)
        self._buffers["profile"][start:end] = profile
        self._buffers["home"][start:end] = profile
        self._n = end
        self.agent.extend([None] * n)
        self._expose()
        return np.arange(start, end)

    def seat(self, row: int, agent: Seated) -> None:
        """Make ``agent`` the agent of ``row`` (a row :meth:`append` returned)."""
        self.agent[row] = agent
        agent.index = row

    def count_by_cluster(self, mask: np.ndarray, clusters: int) -> np.ndarray:
        """How many of the rows flagged in ``mask`` sit in each of ``clusters`` clusters
        (read several times a quarter: counting a mask per cluster is cheaper than
        gathering the flagged rows' clusters)."""
        return np.array([np.count_nonzero(mask & (self.cluster == c)) for c in range(clusters)],
                        dtype=np.intp)

    def unseated(self) -> np.ndarray:
        """The living rows without an agent yet, in order (the newest rows: seating
        follows the rows' order)."""
        agent = self.agent
        first = len(agent)
        while first > 0 and agent[first - 1] is None:
            first -= 1
        return first + np.flatnonzero(self.alive[first:])

    def compact(self) -> np.ndarray:
        """Drop the rows of agents no longer alive; living rows keep their order, and
        their agents' ``index`` follows them (a dropped row's agent's becomes None).
        Returns the new index of every old row (-1 for a dropped one)."""
        keep = self.alive.copy()
        new_index = np.full(self._n, -1, dtype=np.int64)
        new_index[keep] = np.arange(int(keep.sum()))
        for name, buffer in self._buffers.items():
            self._buffers[name] = buffer[: self._n][keep]
        self._n = int(keep.sum())
        self._expose()
        kept = keep.tolist()
        for agent, stays in zip(self.agent, kept, strict=True):
            if agent is not None and not stays:
                agent.index = None
        self.agent = [agent for agent, stays in zip(self.agent, kept, strict=True) if stays]
        for row, agent in enumerate(self.agent):
            if agent is not None:
                agent.index = row
        return new_index

    def __getstate__(self) -> dict[str, object]:
        # The columns are views of the buffers: a copy (copy.deepcopy, pickle) keeps
        # only the buffers and makes the views anew, so it stays one store.
        return {"_n": self._n, "_buffers": self._buffers, "agent": self.agent}

    def __setstate__(self, state: dict[str, object]) -> None:
        self._n, self._buffers = state["_n"], state["_buffers"]
        self.agent = state["agent"]
        self._expose()

    def _grow(self, capacity: int) -> None:
        for name, buffer in self._buffers.items():
            grown = np.empty((capacity, *buffer.shape[1:]), dtype=buffer.dtype)
            grown[: self._n] = buffer[: self._n]
            self._buffers[name] = grown

    def _expose(self) -> None:
        for name, buffer in self._buffers.items():
            setattr(self, name, buffer[: self._n])

    @property
    def research(self) -> np.ndarray:
        """Mask of the institutes and universities."""
        return (self.kind == INSTITUTE) | (self.kind == UNIVERSITY)

    def active(self) -> np.ndarray:
        """Mask of living agents that collaborate (everyone but the agencies)."""
        return self.alive & (self.kind != AGENCY)
