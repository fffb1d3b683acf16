"""Budgeted programmes (docs/ODD.md, 7.20): what a budget buys, when it starts, when it
stops, and that a budget of 0 is no programme at all."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import ClusterModel
from sim.agents import ResearchInstitute, SupportAgency, University
from sim.calibration import FIRST_VALLEY_M2
from sim.params import PROGRAMME_NAMES, ParameterError, Params
from sim.population import VENTURE
from sim.programmes import PROGRAMMES, ProgrammeBook, programme_named

ROOT = Path(__file__).resolve().parents[1]
DAEDEOK, PANGYO = 0, 1


def quarters_of(year: int) -> range:
    """Quarter numbers (1 = 2018Q1) of ``year``."""
    first = (year - 2018) * 4 + 1
    return range(first, first + 4)


def spending_by_year(model: ClusterModel) -> dict[int, float]:
    """Programme money spent in each year, both clusters, KRW billion at full size."""
    years: dict[int, float] = {}
    for record in model.history:
        year = int(record["quarter"][:4])
        years[year] = years.get(year, 0.0) + (record["programme_spending_daedeok"]
                                              + record["programme_spending_pangyo"])
    return years


@pytest.fixture(scope="module")
def start_2018() -> ClusterModel:
    """A small model at 2018Q1, from which programmes branch."""
    return ClusterModel(rng=4, scale=0.1, spin_up_years=1)


# --- the purse ---------------------------------------------------------------------------------
def test_a_budget_buys_budget_over_unit_cost_units_a_year_hand_computed():
    # 10 KRW bn a year at 500 KRW m a unit: 20 units a year, 10 in each cluster, bought
    # 2, 3, 2, 3 a quarter (2,500 m granted a quarter); nothing before 2026
    params = Params(cooperation_budget=10.0, match_cost=500.0, scale=1.0)
    assert programme_named("cooperation").units_per_year(params) == 20.0
    book = ProgrammeBook()
    bought = []
    for quarter in range(1, 41):
        book.open_quarter(params, quarter)
        units = book.offer(params, "cooperation", DAEDEOK)
        book.pay(params, "cooperation", DAEDEOK, units)
        bought.append(units)
    assert sum(bought[:32]) == 0
    assert bought[32:36] == [2, 3, 2, 3]
    assert sum(bought[32:36]) == 10 and sum(bought[36:40]) == 10


def test_a_model_at_scale_holds_its_share_of_the_money():
    # 4 KRW bn a year at 250 KRW m: 16 units at full size, 4 at scale 0.25, all in Pangyo
    params = Params(incubation_budget=4.0, incubation_cost=250.0, scale=0.25,
                    incubation_share_daedeok=0.0)
    book = ProgrammeBook()
    offers = []
    for quarter in quarters_of(2026):
        book.open_quarter(params, quarter)
        offers.append(book.offer(params, "incubation", PANGYO))
        book.pay(params, "incubation", PANGYO, offers[-1])
        assert book.offer(params, "incubation", DAEDEOK) == 0
    assert offers == [1, 1, 1, 1]
    assert book.total_spent(params) == pytest.approx(4.0)


def test_money_not_taken_up_waits_and_the_grants_stop_at_budget_times_years():
    params = Params(spin_off_budget=2.0, spin_off_grant=250.0, spin_off_years=2,
                    spin_off_start=2020, scale=1.0)
    book = ProgrammeBook()
    for quarter in range(1, 53):
        book.open_quarter(params, quarter)
    # two years of 1 KRW bn in each cluster granted, nothing spent: all of it waits
    assert book.purse("spin_off", DAEDEOK) == pytest.approx(2000.0)
    assert book.offer(params, "spin_off", DAEDEOK) == 8
    with pytest.raises(ValueError, match="cannot pay for 9 units"):
        book.pay(params, "spin_off", DAEDEOK, 9)


def test_every_programme_has_its_inputs_and_a_unit_cost():
    fields = Params.describe()
    assert tuple(p.name for p in PROGRAMMES) == PROGRAMME_NAMES
    for programme in PROGRAMMES:
        for name in programme.inputs:
            assert fields[name]["from_2018"], name
        assert fields[programme.unit_cost]["unit"].startswith("KRW m/")
        assert fields[f"{programme.name}_budget"]["default"] == 0.0


# --- inputs ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("inputs", "message"), [
    ({"training_budget": 5.0, "training_start": 2031},
     r"training_start must be in \[2018, until_year=2030\] when training_budget is above 0"),
    ({"cooperation_start": 2017}, r"cooperation_start must be in \[2018, 2100\]"),
    ({"floor_space_budget": 5.0, "floor_space_share_daedeok": 0.5},
     "floor_space_share_daedeok sends floor-space money to daedeok, which has no capacity"),
    ({"match_cost": 0.0}, r"match_cost must be in \(0.0, 1000000.0\]"),
    ({"floor_space_budget": 5.0, "capacity_pangyo": None, "second_valley_capacity": 0.0,
      "capacity_daedeok": 3000.0,
      "floor_space_share_daedeok": 1.0}, "floor_space_budget needs capacity_pangyo"),
    ({"incubation_share_daedeok": 1.5}, r"incubation_share_daedeok must be in \[0.0, 1.0\]"),
])
def test_bad_programme_inputs_are_refused_with_one_line_naming_them(inputs, message):
    with pytest.raises(ParameterError, match=message) as refused:
        Params(**inputs)
    assert "\n" not in str(refused.value)


def test_a_start_year_past_the_horizon_is_fine_without_money():
    assert Params(until_year=2024).training_start == 2026


# --- in a run ----------------------------------------------------------------------------------
def test_budget_zero_is_the_run_without_programmes_bit_for_bit(start_2018):
    plain = start_2018.branch()
    idle = start_2018.branch(
        cooperation_start=2019, incubation_years=9, spin_off_share_daedeok=0.9,
        training_start=2020, floor_space_start=2018, match_cost=1.0, incubation_cost=1.0,
        spin_off_grant=1.0, training_cost=1.0, floor_space_cost=1.0,
        floor_space_lag_years=0)
    for model in (plain, idle):
        model.run_model()
    assert plain.history == idle.history
    assert idle.summary()["programme_spent"] == 0.0


@settings(max_examples=8, deadline=None)
@given(start=st.integers(2018, 2030))
def test_a_programme_spends_nothing_before_its_start_year(start_2018, start):
    # training places are always taken up (there are ventures to train), so money flows
    # from the first quarter of the start year on
    model = start_2018.branch(training_budget=1.4, training_start=start, training_years=50)
    model.run_model()
    spent = spending_by_year(model)
    assert all(spent[year] == 0.0 for year in range(2018, start))
    assert spent[start] == pytest.approx(1.4)


def test_a_programme_stops_when_its_money_is_spent(start_2018):
    model = start_2018.branch(training_budget=1.4, training_start=2022, training_years=2)
    model.run_model()
    spent = spending_by_year(model)
    assert spent[2022] == pytest.approx(1.4) and spent[2023] == pytest.approx(1.4)
    assert all(spent[year] == 0.0 for year in range(2024, 2031))
    assert model.summary()["programme_spent"] == pytest.approx(2.8)


def test_training_places_reach_the_weakest_ventures_and_raise_capability(start_2018):
    plain = start_2018.branch(until_year=2019)
    trained = start_2018.branch(training_budget=5.0, training_start=2018, until_year=2019)
    plain.run_model()
    trained.run_model()
    assert (trained.summary()["capability_stock_daedeok"]
            > plain.summary()["capability_stock_daedeok"])


@pytest.mark.parametrize("start_ups_only", [False, True])
@pytest.mark.parametrize("most_capable_first", [False, True])
def test_training_places_go_to_the_ventures_the_targeting_names(start_2018, start_ups_only,
                                                                 most_capable_first):
    model = start_2018.branch(training_budget=5.0, training_start=2018,
                              training_start_ups_only=start_ups_only,
                              training_most_capable_first=most_capable_first)
    model.programmes.open_quarter(model.params, 1)
    pop = model.population
    trained = University.train_funded(model)
    for cluster in (DAEDEOK, PANGYO):
        eligible = pop.alive & (pop.kind == VENTURE) & (pop.cluster == cluster)
        if start_ups_only:
            eligible &= pop.stage == 0
        chosen = (trained == 1) & (pop.cluster == cluster)
        assert chosen.sum() > 0 and not (chosen & ~eligible).any()
        passed_over = pop.absorptive[eligible & ~chosen]
        if most_capable_first:  # nobody passed over is more capable than one chosen
            assert passed_over.max() <= pop.absorptive[chosen].min()
        else:
            assert passed_over.min() >= pop.absorptive[chosen].max()
    if start_ups_only:  # grown ventures exist and are passed over
        assert ((pop.stage > 0) & pop.alive & (pop.kind == VENTURE)).any()


def test_the_cooperation_programme_brokers_nothing_at_coupling_zero(start_2018):
    model = start_2018.branch(cooperation_budget=50.0, cooperation_start=2018, coupling=0.0)
    model.run_model()
    assert model.summary()["programme_spent"] == 0.0
    assert model.totals["innovations_inter"] == 0
    assert model.programmes.purse("cooperation", DAEDEOK) > 0


def test_cooperation_money_buys_inter_cluster_projects(start_2018):
    funded = start_2018.branch(coupling=0.1, until_year=2020, cooperation_budget=43.0,
                               cooperation_start=2018)
    # one quarter by hand: Daedeok's agency brokers what its purse pays for, all across
    model = start_2018.branch(coupling=0.1, cooperation_budget=43.0, cooperation_start=2018)
    model.programmes.open_quarter(model.params, 1)
    offered = model.programmes.offer(model.params, "cooperation", DAEDEOK)
    agency = next(a for a in model.agents_by_type[SupportAgency] if a.cluster == DAEDEOK)
    pop = model.population
    projects = agency.broker_funded_matches(
        np.flatnonzero(pop.active() & (pop.cluster == DAEDEOK)),
        np.flatnonzero(pop.active() & (pop.cluster == PANGYO)),
        ResearchInstitute.research_productivity(model))
    # 21.5 KRW bn a year x 0.1 / 430 m = 5 a year: 1.25 in the first quarter
    assert offered == 1
    assert len(projects) == offered and projects.crossing(pop.cluster).all()
    assert model.programmes.offer(model.params, "cooperation", DAEDEOK) == 0
    # a whole run: 43 KRW bn a year at 430 m is 100 projects a year at full size, 10 at
    # scale 0.1, every one of them brokered and paid
    funded.run_model()
    assert funded.summary()["programme_spent"] == pytest.approx(3 * 43.0)


def test_spin_off_grants_found_research_spin_offs_and_are_paid_per_venture(start_2018):
    model = start_2018.branch(spin_off_budget=3.4, spin_off_start=2018, until_year=2018,
                              spin_off_share_daedeok=1.0)
    model.run_model()
    # 3.4 KRW bn at 170 m: 20 grants at full size, 2 at scale 0.1, all in Daedeok; a
    # grant is paid only for a venture founded
    assert model.summary()["programme_spent"] == pytest.approx(3.4)
    assert sum(r["programme_spending_pangyo"] for r in model.history) == 0.0
    assert sum(r["births_research_daedeok"] for r in model.history) >= 2


def test_floor_space_opens_places_after_the_building_lag(start_2018):
    model = start_2018.branch(floor_space_budget=57.4, floor_space_start=2020,
                              floor_space_years=1, floor_space_lag_years=2)
    capacity_before = model.capacity()[PANGYO]
    model.run_model()
    # 57.4 KRW bn at 5.74 m per m2: 10,000 m2 at full size, 1,000 at scale 0.1, paid
    # in 2020, open from 2022 (two years after each quarter's purchase)
    places = 1000.0 * model.params.capacity_pangyo / FIRST_VALLEY_M2
    assert model.programmes.floor_space_open(model.params, 99).sum() == pytest.approx(1000.0)
    assert model.capacity()[PANGYO] == pytest.approx(
        np.array(model.params.capacity_in(2030))[PANGYO] * 0.1 + places)
    assert math.isinf(model.capacity()[DAEDEOK]) or model.capacity()[DAEDEOK] > 0
    assert capacity_before < model.capacity()[PANGYO]
    # nothing open before the lag has passed
    assert model.programmes.floor_space_open(model.params, quarters_of(2021)[3]).sum() == 0.0


def test_unit_cost_defaults_are_the_sourced_values_in_data():
    costs = pd.read_csv(ROOT / "data" / "programme_costs.csv")
    fields = Params.describe()
    assert set(costs["parameter"]) == {p.unit_cost for p in PROGRAMMES}
    for row in costs.itertuples():
        assert fields[row.parameter]["default"] == row.value, row.parameter
        assert row.low <= row.value <= row.high
        assert row.source and row.url.startswith("http")
