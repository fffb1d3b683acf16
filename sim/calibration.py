"""The two clusters as they stood in 2018: populations, domain mixes, hosts, sources.

Every number carries its source. Where no published figure exists the value is marked
ASSUMPTION and docs/ODD.md ('Input data') explains the choice; these are the first
candidates for a sensitivity analysis.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np

DOMAINS: tuple[str, ...] = ("basic science", "IT", "BT", "NT", "CT", "convergence")
"""Technology domains of the knowledge profile (K = 6)."""

DAEDEOK, PANGYO = 0, 1
CLUSTER_NAMES: tuple[str, str] = ("Daedeok", "Pangyo")

STAGES: tuple[str, ...] = ("start-up", "growth", "global")
"""Venture stages, in the order a venture climbs them."""


@dataclass(frozen=True)
class ClusterProfile:
    """One cluster's calibration at scale 1."""

    name: str
    host: str
    founded: int
    institutes: int
    universities: int
    ventures: int
    domain_mix: tuple[float, ...]
    stage_mix: tuple[float, float, float]
    sources: dict[str, str]
    observed_stage_mix: tuple[float, float, float] | None = None
    """Stage mix from a sourced survey, where one exists (None: ``stage_mix`` stands)."""
    observed_ventures: dict[int, int] = field(default_factory=dict)
    """Sourced firm counts by year (data/targets.csv), from which the count in the year
    a history run starts is read (:meth:`ventures_in`)."""

    def ventures_in(self, year: int) -> float:
        """The cluster's firms in ``year`` from :attr:`observed_ventures`: log-linear
        between the sourced years around it (firm counts grow by rates), the nearest
        sourced count outside them."""
        years = sorted(self.observed_ventures)
        if not years:
            raise ValueError(f"{self.name} has no observed firm counts")
        if year in self.observed_ventures:
            return float(self.observed_ventures[year])
        if year <= years[0]:
            return float(self.observed_ventures[years[0]])
        if year >= years[-1]:
            return float(self.observed_ventures[years[-1]])
        after = bisect.bisect_left(years, year)
        y0, y1 = years[after - 1], years[after]
        n0, n1 = self.observed_ventures[y0], self.observed_ventures[y1]
        return math.exp(math.log(n0) + (math.log(n1) - math.log(n0)) * (year - y0) / (y1 - y0))

    def populations(self, scale: float, ventures_factor: float = 1.0, *,
                    year: int | None = None) -> dict[str, int]:
        """Agents of each kind at ``scale`` (ventures times ``ventures_factor``); never
        fewer than one of a kind. Ventures: the observed count in ``year``
        (:meth:`ventures_in`), or :attr:`ventures` (the 2018 count) when ``year`` is None."""
        ventures = self.ventures if year is None else self.ventures_in(year)
        return {
            "institutes": max(1, round(self.institutes * scale)),
            "universities": max(1, round(self.universities * scale)),
            "ventures": max(1, round(ventures * scale * ventures_factor)),
            "agencies": 1,
        }

    def start_stage_mix(self, observed: bool) -> tuple[float, float, float]:
        """The stage mix ventures start with: the survey's when ``observed`` and there is
        one, else :attr:`stage_mix`."""
        if observed and self.observed_stage_mix is not None:
            return self.observed_stage_mix
        return self.stage_mix

    @property
    def domain_shares(self) -> np.ndarray:
        """The domain mix as shares summing to one."""
        mix = np.asarray(self.domain_mix, dtype=float)
        return mix / mix.sum()


# Pangyo's 2019 firm mix: 1,259 firms of which IT 830, BT 164, CT 165, NT 17; the
# remaining 83 are counted as convergence.
_PANGYO_FIRMS = {"IT": 830, "BT": 164, "CT": 165, "NT": 17}
_PANGYO_OTHER = 1259 - sum(_PANGYO_FIRMS.values())
# ASSUMPTION: a token basic-science weight of about 1% (13 firm-equivalents) for the
# few research centres (Korea Pasteur Institute).
_PANGYO_BASIC = 13

