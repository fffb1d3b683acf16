"""Universities: basic and joint research, talent, spin-offs."""

from __future__ import annotations

import numpy as np

from sim.agents.institute import ResearchInstitute
from sim.population import UNIVERSITY
from sim.projects import JointProjects


class University(ResearchInstitute):
    """A university.

    It researches and spins off like an institute; in addition it trains talent: every
    project with a university raises the partner's capability stock
    (:meth:`train`, Section 7.12).
    """

    kind = UNIVERSITY

    @staticmethod
    def train(kind: np.ndarray, projects: JointProjects, n: int) -> np.ndarray:
        """Projects with a university partner this quarter, for each of the ``n`` rows
        (``kind`` is every row's kind): the talent each agent was trained in."""
        i, j = projects.i, projects.j
        return (np.bincount(j[kind[i] == UNIVERSITY], minlength=n)
                + np.bincount(i[kind[j] == UNIVERSITY], minlength=n))
