"""History runs: the spin-up recorded as the clusters' history, started from the clusters
as observed, and valleys that fill by firms moving in (docs/ODD.md 5.1, 5.2, 7.16.3)."""

import math
from pathlib import Path

import numpy as np
import pytest

from sim import ClusterModel
from sim.agents import Venture
from sim.calibration import DAEDEOK_2018, PANGYO_2018
from sim.targets import Target, parse_model_output, simulated_values


# --- the starting state as observed ---------------------------------------------------------
def test_observed_counts_are_read_log_linearly_between_sourced_years():
    # Daedeok: 1,179 firms in 2010 and 1,312 in 2012, so 2011 is their geometric mean
    assert DAEDEOK_2018.ventures_in(2011) == pytest.approx(math.sqrt(1179 * 1312))
    assert PANGYO_2018.ventures_in(2014) == 870  # a sourced year is read as it is
    # Pangyo 2016 -> 2019: 1,306 -> 1,259, a third of the way in log terms in 2017
    assert PANGYO_2018.ventures_in(2017) == pytest.approx(
        1306 * (1259 / 1306) ** (1 / 3))
    # outside the sourced years: the nearest count
    assert PANGYO_2018.ventures_in(2005) == 83 and DAEDEOK_2018.ventures_in(2030) == 1945


def test_an_observed_start_uses_the_counts_of_the_spin_ups_first_year():
    model = ClusterModel(rng=1, scale=1.0, spin_up_years=7, observed_start=True,
                         until_year=2018)
    first = model.spin_up_history[0]
    assert first["quarter"] == "2011Q1"
    # the counts at construction: round(1,243.7) and 83, before the first quarter's
    # exits and foundings (which the first record already includes)
    counts = {kind: ClusterModel(rng=1, scale=1.0, spin_up_years=0, observed_start=True,
                                 until_year=2018).ventures_by_cluster()
              for kind in ("2018",)}["2018"]
    assert counts.tolist() == [round(DAEDEOK_2018.ventures_in(2018)),
                               round(PANGYO_2018.ventures_in(2018))]


def test_without_an_observed_start_the_2018_counts_are_placed_at_the_start():
    model = ClusterModel(rng=1, scale=1.0, spin_up_years=0, until_year=2018,
                         observed_start=False)
    assert model.ventures_by_cluster().tolist() == [1200, 1259]


def test_an_observed_start_draws_daedeoks_stages_from_its_survey():
    model = ClusterModel(rng=2, scale=2.0, spin_up_years=0, observed_start=True,
                         until_year=2018)
    pop = model.population
    ventures = pop.alive & (pop.kind == Venture.kind) & (pop.cluster == 0)
    shares = np.bincount(pop.stage[ventures], minlength=3) / ventures.sum()
    # 2 x 1,945 draws: each share within four standard errors of the survey's
    for share, expected in zip(shares, DAEDEOK_2018.observed_stage_mix, strict=True):
        assert abs(share - expected) < 4 * math.sqrt(expected * (1 - expected)
                                                      / ventures.sum())


# --- the spin-up as the clusters' history ------------------------------------------------------
def test_the_spin_up_is_recorded_quarter_by_quarter_with_calendar_labels():
    model = ClusterModel(rng=3, scale=0.1, spin_up_years=3, until_year=2018)
    labels = [record["quarter"] for record in model.spin_up_history]
    assert labels == [f"{year}Q{q}" for year in (2015, 2016, 2017) for q in (1, 2, 3, 4)]
    assert model.history == []  # 2018 on is the run's own record
    model.run_model()
    assert [r["quarter"] for r in model.history][0] == "2018Q1"
    assert model.totals["births"] == sum(r["births_daedeok"] + r["births_pangyo"]
                                         for r in model.history)  # the spin-up not counted


def test_a_target_before_2018_is_read_from_the_spin_ups_record():
    model = ClusterModel(rng=4, scale=0.5, spin_up_years=5, until_year=2018)
    model.run_model()
    output = parse_model_output("ventures_pangyo@q4", 2014)
    target = Target(id="probe", quantity="firms", cluster="Pangyo", year=2014, value=1.0,
                    low=0.5, high=1.5, unit="firms", source="test", url="",
                    model_output=output, role="calibrate", note="")
    record = next(r for r in model.spin_up_history if r["quarter"] == "2014Q4")
    assert simulated_values(model, [target]) == {"probe": record["ventures_pangyo"] / 0.5}
    # a year the spin-up does not reach is left out, like any year a run does not cover
    early = Target(**{**target.__dict__, "year": 2011,
                      "model_output": parse_model_output("ventures_pangyo@q4", 2011)})
    assert simulated_values(model, [early]) == {}


