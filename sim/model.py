"""ClusterModel: two innovation clusters, Daedeok Innopolis and Pangyo Techno Valley,
and the ties between them.

One step is one quarter, from 2018Q1 to the fourth quarter of ``until_year``, after a
spin-up of ``spin_up_years`` uncoupled years from which the 2018 state emerges.
:meth:`ClusterModel.step` runs the stages of docs/ODD.md's process overview (section 3)
in order; each stage is a rule of the agent kind it belongs to, vectorised over that
kind's agents, and hands its result to the next stage explicitly.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import numbers
import pickle
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim import metrics, observation, pairing, scenarios
from sim.agents import ClusterAgent, ResearchInstitute, SupportAgency, University, Venture
from sim.calibration import CLUSTER_NAMES, CLUSTERS, DOMAINS, FIRST_VALLEY_M2
from sim.knowledge import draw_profiles
from sim.network import TieTable
from sim.params import (
    FROM_2018,
    QUARTERS_PER_YEAR,
    START_YEAR,
    ParameterError,
    Params,
    check_names,
)
from sim.policy import Regime
from sim.population import AGENCY, INSTITUTE, UNIVERSITY, VENTURE, Population
from sim.programmes import ProgrammeBook
from sim.projects import TIE, JointProjects

_KIND_CLASSES: dict[int, type[ClusterAgent]] = {
    INSTITUTE: ResearchInstitute, UNIVERSITY: University, VENTURE: Venture,
    AGENCY: SupportAgency,
}

#: What a model takes as its seed (``rng``): a non-negative integer of any integer type,
#: a numpy ``Generator`` or ``SeedSequence``, or None for a fresh one.
Seed = int | np.random.Generator | np.random.SeedSequence | None

#: Per-quarter series the DataCollector records (per cluster where suffixed), from the
#: one schema in :mod:`sim.observation`.
QUARTERLY_SERIES: tuple[str, ...] = observation.columns()


class ClusterModel(mesa.Model):
    """Two innovation clusters with tunable coupling and capability.

    The inputs are a :class:`sim.params.Params` (``params``; its defaults when left
    out) and any of its fields as keyword arguments, which take precedence (validated on
    construction; ``help(ClusterModel)`` lists every one with its default), plus
    ``rng``, the seed: a non-negative integer of any integer type,
    a numpy ``Generator`` or ``SeedSequence``, or None for a fresh one; and
    ``record_agents``: when true, the DataCollector records every agent each quarter
    (:data:`AGENT_REPORTS`; off by default, where it costs nothing); and
    ``summary_only``: when true, the model records only what :meth:`summary` reads
    (:func:`sim.observation.summary_series` every quarter, every series at the horizon;
    no spin-up history, no quarterly frames), which a sweep that stores no series
    asks for, as the state of the clusters need not be measured every quarter. An
    unknown keyword
    or a bad value raises :class:`~sim.params.ParameterError` naming it. The spin-up runs
    on construction; then run to the horizon with :meth:`run_model` and read
    :meth:`summary` or ``datacollector.get_model_vars_dataframe()`` (one row per quarter,
    indexed by its label; ``scenario`` and ``coupling_type`` filled in the last quarter,
    so that ``mesa.batch_run`` rows carry them).
    """

    #: The run's uncoupled twin, for its paired synergy (:mod:`sim.pairing`): its start
    #: is kept on construction (a copy made by branch() shares its original's); None
    #: for an uncoupled run, its own twin.
    uncoupled_twin: pairing.UncoupledTwin | None = None

    def __init__(self, params: Params | None = None, *, rng: Seed = None,
                 record_agents: bool = False, summary_only: bool = False,
                 **parameters: Any) -> None:
        check_names(parameters)
        if params is not None and not isinstance(params, Params):
            raise ParameterError(f"params must be a sim.params.Params, got "
                                 f"{type(params).__name__}")
        # a typed Params (what an IDE sees), keyword values over it, both checked here
        self.params = (Params(**parameters) if params is None
                       else dataclasses.replace(params, **parameters) if parameters
                       else params)
        super().__init__(rng=_seed(rng))
        #: The integer seed when one was given (JSON-safe in summary()); None otherwise.
        self.seed = int(rng) if isinstance(rng, numbers.Integral) else None
        params = self.params
        self.population = Population(len(DOMAINS))
        self.ties = TieTable()
        self.home_mix = np.array([profile.domain_shares for profile in CLUSTERS])
        #: The quarterly records from 2018Q1 (:func:`sim.observation.record`), oldest
        #: first: the run's one observation, which ``totals`` and the DataCollector read.
        self.history: list[dict[str, Any]] = []
        #: The spin-up's quarterly records (same columns as ``history``, quarters before
        #: 2018Q1): the clusters' history, which targets before 2018 are read from.
        self.spin_up_history: list[dict[str, Any]] = []
        #: The budgeted programmes' purses (:mod:`sim.programmes`): empty until 2018Q1.
        self.programmes = ProgrammeBook()
        #: Whether only what the summary reads is recorded (see the class).
        self.summary_only = bool(summary_only)

        # The spin-up: quarters numbered up to 0, uncoupled and without policies. It runs
        # on the spin-up parameters (the inputs that take effect from 2018Q1 at their
        # defaults), so it cannot depend on them: see branch().
        self.params = params.for_spin_up()
        self.quarter_number = 1 - params.spin_up_steps
        self.regime = Regime.in_quarter(self.params, self.quarter_number)
        self._populate()
        self._tie_within_clusters()
        # distinctiveness in the spin-up's records is relative to its first quarter
        self.initial_cluster_distance = self.cluster_distance()
        for _ in range(params.spin_up_steps):
            # the class's step, not Mesa's counting wrapper: the spin-up is before 2018Q1
            type(self).step(self)
        self.params = params
        self.regime = Regime.in_quarter(params, self.quarter_number)
        self.initial_cluster_distance = self.cluster_distance()

        self.datacollector = QuarterlyCollector(
            self.history,
            # each agent each quarter: off by default, where it costs nothing
            agent_reporters=({name: functools.partial(_report_agent, name=name)
                              for name in AGENT_REPORTS} if record_agents else None),
            complete=not summary_only)
        self.running = True
        self.uncoupled_twin = pairing.UncoupledTwin.before_first_step(self)

    def branch(self, **parameters: Any) -> ClusterModel:
        """A copy of this model at 2018Q1 with other values of inputs that take effect
        from 2018Q1 (:data:`sim.params.FROM_2018`: coupling, its schedule, investment,
        the policies, the horizon, the thresholds).

        The copy is the run a fresh ``ClusterModel`` with the same seed and the changed
        parameters would be, bit for bit, without running the spin-up again: the
        spin-up never reads those inputs. Parameters that shape the spin-up may be
        passed only with their current values. Raises :class:`RuntimeError` once the
        model has stepped past 2018Q1's start, :class:`~sim.params.ParameterError` for
        an unknown name, a bad value or a changed spin-up input.
        """
        return next(self.branches([parameters]))

    def branches(self, inputs: Iterable[Mapping[str, Any]]) -> Iterator[ClusterModel]:
        """:meth:`branch` for each mapping of ``inputs`` in turn, all from one snapshot
        of this model, taken when the first copy is made (copies are made one at a
        time, as they are asked for). Each mapping is checked before its copy is made,
        with the errors of :meth:`branch`."""
        if self.quarter_number != 1 or self.history:
            raise RuntimeError("branch() needs a model at the start of 2018Q1, "
                               "before its first step")
        return self._copies(inputs)

    def _copies(self, inputs: Iterable[Mapping[str, Any]]) -> Iterator[ClusterModel]:
        snapshot: bytes | None = None
        for parameters in inputs:
            params = self._branch_params(parameters)
            if snapshot is None:
                # a pickle round trip copies a model about four times as fast as
                # copy.deepcopy; one snapshot serves every copy
                snapshot = pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)
            twin = pickle.loads(snapshot)
            twin.params = params
            twin.regime = Regime.in_quarter(params, twin.quarter_number)
            if twin.uncoupled_twin is None and not pairing.is_uncoupled(params):
                # an uncoupled original kept no start; the snapshot is one
                twin.uncoupled_twin = pairing.UncoupledTwin(snapshot)
            yield twin

    def _branch_params(self, parameters: Mapping[str, Any]) -> Params:
        """This model's parameters with ``parameters`` changed, if they may change."""
        check_names(parameters)
        params = dataclasses.replace(self.params, **parameters)
        shaping = sorted(name for name in parameters
                         if name not in FROM_2018
                         and getattr(params, name) != getattr(self.params, name))
        if shaping:
            raise ParameterError(
                f"branch() cannot change {', '.join(shaping)}: the spin-up depends on "
                f"{'it' if len(shaping) == 1 else 'them'}; build a new ClusterModel")
        return params

    # --- initialisation ------------------------------------------------------------------
    def _populate(self) -> None:
        """Create every agent of both clusters from the calibration at ``scale``; each
        agent's capability stock is drawn around its cluster's endowment. Under
        ``observed_start`` the ventures are the clusters' observed counts in the year the
        spin-up starts, at Daedeok's surveyed stage mix (Section 5.1)."""
        params, rng = self.params, self.rng
        factors = (params.ventures_daedeok_factor, params.ventures_pangyo_factor)
        start = self.year if params.observed_start else None
        for cluster, profile in enumerate(CLUSTERS):
            counts = profile.populations(params.scale, ventures_factor=factors[cluster],
                                         year=start)
            stage_mix = profile.start_stage_mix(params.observed_start)
            endowment = params.cluster_capability(cluster)
            for kind, key in ((INSTITUTE, "institutes"), (UNIVERSITY, "universities"),
                              (VENTURE, "ventures"), (AGENCY, "agencies")):
                n = counts[key]
                centres = np.repeat(profile.domain_shares[None, :], n, axis=0)
                columns: dict[str, Any] = {
                    "kind": kind, "cluster": np.full(n, cluster, dtype=np.int8),
                    "absorptive": np.clip(
                        endowment + rng.normal(0.0, params.absorptive_spread, n), 0.0, 1.0),
                    "cross_propensity": params.cross_propensity_initial,
                }
                if kind == VENTURE:
                    columns |= Venture.established(self, n, stage_mix)
                self.enrol(self.population.append(
                    draw_profiles(rng, centres, params.profile_concentration), **columns))
        # the starting organisations are Mesa agents from the start (the agencies act
        # one by one); ventures founded later are seated when asked for
        self.seat_newcomers()

    def _tie_within_clusters(self) -> None:
        """The initial collaboration network: random intra-cluster ties, none across."""
        pop, rng = self.population, self.rng
        for cluster in range(len(CLUSTER_NAMES)):
            members = np.flatnonzero(pop.active() & (pop.cluster == cluster))
            n = round(self.params.initial_ties_per_agent * len(members) / 2)
            if len(members) < 2 or n == 0:
                continue
            a = members[rng.integers(len(members), size=n)]
            b = members[rng.integers(len(members), size=n)]
            distinct = a != b
            self.ties.strengthen(a[distinct], b[distinct], gain=0.0,
                                 initial=self.params.tie_initial, now=self.quarter_number)

    # --- the state of the clusters ----------------------------------------------------------
    @property
    def capability_stock(self) -> np.ndarray:
        """Each cluster's capability stock: the mean absorptive capacity of its living
        collaborating agents (0 for a cluster without any)."""
        pop = self.population
        active = pop.active()
        stock = np.zeros(len(CLUSTER_NAMES))
        for c in range(len(CLUSTER_NAMES)):
            members = pop.absorptive.compress(active & (pop.cluster == c))
            if len(members):
                # a running sum adds in row order, as bincount's weighted count did,
                # at a fraction of its cost
                stock[c] = members.cumsum()[-1] / len(members)
        return stock

    def ventures_by_cluster(self) -> np.ndarray:
        """Living ventures in each cluster."""
        pop = self.population
        return pop.count_by_cluster(pop.alive & (pop.kind == VENTURE), len(CLUSTER_NAMES))

    @property
    def year(self) -> int:
        """Calendar year of the current quarter (before 2018 in the spin-up)."""
        return START_YEAR + (self.quarter_number - 1) // QUARTERS_PER_YEAR

    def capacity(self) -> np.ndarray:
        """Ventures each cluster can hold this quarter, at the model's scale
        (Section 7.16.2): ``inf`` for a cluster without a limit."""
        capacity = np.array(self.params.capacity_in(self.year)) * self.params.scale
        if not self.programmes.floor_bought:
            return capacity
        built = self.programmes.floor_space_open(self.params, self.quarter_number)
        if built.any():
            # places on new floor space: the first valley's floor space per venture
            capacity = capacity + built * self.params.capacity_pangyo / FIRST_VALLEY_M2
        return capacity

    def crowding(self) -> np.ndarray:
        """How crowded each cluster is, 0 to 1 (Section 7.16.2): its occupancy (living
        ventures over capacity, at most 1) to the power ``crowding_shape``; exactly 0
        for a cluster without a limit."""
        capacity = self.capacity()
        if np.isinf(capacity).all():  # nothing to count: read several times a quarter
            return np.zeros(len(capacity))
        occupancy = np.minimum(self.ventures_by_cluster() / capacity, 1.0)
        return occupancy ** self.params.crowding_shape

    def room(self) -> np.ndarray:
        """Places for ventures left in each cluster (``inf`` without a limit)."""
        capacity = self.capacity()
        if np.isinf(capacity).all():
            return capacity
        return np.maximum(np.floor(capacity) - self.ventures_by_cluster(), 0.0)

    def cluster_distance(self) -> float:
        """Cognitive distance between the clusters' mean profiles."""
        pop = self.population
        active = pop.active()
        # compress: the rows of boolean indexing, several times faster on a 2-D array
        members = [pop.profile.compress(active & (pop.cluster == c), axis=0)
                   for c in range(len(CLUSTER_NAMES))]
        # the sum and division of mean(axis=0), without its wrapper
        means = [np.add.reduce(rows, axis=0) / len(rows) for rows in members]
        return metrics.cluster_distance(*means)

    # --- one quarter --------------------------------------------------------------------------
    def step(self) -> None:
        """One quarter, in the order of docs/ODD.md section 3. Past the horizon it
        does nothing."""
        if self.quarter_number > self.params.steps:
            self.steps -= 1  # Mesa counted a step that does not happen
            return
        self.regime = Regime.in_quarter(self.params, self.quarter_number)
        self.programmes.open_quarter(self.params, self.quarter_number)
        self.programmes.buy_floor_space(self.params, self.quarter_number)
        self.loosen_ties()
        productivity = ResearchInstitute.research_productivity(self)
        # the agencies (seated from the start) without seating the quarter's newcomers
        brokered = super().agents_by_type[SupportAgency].shuffle().map("step", productivity)
        searched = ClusterAgent.search_partners(self, productivity)
        tied = self.tie_projects()
        projects, crowded_out = ClusterAgent.allocate_attention(
            self, JointProjects.concat(tied, *brokered, searched), productivity)
        outcome = ClusterAgent.collaborate(self, projects, productivity)
        trained = (University.train(self.population.kind, projects, len(self.population))
                   + University.train_funded(self))
        drained = ClusterAgent.accumulate_capability(self, outcome, trained)
        scaled, exited = Venture.life_cycle(self, outcome)
        self.remove(exited)
        relocated, movers_turned_away = Venture.relocate(self, outcome)
        founding = Venture.found(self, ClusterAgent.spin_off_parents(self, outcome)).plus(
            Venture.found_on_grants(self, ClusterAgent.granted_spin_off_parents(self)))
        entrants, entrants_turned_away = Venture.enter(self)
        moved_in = Venture.move_in(self)
        self.population.age[self.population.alive] += 1
        events = observation.QuarterEvents(
            outcome=outcome, crowded_out=crowded_out, scaled=scaled, exited=exited,
            relocated=relocated, spin_offs=founding.rows,
            spin_off_parents=founding.parents, entrants=entrants, moved_in=moved_in,
            turned_away=movers_turned_away + founding.turned_away + entrants_turned_away,
            drained=drained)
        self.observe(events)
        self.compact()
        self.quarter_number += 1
        if self.quarter_number > self.params.steps:
            self.running = False
            self._record_end_state()

    def loosen_ties(self) -> None:
        """Tie decay and pruning (Section 7.2): every tie loses ``tie_decay`` of its
        weight, less the older it is under lock-in (the rate divided by
        ``1 + age / lock_in_quarters``); ties below ``tie_floor`` are dropped."""
        params = self.params
        rate = params.tie_decay
        if params.lock_in and len(self.ties):
            rate = rate / (1.0 + self.ties.ages(self.quarter_number) / params.lock_in_quarters)
        self.ties.decay(rate, params.tie_floor)

    def tie_projects(self) -> JointProjects:
        """Projects on existing ties (Section 7.6): each tie runs one with chance
        ``tie_activity x weight``."""
        rows = self.ties.active(self.rng, self.params.tie_activity)
        a, b = self.ties.ends
        return JointProjects.of(TIE, a[rows], b[rows], self.ties.weights[rows],
                                self.ties.ages(self.quarter_number)[rows])

    def remove(self, rows: np.ndarray) -> None:
        """Exited ventures leave the network and the Mesa model (their rows stay until
        :meth:`compact`; one never seated has no agent to remove)."""
        if len(rows) == 0:
            return
        gone = np.zeros(len(self.population), dtype=bool)
        gone[rows] = True
        self.ties.drop_agents(gone)
        agent = self.population.agent
        for row in rows.tolist():
            if agent[row] is not None:
                agent[row].remove()

    # --- Mesa's agents -----------------------------------------------------------------------
    def enrol(self, rows: np.ndarray) -> None:
        """Give new rows (from :meth:`Population.append`) the ``unique_id`` their Mesa
        agents will have, in order. The agents themselves are made by
        :meth:`seat_newcomers`, when something asks for them: the rules act on the
        columns, so a venture founded and gone between two questions costs no Mesa
        bookkeeping, and the ids are those agents made at once would have had."""
        self.population.agent_id[rows] = self.agent_id_counter + np.arange(len(rows))
        self.agent_id_counter += len(rows)

    def seat_newcomers(self) -> None:
        """Make the Mesa agent of every living row that has none yet, in row order (the
        order of their ids, so ``model.agents`` lists agents as if each had been made
        with its row). Called by :attr:`agents`, :attr:`agents_by_type` and
        :meth:`agent_of`; a no-op when every living row has its agent."""
        pop = self.population
        rows = pop.unseated()
        if len(rows) == 0:
            return
        counter = self.agent_id_counter  # Mesa numbers an agent as it registers it
        for row, kind, agent_id in zip(rows.tolist(), pop.kind[rows].tolist(),
                                       pop.agent_id[rows].tolist(), strict=True):
            _KIND_CLASSES[kind](self, row).unique_id = agent_id
        self.agent_id_counter = counter

    @property
    def agents(self) -> mesa.agent.AgentSet:
        """Mesa's set of the living agents (every organisation, its agent made if it was
        not yet: :meth:`seat_newcomers`)."""
        self.seat_newcomers()
        return super().agents

    @property
    def agents_by_type(self) -> dict[type, mesa.agent.AgentSet]:
        """Mesa's living agents by class (made if they were not yet, as for
        :attr:`agents`)."""
        self.seat_newcomers()
        return super().agents_by_type

    def agent_of(self, row: int) -> ClusterAgent:
        """The Mesa agent of a living ``row`` of the population (made if it was not
        yet)."""
        agent = self.population.agent[row]
        if agent is None:
            self.seat_newcomers()
            agent = self.population.agent[row]
        if agent is None:
            raise ValueError(f"row {row} is not a living agent's")
        return agent

    def compact(self) -> None:
        """Housekeeping, not behaviour: once exited ventures' rows outnumber the living
        ones, drop them and renumber the living in order, so the cost of a quarter
        follows the living agents, not everyone who ever lived. The population
        renumbers its rows' agents with the rows; the ties follow."""
        pop = self.population
        if 2 * int(pop.alive.sum()) >= len(pop):
            return
        self.ties.renumber(pop.compact())

    # --- observation -------------------------------------------------------------------------
    def observe(self, events: observation.QuarterEvents) -> None:
        """Record the quarter in ``history`` (Section 7.19) and let the DataCollector
        collect it; in the spin-up, record it in ``spin_up_history`` alone (the
        clusters' history, not the run's observation: not in the totals or the
        DataCollector). A summary-only model keeps no spin-up history and records its
        quarters before the horizon in part (:func:`sim.observation.summary_series`).
        Observation draws no random number, so what is recorded never changes a run."""
        if self.quarter_number <= 0:
            if not self.summary_only:
                self.spin_up_history.append(observation.record(
                    observation.Quarter(self, events),
                    self.quarter_from(self.quarter_number), self.spin_up_history))
            return
        at_horizon = self.quarter_number >= self.params.steps
        self.history.append(observation.record(
            observation.Quarter(self, events), self.quarter_from(self.quarter_number),
            self.history,
            observation.summary_series() if self.summary_only and not at_horizon else None))
        self.datacollector.collect(self)

    def _record_end_state(self) -> None:
        """Give the DataCollector the run's scenario and coupling type for its last
        quarter (after the step, when the run and its uncoupled twin stand at the same
        quarter), so that ``mesa.batch_run`` rows carry them."""
        self.datacollector.end_state = {"scenario": self.current_scenario(),
                                        "coupling_type": self.current_coupling_type()}

    @property
    def totals(self) -> dict[str, int]:
        """Events since 2018Q1: innovations, inter-cluster innovations, births,
        entries, exits, scale-ups and relocations (:data:`sim.observation.TOTALS`),
        summed over ``history`` on each read."""
        return observation.totals(self.history)

    @staticmethod
    def quarter_from(number: int) -> str:
        """The label of quarter ``number`` (1 = 2018Q1)."""
        year, q = divmod(number - 1, QUARTERS_PER_YEAR)
        return f"{START_YEAR + year}Q{q + 1}"

    @property
    def quarter(self) -> str:
        """The quarter last simulated, e.g. '2030Q4' ('2017Q4' before the first step)."""
        return self.quarter_from(self.quarter_number - 1)

    # --- running and reporting ------------------------------------------------------------------
    def run_model(self) -> None:
        """Run to the fourth quarter of ``until_year``."""
        while self.running:
            self.step()

    def collaboration_graph(self) -> Any:
        """The current collaboration network as a networkx graph; nodes carry the
        agent's kind, cluster and Mesa agent."""
        pop = self.population
        alive = np.flatnonzero(pop.active())
        graph = self.ties.to_networkx(alive)
        self.seat_newcomers()
        for row in alive.tolist():
            graph.nodes[row].update(kind=int(pop.kind[row]), cluster=int(pop.cluster[row]),
                                    agent=pop.agent[row])
        return graph

    def summary(self) -> dict[str, Any]:
        """Indices at the horizon (or now), the scenario and the coupling type.

        The capability and cooperation indices cover the last four quarters run.
        ``paired_synergy`` is :meth:`paired_synergy`: None unless both are high, the
        only case whose scenario needs it (and the only one that runs the twin)."""
        if not self.history:
            raise RuntimeError("summary() needs at least one step; call run_model() first")
        if self.summary_only and self.quarter_number <= self.params.steps:
            raise RuntimeError("a model built with summary_only=True has its summary at the "
                               "horizon only; call run_model() first")
        params = self.params
        last = self.history[-1]
        totals = self.totals
        a, b = self.ties.ends
        cluster = self.population.cluster
        network = {key: last[key] for key in ("ties", "inter_cluster_ties", "density")}
        network["modularity"] = metrics.cluster_modularity(
            self.ties.weights, cluster[a], cluster[b], len(CLUSTER_NAMES))
        capability = last["capability_index"]
        cooperation = last["cooperation_index"]
        distinct = last["distinctiveness"]
        threshold = self.capability_threshold
        return {
            "scenario": self.current_scenario(),
            "coupling_type": self.current_coupling_type(),
            "paired_synergy": self.paired_synergy(),
            "capability_index": capability,
            "capability_index_daedeok": last["capability_index_daedeok"],
            "capability_index_pangyo": last["capability_index_pangyo"],
            "cooperation_index": cooperation,
            "knowledge_flow_inter_share": last["knowledge_flow_inter_share"],
            "distinctiveness": distinct,
            "innovations_total": totals["innovations"],
            "innovations_inter": totals["innovations_inter"],
            "ventures_alive": last["ventures_daedeok"] + last["ventures_pangyo"],
            "ventures_daedeok": last["ventures_daedeok"],
            "ventures_pangyo": last["ventures_pangyo"],
            "births": totals["births"],
            "exits": totals["exits"],
            "scale_ups": totals["scale_ups"],
            "relocations": totals["relocations"],
            "entries": totals["entries"],
            "capability_stock_daedeok": last["capability_stock_daedeok"],
            "capability_stock_pangyo": last["capability_stock_pangyo"],
            "programme_spent": self.programmes.total_spent(params),
            **network,
            "capability_threshold": threshold,
            "quarter": self.quarter,
            "seed": self.seed,
        }

    def current_scenario(self) -> str | None:
        """The scenario of the last four quarters run (None before the first step); at
        the horizon, the run's scenario. High capability and cooperation count as
        synergy only with a positive :meth:`paired_synergy`."""
        if not self.history:
            return None
        last = self.history[-1]
        return scenarios.classify(
            last["capability_index"], last["cooperation_index"], self.paired_synergy(),
            capability_threshold=self.capability_threshold,
            cooperation_threshold=self.params.cooperation_threshold)

    def current_coupling_type(self) -> str | None:
        """The coupling type of the last four quarters run (None before the first
        step): cooperation against distinctiveness (Section 7.19.5)."""
        if not self.history:
            return None
        last = self.history[-1]
        return scenarios.coupling_type(
            last["cooperation_index"], last["distinctiveness"],
            cooperation_threshold=self.params.cooperation_threshold,
            distinctiveness_threshold=self.params.distinctiveness_threshold)

    def paired_synergy(self) -> float | None:
        """Innovations since 2018Q1 over those of the uncoupled twin to the same
        quarter, minus one (:func:`sim.pairing.synergy_of`), when the last four quarters
        are high in both capability and cooperation; None otherwise (and before the
        first step), without building the twin. The twin is built and stepped on the
        first call that needs it and kept, so later calls cost only the quarters
        added since."""
        if not self.history:
            return None
        last = self.history[-1]
        if not scenarios.needs_synergy(
                last["capability_index"], last["cooperation_index"],
                capability_threshold=self.capability_threshold,
                cooperation_threshold=self.params.cooperation_threshold):
            return None
        return pairing.synergy_of(self)

    @property
    def capability_threshold(self) -> float:
        """The 'high capability' threshold: a fixed number (the parameter), never
        derived from the run."""
        return self.params.capability_threshold


