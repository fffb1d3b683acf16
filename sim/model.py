"""ClusterModel: two innovation clusters, Daedeok Innopolis and Pangyo Techno Valley,
and the ties between them.

One step is one quarter, from 2018Q1 to the fourth quarter of ``until_year``. The
order of a quarter follows docs/ODD.md ('Process overview and scheduling'); each
stage is one vectorised rule over the arrays the model owns.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any

import mesa
import numpy as np

from sim import metrics, scenarios
from sim.agents import ResearchInstitute, SupportAgency, University, Venture
from sim.agents.base import ClusterAgent, search_partners, spin_off_parents
from sim.calibration import CLUSTER_NAMES, CLUSTERS, DOMAINS
from sim.knowledge import cognitive_distance, draw_profiles, normalise, reach, success_probability
from sim.network import TieTable
from sim.params import QUARTERS_PER_YEAR, START_YEAR, ParameterError, Params
from sim.population import AGENCY, INSTITUTE, UNIVERSITY, VENTURE, Population

_KIND_CLASSES: dict[int, type[ClusterAgent]] = {
    INSTITUTE: ResearchInstitute, UNIVERSITY: University, VENTURE: Venture,
    AGENCY: SupportAgency,
}

#: Per-quarter series the DataCollector records (per cluster where suffixed).
QUARTERLY_SERIES: tuple[str, ...] = (
    "innovations", "innovations_inter", "innovations_cumulative",
    "innovations_daedeok", "innovations_pangyo",
    "collaborations", "collaborations_inter",
    "capability_index", "capability_index_daedeok", "capability_index_pangyo",
    "cooperation_index", "knowledge_flow_inter_share", "distinctiveness",
    "ventures_daedeok", "ventures_pangyo", "births_daedeok", "births_pangyo",
    "exits_daedeok", "exits_pangyo", "scale_ups_daedeok", "scale_ups_pangyo",
    "relocations_to_daedeok", "relocations_to_pangyo",
    "ties", "inter_cluster_ties", "density", "coupling_now",
)


class ClusterModel(mesa.Model):
    """Two innovation clusters with tunable coupling and capability.

    All keyword arguments are the fields of :class:`sim.params.Params` (validated on
    construction), plus ``rng``, the seed. Run to the horizon with :meth:`run_model`,
    then read :meth:`summary` or ``datacollector.get_model_vars_dataframe()``.
    """

    def __init__(self, *, rng: int | None = None, **parameters: Any) -> None:
        self.params = Params(**parameters)
        if isinstance(rng, numbers.Integral) and (isinstance(rng, bool) or rng < 0):
            raise ParameterError(f"rng (the seed) must be a non-negative integer, got {rng!r}")
        super().__init__(rng=rng)
        self.seed = rng
        params = self.params
        self.capability_of_cluster = np.array(
            [params.cluster_capability(c) for c in (0, 1)])
        # Policy levers fixed for the run (direction 1's ramp is in _coupling_at).
        self.programme_factor = params.programme_boost if params.cooperation_programme else 1.0
        self.incubation_factor = params.open_innovation_boost if params.open_innovation else 1.0
        self.spin_off_factor = self.incubation_factor
        self.scale_up_threshold = params.scale_up_threshold * (
            params.nurturing_threshold_factor if params.open_innovation else 1.0)
        self._spin_off_chance = np.zeros(4)
        self._spin_off_chance[[INSTITUTE, UNIVERSITY]] = params.spin_off_research
        self._spin_off_chance[VENTURE] = params.spin_off_venture
        self._spin_off_chance *= self.spin_off_factor

        self.population = Population(len(DOMAINS))
        self.ties = TieTable()
        self.agent_at: list[ClusterAgent] = []
        self.coupling_now = self._coupling_at(1)
        self._brokered: list[tuple[np.ndarray, np.ndarray]] = []
        self._absorptive = np.empty(0)
        self.history: list[dict[str, float]] = []
        self.totals = {"innovations": 0, "innovations_inter": 0, "births": 0, "exits": 0,
                       "scale_ups": 0, "relocations": 0}

        self._populate()
        self._tie_within_clusters()
        self.initial_cluster_distance = self._cluster_distance()

        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in QUARTERLY_SERIES})
        self.running = True

    # --- initialisation ------------------------------------------------------------------
    def _populate(self) -> None:
        """Create every agent of both clusters from the calibration at ``scale``."""
        params, rng = self.params, self.rng
        for cluster, profile in enumerate(CLUSTERS):
            counts = profile.populations(params.scale)
            for kind, key in ((INSTITUTE, "institutes"), (UNIVERSITY, "universities"),
                              (VENTURE, "ventures"), (AGENCY, "agencies")):
                n = counts[key]
                centres = np.repeat(profile.domain_shares[None, :], n, axis=0)
                clusters = np.full(n, cluster, dtype=np.int8)
                columns: dict[str, Any] = {
                    "kind": kind, "cluster": clusters,
                    "absorptive_base": self.draw_absorptive(clusters),
                    "productivity": (0.5 + self.capability_of_cluster[cluster]
                                     if kind in (INSTITUTE, UNIVERSITY) else 1.0),
                    "cross_propensity": params.cross_propensity_initial,
                }
                if kind == VENTURE:
                    stage = rng.choice(3, size=n, p=profile.stage_mix).astype(np.int8)
                    burn = params.burn_startup * params.stage_cost_ratio ** stage
                    columns |= {
                        "stage": stage,
                        "age": rng.integers(0, 40, size=n),
                        "cash": params.startup_cash * burn * rng.uniform(0.5, 1.5, n),
                        # 2018's firms are going concerns: revenue near their burn
                        "revenue": burn * rng.uniform(0.5, 1.2, n),
                    }
                rows = self.population.append(
                    draw_profiles(rng, centres, params.profile_concentration), **columns)
                self.add_agents(_KIND_CLASSES[kind], rows)

    def _tie_within_clusters(self) -> None:
        """2018's collaboration network: random intra-cluster ties, none across."""
        pop, rng = self.population, self.rng
        for cluster in (0, 1):
            members = np.flatnonzero(pop.active() & (pop.cluster == cluster))
            n = round(self.params.initial_ties_per_agent * len(members) / 2)
            if len(members) < 2 or n == 0:
                continue
            a = members[rng.integers(len(members), size=n)]
            b = members[rng.integers(len(members), size=n)]
            distinct = a != b
            self.ties.strengthen(a[distinct], b[distinct], gain=0.0,
                                 initial=self.params.tie_initial)

    def draw_absorptive(self, cluster: np.ndarray) -> np.ndarray:
        """Absorptive capacity of new agents: their cluster's capability, with spread."""
        base = self.capability_of_cluster[cluster]
        noise = self.rng.normal(0.0, self.params.absorptive_spread, len(cluster))
        return np.clip(base + noise, 0.0, 1.0)

    def add_agents(self, agent_class: type[ClusterAgent], rows: np.ndarray) -> None:
        """Create the Mesa agents that stand for the population rows ``rows``."""
        self.agent_at.extend(agent_class(self, int(i)) for i in rows)

    # --- services the agents use ----------------------------------------------------------
    def success_odds(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Chance that a joint project of ``i`` and ``j`` succeeds this quarter."""
        pop, params = self.population, self.params
        distance = cognitive_distance(pop.profile[i], pop.profile[j])
        reach_a = reach(0.5 * (self._absorptive[i] + self._absorptive[j]),
                        params.reach_min, params.reach_gain)
        productivity = 0.5 * (pop.productivity[i] + pop.productivity[j])
        return success_probability(distance, reach_a, productivity,
                                   params.success_scale, params.success_cap)

    def broker(self, i: np.ndarray, j: np.ndarray) -> None:
        """An agency's matches: they run a project this quarter and get a tie."""
        self._brokered.append((i, j))

    @property
    def quarter(self) -> str:
        """The quarter last simulated, e.g. '2030Q4' ('2017Q4' before the first step)."""
        year, q = divmod(self.steps - 1, QUARTERS_PER_YEAR)
        return f"{START_YEAR + year}Q{q + 1}"

    def _coupling_at(self, step: int) -> float:
        """Coupling in force in quarter ``step`` (1-based): constant, or under the
        shared vision a staircase rising to the full value over the ramp."""
        params = self.params
        if not params.shared_vision:
            return params.coupling
        ramp = params.vision_ramp_years * QUARTERS_PER_YEAR
        stage = min(params.vision_stages,
                    math.floor((step - 1) * params.vision_stages / ramp) + 1)
        return params.coupling * stage / params.vision_stages

    # --- one quarter --------------------------------------------------------------------------
    def step(self) -> None:
        """One quarter: ties decay; agencies broker and incubate; agents search;
        joint projects succeed or fail; partners learn; ventures live, grow or exit;
        successful agents spin off; ventures relocate; the quarter is recorded."""
        pop = self.population
        self.coupling_now = self._coupling_at(self.steps)
        pop.successes_now[:] = 0
        pop.inter_successes_now[:] = 0
        pop.talent *= 1.0 - self.params.talent_decay
        self._absorptive = pop.absorptive
        self._brokered = []

        self.ties.decay(self.params.tie_decay, self.params.tie_floor)
        self.agents_by_type[SupportAgency].shuffle_do("step")
        projects = self._gather_projects()
        outcome = self._run_projects(*projects)
        scaled, exited = Venture.life_cycle(self)
        self._remove(exited)
        births = Venture.found(self, spin_off_parents(self, self._spin_off_chance))
        movers = Venture.relocate(self)
        pop.age[pop.alive] += 1
        self._record(outcome, births, exited, scaled, movers)
        self.datacollector.collect(self)
        if self.steps >= self.params.steps:
            self.running = False

    def _gather_projects(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """This quarter's joint projects: active ties, new searches, brokered matches.
        Returns the partners, the strength each project's tie carries and whether the
        pair forms a tie whatever the outcome (brokered)."""
        params = self.params
        tie_rows = self.ties.active(self.rng, params.tie_activity)
        tie_a, tie_b = (end[tie_rows] for end in self.ties.ends)
        search_i, search_j, _ = search_partners(self)
        brokered_i = np.concatenate([b[0] for b in self._brokered] or [np.empty(0, int)])
        brokered_j = np.concatenate([b[1] for b in self._brokered] or [np.empty(0, int)])
        i = np.concatenate([tie_a, search_i, brokered_i]).astype(np.int64)
        j = np.concatenate([tie_b, search_j, brokered_j]).astype(np.int64)
        strength = np.concatenate([self.ties.weights[tie_rows],
                                   np.full(len(search_i) + len(brokered_i), params.tie_initial)])
        pushed = np.zeros(len(i), dtype=bool)
        pushed[len(i) - len(brokered_i):] = True
        return i, j, strength, pushed

    def _run_projects(self, i: np.ndarray, j: np.ndarray, strength: np.ndarray,
                      pushed: np.ndarray) -> dict[str, Any]:
        """Innovate, reinforce ties, learn whether crossing pays, converge."""
        pop, params, rng = self.population, self.params, self.rng
        n = len(pop)
        success = rng.random(len(i)) < self.success_odds(i, j)
        inter = pop.cluster[i] != pop.cluster[j]

        # innovation: a success counts for both partners
        winners = np.concatenate([i[success], j[success]])
        pop.successes_now += np.bincount(winners, minlength=n).astype(np.int32)
        inter_winners = np.concatenate([i[success & inter], j[success & inter]])
        pop.inter_successes_now += np.bincount(inter_winners, minlength=n).astype(np.int32)
        pop.innovations += pop.successes_now

        # ties: successes reinforce (or create) ties; brokered pairs get one regardless
        self.ties.strengthen(i[success], j[success], params.tie_reinforcement,
                             params.tie_initial)
        self.ties.strengthen(i[pushed & ~success], j[pushed & ~success], 0.0,
                             params.tie_initial)

        # willingness to cross follows the share of one's inter-cluster projects that paid
        both = np.concatenate([i[inter], j[inter]])
        tried = np.bincount(both, minlength=n)
        paid = np.bincount(both, weights=np.tile(success[inter], 2), minlength=n)
        movers = tried > 0
        pop.cross_propensity[movers] += params.cross_learning_rate * (
            paid[movers] / tried[movers] - pop.cross_propensity[movers])

        # universities train their partners
        for a, b in ((i, j), (j, i)):
            taught = b[pop.kind[a] == UNIVERSITY]
            np.add.at(pop.talent, taught, params.talent_gain)

        flow = self._learn(i, j, strength, inter)
        return {"collaborations": len(i), "collaborations_inter": int(inter.sum()),
                "innovations": int(success.sum()),
                "innovations_inter": int((success & inter).sum()),
                "innovations_by_cluster": self._credit(i, j, success, inter), **flow}

    def _learn(self, i: np.ndarray, j: np.ndarray, strength: np.ndarray,
               inter: np.ndarray) -> dict[str, float]:
        """Partners' profiles move toward each other, in proportion to the tie's
        strength; an inter-cluster tie carries ``coupling`` times as much. Then every
        agent is pulled back toward its home profile (institutional anchoring)."""
        pop, params = self.population, self.params
        carried = params.learning_rate * strength * np.where(inter, self.coupling_now, 1.0)
        gap = pop.profile[j] - pop.profile[i]
        step_i = carried[:, None] * gap
        delta = np.zeros_like(pop.profile)
        np.add.at(delta, i, step_i)
        np.add.at(delta, j, -step_i)
        moved = np.abs(step_i).sum(axis=1)
        pop.profile += delta
        pop.profile += params.anchoring * (pop.home - pop.profile)
        normalise(pop.profile)
        return {"knowledge_flow": float(moved.sum()),
                "knowledge_flow_inter": float(moved[inter].sum())}

    def _credit(self, i: np.ndarray, j: np.ndarray, success: np.ndarray,
                inter: np.ndarray) -> np.ndarray:
        """Innovations per cluster: an inter-cluster success counts half to each."""
        cluster = self.population.cluster
        credit = np.zeros(2)
        np.add.at(credit, cluster[i[success]], np.where(inter[success], 0.5, 1.0))
        np.add.at(credit, cluster[j[success]], np.where(inter[success], 0.5, 0.0))
        return credit

    def _remove(self, rows: np.ndarray) -> None:
        """Exited ventures leave the network and the Mesa model (their rows stay)."""
        if len(rows) == 0:
            return
        gone = np.zeros(len(self.population), dtype=bool)
        gone[rows] = True
        self.ties.drop_agents(gone)
        for row in rows:
            self.agent_at[row].remove()

    # --- observation -------------------------------------------------------------------------
    def _cluster_distance(self) -> float:
        pop = self.population
        active = pop.active()
        means = [pop.profile[active & (pop.cluster == c)].mean(axis=0) for c in (0, 1)]
        return metrics.cluster_distance(*means)

    def _record(self, outcome: dict[str, Any], births: np.ndarray, exited: np.ndarray,
                scaled: np.ndarray, movers: np.ndarray) -> None:
        pop = self.population
        active = pop.active()
        ventures = active & (pop.kind == VENTURE)
        cluster_of = pop.cluster

        def per_cluster(rows: np.ndarray) -> np.ndarray:
            return np.bincount(cluster_of[rows], minlength=2)

        record: dict[str, float] = {
            "quarter": self.quarter,
            "coupling_now": self.coupling_now,
            "collaborations": outcome["collaborations"],
            "collaborations_inter": outcome["collaborations_inter"],
            "innovations": outcome["innovations"],
            "innovations_inter": outcome["innovations_inter"],
            "knowledge_flow": outcome["knowledge_flow"],
            "knowledge_flow_inter": outcome["knowledge_flow_inter"],
            "active_agents": int(active.sum()),
        }
        credit = outcome["innovations_by_cluster"]
        agents = np.bincount(cluster_of[active], minlength=2)
        for c, name in enumerate(CLUSTER_NAMES):
            key = name.lower()
            record[f"innovations_{key}"] = float(credit[c])
            record[f"agents_{key}"] = int(agents[c])
            record[f"ventures_{key}"] = int((ventures & (cluster_of == c)).sum())
            record[f"births_{key}"] = int(per_cluster(births)[c])
            record[f"exits_{key}"] = int(per_cluster(exited)[c])
            record[f"scale_ups_{key}"] = int(per_cluster(scaled)[c])
        arrived = per_cluster(movers)  # cluster after the move
        record["relocations_to_daedeok"] = int(arrived[0])
        record["relocations_to_pangyo"] = int(arrived[1])
        for key, value in (("innovations", outcome["innovations"]),
                           ("innovations_inter", outcome["innovations_inter"]),
                           ("births", len(births)), ("exits", len(exited)),
                           ("scale_ups", len(scaled)), ("relocations", len(movers))):
            self.totals[key] += value
        record["innovations_cumulative"] = self.totals["innovations"]
        record["ties"] = len(self.ties)
        record["inter_cluster_ties"] = int(self.ties.crossing(cluster_of).sum())
        n_active = int(active.sum())
        record["density"] = (2 * len(self.ties) / (n_active * (n_active - 1))
                             if n_active > 1 else 0.0)
        record["distinctiveness"] = metrics.distinctiveness(
            self._cluster_distance(), self.initial_cluster_distance)
        self.history.append(record)
        record.update(self._year_indices())

    def _year_indices(self) -> dict[str, float]:
        """Capability, cooperation and knowledge-flow indices over the last four
        quarters."""
        year = self.history[-QUARTERS_PER_YEAR:]
        years = len(year) / QUARTERS_PER_YEAR

        def total(key: str) -> float:
            return float(sum(r[key] for r in year))

        def mean(key: str) -> float:
            return total(key) / len(year)

        indices = {
            "capability_index": metrics.capability_index(
                total("innovations"), mean("active_agents"), years),
            "cooperation_index": metrics.cooperation_index(
                total("collaborations_inter"), total("collaborations")),
            # the same share, measured in knowledge moved instead of collaborations
            "knowledge_flow_inter_share": metrics.cooperation_index(
                total("knowledge_flow_inter"), total("knowledge_flow")),
        }
        for name in CLUSTER_NAMES:
            key = name.lower()
            indices[f"capability_index_{key}"] = metrics.capability_index(
                total(f"innovations_{key}"), mean(f"agents_{key}"), years)
        return indices

    # --- running and reporting ------------------------------------------------------------------
    def run_model(self) -> None:
        """Run to the fourth quarter of ``until_year``."""
        while self.running:
            self.step()

    def collaboration_graph(self):
        """The current collaboration network as a networkx graph; nodes carry the
        agent's kind, cluster and Mesa agent."""
        pop = self.population
        alive = np.flatnonzero(pop.active())
        graph = self.ties.to_networkx(alive)
        for row in alive.tolist():
            graph.nodes[row].update(kind=int(pop.kind[row]), cluster=int(pop.cluster[row]),
                                    agent=self.agent_at[row])
        return graph

    def summary(self) -> dict[str, Any]:
        """Indices at the horizon (or now), the scenario and the coupling type.

        The capability and cooperation indices cover the last four quarters run."""
        if not self.history:
            raise RuntimeError("summary() needs at least one step; call run_model() first")
        params = self.params
        last = self.history[-1]
        pop = self.population
        graph = self.collaboration_graph()
        network = metrics.network_measures(
            graph, {v: int(pop.cluster[v]) for v in graph.nodes})
        capability = last["capability_index"]
        cooperation = last["cooperation_index"]
        distinct = last["distinctiveness"]
        threshold = self.capability_threshold
        return {
            "scenario": self.current_scenario(),
            "coupling_type": scenarios.coupling_type(
                cooperation, distinct, cooperation_threshold=params.cooperation_threshold,
                distinctiveness_threshold=params.distinctiveness_threshold),
            "capability_index": capability,
            "capability_index_daedeok": last["capability_index_daedeok"],
            "capability_index_pangyo": last["capability_index_pangyo"],
            "cooperation_index": cooperation,
            "knowledge_flow_inter_share": last["knowledge_flow_inter_share"],
            "distinctiveness": distinct,
            "innovations_total": self.totals["innovations"],
            "innovations_inter": self.totals["innovations_inter"],
            "ventures_alive": last["ventures_daedeok"] + last["ventures_pangyo"],
            "ventures_daedeok": last["ventures_daedeok"],
            "ventures_pangyo": last["ventures_pangyo"],
            "births": self.totals["births"],
            "exits": self.totals["exits"],
            "scale_ups": self.totals["scale_ups"],
            "relocations": self.totals["relocations"],
            **network,
            "capability_threshold": threshold,
            "quarter": self.quarter,
            "seed": self.seed,
        }

    def current_scenario(self) -> str | None:
        """The scenario of the last four quarters run (None before the first step); at
        the horizon, the run's scenario."""
        if not self.history:
            return None
        last = self.history[-1]
        return scenarios.classify(
            last["capability_index"], last["cooperation_index"],
            capability_threshold=self.capability_threshold,
            cooperation_threshold=self.params.cooperation_threshold)

    @property
    def capability_threshold(self) -> float:
        """The 'high capability' threshold in force: the parameter if set, else the
        model's own 2018 baseline at this run's scale."""
        if self.params.capability_threshold is not None:
            return self.params.capability_threshold
        return baseline_capability_index(self.params.scale)


BASELINE_SEEDS = 10
"""Runs averaged for the 2018 baseline (seeds 0-9)."""


@functools.cache
def baseline_capability_indices(scale: float = 1.0,
                                seeds: int = BASELINE_SEEDS) -> tuple[float, ...]:
    """The 2018 capability index of the default calibration at ``scale``, for seeds
    ``0 .. seeds-1`` (computed once per process and scale)."""
    values = []
    for seed in range(seeds):
        model = ClusterModel(rng=seed, scale=scale, until_year=START_YEAR)
        model.run_model()
        values.append(model.history[-1]["capability_index"])
    return tuple(values)


def baseline_capability_index(scale: float = 1.0) -> float:
    """The calibrated 2018 baseline: the mean 2018 capability index of the default
    calibration at ``scale``. It is the default 'high capability' threshold: a run is
    highly capable when its clusters innovate in the final year at least as much per
    agent as they did in 2018, at the same scale (small scales keep at least one agent
    of each kind, which shifts the population mix and the baseline with it)."""
    return float(np.mean(baseline_capability_indices(scale)))


def _reporter(name: str):
    """A DataCollector reporter reading one series from the latest quarter's record."""
    def report(model: ClusterModel) -> float:
        return model.history[-1][name]
    report.__name__ = name
    return report
