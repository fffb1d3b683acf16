"""Support agencies: INNOPOLIS Foundation and the Pangyo Techno Valley support team."""

from __future__ import annotations

import numpy as np

from sim.agents.base import ClusterAgent, ClusterWorld
from sim.population import AGENCY, NEVER, UNIVERSITY, VENTURE
from sim.projects import BROKERED, JointProjects


class SupportAgency(ClusterAgent):
    """The host organisation of a cluster. Each quarter (:meth:`step`) it brokers
    partnerships within its cluster, brokers inter-cluster matches through the
    cooperation programme when coupling allows, and incubates young ventures, all within
    its budget.

    Brokered pairs run a joint project this quarter and get a tie whether or not the
    project succeeds: agencies push ties, they do not check that they pay.
    """

    kind = AGENCY

    def __init__(self, model: ClusterWorld, index: int) -> None:
        super().__init__(model, index)
        self.matches_within = 0
        self.matches_across = 0
        self.incubating = 0

    def step(self, productivity: np.ndarray) -> JointProjects:
        """Broker within the cluster, broker across clusters, incubate. Returns the
        brokered projects (``productivity``: every row's research productivity, by
        which the agency judges how promising a match is)."""
        within = self.broker_within_cluster(productivity)
        across = self.broker_across_clusters(productivity)
        self.incubate()
        return JointProjects.concat(within, across)

    # --- the three activities ---------------------------------------------------------
    @property
    def brokerage_budget(self) -> float:
        """Expected intra-cluster matches this quarter: capacity x scale x
        (0.5 + the cluster's capability stock)."""
        model = self.model
        return (model.params.brokerage_capacity * model.params.scale
                * (0.5 + model.capability_stock[self.cluster]))

    @property
    def programme_budget(self) -> float:
        """Expected inter-cluster matches this quarter: capacity x scale x coupling
        (x the programme boost when the cooperation programme runs). Zero at c = 0."""
        model = self.model
        return (model.params.programme_capacity * model.params.scale
                * model.regime.coupling * model.regime.programme_factor)

    def broker_within_cluster(self, productivity: np.ndarray) -> JointProjects:
        """Match ventures with the most promising research partner among a few
        institutes and universities of the cluster (technology commercialisation);
        under the open-innovation policy, extra venture-university matches."""
        model, rng = self.model, self.model.rng
        pop = model.population
        mine = pop.alive & (pop.cluster == self.cluster)
        ventures = (mine & (pop.kind == VENTURE)).nonzero()[0]
        research = (mine & pop.research).nonzero()[0]
        budget = self.brokerage_budget  # nothing below changes the capability stock
        projects = self._match(ventures, research, rng.poisson(budget), productivity,
                               choose_best=True)
        if model.regime.open_innovation:
            universities = (mine & (pop.kind == UNIVERSITY)).nonzero()[0]
            extra = rng.poisson(budget * (model.regime.open_innovation_factor - 1))
            projects = JointProjects.concat(
                projects, self._match(ventures, universities, extra, productivity,
                                      choose_best=True))
        self.matches_within = len(projects)
        return projects

    def broker_across_clusters(self, productivity: np.ndarray) -> JointProjects:
        """Cooperation programme: match agents of this cluster with agents of the other.
        Matches are random, unless the shared vision coordinates the agencies, who
        then pick the most promising of a few candidates."""
        model, rng = self.model, self.model.rng
        pop = model.population
        active = pop.active()
        own = (active & (pop.cluster == self.cluster)).nonzero()[0]
        other = (active & (pop.cluster != self.cluster)).nonzero()[0]
        n = rng.poisson(self.programme_budget)
        projects = self._match(own, other, n, productivity,
                               choose_best=model.regime.shared_vision)
        funded = self.broker_funded_matches(own, other, productivity)
        if len(funded):
            projects = JointProjects.concat(projects, funded)
        self.matches_across = len(projects)
        return projects

    def broker_funded_matches(self, own: np.ndarray, other: np.ndarray,
                              productivity: np.ndarray) -> JointProjects:
        """The cooperation programme's projects (Section 7.20): as many inter-cluster
        matches as this cluster's purse pays for, each the most promising of a few
        candidates (a funder selects the projects it pays for); none at coupling 0,
        where nothing crosses, and the money waits."""
        model = self.model
        offered = (model.programmes.offer(model.params, "cooperation", self.cluster)
                   if model.regime.coupling > 0 else 0)
        projects = self._match(own, other, offered, productivity, choose_best=True)
        model.programmes.pay(model.params, "cooperation", self.cluster, len(projects))
        return projects

    def incubate(self) -> None:
        """Fill free incubation slots with young start-ups not yet incubated."""
        model, rng = self.model, self.model.rng
        pop, params = model.population, model.params
        now = model.quarter_number
        ours = pop.alive & (pop.kind == VENTURE) & (pop.cluster == self.cluster)
        in_incubator = ours & (pop.incubated_until > now)
        self.incubating = np.count_nonzero(in_incubator)
        slots = round(params.incubation_slots * params.scale
                      * model.regime.open_innovation_factor)
        free = slots - self.incubating
        candidates = (ours & (pop.stage == 0) & (pop.age < params.incubation_quarters)
                      & (pop.incubated_until == NEVER)).nonzero()[0]
        if free > 0 and len(candidates) > 0:
            chosen = rng.choice(candidates, size=min(free, len(candidates)), replace=False)
            pop.incubated_until[chosen] = now + params.incubation_quarters
            self.incubating += len(chosen)
            candidates = candidates[pop.incubated_until[candidates] == NEVER]
        # the incubation programme (Section 7.20): beyond the agency's own slots, as
        # many of the remaining candidates as the purse pays for
        funded = model.programmes.offer(params, "incubation", self.cluster)
        if funded > 0 and len(candidates) > 0:
            chosen = rng.choice(candidates, size=min(funded, len(candidates)), replace=False)
            pop.incubated_until[chosen] = now + params.incubation_quarters
            self.incubating += len(chosen)
            model.programmes.pay(params, "incubation", self.cluster, len(chosen))

    def _match(self, seekers: np.ndarray, pool: np.ndarray, n: int,
               productivity: np.ndarray, *, choose_best: bool) -> JointProjects:
        model, rng = self.model, self.model.rng
        tie_initial = model.params.tie_initial
        if n == 0 or len(seekers) == 0 or len(pool) == 0:
            return JointProjects.empty()
        seeker = seekers[rng.integers(len(seekers), size=n)]
        if choose_best:
            m = model.params.search_candidates
            candidates = pool[rng.integers(len(pool), size=(n, m))]
            odds = self.project_odds(model, productivity, np.repeat(seeker, m),
                                     candidates.ravel()).reshape(n, m)
            partner = candidates[np.arange(n), odds.argmax(axis=1)]
        else:
            partner = pool[rng.integers(len(pool), size=n)]
        distinct = seeker != partner
        return JointProjects.of(BROKERED, seeker[distinct], partner[distinct], tie_initial)
