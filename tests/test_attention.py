"""Attention allocated by value (docs/ODD.md, 7.7.2): the shared-order allocation on
hand-computed cases and against the sequential rule it implements, and the agents'
ranking by expected innovations per slot."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import ClusterModel
from sim.agents import ClusterAgent, ResearchInstitute
from sim.policy import Regime
from sim.population import VENTURE
from sim.projects import SEARCH, TIE, JointProjects, take_in_order


def sequential_allocation(i, j, order, load, capacity) -> np.ndarray:
    """The rule as the ODD states it, one project at a time in order, in plain Python."""
    free = np.array(capacity, dtype=float)
    runs = np.zeros(len(i), dtype=bool)
    for k in order:
        if load[k] <= free[i[k]] + 1e-9 and load[k] <= free[j[k]] + 1e-9:
            runs[k] = True
            free[i[k]] -= load[k]
            free[j[k]] -= load[k]
    return runs


# --- the allocation --------------------------------------------------------------------------
def test_hand_computed_allocation_a_declined_project_frees_the_partners_slots():
    capacity = np.array([2.0, 1.0, 2.0, 2.0])
    i = np.array([1, 0, 0, 0, 2, 3])
    j = np.array([3, 1, 2, 3, 3, 2])
    load = np.array([1.0, 1.0, 1.5, 1.0, 1.0, 0.5])
    order = np.arange(6)
    # p0 runs (agent 1 is now full); p1 is declined by agent 1, so agent 0 keeps both
    # slots and p2 (1.5) runs; p3 needs 2.5 of agent 0's 2; p4 needs 2.5 of agent 2's 2;
    # p5 fits agent 3 (1 + 0.5) and agent 2 (1.5 + 0.5)
    expected = [True, False, True, False, False, True]
    assert take_in_order(i, j, order, load, capacity).tolist() == expected
    # under the fixed-order rule p1 would still take a slot of agent 0 and crowd out p2
    assert sequential_allocation(i, j, order, load, capacity).tolist() == expected


def test_a_project_too_large_for_what_is_left_is_declined_and_a_smaller_one_taken():
    capacity = np.array([2.0, 5.0, 5.0, 5.0])
    i, j = np.array([0, 0, 0]), np.array([1, 2, 3])
    load = np.array([1.0, 1.5, 1.0])
    runs = take_in_order(i, j, np.arange(3), load, capacity)
    assert runs.tolist() == [True, False, True]


def test_unlimited_slots_take_everything():
    rng = np.random.default_rng(3)
    i, j = rng.integers(0, 10, 200), rng.integers(10, 20, 200)
    load = rng.choice([1.0, 1.5], 200)
    runs = take_in_order(i, j, rng.permutation(200), load, np.full(20, 1e6))
    assert runs.all()


def test_no_agent_is_given_more_than_its_slots():
    rng = np.random.default_rng(5)
    n_agents, n = 40, 600
    i = rng.integers(0, n_agents, n)
    j = (i + rng.integers(1, n_agents, n)) % n_agents
    load = rng.choice([1.0, 1.5, 2.0], n)
    capacity = rng.choice([1.0, 3.0, 6.0], n_agents)
    runs = take_in_order(i, j, rng.permutation(n), load, capacity)
    used = (np.bincount(i[runs], weights=load[runs], minlength=n_agents)
            + np.bincount(j[runs], weights=load[runs], minlength=n_agents))
    assert (used <= capacity + 1e-9).all()
    assert 0 < runs.sum() < n


@st.composite
def allocation_problems(draw):
    n_agents = draw(st.integers(2, 8))
    n = draw(st.integers(1, 30))
    i = np.array(draw(st.lists(st.integers(0, n_agents - 1), min_size=n, max_size=n)))
    shift = np.array(draw(st.lists(st.integers(1, n_agents - 1), min_size=n, max_size=n)))
    j = (i + shift) % n_agents  # never one's own partner
    load = np.array(draw(st.lists(st.sampled_from([1.0, 1.3, 1.5, 2.0, 3.0]),
                                  min_size=n, max_size=n)))
    capacity = np.array(draw(st.lists(st.sampled_from([0.5, 1.0, 2.0, 2.5, 3.0, 6.0]),
                                      min_size=n_agents, max_size=n_agents)))
    order = np.array(draw(st.permutations(list(range(n)))))
    return i, j, order, load, capacity


@settings(max_examples=300, deadline=None)
@given(problem=allocation_problems())
def test_the_compiled_loop_gives_what_the_sequential_rule_gives(problem):
    assert (take_in_order(*problem).tolist()
            == sequential_allocation(*problem).tolist())


# --- the agents' ranking ---------------------------------------------------------------------
def _model(**params) -> ClusterModel:
    model = ClusterModel(rng=7, scale=0.05, spin_up_years=0, coupling=1.0,
                         attention_by_value=True, **params)
    model.regime = Regime.in_quarter(model.params, 1)
    return model


def _ventures(model, cluster, n):
    pop = model.population
    return np.flatnonzero(pop.alive & (pop.kind == VENTURE) & (pop.cluster == cluster))[:n]


def test_an_agent_takes_its_most_valuable_projects_per_slot():
    model = _model(attention_venture=3.0, cross_attention_cost=1.5)
    home, away = _ventures(model, 0, 7), _ventures(model, 1, 3)
    busy = home[0]
    partners = np.concatenate([home[1:], away])
    projects = JointProjects.concat(
        JointProjects.of(TIE, [busy] * 3, partners[:3], 0.5, 4),
        JointProjects.of(SEARCH, [busy] * (len(partners) - 3), partners[3:], 0.3))
    productivity = ResearchInstitute.research_productivity(model)
    inter = projects.crossing(model.population.cluster)
    load = np.where(inter, 1.5, 1.0)
    value = ClusterAgent.value_per_slot(model, projects, productivity, inter, load)
    # the partners have room for one project each, so only the busy venture chooses:
    # best value per slot first, each project taken if it still fits in 3 slots
    expected, free = [], 3.0
    for k in np.argsort(-value, kind="stable"):
        if load[k] <= free + 1e-9:
            expected.append(partners[k])
            free -= load[k]
    running, crowded = ClusterAgent.allocate_attention(model, projects, productivity)
    assert sorted(running.j.tolist()) == sorted(expected)
    assert len(running) + len(crowded) == len(projects)
    # the origin of a project no longer decides: ties are not taken first by rule
    assert set(crowded.j.tolist()) == set(partners.tolist()) - set(expected)


def test_value_per_slot_is_the_odds_after_coordination_over_the_slots():
    model = _model(cross_attention_cost=2.0)
    d, p = _ventures(model, 0, 2), _ventures(model, 1, 1)
    projects = JointProjects.concat(JointProjects.of(SEARCH, [d[0]], [d[1]], 0.3),
                                    JointProjects.of(SEARCH, [d[0]], [p[0]], 0.3))
    productivity = ResearchInstitute.research_productivity(model)
    inter = projects.crossing(model.population.cluster)
    load = np.where(inter, 2.0, 1.0)
    odds = ClusterAgent.project_odds(model, productivity, projects.i, projects.j)
    penalty = ClusterAgent.coordination_penalty(model, projects, inter)
    value = ClusterAgent.value_per_slot(model, projects, productivity, inter, load)
    assert value[0] == pytest.approx(odds[0])
    assert value[1] == pytest.approx(odds[1] * (1 - penalty[1]) / 2.0)
    assert penalty[1] > 0


def test_a_run_that_chooses_by_value_is_reproducible_and_differs_from_the_fixed_order():
    runs = [ClusterModel(rng=3, scale=0.05, until_year=2020, coupling=0.6,
                         attention_by_value=by_value) for by_value in (True, True, False)]
    for model in runs:
        model.run_model()
    first, again, fixed = (model.datacollector.get_model_vars_dataframe() for model in runs)
    assert first.equals(again)
    assert not first.equals(fixed)
    assert (first["crowded_out"] >= 0).all()
