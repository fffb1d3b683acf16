"""Ventures: from start-up to global firm, or out."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.agents.base import ClusterAgent
from sim.calibration import STAGES
from sim.knowledge import draw_profiles
from sim.population import VENTURE

if TYPE_CHECKING:
    from sim.model import ClusterModel


class Venture(ClusterAgent):
    """A venture company (in Pangyo, also established IT firms).

    Each quarter (:meth:`life_cycle`): revenue streams opened by its innovations decay,
    new innovations open new ones; cash moves by revenue minus burn (burn is lower for
    capable clusters' start-ups and for incubated ventures); a good enough success
    record lifts it a stage; it exits when cash runs out. A growth or global venture
    with an inter-cluster success may relocate to the other cluster (:meth:`relocate`):
    the channel is open at any positive coupling, and the cooperation programme widens
    it.
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
        return bool(self.model.population.incubated_until[self.index] > self.model.steps)

    # --- the rules, over all ventures at once ----------------------------------------
    @staticmethod
    def stage_factor(model: ClusterModel, stage: np.ndarray) -> np.ndarray:
        """Burn and revenue per innovation grow by ``stage_cost_ratio`` per stage."""
        return model.params.stage_cost_ratio ** stage.astype(float)

    @classmethod
    def found(cls, model: ClusterModel, parents: np.ndarray) -> np.ndarray:
        """Create one start-up per parent, in the parent's cluster, its profile drawn
        around the parent's and tied to it. Returns the new rows."""
        if len(parents) == 0:
            return parents
        pop, params, rng = model.population, model.params, model.rng
        profiles = draw_profiles(rng, pop.profile[parents], params.spin_off_similarity)
        cluster = pop.cluster[parents]
        rows = pop.append(
            profiles,
            kind=VENTURE,
            cluster=cluster,
            absorptive_base=model.draw_absorptive(cluster),
            productivity=1.0,
            cross_propensity=params.cross_propensity_initial,
            cash=params.startup_cash * params.burn_startup * rng.uniform(0.5, 1.5, len(parents)),
        )
        model.ties.strengthen(parents, rows, gain=0.0, initial=params.tie_initial)
        model.add_agents(cls, rows)
        return rows

    @classmethod
    def life_cycle(cls, model: ClusterModel) -> tuple[np.ndarray, np.ndarray]:
        """One quarter of every living venture's life. Returns the rows that scaled up
        and the rows that exited."""
        pop, params = model.population, model.params
        rows = np.flatnonzero(pop.alive & (pop.kind == VENTURE))
        stage = pop.stage[rows]
        factor = cls.stage_factor(model, stage)
        pop.revenue[rows] = (pop.revenue[rows] * (1.0 - params.revenue_decay)
                             + params.innovation_revenue * factor * pop.successes_now[rows])
        burn = params.burn_startup * factor
        capability = model.capability_of_cluster[pop.cluster[rows]]
        burn = np.where(stage == 0, burn * (1.0 - params.survival_relief * capability), burn)
        incubated = pop.incubated_until[rows] > model.steps
        burn = np.where(incubated, burn * (1.0 - params.incubation_relief), burn)
        pop.cash[rows] += pop.revenue[rows] - burn

        pop.success_record[rows] = (pop.success_record[rows] * params.success_memory
                                    + pop.successes_now[rows])
        climbs = (pop.success_record[rows] >= model.scale_up_threshold) & (stage < len(STAGES) - 1)
        scaled = rows[climbs]
        pop.stage[scaled] += 1
        pop.success_record[scaled] = 0.0

        exited = rows[pop.cash[rows] < 0.0]
        pop.alive[exited] = False
        return scaled, exited

    @classmethod
    def relocate(cls, model: ClusterModel) -> np.ndarray:
        """Growth and global ventures with an inter-cluster success this quarter move to
        the other cluster with chance ``relocation_rate x coupling`` (times the
        programme boost when the cooperation programme runs). Returns the movers."""
        pop, rng = model.population, model.rng
        eligible = (pop.alive & (pop.kind == VENTURE) & (pop.stage >= 1)
                    & (pop.inter_successes_now > 0))
        chance = model.params.relocation_rate * model.coupling_now * model.programme_factor
        movers = np.flatnonzero(eligible & (rng.random(len(pop)) < chance))
        pop.cluster[movers] ^= 1
        return movers
