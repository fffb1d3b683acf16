"""What the model records each quarter: one schema for the quarterly record and the
DataCollector (docs/ODD.md, section 7.19).

Every series is declared once, in :data:`SCHEMA`, with what it means and how it is
measured. A per-cluster series is measured as an array over the clusters and recorded
as one column per cluster (``ventures_daedeok``, ``ventures_pangyo``); an annual series
is measured over the records of the last four quarters. :func:`columns` lists the
recorded columns, from which the model builds its DataCollector, so the two cannot
drift apart.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from sim import metrics
from sim.calibration import CLUSTER_NAMES, DOMAINS, STAGES
from sim.network import TieTable
from sim.params import QUARTERS_PER_YEAR, Params
from sim.policy import Regime
from sim.population import VENTURE, Population
from sim.programmes import ProgrammeBook
from sim.projects import JointProjects, ProjectOutcome

N_CLUSTERS = len(CLUSTER_NAMES)
_IT = DOMAINS.index("IT")


class ObservedModel(Protocol):
    """What observation reads of the model (:class:`sim.model.ClusterModel`)."""

    params: Params
    population: Population
    ties: TieTable
    regime: Regime
    programmes: ProgrammeBook
    quarter_number: int
    initial_cluster_distance: float
    history: list[dict[str, Any]]  # the records from 2018Q1, this quarter's not yet

    @property
    def capability_stock(self) -> np.ndarray: ...

    def ventures_by_cluster(self) -> np.ndarray: ...

    def cluster_distance(self) -> float: ...


@dataclass(frozen=True)
class QuarterEvents:
    """What happened in one quarter, as the stages handed it on."""

    outcome: ProjectOutcome
    crowded_out: JointProjects
    scaled: np.ndarray
    exited: np.ndarray
    relocated: np.ndarray
    spin_offs: np.ndarray
    spin_off_parents: np.ndarray  # the spin-offs' parents, in the same order
    entrants: np.ndarray
    moved_in: np.ndarray  # established firms that moved in from outside the clusters
    turned_away: np.ndarray  # per cluster: would-be newcomers that found no place
    drained: float


@dataclass(frozen=True)
class Quarter:
    """A quarter to observe: the model after its last stage, and the quarter's events."""

    model: ObservedModel
    events: QuarterEvents

    @functools.cached_property
    def active(self) -> np.ndarray:
        """Mask of the living collaborating agents (read by several series)."""
        return self.model.population.active()

    @functools.cached_property
    def ventures(self) -> np.ndarray:
        """Mask of the living ventures (read by several series)."""
        pop = self.model.population
        return pop.alive & (pop.kind == VENTURE)

    @functools.cached_property
    def ventures_by_stage(self) -> np.ndarray:
        """Living ventures at each stage (rows) in each cluster (columns): one count
        for the three stages' series."""
        pop = self.model.population
        cell = (pop.stage.compress(self.ventures).astype(np.intp) * N_CLUSTERS
                + pop.cluster.compress(self.ventures))
        return np.bincount(cell, minlength=len(STAGES) * N_CLUSTERS).reshape(
            len(STAGES), N_CLUSTERS)

    def per_cluster(self, rows: np.ndarray) -> np.ndarray:
        """How many of ``rows`` sit in each cluster (now)."""
        return np.bincount(self.model.population.cluster[rows], minlength=N_CLUSTERS)

    def count_by_cluster(self, mask: np.ndarray) -> np.ndarray:
        """How many of the rows flagged in ``mask`` sit in each cluster (now): for a
        mask over the whole population, cheaper than :meth:`per_cluster` of its rows."""
        return self.model.population.count_by_cluster(mask, N_CLUSTERS)


