"""Every input the model takes, validated once, at construction.

``Params`` is a frozen dataclass: one field per input, each with a default, a unit,
an allowed range and a docstring (``help``). ``ClusterModel(**kwargs)`` builds one, so
an invalid value fails before any agent exists, with a message that names the
parameter and its allowed range. docs/ODD.md gives the rationale for every default.

The defaults are the **fitted model**: every parameter the published calibration sets
(``sim/profiles/calibrated.toml``: its posterior medians and the settings it fixed) takes
its value from there, the one place it is written; the value declared here is then the
model's earlier, hand-set default, kept as each field's ``legacy`` metadata and in the
``legacy`` profile (``sim/profiles/legacy.toml``).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
import tomllib
import types
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

START_YEAR = 2018
"""The first simulated quarter is 2018Q1, the year of the source paper's data."""

QUARTERS_PER_YEAR = 4

CAPABILITY_BASELINE_2018 = 0.1794
"""Mean 2018 capability index of the default (fitted) model at scale 1 over seeds 0-9,
written down once from ``python -m sim baseline`` (0.17940, sd 0.0065; docs/ODD.md,
7.19.5); the hand-set model's was 0.219, which the legacy profile keeps. A fixed number,
never recomputed per run, so that a sensitivity analysis can move the scenario
boundaries."""


PROGRAMME_NAMES: tuple[str, ...] = ("cooperation", "incubation", "spin_off", "training",
                                   "floor_space")
"""The budgeted policy programmes (:mod:`sim.programmes`), each with the inputs
``NAME_budget``, ``NAME_start``, ``NAME_years`` and ``NAME_share_daedeok``."""


class ParameterError(ValueError):
    """An input outside its allowed range or of the wrong type."""


def _p(default: Any, help: str, *, unit: str = "", low: float | None = None,
       high: float | None = None, low_open: bool = False, kind: type | None = None,
       optional: bool = False, from_2018: bool = False) -> Any:
    """Declare a parameter: its default and the metadata validation reads.

    ``from_2018``: the input takes effect from 2018Q1 only, so the spin-up never sees it
    (see :meth:`Params.for_spin_up`)."""
    return field(default=default, metadata={
        "help": help, "unit": unit, "low": low, "high": high, "low_open": low_open,
        "kind": kind or type(default), "optional": optional, "from_2018": from_2018,
    })


def _budget(programme: str) -> Any:
    return _p(0.0, f"annual budget of {programme}, at the clusters' full size; 0: no "
              "programme", unit="KRW bn/year", low=0.0, high=10000.0, from_2018=True)


def _start(programme: str) -> Any:
    return _p(2026, f"first year in which {programme} spends (with a budget above 0, at "
              "most until_year)", unit="year", low=START_YEAR, high=2100, from_2018=True)


def _years(programme: str) -> Any:
    return _p(5, f"years of annual budget given to {programme} (it ends when that money "
              "is spent)", unit="years", low=1, high=50, from_2018=True)


def _share(programme: str, default: float = 0.5) -> Any:
    return _p(default, f"share of the money of {programme} spent in Daedeok (the rest in "
              "Pangyo)", low=0.0, high=1.0, from_2018=True)


CALIBRATED_PROFILE = Path(__file__).resolve().parent / "profiles" / "calibrated.toml"
"""The published calibration's parameter set, from which the defaults of the parameters
it sets are read."""


def _calibrated_values() -> dict[str, Any]:
    values = tomllib.loads(CALIBRATED_PROFILE.read_text(encoding="utf-8"))["parameters"]
    return {name: None if value == "none" else value for name, value in values.items()}


def _defaults_from_calibration(cls: type) -> type:
    """Give every field the calibrated profile sets that value as its default, keeping
    the declared one as ``legacy`` metadata (runs before the dataclass is built)."""
    calibrated = _calibrated_values()
    unknown = sorted(set(calibrated) - set(vars(cls)))
    if unknown:
        raise ParameterError(f"{CALIBRATED_PROFILE} sets unknown parameter {unknown[0]!r}")
    for name, value in calibrated.items():
        spec = vars(cls)[name]
        spec.metadata = types.MappingProxyType({**spec.metadata, "legacy": spec.default})
        spec.default = value
    return cls


