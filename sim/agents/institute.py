"""Government-funded research institutes: large, deep knowledge, dominant in Daedeok."""

from __future__ import annotations

import numpy as np

from sim.agents.base import ClusterAgent, ClusterWorld
from sim.population import INSTITUTE


class ResearchInstitute(ClusterAgent):
    """A research institute.

    It collaborates like every agent, with a research productivity that grows with its
    own capability stock (:meth:`research_productivity`), and spins off ventures after
    successful projects (technology transfer) at the research spin-off rate.
    """

    kind = INSTITUTE

    @property
    def productivity(self) -> float:
        """Research productivity this quarter: 0.5 + its capability stock."""
        return float(self.research_productivity(self.model)[self.index])

    @staticmethod
    def research_productivity(model: ClusterWorld) -> np.ndarray:
        """Research productivity m of every row (Section 7.8): ``0.5 + capability
        stock`` for institutes and universities, 1 for ventures (and agencies, who run
        no projects). It enters the odds of every project the agent joins."""
        pop = model.population
        return np.where(pop.research, 0.5 + pop.absorptive, 1.0)