BASELINE_SEEDS = 10
"""Runs averaged for the 2018 baseline (seeds 0-9)."""


def baseline_capability_indices(scale: float = 1.0,
                                seeds: int = BASELINE_SEEDS) -> tuple[float, ...]:
    """The 2018 capability index of the default model at ``scale``, for seeds
    ``0 .. seeds-1``: how the default threshold
    (:data:`sim.params.CAPABILITY_BASELINE_2018`) was computed."""
    values = []
    for seed in range(seeds):
        model = ClusterModel(rng=seed, scale=scale, until_year=START_YEAR)
        model.run_model()
        values.append(model.history[-1]["capability_index"])
    return tuple(values)


def _seed(rng: Any) -> Any:
    """The seed as Mesa takes it: None, a numpy Generator or SeedSequence, or a
    non-negative integer (numpy integers, as read back from a results table, included)."""
    if rng is None or isinstance(rng, np.random.Generator | np.random.SeedSequence):
        return rng
    if isinstance(rng, bool | np.bool_) or not isinstance(rng, numbers.Integral) or rng < 0:
        raise ParameterError(f"rng (the seed) must be a non-negative integer or None, "
                             f"got {rng!r}")
    return int(rng)


#: The run's end state, recorded in its last quarter only (None before: a scenario is
#: read at the horizon), so that ``mesa.batch_run`` rows carry it.
END_STATE_REPORTS: tuple[str, ...] = ("scenario", "coupling_type")

