"""The capability stock, the costs of coupling and the spin-up, each on its own, with
hand-computed expectations; and that switching a cost off removes it."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from sim import ClusterModel
from sim.agents import ClusterAgent, ResearchInstitute, Venture
from sim.calibration import DISTANCE_KM
from sim.model import END_STATE_REPORTS
from sim.params import ParameterError, Params
from sim.policy import Regime
from sim.population import VENTURE
from sim.profile import load_profile
from sim.projects import BROKERED, SEARCH, TIE, JointProjects, ProjectOutcome

#: The hand-set constants the expected values below are computed with.
LEGACY = load_profile("legacy")


def _model(**params) -> ClusterModel:
    model = ClusterModel(rng=7, **{**LEGACY, "scale": 0.05, "spin_up_years": 0,
                                   "coupling": 1.0, **params})
    model.regime = Regime.in_quarter(model.params, 1)
    return model


def _productivity(model) -> np.ndarray:
    return ResearchInstitute.research_productivity(model)


def _rows(model, cluster, kind=VENTURE, n=2):
    pop = model.population
    return np.flatnonzero(pop.alive & (pop.kind == kind) & (pop.cluster == cluster))[:n]


def _outcome(model, projects, successes=None, involvement=None) -> ProjectOutcome:
    n = len(model.population)
    inter = projects.crossing(model.population.cluster)
    zeros = np.zeros(n, dtype=np.int64)
    return ProjectOutcome(
        projects=projects, inter=inter, success=np.zeros(len(projects), bool),
        involvement=(np.bincount(projects.i, minlength=n) + np.bincount(projects.j, minlength=n)
                     if involvement is None else involvement),
        successes=zeros if successes is None else successes, inter_successes=zeros,
        innovations_by_cluster=np.zeros(2), coordination_loss=0.0, knowledge_flow=0.0,
        knowledge_flow_inter=0.0)


# --- the capability stock -----------------------------------------------------------------
def test_learning_by_doing_and_depreciation_without_use():
    model = _model(capability_learning=0.03, talent_gain=0.0, brain_drain=False)
    pop = model.population
    busy, idle = _rows(model, 0)
    pop.absorptive[[busy, idle]] = 0.5
    successes = np.zeros(len(pop), dtype=np.int64)
    successes[busy] = 2
    involvement = successes.copy()
    ClusterAgent.accumulate_capability(
        model, _outcome(model, JointProjects.of(TIE, [], [], 0.3), successes, involvement),
        np.zeros(len(pop)))
    assert pop.absorptive[busy] == pytest.approx(0.5 + 0.5 * 0.03 * 2)   # 0.53
    assert pop.absorptive[idle] == pytest.approx(0.5 * (1 - 0.04))       # 0.48


def test_investment_closes_a_share_of_the_gap_each_year():
    model = _model(capability_investment=0.2, capability_learning=0.0, talent_gain=0.0,
                   capability_depreciation=0.0)
    pop = model.population
    v = _rows(model, 0, n=1)
    pop.absorptive[v] = 0.5
    for _ in range(4):
        ClusterAgent.accumulate_capability(
            model, _outcome(model, JointProjects.of(TIE, [], [], 0.3)), np.zeros(len(pop)))
    assert pop.absorptive[v][0] == pytest.approx(1 - 0.5 * 0.8)  # a year: 20% of the gap


def _cluster_after(more_success: bool) -> float:
    """The capability stock of Daedeok after eight quarters in which its agents either
    innovate at a constructed rate or half of it (same seed, same state)."""
    model = _model(brain_drain=False)
    pop = model.population
    members = np.flatnonzero(pop.active() & (pop.cluster == 0))
    for _ in range(8):
        successes = np.zeros(len(pop), dtype=np.int64)
        successes[members] = 2 if more_success else 1
        ClusterAgent.accumulate_capability(
            model, _outcome(model, JointProjects.of(TIE, [], [], 0.3), successes,
                            successes.copy()), np.zeros(len(pop)))
    return float(model.capability_stock[0])


def test_a_cluster_that_innovates_more_ends_more_capable():
    start = _model(brain_drain=False).capability_stock[0]
    more, less = _cluster_after(True), _cluster_after(False)
    assert more > less > start
    # each quarter the gap 1 - a shrinks by the factor 1 - 0.03 s (the stock is a mean,
    # and the rule is linear in the gap, so the cluster follows the same formula)
    assert more - less == pytest.approx((1 - start) * ((1 - 0.03) ** 8 - (1 - 0.06) ** 8),
                                        rel=0.05)


# --- coordination over distance -----------------------------------------------------------
def test_coordination_penalty_falls_with_the_ties_age():
    model = _model()
    a, b = _rows(model, 0, n=1), _rows(model, 1, n=1)
    projects = JointProjects.concat(JointProjects.of(TIE, a, b, 0.5, 0),
                                    JointProjects.of(TIE, a, b, 0.5, 8),
                                    JointProjects.of(TIE, a, _rows(model, 0)[1:], 0.5, 0))
    inter = projects.crossing(model.population.cluster)
    penalty = ClusterAgent.coordination_penalty(model, projects, inter)
    new = 0.15 * DISTANCE_KM / 100  # 0.174
    assert penalty == pytest.approx([new, new / 2, 0.0])
    off = _model(coordination_cost=False)
    assert (ClusterAgent.coordination_penalty(off, projects, inter) == 0).all()


# --- limited attention --------------------------------------------------------------------
def test_attention_keeps_ties_first_and_crossing_takes_more_slots():
    model = _model(attention_venture=3.0, cross_attention_cost=1.5)
    home = _rows(model, 0, n=6)
    away = _rows(model, 1, n=2)
    busy = home[0]
    # busy: two tie projects at home (2 slots), then a search across (1.5) and at home (1)
    projects = JointProjects.concat(
        JointProjects.of(SEARCH, [busy], [away[0]], 0.3),
        JointProjects.of(TIE, [busy, busy], home[1:3], 0.5, 4),
        JointProjects.of(SEARCH, [busy], [home[3]], 0.3))
    running, crowded = ClusterAgent.allocate_attention(model, projects, _productivity(model))
    assert sorted(running.j.tolist()) == sorted(home[1:4].tolist())  # 1 + 1 + 1 = 3 slots
    assert crowded.j.tolist() == [away[0]]                           # 2 + 1.5 > 3
    off = _model(limited_attention=False)
    running, crowded = ClusterAgent.allocate_attention(off, projects, _productivity(off))
    assert len(running) == 4 and len(crowded) == 0


def test_a_project_runs_only_if_both_partners_have_room():
    model = _model(attention_venture=1.0)
    a, b, c = _rows(model, 0, n=3)
    projects = JointProjects.concat(JointProjects.of(TIE, [a], [b], 0.5, 2),
                                    JointProjects.of(BROKERED, [c], [b], 0.3))
    running, crowded = ClusterAgent.allocate_attention(model, projects, _productivity(model))
    assert running.i.tolist() == [a] and crowded.i.tolist() == [c]


# --- brain drain --------------------------------------------------------------------------
def test_talent_drains_toward_pangyo_on_inter_cluster_projects():
    model = _model(capability_learning=0.0, talent_gain=0.0, talent_drain=0.02)
    pop = model.population
    d, p = _rows(model, 0, n=1)[0], _rows(model, 1, n=1)[0]
    pop.absorptive[[d, p]] = [0.5, 0.4]
    projects = JointProjects.of(SEARCH, [p], [d], 0.3)
    drained = ClusterAgent.accumulate_capability(model, _outcome(model, projects),
                                                 np.zeros(len(pop)))
    assert drained == pytest.approx(0.01)
    assert pop.absorptive[d] == pytest.approx(0.49)
    assert pop.absorptive[p] == pytest.approx(0.41)
    off = _model(capability_learning=0.0, talent_gain=0.0, brain_drain=False)
    pop = off.population
    pop.absorptive[[d, p]] = [0.5, 0.4]
    assert ClusterAgent.accumulate_capability(off, _outcome(off, projects),
                                              np.zeros(len(pop))) == 0.0
    assert pop.absorptive[[d, p]] == pytest.approx([0.5, 0.4])


def _share_moving(cluster: int, **params) -> float:
    """Share of eligible ventures of ``cluster`` that relocate in one quarter, over seeds."""
    moved = eligible = 0
    for seed in range(4):
        model = ClusterModel(rng=seed, **{**LEGACY, "scale": 0.5, "spin_up_years": 0,
                                          "coupling": 1.0, "relocation_rate": 0.1, **params})
        model.regime = Regime.in_quarter(model.params, 1)
        pop = model.population
        ventures = _rows(model, cluster, n=10_000)
        pop.stage[ventures] = 1
        inter = np.zeros(len(pop), dtype=np.int64)
        inter[ventures] = 1
        outcome = _outcome(model, JointProjects.of(TIE, [], [], 0.3))
        outcome = ProjectOutcome(**{**outcome.__dict__, "inter_successes": inter})
        moved += len(Venture.relocate(model, outcome)[0])
        eligible += len(ventures)
    return moved / eligible


def test_ventures_move_toward_the_capital_region_more_readily():
    # 0.1 x coupling 1, times capital_pull 3 toward Pangyo; about 2,500 draws each
    assert _share_moving(0, capital_pull=3.0) == pytest.approx(0.3, abs=0.03)
    assert _share_moving(1, capital_pull=3.0) == pytest.approx(0.1, abs=0.02)
    assert _share_moving(0, brain_drain=False) == pytest.approx(0.1, abs=0.02)


# --- lock-in ------------------------------------------------------------------------------
def test_old_ties_decay_more_slowly_under_lock_in():
    for lock_in, expected in ((True, 0.5 * (1 - 0.1 * 0.5)), (False, 0.5 * (1 - 0.1))):
        model = _model(lock_in=lock_in, lock_in_quarters=8.0, tie_decay=0.1)
        a, b = _rows(model, 0, n=2)
        model.ties = type(model.ties)()
        model.ties.strengthen(np.array([a]), np.array([b]), 0.0, 0.5, now=-7)
        model.quarter_number = 1  # the tie is 8 quarters old
        model.loosen_ties()
        assert model.ties.weight(a, b) == pytest.approx(expected)


# --- the spin-up --------------------------------------------------------------------------
def test_records_start_in_2018q1_after_the_spin_up():
    model = ClusterModel(rng=3, scale=0.05, until_year=2019, spin_up_years=4)
    assert model.quarter == "2017Q4" and model.steps == 0 and not model.history
    assert model.population.innovations.sum() > 0  # the spin-up ran
    model.run_model()
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 8 and model.history[0]["quarter"] == "2018Q1"
    assert model.summary()["innovations_total"] == frame["innovations"].sum()


def test_the_2018_state_is_the_same_at_every_coupling():
    states = [ClusterModel(rng=5, scale=0.05, coupling=c, capability=0.6)
              for c in (0.0, 0.5, 1.0)]
    for other in states[1:]:
        np.testing.assert_array_equal(other.population.profile, states[0].population.profile)
        np.testing.assert_array_equal(other.population.absorptive,
                                      states[0].population.absorptive)
        np.testing.assert_array_equal(other.ties.keys, states[0].ties.keys)


def test_an_observer_does_not_change_the_run():
    watched = ClusterModel(rng=4, scale=0.05, until_year=2020)
    unwatched = ClusterModel(rng=4, scale=0.05, until_year=2020)
    unwatched.datacollector.collect = lambda model: None
    frames = []
    for model in (watched, unwatched):
        while model.running:
            model.step()
            frames.append(model.collaboration_graph().number_of_edges())  # observes too
    np.testing.assert_array_equal(watched.population.profile, unwatched.population.profile)
    np.testing.assert_array_equal(watched.ties.keys, unwatched.ties.keys)
    assert watched.history == unwatched.history
    assert len(watched.datacollector.get_model_vars_dataframe()) == 12


def test_the_record_and_the_datacollector_share_one_schema():
    model = ClusterModel(rng=1, scale=0.05, until_year=2018)
    model.run_model()
    frame = model.datacollector.get_model_vars_dataframe()
    record = pd.DataFrame(model.history).set_index("quarter")
    # the record's series, then the end state (filled in the last quarter only)
    assert list(frame.columns) == [*record.columns, *END_STATE_REPORTS]
    pd.testing.assert_frame_equal(frame[record.columns], record)
    summary = model.summary()
    assert frame[list(END_STATE_REPORTS)].iloc[-1].to_dict() == {
        name: summary[name] for name in END_STATE_REPORTS}
    assert frame[list(END_STATE_REPORTS)].iloc[:-1].isna().all().all()


def test_research_productivity_follows_the_stock():
    model = _model()
    pop = model.population
    research = np.flatnonzero(pop.research)[:2]
    pop.absorptive[research] = [0.2, 0.9]
    productivity = ResearchInstitute.research_productivity(model)
    assert productivity[research] == pytest.approx([0.7, 1.4])
    assert (productivity[pop.kind == VENTURE] == 1.0).all()


# --- clusters that fill up (Section 7.16.2) ------------------------------------------------
def _filled(share: float, **params) -> ClusterModel:
    """A model whose Pangyo holds ``share`` of its capacity (Daedeok: no limit)."""
    probe = _model()
    pangyo = int(probe.ventures_by_cluster()[1])
    return _model(capacity_pangyo=pangyo / share / 0.05, **params)


def test_crowding_is_occupancy_to_the_power_theta():
    model = _filled(0.5, crowding_shape=2.0)
    assert model.crowding() == pytest.approx([0.0, 0.25])
    assert model.crowding()[0] == 0.0  # no limit: exactly nothing
    full = _filled(1.0)
    assert full.crowding()[1] == pytest.approx(1.0) and full.room()[1] == 0
    assert np.isinf(full.room()[0])


def test_burn_rises_with_crowding():
    cash_lost = []
    for model in (_model(survival_relief=0.0),
                  _filled(0.5, crowding_shape=1.0, congestion_cost=0.4, survival_relief=0.0)):
        pop = model.population
        v = _rows(model, 1, n=1)[0]
        pop.stage[v], pop.revenue[v], pop.cash[v] = 0, 0.0, 50.0
        pop.incubated_until[v] = 0
        Venture.life_cycle(model, _outcome(model, JointProjects.of(TIE, [], [], 0.3)))
        cash_lost.append(50.0 - pop.cash[v])
    assert cash_lost[0] == pytest.approx(1.0)              # burn_startup, no limit
    assert cash_lost[1] == pytest.approx(1.0 * (1 + 0.4 * 0.5))


def test_a_full_cluster_founds_nothing_and_its_spin_offs_are_turned_away():
    model = _filled(1.0, spin_off_venture=1.0)
    pop = model.population
    pop.absorptive[:] = 0.5  # chance min(1, 1.0 x (0.5 + 0.5)) = 1 before crowding
    successes = np.zeros(len(pop), dtype=np.int64)
    home, full = _rows(model, 0, n=5), _rows(model, 1, n=5)
    successes[np.concatenate([home, full])] = 1
    parents = ClusterAgent.spin_off_parents(model, _outcome(
        model, JointProjects.of(TIE, [], [], 0.3), successes))
    assert sorted(parents.tolist()) == sorted(home.tolist())  # crowding 1: chance 0
    # parents that got through anyway (e.g. drawn earlier) find no place
    rows, founders, turned_away = Venture.found(model, np.concatenate([home, full]))
    assert len(rows) == 5 and turned_away.tolist() == [0, 5]
    assert founders.tolist() == home.tolist()  # only the parents that found a place
    entrants, _ = Venture.enter(model)
    assert (pop.cluster[entrants] == 0).all()


def test_newcomers_beyond_the_room_left_are_chosen_at_random():
    model = _filled(1.0)
    ventures = model.ventures_by_cluster()
    model.params = dataclasses.replace(model.params,
                                       capacity_pangyo=(ventures[1] + 2) / 0.05)
    assert model.room().tolist() == [np.inf, 2.0]
    admitted, turned_away = Venture.admit(model, np.array([1, 0, 1, 1, 0, 1], np.int8))
    assert admitted[[1, 4]].all() and admitted[[0, 2, 3, 5]].sum() == 2
    assert turned_away.tolist() == [0, 2]


def test_the_second_valley_opens_in_its_year():
    params = Params(capacity_pangyo=1300.0, second_valley_capacity=400.0,
                    second_valley_year=2020)
    assert params.capacity_in(2019) == (math.inf, 1300.0)
    assert params.capacity_in(2020) == (math.inf, 1700.0)
    with pytest.raises(ParameterError, match="second_valley_capacity"):
        Params(capacity_pangyo=None, second_valley_capacity=400.0)


def test_a_limit_far_away_is_no_limit_bit_for_bit():
    # occupancy ~1e-4 to the power 100 underflows: crowding is exactly 0, yet every
    # code path of a finite capacity (room, admission) runs
    runs = [ClusterModel(rng=5, **{**LEGACY, "scale": 0.05, "until_year": 2020,
                                   "coupling": 0.5, **params})
            for params in ({}, {"capacity_daedeok": 1e6, "capacity_pangyo": 1e6,
                                "crowding_shape": 100.0})]
    for model in runs:
        model.run_model()
    unlimited, far = (model.datacollector.get_model_vars_dataframe() for model in runs)
    pd.testing.assert_frame_equal(unlimited, far)
    assert (unlimited.filter(like="turned_away") == 0).all().all()