@dataclass(frozen=True)
@_defaults_from_calibration
class Params:
    """Inputs of :class:`sim.model.ClusterModel` (see docs/ODD.md, section 8, 'Parameters')."""

    # --- the two swept parameters ---------------------------------------------------
    coupling: float = _p(0.2, "strength of inter-cluster ties: caps the chance that a "
                         "partner search crosses clusters, scales the knowledge an "
                         "inter-cluster tie carries and the cooperation programme's "
                         "capacity; at 0 nothing crosses", low=0.0, high=1.0,
                         from_2018=True)
    capability: float = _p(0.5, "endowment of both clusters' capability stock: agents' "
                           "absorptive capacity at the start of the spin-up, from which "
                           "the 2018 stock emerges; it grows with use and depreciates",
                           low=0.0, high=1.0)
    capability_daedeok: float | None = _p(None, "Daedeok's endowment if it differs "
                                          "from `capability`", low=0.0, high=1.0,
                                          kind=float, optional=True)
    capability_pangyo: float | None = _p(None, "Pangyo's endowment if it differs "
                                         "from `capability`", low=0.0, high=1.0,
                                         kind=float, optional=True)

    # --- size and time ----------------------------------------------------------------
    scale: float = _p(1.0, "multiplier on every calibrated population (at least one "
                      "agent of each kind is kept)", low=0.0, high=10.0, low_open=True)
    ventures_daedeok_factor: float = _p(1.0, "multiplier on Daedeok's calibrated number "
                                        "of ventures when the spin-up starts (1: as "
                                        "calibrated; critical-mass experiments)",
                                        low=0.0, high=10.0, low_open=True)
    ventures_pangyo_factor: float = _p(1.0, "multiplier on Pangyo's calibrated number of "
                                       "ventures when the spin-up starts (1: as "
                                       "calibrated; critical-mass experiments)",
                                       low=0.0, high=10.0, low_open=True)
    until_year: int = _p(2030, "last simulated year (runs to its fourth quarter)",
                         unit="year", low=START_YEAR, high=2100, from_2018=True)
    spin_up_years: int = _p(4, "years simulated before 2018Q1, uncoupled and without "
                            "policies, from which the 2018 state emerges; they are "
                            "the run's history (ClusterModel.spin_up_history), which "
                            "targets before 2018 are compared with", unit="year",
                            low=0, high=50)
    observed_start: bool = _p(False, "the spin-up starts from the clusters as observed "
                              "in its first year: firm counts read from the sourced "
                              "counts of that year, Daedeok's stage mix from its 2020 "
                              "survey (off: the 2018 counts and the assumed mixes, "
                              "whatever the year)")

    # --- schedules: inputs that change in time (hysteresis experiments) -----------------
    switch_year: int = _p(2024, "first year in which coupling_after and "
                          "capability_investment_after apply", unit="year",
                          low=START_YEAR, high=2100, from_2018=True)
    coupling_after: float | None = _p(None, "coupling from switch_year on (None: "
                                      "coupling stays constant)", low=0.0, high=1.0,
                                      kind=float, optional=True, from_2018=True)
    capability_investment: float = _p(0.0, "public investment in capability: share of "
                                      "every agent's gap to full absorptive capacity "
                                      "closed per year, from 2018", unit="1/year",
                                      low=0.0, high=1.0, from_2018=True)
    capability_investment_after: float | None = _p(
        None, "capability investment from switch_year on (None: unchanged)",
        unit="1/year", low=0.0, high=1.0, kind=float, optional=True, from_2018=True)

    # --- policy levers: the source paper's three strategic directions -----------------
    shared_vision: bool = _p(False, "direction 1: coupling rises in stages to its "
                             "target and agencies coordinate inter-cluster matches",
                             from_2018=True)
    vision_stages: int = _p(4, "number of equal steps in the shared-vision ramp",
                            low=1, high=52, from_2018=True)
    vision_ramp_years: int = _p(6, "years over which the shared-vision staircase is "
                                "spread: it starts at coupling/vision_stages and climbs "
                                "one equal step every vision_ramp_years/vision_stages "
                                "years, so the full coupling applies from the last step",
                                unit="year", low=1, high=50, from_2018=True)
    cooperation_programme: bool = _p(False, "direction 2: wide-area programme that "
                                     "multiplies agency-brokered inter-cluster matches "
                                     "and the relocation channel", from_2018=True)
    programme_boost: float = _p(3.0, "multiplier of the cooperation programme on "
                                "inter-cluster brokerage and relocation", low=1.0,
                                high=100.0, from_2018=True)
    open_innovation: bool = _p(False, "direction 3: more spin-offs and incubation, "
                               "staged nurturing to scale-up, venture-university "
                               "matches", from_2018=True)
    open_innovation_boost: float = _p(2.0, "multiplier of the open-innovation "
                                      "ecosystem on spin-off rates, incubation slots "
                                      "and venture-university brokerage", low=1.0,
                                      high=100.0, from_2018=True)

    # --- policy programmes with budgets (docs/ODD.md, 7.20; sim/programmes.py) ----------
    # Each programme: an annual budget (0: none), a start year, the years of budget it
    # is given, the share spent in Daedeok (the rest in Pangyo). Unit costs are sourced
    # in data/programme_costs.csv.
    cooperation_budget: float = _budget("the cooperation programme (brokered "
                                        "inter-cluster joint projects)")
    cooperation_start: int = _start("the cooperation programme")
    cooperation_years: int = _years("the cooperation programme")
    cooperation_share_daedeok: float = _share("the cooperation programme")
    incubation_budget: float = _budget("the incubation programme (start-ups incubated "
                                       "beyond the agencies' own slots)")
    incubation_start: int = _start("the incubation programme")
    incubation_years: int = _years("the incubation programme")
    incubation_share_daedeok: float = _share("the incubation programme")
    spin_off_budget: float = _budget("the spin-off grant programme (grants founding "
                                     "ventures from research institutes and universities)")
    spin_off_start: int = _start("the spin-off grant programme")
    spin_off_years: int = _years("the spin-off grant programme")
    spin_off_share_daedeok: float = _share("the spin-off grant programme")
    training_budget: float = _budget("the training programme (training places for the "
                                     "ventures with the least absorptive capacity)")
    training_start: int = _start("the training programme")
    training_years: int = _years("the training programme")
    training_share_daedeok: float = _share("the training programme")
    # whom the places go to (targeting): by stage and by capability
    training_start_ups_only: bool = _p(False, "training places for start-ups (stage 0) "
                                       "only, not ventures that have grown",
                                       from_2018=True)
    training_most_capable_first: bool = _p(False, "training places for the most capable "
                                           "ventures first (picking winners), not the "
                                           "least capable", from_2018=True)
    floor_space_budget: float = _budget("building floor space for ventures (the next "
                                        "valley)")
    floor_space_start: int = _start("building floor space")
    floor_space_years: int = _years("building floor space")
    # only a cluster with a capacity limit can use floor space: Pangyo by default
    floor_space_share_daedeok: float = _share("building floor space", default=0.0)
    match_cost: float = _p(430.0, "cost of one brokered inter-cluster joint project "
                           "(data/programme_costs.csv: regional innovation clusters "
                           "2023, KRW 80.9 bn for 186 projects)", unit="KRW m/project",
                           low=0.0, high=1e6, low_open=True, from_2018=True)
    incubation_cost: float = _p(91.0, "cost of incubating one start-up "
                                "(data/programme_costs.csv: start-up packages 2023, KRW "
                                "179.6 bn for 1,981 firms)", unit="KRW m/start-up",
                                low=0.0, high=1e6, low_open=True, from_2018=True)
    spin_off_grant: float = _p(170.0, "grant founding one research spin-off "
                               "(data/programme_costs.csv: research-institute company "
                               "support 2017, KRW 30.8 bn for 181 new companies)",
                               unit="KRW m/spin-off", low=0.0, high=1e6, low_open=True,
                               from_2018=True)
    training_cost: float = _p(2.8, "cost of one training place "
                              "(data/programme_costs.csv: Gwangju's tailored training "
                              "2015, KRW 14.1 bn for 5,021 trainees)",
                              unit="KRW m/trainee", low=0.0, high=1e6, low_open=True,
                              from_2018=True)
    floor_space_cost: float = _p(5.74, "cost of one square metre of valley, land and "
                                 "buildings (data/programme_costs.csv: Pangyo's first "
                                 "valley, KRW 3.8 tn for 661,915 m2)", unit="KRW m/m2",
                                 low=0.0, high=1e6, low_open=True, from_2018=True)
    floor_space_lag_years: int = _p(3, "years from paying for floor space to tenants "
                                    "moving in (assumption)", unit="years", low=0,
                                    high=20, from_2018=True)

    # --- partnering and ties -----------------------------------------------------------
    search_rate: float = _p(0.25, "chance per quarter that an agent searches for a new "
                            "partner", unit="1/quarter", low=0.0, high=1.0)
    search_candidates: int = _p(4, "candidates an agent compares when searching "
                                "(it picks the most promising)", low=1, high=50)
    tie_activity: float = _p(0.5, "chance per quarter that a tie of weight 1 runs a "
                             "joint project (proportional to weight)", unit="1/quarter",
                             low=0.0, high=1.0)
    tie_initial: float = _p(0.3, "weight of a newly formed tie", low=0.0, high=1.0,
                            low_open=True)
    tie_reinforcement: float = _p(0.3, "weight a tie gains from a joint success "
                                  "(capped at 1)", low=0.0, high=1.0)
    tie_decay: float = _p(0.1, "share of a tie's weight lost each quarter",
                          unit="1/quarter", low=0.0, high=1.0)
    tie_floor: float = _p(0.05, "ties weaker than this are dropped", low=0.0, high=1.0)
    initial_ties_per_agent: float = _p(1.0, "mean number of intra-cluster ties per "
                                       "agent in 2018Q1", low=0.0, high=20.0)
    cross_propensity_initial: float = _p(0.5, "initial willingness to search across "
                                         "clusters (the search crosses with chance "
                                         "coupling x willingness)", low=0.0, high=1.0)
    cross_learning_rate: float = _p(0.2, "how fast willingness to cross follows the "
                                    "outcomes of one's inter-cluster projects",
                                    low=0.0, high=1.0)

    profile_concentration: float = _p(4.0, "Dirichlet concentration of agents' initial "
                                      "profiles around their cluster's domain mix "
                                      "(lower: more diverse clusters)", low=0.0,
                                      high=1000.0, low_open=True)
    spin_off_similarity: float = _p(20.0, "Dirichlet concentration of a spin-off's "
                                    "profile around its parent's", low=0.0, high=1000.0,
                                    low_open=True)

    # --- recombinant innovation -----------------------------------------------------------
    success_scale: float = _p(1.0, "eta in p = eta * m * d * (A - d): scale of the "
                              "success odds of a joint project", low=0.0, high=100.0)
    success_cap: float = _p(0.9, "upper bound of a project's success probability",
                            low=0.0, high=1.0)
    reach_min: float = _p(0.5, "reach A at zero absorptive capacity (distance beyond "
                          "which partners cannot understand each other)", low=0.0,
                          high=2.0, low_open=True)
    reach_gain: float = _p(0.8, "increase of reach A per unit of mean absorptive "
                           "capacity", low=0.0, high=5.0)
    absorptive_spread: float = _p(0.1, "standard deviation of a new agent's absorptive "
                                  "capacity around its cluster's capability stock",
                                  low=0.0, high=1.0)

    # --- capability as a stock (Cohen & Levinthal 1990) ---------------------------------
    capability_learning: float = _p(0.03, "share of the gap to full absorptive capacity "
                                    "an agent closes per successful project (learning "
                                    "by doing)", unit="1/success", low=0.0, high=1.0)
    talent_gain: float = _p(0.05, "share of the gap to full absorptive capacity a "
                            "partner closes per project with a university (talent and "
                            "training)", unit="1/project",
                            low=0.0, high=1.0)
    capability_depreciation: float = _p(0.04, "share of absorptive capacity lost per "
                                        "quarter (obsolescence; 15%/year for R&D "
                                        "stocks)", unit="1/quarter", low=0.0, high=1.0)

    # --- learning and anchoring -------------------------------------------------------------
    learning_rate: float = _p(0.05, "share of the profile gap a partner closes per "
                              "project on a tie of weight 1 (convergence strength)",
                              unit="1/project", low=0.0, high=1.0)
    anchoring: float = _p(0.02, "pull back toward one's home profile per quarter "
                          "(institutional anchoring)", unit="1/quarter", low=0.0,
                          high=1.0)

    # --- venture life cycle -----------------------------------------------------------------
    burn_startup: float = _p(1.0, "cash burnt per quarter by a start-up",
                             unit="cash units/quarter", low=0.0, high=100.0)
    stage_cost_ratio: float = _p(2.0, "burn and revenue per innovation grow by this "
                                 "factor per stage (start-up, growth, global)",
                                 low=1.0, high=10.0)
    innovation_revenue: float = _p(1.0, "revenue stream (per quarter) a start-up's "
                                   "innovation opens", unit="cash units/quarter",
                                   low=0.0, high=100.0)
    revenue_decay: float = _p(0.05, "share of a revenue stream lost per quarter",
                              unit="1/quarter", low=0.0, high=1.0)
    startup_cash: float = _p(4.0, "mean cash of a new venture, in quarters of "
                             "start-up burn", unit="quarters", low=0.0, high=100.0)
    survival_relief: float = _p(0.3, "share of start-up burn saved at capability 1 "
                                "(capability raises young ventures' survival)",
                                low=0.0, high=1.0)
    incubation_relief: float = _p(0.5, "share of burn an incubated venture saves",
                                  low=0.0, high=1.0)
    incubation_quarters: int = _p(8, "length of incubation and age below which a "
                                  "venture can be incubated", unit="quarters", low=1,
                                  high=52)
    success_memory: float = _p(0.8, "share of the success record kept each quarter",
                               low=0.0, high=1.0)
    scale_up_threshold: float = _p(3.0, "success record needed to move up a stage",
                                   low=0.0, high=100.0, low_open=True)
    nurturing_threshold_factor: float = _p(0.75, "open innovation multiplies the "
                                           "scale-up threshold by this (staged "
                                           "nurturing)", low=0.0, high=1.0,
                                           low_open=True, from_2018=True)
    spin_off_research: float = _p(0.5, "chance that an institute or university with a "
                                  "success this quarter spins off a venture, at "
                                  "capability 0.5", low=0.0, high=1.0)
    spin_off_venture: float = _p(0.06, "chance that a venture with a success this "
                                 "quarter spins off a venture, at capability 0.5",
                                 low=0.0, high=1.0)
    relocation_rate: float = _p(0.01, "chance that a growth or global venture with an "
                                "inter-cluster success this quarter relocates, at "
                                "coupling 1", low=0.0, high=1.0)
    entry_rate: float = _p(0.02, "start-ups founded in a cluster per quarter from outside "
                           "the modelled agents, per living venture, at capability stock "
                           "0.5 (scaled by 0.5 + stock)", unit="1/quarter", low=0.0,
                           high=1.0)

    # --- room to grow: each cluster's capacity (density dependence) -----------------------
    capacity_daedeok: float | None = _p(None, "ventures Daedeok's zone can hold, at scale 1 "
                                        "(None: no limit)", unit="ventures", low=0.0,
                                        high=1e6, low_open=True, kind=float, optional=True)
    capacity_pangyo: float | None = _p(None, "ventures Pangyo's first valley can hold, at "
                                       "scale 1 (None: no limit)", unit="ventures",
                                       low=0.0, high=1e6, low_open=True, kind=float,
                                       optional=True)
    second_valley_capacity: float = _p(0.0, "ventures Pangyo's second valley adds to its "
                                       "capacity from second_valley_year, at scale 1",
                                       unit="ventures", low=0.0, high=1e6)
    second_valley_year: int = _p(2020, "year in which Pangyo's second valley opens",
                                 unit="year", low=1970, high=2100)
    crowding_shape: float = _p(1.0, "theta of the crowding (occupancy)^theta that "
                               "lowers founding and entry and raises burn: 1 is "
                               "logistic, larger values bite only near capacity",
                               low=0.0, high=100.0, low_open=True)
    congestion_cost: float = _p(0.5, "share by which a venture's burn rises in a full "
                                "cluster (rent and congestion rise with crowding)",
                                low=0.0, high=10.0)
    move_in_rate: float = _p(0.0, "share of a cluster's free places taken each quarter "
                             "by established firms moving in from outside the modelled "
                             "clusters (how a new valley fills; 0: none, and none "
                             "without a limit)", unit="1/quarter", low=0.0, high=1.0)

    # --- what coupling costs (each submodule can be switched off) ----------------------
    coordination_cost: bool = _p(True, "inter-cluster projects lose success odds to "
                                 "coordination over distance, less as the tie ages")
    coordination_penalty_per_100km: float = _p(
        0.15, "share of an inter-cluster project's success odds lost per 100 km on a new "
        "tie", unit="1/100 km", low=0.0, high=1.0)
    coordination_half_life: float = _p(8.0, "tie age at which the coordination penalty "
                                       "has halved", unit="quarters", low=0.0, high=1000.0,
                                       low_open=True)
    limited_attention: bool = _p(True, "an agent runs only as many projects per quarter "
                                 "as its attention allows; crossing takes more")
    attention_venture: float = _p(3.0, "project slots of a venture per quarter",
                                  unit="slots/quarter", low=0.0, high=1000.0,
                                  low_open=True)
    attention_research: float = _p(6.0, "project slots of an institute or university "
                                   "per quarter", unit="slots/quarter", low=0.0,
                                   high=1000.0, low_open=True)
    attention_by_value: bool = _p(False, "agents rank the projects open to them by "
                                  "expected innovations per slot, take them in that "
                                  "order while slots last and decline the rest (off: "
                                  "by origin, ties first, then brokered, then searched)")
    cross_attention_cost: float = _p(1.5, "slots an inter-cluster project takes (an "
                                     "intra-cluster one takes 1)", unit="slots",
                                     low=1.0, high=100.0)
    brain_drain: bool = _p(True, "talent and ventures move toward the capital region "
                           "(Pangyo) more readily than away from it")
    capital_pull: float = _p(3.0, "relocation toward Pangyo is this many times as likely "
                             "as toward Daedeok", low=1.0, high=100.0)
    talent_drain: float = _p(0.02, "share of the Daedeok partner's absorptive capacity "
                             "that moves to the Pangyo partner per inter-cluster project",
                             unit="1/project", low=0.0, high=1.0)
    lock_in: bool = _p(True, "ties grow sticky with age: their decay slows, so old ties "
                       "keep running projects past their usefulness")
    lock_in_quarters: float = _p(8.0, "tie age at which a tie's decay rate has halved",
                                 unit="quarters", low=0.0, high=1000.0, low_open=True)

    # --- support agencies ----------------------------------------------------------------------
    brokerage_capacity: float = _p(10.0, "intra-cluster matches an agency brokers per "
                                   "quarter at capability 0.5 and scale 1",
                                   unit="matches/quarter", low=0.0, high=1000.0)
    programme_capacity: float = _p(10.0, "inter-cluster matches an agency brokers per "
                                   "quarter at coupling 1 and scale 1",
                                   unit="matches/quarter", low=0.0, high=1000.0)
    incubation_slots: float = _p(20.0, "ventures an agency incubates at once, at "
                                 "scale 1", unit="ventures", low=0.0, high=10000.0)

    # --- scenario thresholds (docs/ODD.md, 'Observation') ------------------------------------
    capability_threshold: float = _p(
        CAPABILITY_BASELINE_2018, "capability index (innovations per agent per year) at "
        "or above which a run counts as high capability: the default model's own 2018 "
        "index, fixed ('python -m sim baseline' recomputes it)",
        unit="1/agent/year", low=0.0, high=100.0, from_2018=True)
    cooperation_threshold: float = _p(0.10, "share of collaborations crossing clusters "
                                      "at or above which cooperation counts as high "
                                      "(Cowan & Jonard 2004)", low=0.0, high=1.0,
                                      from_2018=True)
    distinctiveness_threshold: float = _p(0.5, "share of the initial inter-cluster "
                                          "profile distance at or above which the "
                                          "clusters count as distinctive", low=0.0,
                                          high=10.0, from_2018=True)

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            _validate(spec, value)
            # Normalise 4.0 -> 4 and 1 -> True so downstream code sees one type.
            if value is not None:
                object.__setattr__(self, spec.name, spec.metadata["kind"](value))
        if self.second_valley_capacity > 0 and self.capacity_pangyo is None:
            raise ParameterError(
                "second_valley_capacity adds to capacity_pangyo, which is None (no limit): "
                "set capacity_pangyo too, or leave second_valley_capacity at 0")
        for name in PROGRAMME_NAMES:
            start = getattr(self, f"{name}_start")
            if getattr(self, f"{name}_budget") > 0 and start > self.until_year:
                raise ParameterError(
                    f"{name}_start must be in [{START_YEAR}, until_year={self.until_year}] "
                    f"when {name}_budget is above 0, got {start}")
        if self.floor_space_budget > 0 and self.capacity_pangyo is None:
            raise ParameterError(
                "floor_space_budget needs capacity_pangyo (None: no limit): the first "
                "valley's ventures per square metre turn floor space into places")
        if self.floor_space_budget > 0:
            capacities = {"daedeok": (self.capacity_daedeok, self.floor_space_share_daedeok),
                          "pangyo": (self.capacity_pangyo,
                                     1.0 - self.floor_space_share_daedeok)}
            for cluster, (capacity, share) in capacities.items():
                if capacity is None and share > 0:
                    raise ParameterError(
                        f"floor_space_share_daedeok sends floor-space money to {cluster}, "
                        f"which has no capacity limit (capacity_{cluster} None): it would "
                        "buy nothing")
        if self.tie_floor >= self.tie_initial:
            raise ParameterError(
                f"tie_floor must be below tie_initial ({self.tie_initial}), "
                f"got {self.tie_floor}")

    # --- derived values ----------------------------------------------------------------------
    @property
    def steps(self) -> int:
        """Number of quarters from 2018Q1 to the fourth quarter of ``until_year``."""
        return self.steps_until(self.until_year)

    @staticmethod
    def steps_until(until_year: int) -> int:
        """Number of quarters from 2018Q1 to the fourth quarter of ``until_year``."""
        return (until_year - START_YEAR + 1) * QUARTERS_PER_YEAR

    @property
    def spin_up_steps(self) -> int:
        """Quarters simulated before 2018Q1."""
        return self.spin_up_years * QUARTERS_PER_YEAR

    def coupling_in(self, year: int) -> float:
        """Target coupling in ``year`` (before any shared-vision ramp)."""
        if self.coupling_after is not None and year >= self.switch_year:
            return self.coupling_after
        return self.coupling

    def investment_in(self, year: int) -> float:
        """Capability investment rate (per year) in ``year``."""
        if self.capability_investment_after is not None and year >= self.switch_year:
            return self.capability_investment_after
        return self.capability_investment

    def capacity_in(self, year: int) -> tuple[float, ...]:
        """Ventures each cluster (Daedeok, Pangyo) can hold in ``year``, at scale 1:
        ``inf`` for a cluster without a limit; Pangyo's second valley counts from
        ``second_valley_year``."""
        daedeok = math.inf if self.capacity_daedeok is None else self.capacity_daedeok
        pangyo = math.inf if self.capacity_pangyo is None else self.capacity_pangyo
        if year >= self.second_valley_year:
            pangyo += self.second_valley_capacity
        return daedeok, pangyo

    def cluster_capability(self, cluster: int) -> float:
        """2018 capability endowment of cluster 0 (Daedeok) or 1 (Pangyo)."""
        own = (self.capability_daedeok, self.capability_pangyo)[cluster]
        return self.capability if own is None else own

    def for_spin_up(self) -> Params:
        """These parameters with every input that takes effect from 2018Q1 (coupling, its
        schedule, investment, the policies, the horizon, the thresholds:
        :data:`FROM_2018`) at its default: what the spin-up runs on. So the spin-up cannot
        depend on those inputs, and runs that differ only in them share their 2018 state
        exactly (:meth:`sim.model.ClusterModel.branch`)."""
        return dataclasses.replace(self, **_FROM_2018_DEFAULTS)

    def as_dict(self) -> dict[str, Any]:
        """All parameter values, by name."""
        return dataclasses.asdict(self)

    @classmethod
    def describe(cls) -> dict[str, dict[str, Any]]:
        """Default, unit, range and help text of every parameter."""
        return {f.name: {"default": f.default, **f.metadata} for f in dataclasses.fields(cls)}