#: What ``record_agents=True`` records of every agent each quarter.
AGENT_REPORTS: tuple[str, ...] = ("kind", "cluster", "stage", "cash", "absorptive")


def _report_agent(agent: ClusterAgent, name: str) -> Any:
    population = agent.model.population
    if name == "kind":
        return type(agent).__name__
    if name == "cluster":
        return CLUSTER_NAMES[int(population.cluster[agent.index])]
    value = getattr(population, name)[agent.index]
    return int(value) if name == "stage" else float(value)


class QuarterlyCollector(mesa.DataCollector):
    """Mesa's DataCollector over the model's history, its frames indexed by quarter
    (``"2018Q1"``...), not by step.

    The model-level values are not copied: ``model_vars`` (what Mesa and
    ``mesa.batch_run`` read) shows, for each quarter collected, its record in the
    history (:data:`QUARTERLY_SERIES`), then the run's end state
    (:data:`END_STATE_REPORTS`, in the last quarter once the run is over, None before).
    What the collector keeps itself is only what the history does not hold: which
    quarters it collected, the end state and, with agent reporters, each agent's row
    each quarter.
    """

    def __init__(self, history: list[dict[str, Any]],
                 agent_reporters: dict[str, Any] | None = None,
                 complete: bool = True) -> None:
        super().__init__(agent_reporters=agent_reporters)
        #: The records it reads: the model's own ``history``, which the model appends to.
        self.history = history
        #: False for a summary-only model, whose records hold part of the series.
        self.complete = complete
        #: Positions in the history of the quarters collected, oldest first.
        self.collected: list[int] = []
        #: The run's scenario and coupling type, given by the model at its horizon.
        self.end_state: dict[str, str | None] = {}
        self.model_vars = _RecordColumns(self)  # type: ignore[assignment]

    def collect(self, model: mesa.Model) -> None:
        """Collect the latest quarter: note its record and, when agents are recorded,
        record them (Mesa's collection, without model reporters)."""
        self._collection_steps.append(model.time)
        self.collected.append(len(self.history) - 1)
        super().collect(model)

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """One row per quarter collected: its record's columns, then the end state."""
        frame = pd.DataFrame(dict(self.model_vars.items()))
        return frame.set_axis(pd.Index([self.history[i]["quarter"] for i in self.collected],
                                       name="quarter"))

    def get_agent_vars_dataframe(self) -> pd.DataFrame:
        if not self.agent_reporters:
            raise RuntimeError("agents are recorded only by a model built with "
                               "record_agents=True")
        frame = super().get_agent_vars_dataframe().reset_index()
        frame["quarter"] = [ClusterModel.quarter_from(int(step)) for step in frame["Step"]]
        return frame.drop(columns="Step").set_index(["quarter", "AgentID"])


