"""Universities: basic and joint research, talent, spin-offs."""

from __future__ import annotations

import numpy as np

from sim.agents.base import ClusterWorld
from sim.agents.institute import ResearchInstitute
from sim.calibration import CLUSTER_NAMES
from sim.population import UNIVERSITY, VENTURE
from sim.projects import JointProjects


class University(ResearchInstitute):
    """A university.

    It researches and spins off like an institute; in addition it trains talent: every
    project with a university raises the partner's capability stock
    (:meth:`train`, Section 7.12), and it teaches the places a training programme pays
    for (:meth:`train_funded`, Section 7.20).
    """

    kind = UNIVERSITY

    @staticmethod
    def train(kind: np.ndarray, projects: JointProjects, n: int) -> np.ndarray:
        """Projects with a university partner this quarter, for each of the ``n`` rows
        (``kind`` is every row's kind): the talent each agent was trained in."""
        i, j = projects.i, projects.j
        return (np.bincount(j[kind[i] == UNIVERSITY], minlength=n)
                + np.bincount(i[kind[j] == UNIVERSITY], minlength=n))

    @staticmethod
    def train_funded(model: ClusterWorld) -> np.ndarray:
        """The training programme's places this quarter (Section 7.20), for every row:
        in each cluster, as many of its living ventures as the purse pays for, each
        trained once. By default every venture may be trained, the least capable first
        (the gap a place closes is largest there); ``training_start_ups_only`` keeps
        the places for start-ups and ``training_most_capable_first`` gives them to the
        most capable first."""
        pop, params = model.population, model.params
        trained = np.zeros(len(pop), dtype=np.int64)
        for cluster in range(len(CLUSTER_NAMES)):
            places = model.programmes.offer(params, "training", cluster)
            if places == 0:
                continue
            eligible = pop.alive & (pop.kind == VENTURE) & (pop.cluster == cluster)
            if params.training_start_ups_only:
                eligible &= pop.stage == 0
            ventures = np.flatnonzero(eligible)
            capacity = pop.absorptive[ventures]
            order = np.argsort(-capacity if params.training_most_capable_first else capacity,
                               kind="stable")
            chosen = ventures[order[:places]]
            trained[chosen] = 1
            model.programmes.pay(params, "training", cluster, len(chosen))
        return trained
