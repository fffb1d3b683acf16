"""Each agent behaviour on its own, on a small model whose arrays the test sets up."""

import mesa
import numpy as np
import pytest

from sim import ClusterModel
from sim.agents import ClusterAgent, ResearchInstitute, SupportAgency, University, Venture
from sim.knowledge import cognitive_distance
from sim.population import AGENCY, INSTITUTE, NEVER, UNIVERSITY, VENTURE
from sim.projects import BROKERED, SEARCH, TIE, JointProjects, ProjectOutcome


def _outcome(model: ClusterModel, successes=None, inter_successes=None, involvement=None,
             projects: JointProjects | None = None, inter=None) -> ProjectOutcome:
    """A constructed outcome of the quarter's projects (what collaborate() hands on)."""
    n = len(model.population)
    projects = projects or JointProjects.of(TIE, np.empty(0), np.empty(0), 0.3)
    zeros = np.zeros(n, dtype=np.int64)
    return ProjectOutcome(
        projects=projects,
        inter=np.zeros(len(projects), bool) if inter is None else inter,
        success=np.zeros(len(projects), bool),
        involvement=zeros.copy() if involvement is None else involvement,
        successes=zeros.copy() if successes is None else successes,
        inter_successes=zeros.copy() if inter_successes is None else inter_successes,
        innovations_by_cluster=np.zeros(2), coordination_loss=0.0, knowledge_flow=0.0,
        knowledge_flow_inter=0.0)


def _productivity(model):
    return ResearchInstitute.research_productivity(model)


def _ventures(model, cluster=None):
    pop = model.population
    mask = pop.alive & (pop.kind == VENTURE)
    if cluster is not None:
        mask &= pop.cluster == cluster
    return np.flatnonzero(mask)


def test_agents_are_inspectable_mesa_agents(small_model):
    model = small_model
    kinds = {type(a) for a in model.agents}
    assert kinds == {ResearchInstitute, University, Venture, SupportAgency}
    assert all(isinstance(a, mesa.Agent) for a in model.agents)
    venture = model.agents_by_type[Venture][0]
    assert sum(venture.profile.values()) == pytest.approx(1.0, abs=1e-3)
    assert venture.stage in ("start-up", "growth", "global")
    assert venture.cluster_name in ("Daedeok", "Pangyo")
    assert 0.0 <= venture.absorptive_capacity <= 1.0
    for partner, weight in venture.partners().items():
        assert isinstance(partner, mesa.Agent) and 0 < weight <= 1


def test_compaction_renumbers_the_rows_and_their_agents_together():
    model = ClusterModel(rng=3, scale=0.05, until_year=2025)
    model.run_model()
    pop = model.population
    # more agents were created than there are rows: rows were dropped
    assert max(agent.unique_id for agent in model.agents) > len(pop)
    living = np.flatnonzero(pop.alive).tolist()
    assert [pop.agent[row].index for row in living] == living
    assert all(pop.agent[agent.index] is agent for agent in model.agents)
    # a row without an agent is one that exited before anything asked for its agent
    assert all(not pop.alive[row] for row, agent in enumerate(pop.agent) if agent is None)
    assert [agent.unique_id for agent in model.agents] == pop.agent_id[living].tolist()


def test_agents_seated_late_are_those_seated_at_once():
    """Ventures get their Mesa agents when something asks: asked every quarter (the
    agent reporters) or only at the end, the same agents, ids and order."""
    every_quarter = ClusterModel(rng=5, scale=0.05, until_year=2021, record_agents=True)
    at_the_end = ClusterModel(rng=5, scale=0.05, until_year=2021)
    for model in (every_quarter, at_the_end):
        model.run_model()
    assert at_the_end.population.agent.count(None) > every_quarter.population.agent.count(None)
    listed = [[(type(a).__name__, a.unique_id, a.index) for a in model.agents]
              for model in (every_quarter, at_the_end)]
    assert listed[0] == listed[1]
    assert len(at_the_end.agents) == int(at_the_end.population.alive.sum())
    assert at_the_end.summary() == every_quarter.summary()


def test_each_cluster_keeps_at_least_one_agent_of_each_kind():
    model = ClusterModel(rng=0, scale=0.001)
    pop = model.population
    for cluster in (0, 1):
        kinds = set(pop.kind[pop.cluster == cluster].tolist())
        assert kinds == {INSTITUTE, UNIVERSITY, VENTURE, AGENCY}