DAEDEOK_2018 = ClusterProfile(
    name="Daedeok Innopolis",
    host="INNOPOLIS Foundation",
    founded=1973,
    institutes=30,
    universities=5,
    ventures=1200,
    # ASSUMPTION: weighted to basic science, NT and BT as the design brief states;
    # no published domain breakdown of Daedeok's firms was available.
    domain_mix=(0.30, 0.20, 0.20, 0.15, 0.03, 0.12),
    # ASSUMPTION: a young, research-spun venture base: mostly start-ups.
    stage_mix=(0.70, 0.25, 0.05),
    # 2020 survey of the special zone's firms (data/targets.csv,
    # daedeok_lifecycle_*_2020): start-up 14.1%; early growth 31.3% + high growth 32.8%
    # read as growth; mature 20.7% + decline 1.1% read as global (the established stage)
    observed_stage_mix=(0.141, 0.641, 0.218),
    # firms in the special zone (data/targets.csv, daedeok_firms_*)
    observed_ventures={2005: 687, 2006: 786, 2007: 898, 2009: 1006, 2010: 1179,
                       2012: 1312, 2020: 1945},
    sources={
        "founded": "source paper: built from 1973 around government research institutes",
        "institutes": "Daejeon city: about 30 government-funded research institutes",
        "universities": "Daejeon city: 5 universities (KAIST and others)",
        "ventures": "source paper: more than 1,200 venture companies",
        "host": "source paper, Table 1: INNOPOLIS Foundation",
    },
)

PANGYO_2018 = ClusterProfile(
    name="Pangyo Techno Valley",
    host="Pangyo Techno Valley Support Team (GSTEP)",
    founded=2005,
    # ASSUMPTION: 'a few' research organisations: Korea Pasteur Institute and
    # global R&D centres, counted as 4.
    institutes=4,
    universities=2,
    ventures=1259,
    domain_mix=(_PANGYO_BASIC, _PANGYO_FIRMS["IT"], _PANGYO_FIRMS["BT"], _PANGYO_FIRMS["NT"],
                _PANGYO_FIRMS["CT"], _PANGYO_OTHER),
    # ASSUMPTION: many established IT firms besides the start-ups. No stage survey: the
    # 15% at the global stage agree with the 12-14% of firms that are not SMEs
    # (data/targets.csv, pangyo_sme_share_*), so the mix is kept in history runs too.
    stage_mix=(0.40, 0.45, 0.15),
    # firms in the first valley (data/targets.csv, pangyo_firms_*): occupancy began in
    # 2011; 2015 is the end-of-year count
    observed_ventures={2011: 83, 2014: 870, 2015: 1121, 2016: 1306, 2019: 1259},
    sources={
        "founded": "source paper, Table 1: project period 2005-2015",
        "universities": "source paper, Table 1: industry-academia R&D centre (counted 2)",
        "ventures": "Pangyo Techno Valley survey: 1,259 firms at the end of 2019",
        "domain_mix": "2019 firm mix: IT 830, BT 164, CT 165, NT 17 (rest convergence)",
        "host": "source paper, Table 1: Pangyo Techno Valley Support Team",
    },
)

CLUSTERS: tuple[ClusterProfile, ClusterProfile] = (DAEDEOK_2018, PANGYO_2018)

FIRST_VALLEY_M2 = 661_000
"""Site area of Pangyo Techno Valley's first valley, in square metres (source paper;
661,915 m2 in Asia Economy, 2009-06-12). With the ventures it can hold
(``capacity_pangyo``) it sets the floor space one venture needs, by which floor space
bought by a programme becomes places (docs/ODD.md, 7.20)."""

DISTANCE_KM = 116
"""Straight-line distance between the clusters, in km (design brief, section 7); the
coordination cost of an inter-cluster project grows with it (docs/ODD.md, 7.8.1)."""