def test_a_calibration_whose_runs_do_not_reach_a_targets_year_is_refused(tmp_path):
    from sim.experiment.design import ExperimentError
    from sim.inference.problem import load

    published = (Path(__file__).resolve().parent.parent / "experiments" / "publication"
                 / "calibration" / "calibration.toml")
    assert len(load(published).fitted) >= 8  # the published history run reaches them all
    short = tmp_path / "calibration.toml"
    short.write_text(published.read_text(encoding="utf-8").replace(
        "spin_up_years = 7", "spin_up_years = 2"), encoding="utf-8")
    with pytest.raises(ExperimentError, match="pangyo_firms_2014 needs a year before 2016"):
        load(short)


# --- moving in -----------------------------------------------------------------------------------
def _one_quarter_of_move_in(rate: float, seed: int = 5) -> tuple[ClusterModel, np.ndarray]:
    model = ClusterModel(rng=seed, scale=0.1, spin_up_years=0, until_year=2018,
                         capacity_pangyo=2000.0, move_in_rate=rate)
    return model, model.room().copy()


def test_at_rate_one_every_free_place_is_taken():
    model, room = _one_quarter_of_move_in(1.0)
    before = model.ventures_by_cluster().copy()
    rows = Venture.move_in(model)
    assert room[1] == 200 - before[1]  # floor(2,000 x 0.1) places minus the 126 there
    assert len(rows) == room[1]
    assert model.ventures_by_cluster().tolist() == [before[0], 200]
    assert (model.population.cluster[rows] == 1).all()


def test_the_number_moving_in_is_binomial_over_the_free_places():
    # mean rate x room: 200 repetitions of one quarter, within four standard errors
    counts = []
    for seed in range(200):
        model, room = _one_quarter_of_move_in(0.3, seed)
        counts.append(len(Venture.move_in(model)))
        free = room[1]
    mean, sd = 0.3 * free, math.sqrt(free * 0.3 * 0.7)
    assert abs(np.mean(counts) - mean) < 4 * sd / math.sqrt(len(counts))


def test_without_a_limit_or_at_rate_zero_nothing_moves_in_and_nothing_is_drawn():
    for kwargs in ({"move_in_rate": 0.5, "capacity_pangyo": None,
                    "second_valley_capacity": 0.0},
                   {"capacity_pangyo": 2000.0, "move_in_rate": 0.0}):
        model = ClusterModel(rng=6, scale=0.1, spin_up_years=0, until_year=2018, **kwargs)
        state = model.rng.bit_generator.state
        assert len(Venture.move_in(model)) == 0
        assert model.rng.bit_generator.state == state


def test_movers_are_established_firms_of_the_cluster():
    model, _ = _one_quarter_of_move_in(1.0)
    rows = Venture.move_in(model)
    pop = model.population
    assert (pop.kind[rows] == Venture.kind).all()
    assert (pop.cash[rows] > 0).all() and (pop.revenue[rows] > 0).all()
    assert set(pop.stage[rows].tolist()) <= {0, 1, 2} and (pop.stage[rows] > 0).any()
    assert model.agent_of(int(rows[0])).cluster_name == "Pangyo"


def test_an_empty_valley_fills_toward_its_capacity_and_stops_there():
    model = ClusterModel(rng=7, scale=0.5, spin_up_years=7, observed_start=True,
                         capacity_pangyo=1300.0, move_in_rate=0.2, until_year=2019)
    model.run_model()
    pangyo = [r["ventures_pangyo"] / 0.5 for r in model.spin_up_history + model.history
              if r["quarter"].endswith("Q4")]
    assert pangyo[0] > 3 * 83  # the first year of a valley built for movers
    assert max(pangyo) <= 1300
    moved = sum(r["moved_in_pangyo"] for r in model.spin_up_history)
    assert moved > 0 and all(r["moved_in_daedeok"] == 0 for r in model.spin_up_history)