def test_venture_without_cash_or_revenue_exits(small_model):
    model = small_model
    pop = model.population
    broke, rich = _ventures(model)[:2]
    pop.cash[[broke, rich]] = [0.1, 50.0]
    pop.revenue[[broke, rich]] = 0.0
    _, exited = Venture.life_cycle(model, _outcome(model))
    assert broke in exited and rich not in exited
    assert not pop.alive[broke] and pop.alive[rich]


def test_incubation_and_the_capability_stock_lower_start_up_burn():
    burnt = {}
    for stock, incubated in ((0.0, False), (1.0, False), (0.0, True)):
        model = ClusterModel(rng=1, scale=0.05, spin_up_years=0)
        pop = model.population
        pop.absorptive[pop.active()] = stock  # the cluster's stock is their mean
        v = _ventures(model)[0]
        pop.stage[v], pop.revenue[v], pop.cash[v] = 0, 0.0, 10.0
        pop.incubated_until[v] = 8 if incubated else NEVER
        Venture.life_cycle(model, _outcome(model))
        burnt[stock, incubated] = 10.0 - pop.cash[v]
    assert burnt[0.0, False] == pytest.approx(1.0)
    assert burnt[1.0, False] == pytest.approx(0.7)   # survival_relief 0.3
    assert burnt[0.0, True] == pytest.approx(0.5)    # incubation_relief 0.5


def test_sustained_success_scales_a_venture_up(small_model):
    model = small_model
    pop = model.population
    v = _ventures(model)[0]
    pop.stage[v], pop.cash[v] = 0, 100.0
    # the record is discounted by success_memory before the check
    threshold = model.regime.scale_up_threshold
    pop.success_record[v] = threshold / model.params.success_memory + 1e-9
    scaled, _ = Venture.life_cycle(model, _outcome(model))
    assert v in scaled and pop.stage[v] == 1 and pop.success_record[v] == 0.0


def test_innovations_open_revenue_streams(small_model):
    model = small_model
    pop = model.population
    v = _ventures(model)[0]
    pop.stage[v], pop.revenue[v] = 0, 0.0
    successes = np.zeros(len(pop), dtype=np.int64)
    successes[v] = 2
    Venture.life_cycle(model, _outcome(model, successes=successes))
    assert pop.revenue[v] == pytest.approx(2 * model.params.innovation_revenue)


def test_spin_offs_need_a_success_and_land_in_the_parents_cluster():
    model = ClusterModel(rng=2, scale=0.05, spin_off_research=1.0, capability=0.5)
    pop = model.population
    research = np.flatnonzero(pop.kind == INSTITUTE)
    pop.absorptive[:] = 0.5  # chance min(1, 1.0 x (0.5 + stock)) = 1
    successes = np.zeros(len(pop), dtype=np.int64)
    successes[research[0]] = 1  # only this one succeeded
    parents = ClusterAgent.spin_off_parents(model, _outcome(model, successes=successes))
    assert parents.tolist() == [research[0]]
    before = len(model.agents)
    rows, founders, turned_away = Venture.found(model, parents)
    assert turned_away.tolist() == [0, 0]  # no limit to a cluster's size
    assert founders.tolist() == [research[0]]  # each new row beside its parent
    assert len(model.agents) == before + 1
    assert pop.kind[rows[0]] == VENTURE and pop.cluster[rows[0]] == pop.cluster[research[0]]
    assert model.ties.weight(research[0], rows[0]) == model.params.tie_initial
    # a spin-off starts near its parent's capability stock
    assert abs(pop.absorptive[rows[0]] - pop.absorptive[research[0]]) < 0.5


def test_relocation_needs_coupling():
    for coupling, expect_move in ((0.0, False), (1.0, True)):
        model = ClusterModel(rng=3, scale=0.05, coupling=coupling, relocation_rate=1.0)
        model.regime = model.regime.__class__.in_quarter(model.params, 1)
        pop = model.population
        v = _ventures(model, cluster=0)[0]
        pop.stage[v] = 1
        inter_successes = np.zeros(len(pop), dtype=np.int64)
        inter_successes[v] = 1
        movers, _ = Venture.relocate(model, _outcome(model, inter_successes=inter_successes))
        assert (v in movers) == expect_move
        assert pop.cluster[v] == (1 if expect_move else 0)


def test_search_crosses_only_as_far_as_coupling_allows():
    for coupling in (0.0, 1.0):
        model = ClusterModel(rng=4, scale=0.05, coupling=coupling, search_rate=1.0,
                             cross_propensity_initial=1.0, spin_up_years=0)
        model.regime = model.regime.__class__.in_quarter(model.params, 1)
        found = ClusterAgent.search_partners(model, _productivity(model))
        i, j = found.i, found.j
        assert len(i) > 0 and (i != j).all() and (found.origin == SEARCH).all()
        inter = found.crossing(model.population.cluster)
        assert inter.all() if coupling == 1.0 else not inter.any()


