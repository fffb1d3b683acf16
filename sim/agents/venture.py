"""Ventures: from start-up to global firm, or out."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.agents.base import ClusterAgent, ClusterWorld
from sim.calibration import CLUSTER_NAMES, CLUSTERS, PANGYO, STAGES
from sim.knowledge import draw_profiles
from sim.population import VENTURE
from sim.projects import ProjectOutcome


class Founding(NamedTuple):
    """What a quarter's spin-offs made (:meth:`Venture.found`)."""

    rows: np.ndarray  # the new ventures
    parents: np.ndarray  # their parents, in the same order
    turned_away: np.ndarray  # spin-offs that found no place, per cluster

    def plus(self, other: Founding) -> Founding:
        """This quarter's spin-offs together with ``other``'s."""
        return Founding(np.concatenate([self.rows, other.rows]),
                        np.concatenate([self.parents, other.parents]),
                        self.turned_away + other.turned_away)


class Venture(ClusterAgent):
    """A venture company (in Pangyo, also established IT firms).

    Each quarter (:meth:`life_cycle`): revenue streams opened by its innovations decay,
    new innovations open new ones; cash moves by revenue minus burn (burn is lower in
    capable clusters for start-ups, and for incubated ventures); a good enough success
    record lifts it a stage; it exits when cash runs out. New ventures are spun off by
    successful agents (:meth:`found`) or founded from outside the modelled agents
    (:meth:`enter`). A growth or global venture with an inter-cluster success may
    relocate to the other cluster (:meth:`relocate`), more readily toward the capital
    region under brain drain.
    """

    kind = VENTURE

    @property
    def cash(self) -> float:
        """Cash in hand, in cash units (one unit: a start-up's quarterly burn)."""
        return float(self.model.population.cash[self.index])

    @property
    def revenue(self) -> float:
        """Revenue per quarter from past innovations."""
        return float(self.model.population.revenue[self.index])

    @property
    def stage(self) -> str:
        """'start-up', 'growth' or 'global'."""
        return STAGES[self.model.population.stage[self.index]]

    @property
    def age(self) -> int:
        """Quarters since founding (a calibrated venture starts with a random age)."""
        return int(self.model.population.age[self.index])

    @property
    def incubated(self) -> bool:
        """Whether an agency incubates it this quarter."""
        pop = self.model.population
        return bool(pop.incubated_until[self.index] > self.model.quarter_number)

    # --- the rules, over all ventures at once ----------------------------------------
    @staticmethod
    def stage_factor(model: ClusterWorld, stage: np.ndarray) -> np.ndarray:
        """Burn and revenue per innovation grow by ``stage_cost_ratio`` per stage."""
        return model.params.stage_cost_ratio ** stage.astype(float)

    @classmethod
    def life_cycle(cls, model: ClusterWorld,
                   outcome: ProjectOutcome) -> tuple[np.ndarray, np.ndarray]:
        """One quarter of every living venture's life (Section 7.14). Returns the rows
        that scaled up and the rows that exited."""
        pop, params = model.population, model.params
        rows = np.flatnonzero(pop.alive & (pop.kind == VENTURE))
        stage = pop.stage[rows]
        successes = outcome.successes[rows]
        factor = cls.stage_factor(model, stage)
        pop.revenue[rows] = (pop.revenue[rows] * (1.0 - params.revenue_decay)
                             + params.innovation_revenue * factor * successes)
        burn = params.burn_startup * factor
        # rent and congestion rise with crowding (Section 7.16.2); 0 without a limit
        congestion = 1.0 + params.congestion_cost * model.crowding()
        burn = burn * congestion[pop.cluster[rows]]
        stock = model.capability_stock[pop.cluster[rows]]
        burn = np.where(stage == 0, burn * (1.0 - params.survival_relief * stock), burn)
        incubated = pop.incubated_until[rows] > model.quarter_number
        burn = np.where(incubated, burn * (1.0 - params.incubation_relief), burn)
        pop.cash[rows] += pop.revenue[rows] - burn

        pop.success_record[rows] = pop.success_record[rows] * params.success_memory + successes
        climbs = ((pop.success_record[rows] >= model.regime.scale_up_threshold)
                  & (stage < len(STAGES) - 1))
        scaled = rows[climbs]
        pop.stage[scaled] += 1
        pop.success_record[scaled] = 0.0

        exited = rows[pop.cash[rows] < 0.0]
        pop.alive[exited] = False
        return scaled, exited

    @staticmethod
    def admit(model: ClusterWorld, cluster: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which would-be newcomers find a place (Section 7.16.2): ``cluster`` holds the
        cluster each one wants to settle in. All do, unless more want a cluster than it
        has places left; then as many as fit, chosen at random.

        Returns the mask of those admitted and the number turned away per cluster."""
        admitted = np.ones(len(cluster), dtype=bool)
        turned_away = np.zeros(len(CLUSTER_NAMES), dtype=np.int64)
        room = model.room()
        for c, places in enumerate(room.tolist()):
            wanting = np.flatnonzero(cluster == c)
            if len(wanting) > places:
                chosen = model.rng.choice(wanting, int(places), replace=False)
                admitted[wanting] = False
                admitted[chosen] = True
                turned_away[c] = len(wanting) - int(places)
        return admitted, turned_away

    @classmethod
    def found(cls, model: ClusterWorld, parents: np.ndarray) -> Founding:
        """Spin-offs (Section 7.16): one start-up per parent, in the parent's cluster if
        it has a place (:meth:`admit`), its profile drawn around the parent's, its
        capability stock around the parent's, tied to its parent. Returns the new rows,
        their parents and the spin-offs turned away per cluster."""
        pop = model.population
        admitted, turned_away = cls.admit(model, pop.cluster[parents])
        parents = parents[admitted]
        if len(parents) == 0:
            return Founding(parents, parents, turned_away)
        rows = cls._start_ups(model, pop.profile.take(parents, axis=0), pop.cluster[parents],
                              pop.absorptive[parents], model.params.spin_off_similarity)
        model.ties.strengthen(parents, rows, gain=0.0, initial=model.params.tie_initial,
                              now=model.quarter_number)
        return Founding(rows, parents, turned_away)

    @classmethod
    def found_on_grants(cls, model: ClusterWorld, parents: np.ndarray) -> Founding:
        """Spin-offs a grant pays for (Section 7.20): founded as in :meth:`found`; a
        grant is paid only when its venture finds a place."""
        if len(parents) == 0:  # no grant: nothing founded, no random number drawn
            return Founding(parents, parents, np.zeros(len(CLUSTER_NAMES), dtype=np.int64))
        founding = cls.found(model, parents)
        paid = np.bincount(model.population.cluster[founding.rows],
                           minlength=len(CLUSTER_NAMES))
        for cluster, count in enumerate(paid.tolist()):
            model.programmes.pay(model.params, "spin_off", cluster, count)
        return founding

    @classmethod
    def enter(cls, model: ClusterWorld) -> tuple[np.ndarray, np.ndarray]:
        """Entry from outside the modelled agents (Section 7.16.1): start-ups founded in
        each cluster, Poisson with mean ``entry_rate x ventures x (0.5 + capability
        stock) x (1 - crowding)`` (0 crowding without a limit; Section 7.16.2), as many
        as find a place; their profiles drawn around the cluster's domain mix, their
        stock around the cluster's. Capable clusters attract more founders, full ones
        fewer. Returns the new rows and the entrants turned away per cluster."""
        params, rng = model.params, model.rng
        stock = model.capability_stock
        counts = rng.poisson(params.entry_rate * model.ventures_by_cluster() * (0.5 + stock)
                             * (1.0 - model.crowding()))
        cluster = np.repeat(np.arange(len(CLUSTER_NAMES), dtype=np.int8), counts)
        admitted, turned_away = cls.admit(model, cluster)
        cluster = cluster[admitted]
        if len(cluster) == 0:
            return np.empty(0, dtype=np.int64), turned_away
        centres = model.home_mix[cluster]
        return cls._start_ups(model, centres, cluster, stock[cluster],
                              params.profile_concentration), turned_away

    @classmethod
    def move_in(cls, model: ClusterWorld) -> np.ndarray:
        """Established firms moving in from outside the modelled clusters (Section
        7.16.3): each free place of a cluster with a limit is taken with chance
        ``move_in_rate`` this quarter (binomial over ``room``), which is how a newly
        built valley fills. Movers are drawn like the cluster's starting ventures: stage
        from its stage mix, profile around its domain mix, capability stock around its
        own. None without a limit or at rate 0. Returns the new rows."""
        params, rng = model.params, model.rng
        room = model.room()
        if params.move_in_rate == 0.0 or np.isinf(room).all():
            return np.empty(0, dtype=np.int64)  # no draw: runs without it are unchanged
        places = np.where(np.isinf(room), 0, room).astype(np.int64)
        counts = rng.binomial(places, params.move_in_rate)
        if counts.sum() == 0:
            return np.empty(0, dtype=np.int64)
        stock = model.capability_stock
        new_rows = []
        for cluster, n in enumerate(counts.tolist()):
            if n == 0:
                continue
            profile = CLUSTERS[cluster]
            centres = np.repeat(profile.domain_shares[None, :], n, axis=0)
            rows = model.population.append(
                draw_profiles(rng, centres, params.profile_concentration), kind=VENTURE,
                cluster=np.full(n, cluster, dtype=np.int8),
                absorptive=np.clip(stock[cluster]
                                   + rng.normal(0.0, params.absorptive_spread, n), 0.0, 1.0),
                cross_propensity=params.cross_propensity_initial,
                **cls.established(model, n, profile.start_stage_mix(params.observed_start)))
            model.enrol(rows)
            new_rows.append(rows)
        return np.concatenate(new_rows)

    @staticmethod
    def established(model: ClusterWorld, n: int,
                    stage_mix: tuple[float, float, float]) -> dict[str, np.ndarray]:
        """Life-cycle columns of ``n`` ventures that exist already (at the start of the
        spin-up, or moving in): a stage drawn from ``stage_mix``, an age of 0-39
        quarters, cash of ``startup_cash`` quarters of their burn (times 0.5-1.5) and a
        revenue of 0.5-1.2 times their burn."""
        params, rng = model.params, model.rng
        stage = rng.choice(len(STAGES), size=n, p=stage_mix).astype(np.int8)
        burn = params.burn_startup * params.stage_cost_ratio ** stage
        return {
            "stage": stage,
            "age": rng.integers(0, 40, size=n),
            "cash": params.startup_cash * burn * rng.uniform(0.5, 1.5, n),
            "revenue": burn * rng.uniform(0.5, 1.2, n),
        }

    @classmethod
    def _start_ups(cls, model: ClusterWorld, centres: np.ndarray, cluster: np.ndarray,
                   stock: np.ndarray, concentration: float) -> np.ndarray:
        pop, params, rng = model.population, model.params, model.rng
        n = len(cluster)
        profiles = draw_profiles(rng, centres, concentration)
        absorptive = np.clip(stock + rng.normal(0.0, params.absorptive_spread, n), 0.0, 1.0)
        rows = pop.append(
            profiles, kind=VENTURE, cluster=cluster, absorptive=absorptive,
            cross_propensity=params.cross_propensity_initial,
            cash=params.startup_cash * params.burn_startup * rng.uniform(0.5, 1.5, n))
        model.enrol(rows)
        return rows

    @classmethod
    def relocate(cls, model: ClusterWorld,
                 outcome: ProjectOutcome) -> tuple[np.ndarray, np.ndarray]:
        """Growth and global ventures with an inter-cluster success this quarter move to
        the other cluster (Section 7.17) with chance ``relocation_rate x coupling``
        (times the programme factor), multiplied by ``capital_pull`` toward Pangyo
        under brain drain, if it has a place (:meth:`admit`). A mover takes its
        capability stock with it. Returns the movers and the movers turned away per
        cluster they wanted to move to."""
        pop, params, rng = model.population, model.params, model.rng
        eligible = (pop.alive & (pop.kind == VENTURE) & (pop.stage >= 1)
                    & (outcome.inter_successes > 0))
        chance = np.full(len(pop), params.relocation_rate * model.regime.coupling
                         * model.regime.programme_factor)
        if params.brain_drain:
            chance[pop.cluster != PANGYO] *= params.capital_pull
        movers = np.flatnonzero(eligible & (rng.random(len(pop)) < np.minimum(1.0, chance)))
        admitted, turned_away = cls.admit(model, pop.cluster[movers] ^ 1)
        movers = movers[admitted]
        pop.cluster[movers] ^= 1
        return movers, turned_away
