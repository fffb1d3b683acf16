"""What every collaborating agent shares: its row in the model's arrays, partner search,
limited attention, joint projects, learning and the capability stock.

An agent is a real :class:`mesa.Agent` whose state lives in the model's
:class:`~sim.population.Population` columns, so a student can inspect
``agent.profile`` or ``agent.partners()`` while the model updates all agents of a kind
at once. The rules below are class-level and vectorised over all agents concerned;
docs/ODD.md (section 7) gives each one's equation.
"""

from __future__ import annotations

from typing import Protocol

import mesa
import numpy as np

from sim.calibration import CLUSTER_NAMES, DISTANCE_KM, DOMAINS, PANGYO
from sim.knowledge import cognitive_distance, normalise, reach, row_sums, success_probability
from sim.network import TieTable
from sim.params import Params
from sim.policy import Regime
from sim.population import KIND_NAMES, Population
from sim.programmes import ProgrammeBook
from sim.projects import (
    BROKERED,
    SEARCH,
    JointProjects,
    ProjectOutcome,
    credit_by_cluster,
    take_in_order,
)


class ClusterWorld(Protocol):
    """What the agents' rules read and change in the model they act in
    (:class:`sim.model.ClusterModel`)."""

    params: Params
    population: Population
    ties: TieTable
    rng: np.random.Generator
    regime: Regime
    quarter_number: int
    home_mix: np.ndarray  # each cluster's domain mix, one row per cluster
    programmes: ProgrammeBook  # the budgeted programmes' purses

    @property
    def capability_stock(self) -> np.ndarray: ...

    def ventures_by_cluster(self) -> np.ndarray: ...

    def crowding(self) -> np.ndarray: ...

    def room(self) -> np.ndarray: ...

    def enrol(self, rows: np.ndarray) -> None: ...

    def agent_of(self, row: int) -> ClusterAgent: ...