@dataclass(frozen=True)
class Series:
    """One recorded quantity, declared once: everything else that names a series (the
    DataCollector, the Parquet columns and their units, docs/OUTPUTS.md, the targets'
    model outputs) is derived from it. ``measure`` takes a :class:`Quarter` (or, for an
    annual series, the list of the last four records) and returns a number, or an array
    over clusters when ``per_cluster``; ``unit`` and ``kind`` (``"int64"`` or
    ``"float64"``) are its stored unit and type; ``extensive`` says that it counts
    agents or events, so grows with the population (a target reads it at scale 1).
    ``reads``, for an annual series, names the columns its measure reads from the
    year's records (:func:`summary_series` keeps them in a summary-only record)."""

    name: str
    description: str
    measure: Callable[[Any], Any]
    per_cluster: bool = False
    annual: bool = False
    unit: str = ""
    kind: str = "float64"
    extensive: bool = False
    reads: tuple[str, ...] = ()

    @functools.cached_property
    def columns(self) -> tuple[str, ...]:
        """The record's column names for this series (named once: read every quarter)."""
        if not self.per_cluster:
            return (self.name,)
        return tuple(f"{self.name}_{c.lower()}" for c in CLUSTER_NAMES)


def _research_births(q: Quarter) -> np.ndarray:
    parents = q.events.spin_off_parents
    return q.per_cluster(parents[q.model.population.research[parents]])


def _ventures_at(stage: int) -> Callable[[Quarter], np.ndarray]:
    def count(q: Quarter) -> np.ndarray:
        return q.ventures_by_stage[stage]
    return count


def _it_ventures(q: Quarter) -> np.ndarray:
    # the sector a firm is registered in is its founding field (its home profile), not
    # where collaboration has since drawn its knowledge
    return q.count_by_cluster(q.ventures & _largest_is(q.model.population.home, _IT))


def _largest_is(profiles: np.ndarray, domain: int) -> np.ndarray:
    """Mask of the rows of ``profiles`` whose largest share is ``domain``, the first
    one when shares tie (``profiles.argmax(axis=1) == domain``, column by column:
    without numpy's loop over the rows)."""
    share = profiles[:, domain]
    largest = np.ones(len(profiles), dtype=bool)
    for other in range(profiles.shape[1]):
        if other != domain:
            # argmax takes the first of equal shares: an earlier domain wins a tie
            largest &= (share > profiles[:, other]) if other < domain else (
                share >= profiles[:, other])
    return largest


def _arrivals(q: Quarter) -> np.ndarray:
    return q.per_cluster(q.events.relocated)  # the cluster after the move


def _density(q: Quarter) -> float:
    n = np.count_nonzero(q.active)
    return 2 * len(q.model.ties) / (n * (n - 1)) if n > 1 else 0.0


def _mean_tie_age(q: Quarter) -> float:
    ties = q.model.ties
    if not len(ties):
        return 0.0
    # whole quarters: their sum is exact in any order, so this is the mean numpy gives
    return int(ties.ages(q.model.quarter_number).sum()) / len(ties)


def _innovations_since_2018(q: Quarter) -> int:
    if q.model.quarter_number < 1:
        return 0  # a spin-up quarter: before 2018Q1
    run = q.model.history
    # the last record's count and this quarter's: one running count, kept in the record
    return (run[-1]["innovations_cumulative"] if run else 0) + q.events.outcome.innovations


def _total(year: Sequence[dict[str, Any]], key: str) -> float:
    return float(sum(record[key] for record in year))


def _mean(year: Sequence[dict[str, Any]], key: str) -> float:
    return _total(year, key) / len(year)


def _capability_index(year: Sequence[dict[str, Any]]) -> float:
    return metrics.capability_index(_total(year, "innovations"),
                                    _mean(year, "active_agents"),
                                    len(year) / QUARTERS_PER_YEAR)


def _capability_index_by_cluster(year: Sequence[dict[str, Any]]) -> np.ndarray:
    return np.array([metrics.capability_index(
        _total(year, f"innovations_{c.lower()}"), _mean(year, f"agents_{c.lower()}"),
        len(year) / QUARTERS_PER_YEAR) for c in CLUSTER_NAMES])


