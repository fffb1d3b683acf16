"""Government-funded research institutes: large, deep knowledge, dominant in Daedeok."""

from __future__ import annotations

from sim.agents.base import ClusterAgent
from sim.population import INSTITUTE


class ResearchInstitute(ClusterAgent):
    """A research institute.

    It collaborates like every agent, with a research productivity of
    ``0.5 + capability`` (a venture's is 1), and spins off ventures after successful
    projects (technology transfer) at the research spin-off rate.
    """

    kind = INSTITUTE
