"""A quarter's joint projects and their outcome: what one stage of the quarter hands the
next (docs/ODD.md, section 3).

Plain arrays, one entry per project, so every rule over projects is one vectorised
operation; nothing here knows the model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

TIE, BROKERED, SEARCH = 0, 1, 2
"""Where a project comes from, in the order agents give it their attention: projects on
existing ties first (routine), then agency-brokered matches, then new searches."""


@dataclass(frozen=True)
class JointProjects:
    """This quarter's joint projects: partners ``i`` and ``j``, the strength of the tie
    each runs on, where it comes from (``origin``) and the age of its tie (0 for a
    project that has no tie yet). ``odds``, when known, is each project's chance of
    success before coordination costs in this quarter's state (limited attention ranks
    by it; the joint projects then need not compute it again)."""

    i: np.ndarray
    j: np.ndarray
    strength: np.ndarray
    origin: np.ndarray
    tie_age: np.ndarray
    odds: np.ndarray | None = None

    @classmethod
    def of(cls, origin: int, i: np.ndarray, j: np.ndarray, strength: np.ndarray | float,
           tie_age: np.ndarray | int = 0) -> JointProjects:
        """Projects of one origin; scalars are broadcast."""
        n = len(i)
        return cls(np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64),
                   _column(strength, n, float), np.full(n, origin, dtype=np.int8),
                   _column(tie_age, n, np.int64))

    @classmethod
    def empty(cls) -> JointProjects:
        """No projects (the columns' types as :meth:`of` makes them): one shared
        instance, read-only, as there is nothing in it to change."""
        return _NO_PROJECTS

    @classmethod
    def concat(cls, *groups: JointProjects) -> JointProjects:
        """All projects of several groups, in the given order."""
        # most quarters some groups are empty: one group left is returned as it is
        # (projects are never changed in place), so nothing is copied for it
        filled = [g for g in groups if len(g.i)]
        if len(filled) <= 1:
            return filled[0] if filled else groups[0]
        return cls(*(np.concatenate([getattr(g, name) for g in filled])
                     for name in ("i", "j", "strength", "origin", "tie_age")))

    def __len__(self) -> int:
        return len(self.i)

    def subset(self, keep: np.ndarray) -> JointProjects:
        """The projects flagged in the boolean mask ``keep``."""
        rows = keep.nonzero()[0]  # one pass over the mask, then five gathers
        return JointProjects(self.i.take(rows), self.j.take(rows), self.strength.take(rows),
                             self.origin.take(rows), self.tie_age.take(rows),
                             None if self.odds is None else self.odds.take(rows))

    def with_odds(self, odds: np.ndarray) -> JointProjects:
        """These projects, knowing their ``odds`` (see the class)."""
        return dataclasses.replace(self, odds=odds)

    def crossing(self, cluster: np.ndarray) -> np.ndarray:
        """Mask of the projects whose partners sit in different clusters."""
        return cluster[self.i] != cluster[self.j]


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


_NO_PROJECTS = JointProjects(*(_read_only(np.empty(0, dtype=dtype))
                               for dtype in (np.int64, np.int64, float, np.int8, np.int64)))


@dataclass(frozen=True)
class ProjectOutcome:
    """What this quarter's projects produced, per project and per agent row.

    ``involvement``, ``successes`` and ``inter_successes`` count, for every row of the
    population, the projects the agent took part in, and the successful ones (all, and
    inter-cluster ones)."""

    projects: JointProjects
    inter: np.ndarray
    success: np.ndarray
    involvement: np.ndarray
    successes: np.ndarray
    inter_successes: np.ndarray
    innovations_by_cluster: np.ndarray
    coordination_loss: float
    knowledge_flow: float
    knowledge_flow_inter: float

    @property
    def innovations(self) -> int:
        """Successful projects (an innovation each)."""
        return int(self.success.sum())

    @property
    def innovations_inter(self) -> int:
        """Successful inter-cluster projects."""
        return int((self.success & self.inter).sum())



def take_in_order(i: np.ndarray, j: np.ndarray, order: np.ndarray, load: np.ndarray,
                  capacity: np.ndarray) -> np.ndarray:
    """Which projects run when every agent takes its projects in one shared order of
    preference (``order``: the projects' indices, best first) while its slots last
    (docs/ODD.md, 7.7.2).

    Project ``k`` needs ``load[k]`` of the slots of both partners ``i[k]`` and
    ``j[k]``; agent ``a`` has ``capacity[a]`` slots. Going through the projects in
    order, a project runs if both partners still have room for it and is declined
    otherwise, so a declined project takes nobody's slots.

    Returns the boolean mask of the projects that run."""
    demand = (np.bincount(i, weights=load, minlength=len(capacity))
              + np.bincount(j, weights=load, minlength=len(capacity)))
    # An agent whose projects together fit its slots has room for each of them whatever
    # the order, so only projects with a contested partner (some 15-25% of a quarter's)
    # go through the sequential rule; the others run.
    contested = demand > capacity
    runs = ~(contested[i] | contested[j])
    pending = order[~runs[order]]
    first, second = i[pending], j[pending]
    ends = np.concatenate([first, second])
    # the slots of the pending projects' partners only, not of every agent
    free = dict(zip(ends.tolist(), capacity[ends].tolist(), strict=True))
    taken = []
    # plain Python over plain lists: for a few hundred projects cheaper than arrays
    for k, a, b, need in zip(pending.tolist(), first.tolist(), second.tolist(),
                             load[pending].tolist(), strict=True):
        if need <= free[a] + 1e-9 and need <= free[b] + 1e-9:
            free[a] -= need
            free[b] -= need
            taken.append(k)
    runs[taken] = True
    return runs


def _column(value: np.ndarray | float | int, n: int, dtype: type) -> np.ndarray:
    """``value`` as a fresh array of ``n`` entries (a scalar repeated)."""
    if np.ndim(value) == 0:
        return np.full(n, value, dtype=dtype)
    return np.array(value, dtype=dtype)


def credit_by_cluster(projects: JointProjects, success: np.ndarray, cluster: np.ndarray,
                      n_clusters: int) -> np.ndarray:
    """Innovations credited to each cluster: a success counts once, an inter-cluster one
    half to each partner's cluster."""
    i, j = projects.i[success], projects.j[success]
    share = np.where(cluster[i] != cluster[j], 0.5, 1.0)
    credit = np.bincount(cluster[i], weights=share, minlength=n_clusters)
    credit += np.bincount(cluster[j], weights=1.0 - share, minlength=n_clusters)
    return credit