SCHEMA: tuple[Series, ...] = (
    # inputs in force
    Series("coupling_now", "coupling in force this quarter", lambda q: q.model.regime.coupling,
           unit="", kind="float64"),
    # projects and innovation
    Series("collaborations", "joint projects run",
           lambda q: len(q.events.outcome.projects),
           unit="projects/quarter", kind="int64", extensive=True),
    Series("collaborations_inter", "joint projects across the clusters",
           lambda q: int(q.events.outcome.inter.sum()),
           unit="projects/quarter", kind="int64", extensive=True),
    Series("innovations", "successful joint projects",
           lambda q: q.events.outcome.innovations,
           unit="innovations/quarter", kind="int64", extensive=True),
    Series("innovations_inter", "successful inter-cluster projects",
           lambda q: q.events.outcome.innovations_inter,
           unit="innovations/quarter", kind="int64", extensive=True),
    Series("innovations", "innovations credited to each cluster (an inter-cluster one "
           "half to each)", lambda q: q.events.outcome.innovations_by_cluster,
           per_cluster=True, unit="innovations/quarter", kind="float64", extensive=True),
    Series("innovations_cumulative", "innovations since 2018Q1",
           _innovations_since_2018, unit="innovations", kind="int64", extensive=True),
    Series("knowledge_flow", "profile change carried by all projects",
           lambda q: q.events.outcome.knowledge_flow,
           unit="profile distance/quarter", kind="float64"),
    Series("knowledge_flow_inter", "profile change carried by inter-cluster projects",
           lambda q: q.events.outcome.knowledge_flow_inter,
           unit="profile distance/quarter", kind="float64"),
    # what coupling costs
    Series("coordination_loss", "expected innovations lost to coordination over distance",
           lambda q: q.events.outcome.coordination_loss,
           unit="innovations/quarter", kind="float64"),
    Series("crowded_out", "projects that did not run for lack of attention",
           lambda q: len(q.events.crowded_out),
           unit="projects/quarter", kind="int64", extensive=True),
    Series("crowded_out_home", "intra-cluster projects that did not run for lack of "
           "attention", lambda q: int((~q.events.crowded_out.crossing(
               q.model.population.cluster)).sum()),
               unit="projects/quarter", kind="int64", extensive=True),
    Series("programme_spending", "money the budgeted programmes spent in the cluster "
           "this quarter, at the clusters' full size",
           lambda q: q.model.programmes.spent_this_quarter / (1000.0 * q.model.params.scale),
           per_cluster=True, unit="KRW bn/quarter", kind="float64"),
    Series("talent_drained", "capability stock moved from Daedeok to Pangyo partners",
           lambda q: q.events.drained, unit="absorptive capacity/quarter", kind="float64"),
    Series("tie_age_mean", "mean age of the ties, in quarters", _mean_tie_age,
           unit="quarters", kind="float64"),
    # the clusters
    Series("capability_stock", "mean capability stock (absorptive capacity) of the "
           "cluster's collaborating agents", lambda q: q.model.capability_stock,
           per_cluster=True, unit="", kind="float64"),
    Series("active_agents", "collaborating agents alive",
           lambda q: np.count_nonzero(q.active),
           unit="agents", kind="int64", extensive=True),
    Series("agents", "collaborating agents alive in each cluster",
           lambda q: q.count_by_cluster(q.active), per_cluster=True,
           unit="agents", kind="int64", extensive=True),
    Series("ventures", "ventures alive", lambda q: q.model.ventures_by_cluster(),
           per_cluster=True, unit="ventures", kind="int64", extensive=True),
    *(Series(f"ventures_{stage.replace('-', '')}", f"ventures alive at the {stage} stage",
             _ventures_at(level), per_cluster=True, unit="ventures", kind="int64", extensive=True)
      for level, stage in enumerate(STAGES)),
    Series("births", "spin-offs founded", lambda q: q.per_cluster(q.events.spin_offs),
           per_cluster=True, unit="ventures/quarter", kind="int64", extensive=True),
    Series("births_research", "spin-offs founded by research institutes and universities",
           _research_births, per_cluster=True,
           unit="ventures/quarter", kind="int64", extensive=True),
    Series("entries", "start-ups founded from outside the modelled agents",
           lambda q: q.per_cluster(q.events.entrants), per_cluster=True,
           unit="ventures/quarter", kind="int64", extensive=True),
    Series("moved_in", "established firms that moved in from outside the modelled "
           "clusters", lambda q: q.per_cluster(q.events.moved_in), per_cluster=True,
           unit="ventures/quarter", kind="int64", extensive=True),
    Series("ventures_it", "ventures alive founded in IT: the largest domain of their "
           "home profile (the sector a firm survey files them under)", _it_ventures,
           per_cluster=True, unit="ventures", kind="int64", extensive=True),
    Series("exits", "ventures that ran out of cash", lambda q: q.per_cluster(q.events.exited),
           per_cluster=True, unit="ventures/quarter", kind="int64", extensive=True),
    Series("scale_ups", "ventures that moved up a stage",
           lambda q: q.per_cluster(q.events.scaled), per_cluster=True,
           unit="ventures/quarter", kind="int64", extensive=True),
    Series("relocations_to", "ventures that moved into the cluster", _arrivals,
           per_cluster=True, unit="ventures/quarter", kind="int64", extensive=True),
    Series("turned_away", "spin-offs, entrants and movers that found no place in the "
           "full cluster", lambda q: q.events.turned_away, per_cluster=True,
           unit="ventures/quarter", kind="int64", extensive=True),
    # the network
    Series("ties", "ties in the collaboration network", lambda q: len(q.model.ties),
           unit="ties", kind="int64", extensive=True),
    Series("inter_cluster_ties", "ties across the clusters",
           lambda q: int(q.model.ties.crossing(q.model.population.cluster).sum()),
           unit="ties", kind="int64", extensive=True),
    Series("density", "density of the collaboration network", _density, unit="", kind="float64"),
    Series("distinctiveness", "distance between the clusters' mean profiles, relative "
           "to 2018Q1", lambda q: metrics.distinctiveness(
               q.model.cluster_distance(), q.model.initial_cluster_distance),
               unit="", kind="float64"),
    # annual indices, over the last four quarters
    Series("capability_index", "innovations per collaborating agent per year",
           _capability_index, annual=True, unit="1/agent/year", kind="float64",
           reads=("innovations", "active_agents")),
    Series("capability_index", "innovations credited to the cluster per agent per year",
           _capability_index_by_cluster, per_cluster=True, annual=True,
           unit="1/agent/year", kind="float64",
           reads=tuple(f"{name}_{c.lower()}" for c in CLUSTER_NAMES
                       for name in ("innovations", "agents"))),
    Series("cooperation_index", "share of the year's projects that crossed the clusters",
           lambda year: metrics.cooperation_index(_total(year, "collaborations_inter"),
                                                  _total(year, "collaborations")),
           annual=True, unit="", kind="float64",
           reads=("collaborations_inter", "collaborations")),
    Series("knowledge_flow_inter_share", "share of the year's knowledge flow that crossed "
           "the clusters",
           lambda year: metrics.cooperation_index(_total(year, "knowledge_flow_inter"),
                                                  _total(year, "knowledge_flow")),
           annual=True, unit="", kind="float64",
           reads=("knowledge_flow_inter", "knowledge_flow")),
)


