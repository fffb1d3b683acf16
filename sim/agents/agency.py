"""Support agencies: INNOPOLIS Foundation and the Pangyo Techno Valley support team."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.agents.base import ClusterAgent
from sim.population import AGENCY, INSTITUTE, UNIVERSITY, VENTURE

if TYPE_CHECKING:
    from sim.model import ClusterModel


class SupportAgency(ClusterAgent):
    """The host organisation of a cluster. Each quarter it brokers partnerships within
    its cluster, brokers inter-cluster matches through the cooperation programme when
    coupling allows, and incubates young ventures, all within its budget.

    Brokered pairs run a joint project this quarter and get a tie whether or not the
    project succeeds: agencies push ties, they do not check that they pay.
    """

    kind = AGENCY

    def __init__(self, model: ClusterModel, index: int) -> None:
        super().__init__(model, index)
        self.matches_within = 0
        self.matches_across = 0
        self.incubating = 0

    def step(self) -> None:
        """Broker within the cluster, broker across clusters, incubate."""
        self.broker_within_cluster()
        self.broker_across_clusters()
        self.incubate()

    # --- the three activities ---------------------------------------------------------
    @property
    def brokerage_budget(self) -> float:
        """Expected intra-cluster matches this quarter: capacity x scale x
        (0.5 + capability)."""
        model = self.model
        return (model.params.brokerage_capacity * model.params.scale
                * (0.5 + model.capability_of_cluster[self.cluster]))

    @property
    def programme_budget(self) -> float:
        """Expected inter-cluster matches this quarter: capacity x scale x coupling
        (x the programme boost when the cooperation programme runs). Zero at c = 0."""
        model = self.model
        return (model.params.programme_capacity * model.params.scale
                * model.coupling_now * model.programme_factor)

    def broker_within_cluster(self) -> None:
        """Match ventures with the most promising research partner among a few
        institutes and universities of the cluster (technology commercialisation);
        under the open-innovation policy, extra venture-university matches."""
        model, rng = self.model, self.model.rng
        pop = model.population
        mine = pop.alive & (pop.cluster == self.cluster)
        ventures = np.flatnonzero(mine & (pop.kind == VENTURE))
        research = np.flatnonzero(mine & ((pop.kind == INSTITUTE) | (pop.kind == UNIVERSITY)))
        universities = np.flatnonzero(mine & (pop.kind == UNIVERSITY))
        self.matches_within = 0
        n = rng.poisson(self.brokerage_budget)
        self._match(ventures, research, n, choose_best=True)
        if model.params.open_innovation:
            extra = rng.poisson(self.brokerage_budget * (model.params.open_innovation_boost - 1))
            self._match(ventures, universities, extra, choose_best=True)

    def broker_across_clusters(self) -> None:
        """Cooperation programme: match agents of this cluster with agents of the other.
        Matches are random, unless the shared vision coordinates the agencies, who
        then pick the most promising of a few candidates."""
        model, rng = self.model, self.model.rng
        pop = model.population
        active = pop.active()
        own = np.flatnonzero(active & (pop.cluster == self.cluster))
        other = np.flatnonzero(active & (pop.cluster != self.cluster))
        self.matches_across = 0
        n = rng.poisson(self.programme_budget)
        self._match(own, other, n, choose_best=model.params.shared_vision, across=True)

    def incubate(self) -> None:
        """Fill free incubation slots with young start-ups not yet incubated."""
        model, rng = self.model, self.model.rng
        pop, params = model.population, model.params
        ours = pop.alive & (pop.kind == VENTURE) & (pop.cluster == self.cluster)
        in_incubator = ours & (pop.incubated_until > model.steps)
        self.incubating = int(in_incubator.sum())
        slots = round(params.incubation_slots * params.scale * model.incubation_factor)
        free = slots - self.incubating
        candidates = np.flatnonzero(ours & (pop.stage == 0)
                                    & (pop.age < params.incubation_quarters)
                                    & (pop.incubated_until < 0))
        if free <= 0 or len(candidates) == 0:
            return
        chosen = rng.choice(candidates, size=min(free, len(candidates)), replace=False)
        pop.incubated_until[chosen] = model.steps + params.incubation_quarters
        self.incubating += len(chosen)

    def _match(self, seekers: np.ndarray, pool: np.ndarray, n: int, *, choose_best: bool,
               across: bool = False) -> None:
        if n == 0 or len(seekers) == 0 or len(pool) == 0:
            return
        model, rng = self.model, self.model.rng
        seeker = seekers[rng.integers(len(seekers), size=n)]
        if choose_best:
            m = model.params.search_candidates
            candidates = pool[rng.integers(len(pool), size=(n, m))]
            odds = model.success_odds(np.repeat(seeker, m), candidates.ravel()).reshape(n, m)
            partner = candidates[np.arange(n), odds.argmax(axis=1)]
        else:
            partner = pool[rng.integers(len(pool), size=n)]
        distinct = seeker != partner
        model.broker(seeker[distinct], partner[distinct])
        if across:
            self.matches_across += int(distinct.sum())
        else:
            self.matches_within += int(distinct.sum())
