"""What every collaborating agent shares: its row in the model's arrays and the
partner search.

An agent is a real :class:`mesa.Agent` whose state lives in the model's
:class:`~sim.population.Population` columns, so a student can inspect
``agent.profile`` or ``agent.partners()`` while the model updates all agents of a kind
at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.calibration import CLUSTER_NAMES, DOMAINS
from sim.population import KIND_NAMES

if TYPE_CHECKING:  # agents act in a model but never import its module at run time
    from sim.model import ClusterModel


class ClusterAgent(mesa.Agent):
    """An organisation in one of the two clusters."""

    kind: int = -1
    model: ClusterModel

    def __init__(self, model: ClusterModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    # --- state, read from the model's arrays ---------------------------------------
    @property
    def kind_name(self) -> str:
        """'research institute', 'university', 'venture' or 'support agency'."""
        return KIND_NAMES[self.kind]

    @property
    def cluster(self) -> int:
        """0 for Daedeok, 1 for Pangyo (a venture may relocate)."""
        return int(self.model.population.cluster[self.index])

    @property
    def cluster_name(self) -> str:
        """'Daedeok' or 'Pangyo'."""
        return CLUSTER_NAMES[self.cluster]

    @property
    def alive(self) -> bool:
        """False once a venture has exited."""
        return bool(self.model.population.alive[self.index])

    @property
    def profile(self) -> dict[str, float]:
        """Knowledge profile: share of the agent's knowledge in each domain."""
        row = self.model.population.profile[self.index]
        return dict(zip(DOMAINS, row.round(4).tolist(), strict=True))

    @property
    def absorptive_capacity(self) -> float:
        """Own capability plus talent gained from university partners, at most 1."""
        return float(self.model.population.absorptive[self.index])

    @property
    def cross_propensity(self) -> float:
        """Learned willingness to search for partners in the other cluster."""
        return float(self.model.population.cross_propensity[self.index])

    @property
    def innovations(self) -> int:
        """Successful joint projects so far."""
        return int(self.model.population.innovations[self.index])

    def partners(self) -> dict[ClusterAgent, float]:
        """Current collaboration partners and the weights of the ties."""
        agent_at = self.model.agent_at
        return {agent_at[j]: w for j, w in self.model.ties.partners(self.index).items()}

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.unique_id} in {self.cluster_name}, "
                f"{self.innovations} innovations>")


def search_partners(model: ClusterModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Partner search of every collaborating agent, for one quarter.

    Each active agent searches with chance ``search_rate``. The search crosses to the
    other cluster with chance ``coupling x cross_propensity``: coupling caps it, the
    agent's own experience decides how much of that room it uses. The searcher looks
    at ``search_candidates`` random agents of the target cluster and picks the one
    with the best odds of a joint success (partnering by attractiveness).

    Returns the searchers, their chosen partners and whether each search crossed.
    """
    pop, params, rng = model.population, model.params, model.rng
    active = pop.active()
    searchers = np.flatnonzero(active & (rng.random(len(pop)) < params.search_rate))
    crossing = rng.random(len(searchers)) < model.coupling_now * pop.cross_propensity[searchers]
    target = pop.cluster[searchers] ^ crossing.astype(np.int8)
    partners = np.full(len(searchers), -1)
    m = params.search_candidates
    for cluster in (0, 1):
        rows = np.flatnonzero(target == cluster)
        pool = np.flatnonzero(active & (pop.cluster == cluster))
        if len(rows) == 0 or len(pool) == 0:
            continue
        candidates = pool[rng.integers(len(pool), size=(len(rows), m))]
        me = np.repeat(searchers[rows], m)
        odds = model.success_odds(me, candidates.ravel()).reshape(len(rows), m)
        odds[candidates == searchers[rows, None]] = -1.0  # nobody partners with itself
        pick = odds.argmax(axis=1)
        chosen = candidates[np.arange(len(rows)), pick]
        partners[rows] = np.where(odds[np.arange(len(rows)), pick] >= 0, chosen, -1)
    found = partners >= 0
    return searchers[found], partners[found], crossing[found]


def spin_off_parents(model: ClusterModel, base_chance: np.ndarray) -> np.ndarray:
    """Agents that found a new venture this quarter.

    Only agents with a success this quarter spin off (technology transfer), with chance
    ``min(1, base_chance[kind] x (0.5 + capability))``, so base chances are those at
    capability 0.5.
    """
    pop, rng = model.population, model.rng
    capability = model.capability_of_cluster[pop.cluster]
    chance = np.minimum(1.0, base_chance[pop.kind] * (0.5 + capability))
    eligible = pop.alive & (pop.successes_now > 0)
    return np.flatnonzero(eligible & (rng.random(len(pop)) < chance))
