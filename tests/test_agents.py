"""Each agent behaviour on its own, on a small model whose arrays the test sets up."""

import mesa
import numpy as np
import pytest

from sim import ClusterModel
from sim.agents import ResearchInstitute, SupportAgency, University, Venture
from sim.agents.base import search_partners, spin_off_parents
from sim.knowledge import cognitive_distance
from sim.population import AGENCY, INSTITUTE, UNIVERSITY, VENTURE


def _prepare(model: ClusterModel) -> None:
    """What step() does before agents act: per-quarter caches."""
    model._absorptive = model.population.absorptive


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
    _, exited = Venture.life_cycle(model)
    assert broke in exited and rich not in exited
    assert not pop.alive[broke] and pop.alive[rich]


def test_incubation_and_capability_lower_start_up_burn():
    burnt = {}
    for capability, incubated in ((0.0, False), (1.0, False), (0.0, True)):
        model = ClusterModel(rng=1, scale=0.05, capability=capability)
        pop = model.population
        v = _ventures(model)[0]
        pop.stage[v], pop.revenue[v], pop.cash[v] = 0, 0.0, 10.0
        pop.incubated_until[v] = 8 if incubated else -1
        Venture.life_cycle(model)
        burnt[capability, incubated] = 10.0 - pop.cash[v]
    assert burnt[0.0, False] == pytest.approx(1.0)
    assert burnt[1.0, False] == pytest.approx(0.7)   # survival_relief 0.3
    assert burnt[0.0, True] == pytest.approx(0.5)    # incubation_relief 0.5


def test_sustained_success_scales_a_venture_up(small_model):
    model = small_model
    pop = model.population
    v = _ventures(model)[0]
    pop.stage[v], pop.cash[v] = 0, 100.0
    # the record is discounted by success_memory before the check
    pop.success_record[v] = model.scale_up_threshold / model.params.success_memory + 1e-9
    scaled, _ = Venture.life_cycle(model)
    assert v in scaled and pop.stage[v] == 1 and pop.success_record[v] == 0.0


def test_innovations_open_revenue_streams(small_model):
    model = small_model
    pop = model.population
    v = _ventures(model)[0]
    pop.stage[v], pop.revenue[v] = 0, 0.0
    pop.successes_now[v] = 2
    Venture.life_cycle(model)
    assert pop.revenue[v] == pytest.approx(2 * model.params.innovation_revenue)


def test_spin_offs_need_a_success_and_land_in_the_parents_cluster():
    model = ClusterModel(rng=2, scale=0.05, spin_off_research=1.0, capability=0.5)
    pop = model.population
    research = np.flatnonzero(pop.kind == INSTITUTE)
    pop.successes_now[research[0]] = 1  # only this one succeeded
    chance = np.array([1.0, 1.0, 0.0, 0.0])
    parents = spin_off_parents(model, chance)
    assert parents.tolist() == [research[0]]
    before = len(model.agents)
    rows = Venture.found(model, parents)
    assert len(model.agents) == before + 1
    assert pop.kind[rows[0]] == VENTURE and pop.cluster[rows[0]] == pop.cluster[research[0]]
    assert model.ties.weight(research[0], rows[0]) == model.params.tie_initial


def test_relocation_needs_coupling():
    for coupling, expect_move in ((0.0, False), (1.0, True)):
        model = ClusterModel(rng=3, scale=0.05, coupling=coupling, relocation_rate=1.0)
        model.coupling_now = coupling
        pop = model.population
        v = _ventures(model, cluster=0)[0]
        pop.stage[v] = 1
        pop.inter_successes_now[v] = 1
        movers = Venture.relocate(model)
        assert (v in movers) == expect_move
        assert pop.cluster[v] == (1 if expect_move else 0)


def test_search_crosses_only_as_far_as_coupling_allows():
    for coupling in (0.0, 1.0):
        model = ClusterModel(rng=4, scale=0.05, coupling=coupling, search_rate=1.0,
                             cross_propensity_initial=1.0)
        _prepare(model)
        i, j, crossed = search_partners(model)
        pop = model.population
        assert len(i) > 0 and (i != j).all()
        inter = pop.cluster[i] != pop.cluster[j]
        assert (inter == crossed).all()
        assert inter.all() if coupling == 1.0 else not inter.any()


