"""Per-agent state in columns: the arrays the model owns and the agents read.

Each Mesa agent holds an ``index`` into these arrays; the model's vectorised rules act
on whole columns at once. Rows are never removed (an exited venture keeps its row with
``alive = False``), so an index stays valid for the whole run.
"""

from __future__ import annotations

import numpy as np

INSTITUTE, UNIVERSITY, VENTURE, AGENCY = 0, 1, 2, 3
KIND_NAMES: tuple[str, ...] = ("research institute", "university", "venture",
                               "support agency")

_COLUMNS: dict[str, np.dtype] = {
    "kind": np.dtype(np.int8),
    "cluster": np.dtype(np.int8),
    "alive": np.dtype(bool),
    "absorptive_base": np.dtype(float),
    "talent": np.dtype(float),
    "productivity": np.dtype(float),
    "cross_propensity": np.dtype(float),
    "cash": np.dtype(float),
    "revenue": np.dtype(float),
    "stage": np.dtype(np.int8),
    "age": np.dtype(np.int32),
    "success_record": np.dtype(float),
    "incubated_until": np.dtype(np.int32),
    "innovations": np.dtype(np.int64),
    "successes_now": np.dtype(np.int32),
    "inter_successes_now": np.dtype(np.int32),
}


class Population:
    """Column store of every agent's state (see ``_COLUMNS`` and the profiles)."""

    kind: np.ndarray
    cluster: np.ndarray
    alive: np.ndarray
    absorptive_base: np.ndarray
    talent: np.ndarray
    productivity: np.ndarray
    cross_propensity: np.ndarray
    cash: np.ndarray
    revenue: np.ndarray
    stage: np.ndarray
    age: np.ndarray
    success_record: np.ndarray
    incubated_until: np.ndarray
    innovations: np.ndarray
    successes_now: np.ndarray
    inter_successes_now: np.ndarray

    def __init__(self, n_domains: int) -> None:
        for name, dtype in _COLUMNS.items():
            setattr(self, name, np.empty(0, dtype=dtype))
        self.profile = np.empty((0, n_domains))
        self.home = np.empty((0, n_domains))

    def __len__(self) -> int:
        return len(self.kind)

    def append(self, profile: np.ndarray, **columns: np.ndarray | float | int) -> np.ndarray:
        """Add ``len(profile)`` rows; unspecified columns start at zero (``alive`` at
        True, ``incubated_until`` at -1). Returns the new rows' indices."""
        n = len(profile)
        start = len(self)
        defaults = {"alive": True, "incubated_until": -1}
        for name, dtype in _COLUMNS.items():
            value = columns.pop(name, defaults.get(name, 0))
            block = np.broadcast_to(np.asarray(value, dtype=dtype), (n,))
            setattr(self, name, np.concatenate([getattr(self, name), block]))
        if columns:
            raise TypeError(f"unknown population columns: {sorted(columns)}")
        self.profile = np.concatenate([self.profile, profile])
        self.home = np.concatenate([self.home, profile])
        return np.arange(start, start + n)

    @property
    def absorptive(self) -> np.ndarray:
        """Absorptive capacity: own capability plus talent from university ties, <= 1."""
        return np.minimum(1.0, self.absorptive_base + self.talent)

    def active(self) -> np.ndarray:
        """Mask of living agents that collaborate (everyone but the agencies)."""
        return self.alive & (self.kind != AGENCY)