class ClusterAgent(mesa.Agent):
    """An organisation in one of the two clusters."""

    kind: int = -1
    model: ClusterWorld

    def __init__(self, model: ClusterWorld, index: int) -> None:
        super().__init__(model)
        #: Row in model.population, kept there (Population.seat, Population.compact);
        #: None once the row was dropped.
        self.index: int | None
        model.population.seat(index, self)

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
        """False once a venture has exited (its row may since have been dropped)."""
        return self.index is not None and bool(self.model.population.alive[self.index])

    @property
    def profile(self) -> dict[str, float]:
        """Knowledge profile: share of the agent's knowledge in each domain."""
        row = self.model.population.profile[self.index]
        return dict(zip(DOMAINS, row.round(4).tolist(), strict=True))

    @property
    def absorptive_capacity(self) -> float:
        """The agent's capability stock: built by its successes and by training with
        universities, eroded by depreciation (0-1)."""
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
        return {self.model.agent_of(j): w
                for j, w in self.model.ties.partners(self.index).items()}

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.unique_id} in {self.cluster_name}, "
                f"{self.innovations} innovations>")

    # --- the rules every collaborating agent follows ------------------------------
    @staticmethod
    def project_odds(model: ClusterWorld, productivity: np.ndarray, i: np.ndarray,
                     j: np.ndarray) -> np.ndarray:
        """Chance that a joint project of ``i`` and ``j`` succeeds (the inverted U of
        Section 7.8), before any coordination cost. ``productivity`` is every row's
        research productivity this quarter."""
        pop, params = model.population, model.params
        # take: the rows of pop.profile[i], several times faster on a 2-D array
        distance = cognitive_distance(pop.profile.take(i, axis=0), pop.profile.take(j, axis=0))
        reach_a = reach(0.5 * (pop.absorptive.take(i) + pop.absorptive.take(j)),
                        params.reach_min, params.reach_gain)
        return success_probability(distance, reach_a,
                                   0.5 * (productivity.take(i) + productivity.take(j)),
                                   params.success_scale, params.success_cap)

    @classmethod
    def search_partners(cls, model: ClusterWorld,
                        productivity: np.ndarray) -> JointProjects:
        """Partner search of every collaborating agent, for one quarter.

        Each active agent searches with chance ``search_rate``. The search crosses to
        the other cluster with chance ``coupling x cross_propensity``: coupling caps it,
        the agent's own experience decides how much of that room it uses. The searcher
        looks at ``search_candidates`` random agents of the target cluster and picks the
        one with the best odds of a joint success (partnering by attractiveness).
        """
        pop, params, rng = model.population, model.params, model.rng
        active = pop.active()
        searchers = (active & (rng.random(len(pop)) < params.search_rate)).nonzero()[0]
        crossing = (rng.random(len(searchers))
                    < model.regime.coupling * pop.cross_propensity[searchers])
        target = pop.cluster[searchers] ^ crossing.astype(np.int8)
        partners = np.full(len(searchers), -1)
        m = params.search_candidates
        # the candidates, drawn cluster by cluster; then one look at all of them
        seeking, drawn = [], []
        for cluster in range(len(CLUSTER_NAMES)):
            rows = (target == cluster).nonzero()[0]
            pool = (active & (pop.cluster == cluster)).nonzero()[0]
            if len(rows) == 0 or len(pool) == 0:
                continue
            seeking.append(rows)
            drawn.append(pool[rng.integers(len(pool), size=(len(rows), m))])
        if seeking:
            rows, candidates = np.concatenate(seeking), np.concatenate(drawn)
            me = searchers[rows]
            odds = cls.project_odds(model, productivity, np.repeat(me, m),
                                    candidates.ravel()).reshape(len(rows), m)
            odds[candidates == me[:, None]] = -1.0  # nobody partners with itself
            pick = odds.argmax(axis=1)
            each = np.arange(len(rows))
            partners[rows] = np.where(odds[each, pick] >= 0, candidates[each, pick], -1)
        found = partners >= 0
        return JointProjects.of(SEARCH, searchers[found], partners[found], params.tie_initial)

    @staticmethod
    def attention_capacity(model: ClusterWorld) -> np.ndarray:
        """Project slots of every row per quarter: ``attention_research`` for institutes
        and universities, ``attention_venture`` for ventures."""
        pop, params = model.population, model.params
        return np.where(pop.research, params.attention_research, params.attention_venture)

    @classmethod
    def allocate_attention(cls, model: ClusterWorld, projects: JointProjects,
                           productivity: np.ndarray) -> tuple[JointProjects, JointProjects]:
        """Limited attention (Section 7.7): each agent takes on its projects in order of
        preference while its load stays within its slots; an inter-cluster project takes
        ``cross_attention_cost`` slots. The order is by expected innovations per slot
        with ``attention_by_value`` (a project one partner declines takes none of the
        other's slots), otherwise by origin (tie projects, then brokered, then new
        searches; a project one partner had to refuse still took the other's slots).
        A project runs only if both partners took it on.

        Returns the projects that run and those crowded out."""
        n = len(projects)
        if not model.params.limited_attention or n == 0:
            return projects, projects.subset(np.zeros(n, dtype=bool))
        pop = model.population
        inter = projects.crossing(pop.cluster)
        load = np.where(inter, model.params.cross_attention_cost, 1.0)
        if model.params.attention_by_value:
            # the odds ranked by are the ones the projects then run with (nothing
            # changes in between), so they are handed on
            projects = projects.with_odds(
                cls.project_odds(model, productivity, projects.i, projects.j))
            value = cls.value_per_slot(model, projects, productivity, inter, load)
            # best first; equal values in random order
            by_preference = np.lexsort((model.rng.random(n), -value))
            runs = take_in_order(projects.i, projects.j, by_preference, load,
                                 cls.attention_capacity(model))
            return projects.subset(runs), projects.subset(~runs)
        priority = projects.origin + model.rng.random(n)
        ends = np.concatenate([projects.i, projects.j])
        rank = np.empty(n, dtype=np.int64)
        rank[np.argsort(priority, kind="stable")] = np.arange(n)
        # by agent, then by priority: one key per (agent, project), all distinct
        order = np.argsort(ends * n + np.concatenate([rank, rank]), kind="stable")
        sorted_ends = ends[order]
        used = np.cumsum(np.concatenate([load, load])[order])
        # each agent's load taken by its earlier projects: the running total at the
        # end of the previous agent's group
        boundaries = np.flatnonzero(np.diff(sorted_ends)) + 1
        group_start = np.concatenate([[0], boundaries])
        group_end = np.concatenate([boundaries, [len(order)]])
        before = np.repeat(np.concatenate([[0.0], used[boundaries - 1]]),
                           group_end - group_start)
        fits_sorted = (used - before) <= cls.attention_capacity(model)[sorted_ends] + 1e-9
        fits = np.empty(2 * n, dtype=bool)
        fits[order] = fits_sorted
        runs = fits[:n] & fits[n:]
        return projects.subset(runs), projects.subset(~runs)

    @classmethod
    def value_per_slot(cls, model: ClusterWorld, projects: JointProjects,
                       productivity: np.ndarray, inter: np.ndarray,
                       load: np.ndarray) -> np.ndarray:
        """What a candidate project is worth to either partner per slot of attention
        (Section 7.7.2): its chance of an innovation, after the coordination penalty,
        over the slots it takes. Both partners see the same value, since a success
        counts as one innovation for each."""
        odds = (cls.project_odds(model, productivity, projects.i, projects.j)
                if projects.odds is None else projects.odds)
        return odds * (1.0 - cls.coordination_penalty(model, projects, inter)) / load

    @staticmethod
    def coordination_penalty(model: ClusterWorld, projects: JointProjects,
                             inter: np.ndarray) -> np.ndarray:
        """Share of each project's success odds lost to coordination (Section 7.8.1):
        for an inter-cluster project ``min(1, penalty_per_100km x distance/100)``, halving with
        every ``coordination_half_life`` quarters of the tie's age; 0 within a cluster
        or when the submodule is off."""
        params = model.params
        if not params.coordination_cost:
            return np.zeros(len(projects))
        new_tie = min(1.0, params.coordination_penalty_per_100km * DISTANCE_KM / 100.0)
        fading = 0.5 ** (projects.tie_age / params.coordination_half_life)
        return np.where(inter, new_tie * fading, 0.0)

    @classmethod
    def collaborate(cls, model: ClusterWorld, projects: JointProjects,
                    productivity: np.ndarray) -> ProjectOutcome:
        """Run the quarter's joint projects (Sections 7.8-7.11, 7.13): success draws,
        innovation, tie reinforcement, learning whether crossing pays, convergence of
        the partners' profiles and anchoring. Returns what they produced."""
        pop, params, rng = model.population, model.params, model.rng
        n = len(pop)
        i, j = projects.i, projects.j
        inter = projects.crossing(pop.cluster)
        odds = (cls.project_odds(model, productivity, i, j) if projects.odds is None
                else projects.odds)
        penalty = cls.coordination_penalty(model, projects, inter)
        success = rng.random(len(projects)) < odds * (1.0 - penalty)

        # innovation: a success counts for both partners (counts per row: one bincount
        # of both ends gives the same integers as adding two)
        won_i, won_j = i[success], j[success]
        successes = np.bincount(np.concatenate([won_i, won_j]), minlength=n)
        both = success & inter
        inter_successes = np.bincount(np.concatenate([i[both], j[both]]), minlength=n)
        pop.innovations += successes

        # ties: successes reinforce (or create) ties; brokered pairs get one regardless
        now = model.quarter_number
        model.ties.strengthen(won_i, won_j, params.tie_reinforcement, params.tie_initial, now)
        pushed = (projects.origin == BROKERED) & ~success
        model.ties.strengthen(i[pushed], j[pushed], 0.0, params.tie_initial, now)

        cls.learn_to_cross(model, projects, inter, success)
        flow = cls.converge(model, projects, inter)
        return ProjectOutcome(
            projects=projects, inter=inter, success=success,
            involvement=np.bincount(np.concatenate([i, j]), minlength=n),
            successes=successes,
            inter_successes=inter_successes,
            innovations_by_cluster=credit_by_cluster(projects, success, pop.cluster,
                                                     len(CLUSTER_NAMES)),
            coordination_loss=float((odds * penalty).sum()), **flow)

    @staticmethod
    def learn_to_cross(model: ClusterWorld, projects: JointProjects, inter: np.ndarray,
                       success: np.ndarray) -> None:
        """Willingness to cross follows the share of one's inter-cluster projects that
        paid (Section 7.11)."""
        pop, params = model.population, model.params
        n = len(pop)
        both = np.concatenate([projects.i[inter], projects.j[inter]])
        tried = np.bincount(both, minlength=n)
        paid = np.bincount(both, weights=np.concatenate([success[inter]] * 2), minlength=n)
        movers = tried > 0
        pop.cross_propensity[movers] += params.cross_learning_rate * (
            paid[movers] / tried[movers] - pop.cross_propensity[movers])

    @staticmethod
    def converge(model: ClusterWorld, projects: JointProjects,
                 inter: np.ndarray) -> dict[str, float]:
        """Partners' profiles move toward each other in proportion to the tie's
        strength; an inter-cluster tie carries ``coupling`` times as much. Then every
        agent is pulled back toward its home profile (institutional anchoring;
        Section 7.13). Returns the knowledge moved, in all and across clusters."""
        pop, params = model.population, model.params
        i, j = projects.i, projects.j
        carried = params.learning_rate * projects.strength * np.where(
            inter, model.regime.coupling, 1.0)
        step_i = carried[:, None] * (pop.profile.take(j, axis=0) - pop.profile.take(i, axis=0))
        n, domains = pop.profile.shape
        # one bincount over the (agent, domain) cells for all domains: each cell adds
        # its projects' steps in project order, as a bincount per domain would
        cells = np.arange(domains)
        steps = step_i.ravel()
        delta = (np.bincount((i[:, None] * domains + cells).ravel(), weights=steps,
                             minlength=n * domains)
                 - np.bincount((j[:, None] * domains + cells).ravel(), weights=steps,
                               minlength=n * domains)).reshape(n, domains)
        moved = row_sums(np.abs(step_i))
        pop.profile += delta
        pull = np.subtract(pop.home, pop.profile)
        pull *= params.anchoring  # in place: the same operations, no second temporary
        pop.profile += pull
        normalise(pop.profile)
        return {"knowledge_flow": float(moved.sum()),
                "knowledge_flow_inter": float(moved[inter].sum())}

    @staticmethod
    def accumulate_capability(model: ClusterWorld, outcome: ProjectOutcome,
                              trained: np.ndarray) -> float:
        """The capability stock of every agent (Section 7.12, Cohen & Levinthal 1990):
        it grows with the agent's successes (learning by doing), its projects with
        universities (``trained``) and public investment, each closing a share of the
        gap to 1, and an agent that ran no project this quarter loses
        ``capability_depreciation`` of it (absorptive capacity depreciates without
        use). Under brain drain, each inter-cluster project moves ``talent_drain`` of
        the Daedeok partner's stock to its Pangyo partner. All changes use the stock at
        the start of the stage.

        Returns the stock that moved to Pangyo this quarter (0 without brain drain)."""
        pop, params = model.population, model.params
        stock = pop.absorptive
        gap = 1.0 - stock
        gain = gap * np.minimum(1.0, params.capability_learning * outcome.successes
                                + params.talent_gain * trained + model.regime.investment)
        idle = outcome.involvement == 0
        change = gain - params.capability_depreciation * stock * idle
        drained = 0.0
        if params.brain_drain and outcome.inter.any():
            projects = outcome.projects
            i, j = projects.i[outcome.inter], projects.j[outcome.inter]
            to_pangyo = pop.cluster[j] == PANGYO
            source, sink = np.where(to_pangyo, i, j), np.where(to_pangyo, j, i)
            n = len(pop)
            flow = params.talent_drain * stock[source]
            # no agent gives more than it has, however many projects it ran
            given = np.bincount(source, weights=flow, minlength=n)
            flow *= np.where(given > stock, stock / np.maximum(given, 1e-12), 1.0)[source]
            change += (np.bincount(sink, weights=flow, minlength=n)
                       - np.bincount(source, weights=flow, minlength=n))
            drained = float(flow.sum())
        # every row computed, the active ones written: cheaper than selecting them thrice
        np.copyto(stock, (stock + change).clip(0.0, 1.0), where=pop.active())
        return drained

    @staticmethod
    def granted_spin_off_parents(model: ClusterWorld) -> np.ndarray:
        """Research institutes and universities that found a venture on a grant this
        quarter (Section 7.20): in each cluster, as many as its spin-off purse pays
        for, drawn at random among its living institutes and universities (one may
        receive several grants). Paid for when the venture is founded."""
        pop = model.population
        parents = []
        for cluster in range(len(CLUSTER_NAMES)):
            grants = model.programmes.offer(model.params, "spin_off", cluster)
            if grants == 0:  # every quarter without the programme: look no further
                continue
            research = np.flatnonzero(pop.alive & pop.research & (pop.cluster == cluster))
            if len(research) > 0:
                parents.append(research[model.rng.integers(len(research), size=grants)])
        return np.concatenate(parents) if parents else np.empty(0, dtype=np.int64)

    @staticmethod
    def spin_off_parents(model: ClusterWorld, outcome: ProjectOutcome) -> np.ndarray:
        """Agents that found a new venture this quarter (Section 7.16).

        Only agents with a success this quarter spin off (technology transfer), with
        chance ``min(1, base x (0.5 + capability stock of its cluster))`` (times the
        open-innovation factor), where the base is ``spin_off_research`` for
        institutes and universities and ``spin_off_venture`` for ventures, times one
        minus the crowding of the cluster (density dependence, Section 7.16.2; 1
        without a limit)."""
        pop, params, rng = model.population, model.params, model.rng
        eligible = (pop.alive & (outcome.successes > 0)).nonzero()[0]
        # a draw for every row, as the random stream has it; the chance only where it
        # is read
        draw = rng.random(len(pop))[eligible]
        cluster = pop.cluster[eligible]
        base = np.where(pop.research[eligible], params.spin_off_research,
                        params.spin_off_venture)
        stock = model.capability_stock[cluster]
        chance = np.minimum(1.0, base * (0.5 + stock) * model.regime.open_innovation_factor)
        chance = chance * (1.0 - model.crowding())[cluster]
        return eligible[draw < chance]