class _RecordColumns(Mapping[str, list[Any]]):
    """The collector's model-level columns, read from the history on each access."""

    def __init__(self, collector: QuarterlyCollector) -> None:
        self._collector = collector

    def __iter__(self) -> Iterator[str]:
        return iter((*QUARTERLY_SERIES, *END_STATE_REPORTS))

    def __len__(self) -> int:
        return len(QUARTERLY_SERIES) + len(END_STATE_REPORTS)

    def __getitem__(self, name: str) -> list[Any]:
        collector = self._collector
        if name in END_STATE_REPORTS:
            column: list[Any] = [None] * len(collector.collected)
            if column and name in collector.end_state:
                column[-1] = collector.end_state[name]
            return column
        if name not in QUARTERLY_SERIES:
            raise KeyError(name)
        if not collector.complete:
            raise RuntimeError("a model built with summary_only=True records no quarterly "
                               "series; build it without to read them")
        history = collector.history
        return [history[i][name] for i in collector.collected]


def _signature() -> inspect.Signature:
    """``ClusterModel.__init__``'s signature with every input of :class:`Params` as a
    keyword with its type and default, so that ``help()`` and ``inspect`` show them."""
    own = inspect.signature(ClusterModel.__init__)
    fields = [inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY,
                                default=field.default, annotation=field.type)
              for field in dataclasses.fields(Params)]
    kept = [p for p in own.parameters.values() if p.kind is not p.VAR_KEYWORD]
    return own.replace(parameters=[*kept, *fields])


def _inputs_text() -> str:
    """Every input of :class:`Params`: name, type, default, range and meaning, one line
    each (from :meth:`Params.describe`)."""
    lines = ["", "    Inputs (the fields of :class:`sim.params.Params`)::", ""]
    kinds = {field.name: field.type for field in dataclasses.fields(Params)}
    for name, spec in Params.describe().items():
        low, high = spec["low"], spec["high"]
        span = (f" in {'(' if spec['low_open'] else '['}{low:g}, {high:g}]"
                if low is not None and high is not None else "")
        unit = f" {spec['unit']}" if spec["unit"] else ""
        lines.append(f"        {name}: {kinds[name]} = {spec['default']!r}{unit}{span}: "
                     f"{spec['help']}")
    return "\n".join(lines) + "\n"


ClusterModel.__init__.__signature__ = _signature()  # type: ignore[attr-defined]
ClusterModel.__doc__ = (ClusterModel.__doc__ or "") + _inputs_text()