def columns() -> tuple[str, ...]:
    """Every column of the quarterly record, in schema order (after ``quarter``)."""
    return tuple(column for series in SCHEMA for column in series.columns)


@dataclass(frozen=True)
class ColumnMeaning:
    """What one recorded column holds, read from its series' declaration."""

    description: str
    unit: str
    kind: str
    extensive: bool


def column_meanings() -> dict[str, ColumnMeaning]:
    """Each column of the quarterly record (schema order): meaning, unit, type and
    whether it counts agents or events, from its :class:`Series`."""
    meanings = {}
    for series in SCHEMA:
        meaning = series.description + (", over the last four quarters" if series.annual
                                        else "")
        clusters = CLUSTER_NAMES if series.per_cluster else (None,)
        for name, cluster in zip(series.columns, clusters, strict=True):
            meanings[name] = ColumnMeaning(f"{cluster}: {meaning}" if cluster else meaning,
                                           series.unit, series.kind, series.extensive)
    return meanings


#: The run's totals since 2018Q1 (:func:`totals`), each the sum of these columns of
#: the history (a per-cluster series' columns summed over the clusters).
TOTALS: dict[str, tuple[str, ...]] = {
    "innovations": ("innovations",),
    "innovations_inter": ("innovations_inter",),
    "births": tuple(f"births_{c.lower()}" for c in CLUSTER_NAMES),
    "entries": tuple(f"entries_{c.lower()}" for c in CLUSTER_NAMES),
    "exits": tuple(f"exits_{c.lower()}" for c in CLUSTER_NAMES),
    "scale_ups": tuple(f"scale_ups_{c.lower()}" for c in CLUSTER_NAMES),
    "relocations": tuple(f"relocations_to_{c.lower()}" for c in CLUSTER_NAMES),
}