def test_search_prefers_promising_partners():
    """Best of several candidates beats a random partner on expected odds."""
    model = ClusterModel(rng=5, scale=0.2, search_rate=1.0, search_candidates=8)
    productivity = _productivity(model)
    found = ClusterAgent.search_partners(model, productivity)
    i, j = found.i, found.j
    chosen = ClusterAgent.project_odds(model, productivity, i, j).mean()
    # a random partner from the same cluster as the chosen one: the candidates' pool
    random_j = j.copy()
    for cluster in (0, 1):
        same = np.flatnonzero(model.population.cluster[j] == cluster)
        random_j[same] = model.rng.permutation(j[same])
    assert chosen > ClusterAgent.project_odds(model, productivity, i, random_j).mean()


def test_agency_brokerage_stays_in_cluster_without_coupling():
    model = ClusterModel(rng=6, scale=1.0, coupling=0.0)  # enough matches to look at
    pop = model.population
    for agency in model.agents_by_type[SupportAgency]:
        brokered = agency.step(_productivity(model))
        assert agency.matches_across == 0
        assert agency.matches_within == len(brokered) > 0
        assert (brokered.origin == BROKERED).all()
        assert not brokered.crossing(pop.cluster).any()


def test_cooperation_programme_brokers_across_clusters():
    model = ClusterModel(rng=6, scale=0.2, coupling=1.0, cooperation_programme=True)
    model.regime = model.regime.__class__.in_quarter(model.params, 1)
    agency = model.agents_by_type[SupportAgency][0]
    brokered = agency.broker_across_clusters(_productivity(model))
    assert agency.matches_across == len(brokered) > 0
    assert brokered.crossing(model.population.cluster).all()


def test_incubation_respects_slots():
    model = ClusterModel(rng=8, scale=0.5, incubation_slots=4)
    pop = model.population
    pop.age[pop.kind == VENTURE] = 0
    pop.stage[pop.kind == VENTURE] = 0
    pop.incubated_until[:] = NEVER
    agency = model.agents_by_type[SupportAgency][0]
    agency.incubate()
    mine = (pop.kind == VENTURE) & (pop.cluster == agency.cluster)
    assert (pop.incubated_until[mine] > model.quarter_number).sum() == round(4 * 0.5)
    agency.incubate()  # slots are full: nobody new
    assert (pop.incubated_until[mine] > model.quarter_number).sum() == round(4 * 0.5)


def test_learning_makes_partners_converge(small_model):
    model = small_model
    pop = model.population
    i, j = np.array([0]), np.array([5])
    before = cognitive_distance(pop.profile[i], pop.profile[j])[0]
    ClusterAgent.converge(model, JointProjects.of(TIE, i, j, 1.0), np.array([False]))
    after = cognitive_distance(pop.profile[i], pop.profile[j])[0]
    assert after < before
    np.testing.assert_allclose(pop.profile.sum(axis=1), 1.0)


def test_anchoring_pulls_back_home(small_model):
    model = small_model
    pop = model.population
    pop.profile[0] = np.eye(pop.profile.shape[1])[0]
    gap = np.abs(pop.profile[0] - pop.home[0]).sum()
    ClusterAgent.converge(model, JointProjects.of(TIE, np.empty(0), np.empty(0), 1.0),
                          np.empty(0, bool))
    assert np.abs(pop.profile[0] - pop.home[0]).sum() < gap


def test_universities_train_their_partners(small_model):
    model = small_model
    pop = model.population
    uni = np.flatnonzero(pop.kind == UNIVERSITY)[0]
    institute = np.flatnonzero(pop.kind == INSTITUTE)[0]
    v, w = _ventures(model)[:2]
    projects = JointProjects.of(TIE, [uni, v, institute], [v, uni, w], 0.3)
    trained = University.train(pop.kind, projects, len(pop))
    assert trained[v] == 2 and trained[w] == 0 and trained[uni] == 0


def test_failed_crossings_lower_the_will_to_cross():
    model = ClusterModel(rng=9, scale=0.05, coupling=1.0, success_scale=0.0)
    pop = model.population
    a = np.flatnonzero((pop.cluster == 0) & (pop.kind == VENTURE))[:5]
    b = np.flatnonzero((pop.cluster == 1) & (pop.kind == VENTURE))[:5]
    before = pop.cross_propensity[a].copy()
    ClusterAgent.collaborate(model, JointProjects.of(SEARCH, a, b, 0.3), _productivity(model))
    assert (pop.cross_propensity[a] < before).all()