#: The inputs that take effect from 2018Q1 only: the spin-up never reads them.
FROM_2018: frozenset[str] = frozenset(
    f.name for f in dataclasses.fields(Params) if f.metadata["from_2018"])
_FROM_2018_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Params)
                       if f.metadata["from_2018"]}


def check_value(name: str, value: Any) -> None:
    """Validate one parameter's value on its own (cross-field rules aside)."""
    fields = {f.name: f for f in dataclasses.fields(Params)}
    check_names([name])
    _validate(fields[name], value)


def check_names(names: Iterable[str]) -> None:
    """Refuse a parameter name that is not a field of :class:`Params`, suggesting the
    closest one."""
    known = [f.name for f in dataclasses.fields(Params)]
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ParameterError(f"unknown parameter {name!r}{hint}")


def _validate(spec: dataclasses.Field, value: Any) -> None:
    meta = spec.metadata
    name, kind = spec.name, meta["kind"]
    if value is None and meta["optional"]:
        return
    # numbers.Real admits numpy scalars, which sweeps over numpy grids pass.
    if kind is bool:
        is_flag = isinstance(value, bool | np.bool_ | numbers.Integral)
        if not is_flag or value not in (0, 1):
            raise ParameterError(f"{name} must be true or false, got {value!r}")
        return
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ParameterError(f"{name} must be a number, got {value!r}")
    if kind is int and not float(value).is_integer():
        raise ParameterError(f"{name} must be a whole number, got {value!r}")
    if not math.isfinite(value):
        raise ParameterError(f"{name} must be finite, got {value!r}")
    low, high = meta["low"], meta["high"]
    too_low = low is not None and (value <= low if meta["low_open"] else value < low)
    too_high = high is not None and value > high
    if too_low or too_high:
        opening = "(" if meta["low_open"] else "["
        raise ParameterError(f"{name} must be in {opening}{low}, {high}], got {value!r}")