def totals(history: Sequence[dict[str, Any]]) -> dict[str, int]:
    """The events counted over ``history`` (the quarterly records since 2018Q1): every
    key of :data:`TOTALS`, the sum of its columns over the records. Derived, never
    kept, so that a total cannot disagree with the quarters it sums."""
    return {key: sum(record[column] for record in history for column in columns)
            for key, columns in TOTALS.items()}


def summary_series() -> tuple[Series, ...]:
    """The series a summary-only record holds (``ClusterModel(summary_only=True)``):
    what a run's summary reads every quarter, namely the counts its totals add up
    (:data:`TOTALS`, ``innovations_cumulative``), the annual series and the columns
    they read (``reads``). The state of the clusters (capability stock, ventures by
    stage, the network, distinctiveness) is measured at the horizon only, in its full
    record."""
    schema, chosen = _SUMMARY_SERIES
    if schema is not SCHEMA:  # worked out once per schema (a series may be declared later)
        needed = {"innovations_cumulative", *(c for cols in TOTALS.values() for c in cols),
                  *(c for series in SCHEMA if series.annual for c in series.reads)}
        chosen = tuple(series for series in SCHEMA
                       if series.annual or not needed.isdisjoint(series.columns))
        _SUMMARY_SERIES[:] = [SCHEMA, chosen]
    return chosen


#: The schema :func:`summary_series` last read and its answer (the schema itself is
#: held, so that a new one is always told apart).
_SUMMARY_SERIES: list[Any] = [None, ()]


def record(quarter: Quarter, label: str, history: list[dict[str, Any]],
           schema: Sequence[Series] | None = None) -> dict[str, Any]:
    """The quarter's record: its label, every quarterly series, then the annual ones
    over this record and the three before it (``history``, oldest first). ``schema``:
    the series to record (default every one of :data:`SCHEMA`; a summary-only model
    gives :func:`summary_series`)."""
    row: dict[str, Any] = {"quarter": label}
    # the schema read at each call, not split once: a series declared later is recorded
    schema = SCHEMA if schema is None else schema
    for series in schema:
        if not series.annual:
            _store(row, series, series.measure(quarter))
    year = [*history[-(QUARTERS_PER_YEAR - 1):], row]
    for series in schema:
        if series.annual:
            _store(row, series, series.measure(year))
    return row


def _store(row: dict[str, Any], series: Series, value: Any) -> None:
    if series.per_cluster:
        row.update(zip(series.columns, np.asarray(value).tolist(), strict=True))
    else:
        row[series.name] = value.item() if isinstance(value, np.generic) else value
