"""Universities: basic and joint research, talent, spin-offs."""

from __future__ import annotations

from sim.agents.base import ClusterAgent
from sim.population import UNIVERSITY


class University(ClusterAgent):
    """A university.

    Research productivity and spin-offs as for institutes; in addition each project
    with a university trains talent: the partner's absorptive capacity rises by
    ``talent_gain`` (decaying by ``talent_decay`` per quarter).
    """

    kind = UNIVERSITY