def test_search_prefers_promising_partners():
    """Best of several candidates beats a random partner on expected odds."""
    model = ClusterModel(rng=5, scale=0.2, search_rate=1.0, search_candidates=8)
    _prepare(model)
    i, j, _ = search_partners(model)
    chosen = model.success_odds(i, j).mean()
    random_j = model.rng.permutation(j)
    assert chosen > model.success_odds(i, random_j).mean()


def test_agency_brokerage_stays_in_cluster_without_coupling():
    model = ClusterModel(rng=6, scale=0.2, coupling=0.0)
    _prepare(model)
    model._brokered = []
    for agency in model.agents_by_type[SupportAgency]:
        agency.step()
        assert agency.matches_across == 0
        assert agency.matches_within > 0
    pop = model.population
    for i, j in model._brokered:
        assert (pop.cluster[i] == pop.cluster[j]).all()


def test_cooperation_programme_brokers_across_clusters():
    model = ClusterModel(rng=6, scale=0.2, coupling=1.0, cooperation_programme=True)
    _prepare(model)
    model._brokered = []
    agency = model.agents_by_type[SupportAgency][0]
    agency.broker_across_clusters()
    assert agency.matches_across > 0
    pop = model.population
    i, j = model._brokered[-1]
    assert (pop.cluster[i] != pop.cluster[j]).all()


def test_incubation_respects_slots():
    model = ClusterModel(rng=8, scale=0.5, incubation_slots=4)
    pop = model.population
    pop.age[pop.kind == VENTURE] = 0
    agency = model.agents_by_type[SupportAgency][0]
    agency.incubate()
    mine = (pop.kind == VENTURE) & (pop.cluster == agency.cluster)
    assert (pop.incubated_until[mine] > 0).sum() == round(4 * 0.5)
    agency.incubate()  # slots are full: nobody new
    assert (pop.incubated_until[mine] > 0).sum() == round(4 * 0.5)


def test_learning_makes_partners_converge(small_model):
    model = small_model
    pop = model.population
    i, j = np.array([0]), np.array([5])
    before = cognitive_distance(pop.profile[i], pop.profile[j])[0]
    model._learn(i, j, np.array([1.0]), np.array([False]))
    after = cognitive_distance(pop.profile[i], pop.profile[j])[0]
    assert after < before
    np.testing.assert_allclose(pop.profile.sum(axis=1), 1.0)


def test_anchoring_pulls_back_home(small_model):
    model = small_model
    pop = model.population
    pop.profile[0] = np.eye(pop.profile.shape[1])[0]
    gap = np.abs(pop.profile[0] - pop.home[0]).sum()
    model._learn(np.empty(0, int), np.empty(0, int), np.empty(0), np.empty(0, bool))
    assert np.abs(pop.profile[0] - pop.home[0]).sum() < gap


def test_university_partners_gain_absorptive_capacity(small_model):
    model = small_model
    _prepare(model)
    pop = model.population
    uni = np.flatnonzero(pop.kind == UNIVERSITY)[0]
    v = _ventures(model)[0]
    before = pop.absorptive[v]
    model._run_projects(np.array([uni]), np.array([v]), np.array([0.3]), np.array([False]))
    assert pop.talent[v] == pytest.approx(model.params.talent_gain)
    assert pop.absorptive[v] >= before


def test_failed_crossings_lower_the_will_to_cross():
    model = ClusterModel(rng=9, scale=0.05, coupling=1.0, success_scale=0.0)
    _prepare(model)
    pop = model.population
    a = np.flatnonzero((pop.cluster == 0) & (pop.kind == VENTURE))[:5]
    b = np.flatnonzero((pop.cluster == 1) & (pop.kind == VENTURE))[:5]
    before = pop.cross_propensity[a].copy()
    model._run_projects(a, b, np.full(5, 0.3), np.zeros(5, bool))
    assert (pop.cross_propensity[a] < before).all()
