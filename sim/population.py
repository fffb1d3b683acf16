"""Per-agent state in columns: the arrays the model owns and the agents' rules update.

Each Mesa agent holds an ``index`` into these arrays; the model's vectorised rules act
on whole columns at once. An exited venture keeps its row with ``alive = False`` until
the model compacts the population (:meth:`Population.compact`), which renumbers the
living rows in order.
"""

from __future__ import annotations

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
}


class Population:
    """Column store of every agent's state (see ``_COLUMNS`` and the profiles)."""

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

    def __init__(self, n_domains: int) -> None:
        for name, dtype in _COLUMNS.items():
            setattr(self, name, np.empty(0, dtype=dtype))
        self.profile = np.empty((0, n_domains))
        self.home = np.empty((0, n_domains))

    def __len__(self) -> int:
        return len(self.kind)

    def append(self, profile: np.ndarray, **columns: np.ndarray | float | int) -> np.ndarray:
        """Add ``len(profile)`` rows; unspecified columns start at zero (``alive`` at
        True, ``incubated_until`` at ``NEVER``). Returns the new rows' indices."""
        n = len(profile)
        start = len(self)
        defaults = {"alive": True, "incubated_until": NEVER}
        for name, dtype in _COLUMNS.items():
            value = columns.pop(name, defaults.get(name, 0))
            block = np.broadcast_to(np.asarray(value, dtype=dtype), (n,))
            setattr(self, name, np.concatenate([getattr(self, name), block]))
        if columns:
            raise TypeError(f"unknown population columns: {sorted(columns)}")
        self.profile = np.concatenate([self.profile, profile])
        self.home = np.concatenate([self.home, profile])
        return np.arange(start, start + n)

    def compact(self) -> np.ndarray:
        """Drop the rows of agents no longer alive; living rows keep their order.
        Returns the new index of every old row (-1 for a dropped one)."""
        keep = self.alive
        new_index = np.full(len(self), -1, dtype=np.int64)
        new_index[keep] = np.arange(int(keep.sum()))
        for name in _COLUMNS:
            setattr(self, name, getattr(self, name)[keep])
        self.profile, self.home = self.profile[keep], self.home[keep]
        return new_index

    @property
    def research(self) -> np.ndarray:
        """Mask of the institutes and universities."""
        return (self.kind == INSTITUTE) | (self.kind == UNIVERSITY)

    def active(self) -> np.ndarray:
        """Mask of living agents that collaborate (everyone but the agencies)."""
        return self.alive & (self.kind != AGENCY)
