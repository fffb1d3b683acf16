"""The run summary, declared once (docs/ODD.md, 7.19.6): each field of
:meth:`sim.model.ClusterModel.summary` with its meaning, unit, type and whether it counts
agents or events. The runs table's columns (:mod:`sim.experiment.columns`), docs/OUTPUTS.md and
the targets' ``summary:FIELD`` outputs (:mod:`sim.targets`) are derived from
:data:`FIELDS`; a field read from a recorded series takes its meaning from that series'
declaration (:data:`sim.observation.SCHEMA`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.calibration import CLUSTER_NAMES
from sim.observation import SCHEMA, column_meanings
from sim.params import Params
from sim.scenarios import (
    COUPLED_WITHOUT_SYNERGY,
    COUPLING_TYPES,
    LOOSELY_COUPLED_SYNERGY,
    SCENARIOS,
)

__all__ = ["FIELDS", "SummaryField"]


@dataclass(frozen=True)
class SummaryField:
    """One field of a run's summary."""

    name: str
    description: str
    unit: str
    kind: str
    extensive: bool = False
    """Counts agents or events, so grows with the population (a target reads it at
    scale 1)."""


def _at_horizon(field: str, column: str | None = None) -> SummaryField:
    meaning = column_meanings()[column or field]
    return SummaryField(field, f"{meaning.description}, at the horizon (the last "
                        "recorded quarter)", meaning.unit, meaning.kind, meaning.extensive)


def _since_2018(field: str, series_name: str) -> SummaryField:
    """A per-cluster quarterly count, summed over the clusters and the quarters."""
    series = next(s for s in SCHEMA if s.name == series_name and s.per_cluster)
    return SummaryField(field, f"{series.description}, 2018Q1 to the horizon, both "
                        "clusters", series.unit.removesuffix("/quarter"), series.kind,
                        series.extensive)


def _fields() -> tuple[SummaryField, ...]:
    clusters = [c.lower() for c in CLUSTER_NAMES]
    threshold = Params.describe()["capability_threshold"]
    return (
        SummaryField(
            "scenario",
            "emergent scenario of the last four quarters, one of "
            f"{', '.join(SCENARIOS)}: capability high when capability_index >= "
            "capability_threshold, cooperation high when cooperation_index >= "
            f"cooperation_threshold; both high is {LOOSELY_COUPLED_SYNERGY} when "
            f"paired_synergy > 0, else {COUPLED_WITHOUT_SYNERGY}", "", "string"),
        SummaryField(
            "coupling_type",
            f"Orton & Weick coupling type, one of {', '.join(COUPLING_TYPES)}: responsive "
            "when cooperation_index >= cooperation_threshold, distinctive when "
            "distinctiveness >= distinctiveness_threshold", "", "string"),
        SummaryField(
            "paired_synergy",
            "innovations 2018Q1 to the horizon over those of the run's twin at coupling 0 "
            "(coupling_after 0 if set; same seed and other inputs), minus one; only where "
            "capability and cooperation are both high (empty elsewhere: the twin is not "
            "run); 0 for a run at coupling 0 throughout", "", "float64"),
        _at_horizon("capability_index"),
        *(_at_horizon(f"capability_index_{c}") for c in clusters),
        _at_horizon("cooperation_index"),
        _at_horizon("knowledge_flow_inter_share"),
        _at_horizon("distinctiveness"),
        _at_horizon("innovations_total", "innovations_cumulative"),
        SummaryField("innovations_inter", "successful inter-cluster projects, 2018Q1 to "
                     "the horizon", "innovations", "int64", extensive=True),
        SummaryField("ventures_alive", "ventures alive at the horizon, both clusters",
                     "ventures", "int64", extensive=True),
        *(_at_horizon(f"ventures_{c}") for c in clusters),
        _since_2018("births", "births"),
        _since_2018("exits", "exits"),
        _since_2018("scale_ups", "scale_ups"),
        _since_2018("relocations", "relocations_to"),
        _since_2018("entries", "entries"),
        *(_at_horizon(f"capability_stock_{c}") for c in clusters),
        _since_2018("programme_spent", "programme_spending"),
        _at_horizon("ties"),
        _at_horizon("inter_cluster_ties"),
        _at_horizon("density"),
        SummaryField("modularity", "modularity of the collaboration network at the "
                     "horizon, partitioned by cluster and weighted by tie strength (0 "
                     "without ties)", "", "float64"),
        SummaryField("capability_threshold", f"{threshold['help']} (stored for every run, "
                     "fixed, varied or left at its default)", threshold["unit"], "float64"),
    )


FIELDS: tuple[SummaryField, ...] = _fields()
"""Every field of a run's summary stored in the runs table, in order (the summary's
``seed`` is a run key and its ``quarter``, the horizon, is not stored)."""
