"""When a programme starts (sim/analyses/programme_timing.py) and how far it moves the
capability boundary (sim/analyses/programme_boundary.py), on constructed runs whose
answers are known."""

import math

import numpy as np
import pandas as pd
import pytest

from sim.analyses.programme_boundary import WITHIN, boundary_table, crossing, shares_table
from sim.analyses.programme_timing import timing_table
from sim.analyses.programmes import programme_starts
from sim.experiment.registry import analysis
from sim.params import Params
from sim.scenarios import HOLLOW_NETWORKING, ISOLATED_EXCELLENCE

THRESHOLD = Params().capability_threshold
OUTCOMES = {"innovations_total": 0.0, "ventures_alive": 0.0, "scale_ups": 0.0,
            "cooperation_index": 0.05, "distinctiveness": 0.9, "capability_index": 0.1,
            "capability_stock_daedeok": 0.3, "capability_stock_pangyo": 0.3}


# --- timing ------------------------------------------------------------------------------------
def timing_runs() -> pd.DataFrame:
    """One state; none (start at its default) and training at 10 from 2020 and 2026, four
    replicates; training adds 2030 - start innovations times ten, plus the replicate."""
    rows = []
    for replicate in range(4):
        level = 500.0 * (replicate + 1)
        for budget, start in ((0.0, 2026), (10.0, 2020), (10.0, 2026)):
            effect = 0.0 if budget == 0 else 10.0 * (2030 - start) + replicate
            rows.append({**OUTCOMES, "run_id": f"{replicate}-{budget}-{start}",
                         "replicate": replicate, "seed": 7 + replicate, "scale": 1.0,
                         "coupling": 0.2, "training_budget": budget, "training_start": start,
                         "innovations_total": level + effect,
                         "programme_spent": 0.0 if budget == 0 else 10.0 * (2031 - start)})
    return pd.DataFrame(rows)


def test_each_start_year_is_paired_with_the_one_run_without_programmes():
    table = timing_table(timing_runs())
    innovations = table[table["measure"] == "innovations_total"].set_index("start")
    assert sorted(innovations.index) == [2020, 2026]
    assert innovations.loc[2020, "mean"] == pytest.approx(100.0 + 1.5)
    assert innovations.loc[2026, "mean"] == pytest.approx(40.0 + 1.5)
    assert (innovations["n"] == 4).all()
    per_bn = table[table["measure"] == "innovations_per_bn"].set_index("start")
    assert per_bn.loc[2020, "mean"] == pytest.approx(np.mean([(100 + r) / 110 for r in
                                                              range(4)]))


def test_one_start_year_is_nothing_to_compare():
    runs = timing_runs()
    with pytest.raises(ValueError, match="every programme starts in 2026"):
        timing_table(runs[runs["training_start"] == 2026])


def test_a_mix_whose_programmes_start_apart_is_refused():
    runs = pd.DataFrame({"training_budget": [10.0, 0.0], "cooperation_budget": [5.0, 5.0],
                         "training_start": [2020, 2020], "cooperation_start": [2024, 2026]})
    with pytest.raises(ValueError, match="cooperation_start=2024, training_start=2020"):
        programme_starts(runs)
    assert list(programme_starts(runs.iloc[[1]])) == [2026]
    assert list(programme_starts(pd.DataFrame({"training_budget": [0.0]}))) == [0]


# --- boundary ----------------------------------------------------------------------------------
def test_crossing_interpolates_between_the_levels_either_side():
    levels = [0.0, 0.2, 0.4, 0.6]
    assert crossing(levels, [0.0, 0.25, 0.75, 1.0]) == pytest.approx(0.3)
    assert crossing(levels, [0.0, 0.0, 0.5, 1.0]) == pytest.approx(0.4)
    assert crossing(levels, [0.0, 0.6, 0.4, 1.0]) == pytest.approx(0.2 * 0.5 / 0.6)
    assert crossing(levels, [0.5, 1.0, 1.0, 1.0]) == -math.inf
    assert crossing(levels, [0.0, 0.1, 0.2, 0.4]) == math.inf


def boundary_runs(replicates: int = 10) -> pd.DataFrame:
    """A column of capability levels 0, 0.25, 0.5, 0.75, 1. Without programmes, replicate
    r ends high in capability from level 0.5 + 0.25 (r mod 3) up (so 0, 0, 4, 7, 10 of ten
    replicates are high at the five levels); training makes every run high one level
    lower; cooperation changes nothing."""
    rows = []
    levels = [0.0, 0.25, 0.5, 0.75, 1.0]
    for replicate in range(replicates):
        first_high = 0.5 + 0.25 * (replicate % 3)
        for capability in levels:
            for label, budget in (("none", 0.0), ("training", 50.0), ("cooperation", 50.0)):
                lowered = 0.25 if label == "training" else 0.0
                high = capability + lowered >= first_high - 1e-9
                rows.append({
                    **OUTCOMES, "run_id": f"{replicate}-{capability}-{label}",
                    "replicate": replicate, "seed": replicate, "coupling": 0.2,
                    "capability": capability,
                    "training_budget": budget if label == "training" else 0.0,
                    "cooperation_budget": budget if label == "cooperation" else 0.0,
                    "capability_index": THRESHOLD * (1.5 if high else 0.5),
                    "scenario": ISOLATED_EXCELLENCE if high else HOLLOW_NETWORKING})
    return pd.DataFrame(rows)


def majority(table):
    return table[table["reading"] == "majority"].set_index("programme")


def test_the_boundary_and_its_shift_are_read_where_half_the_runs_are_capable():
    table = majority(boundary_table(boundary_runs()))
    # none: shares 0, 0, 0.4, 0.7, 1 -> half a third of the way from 0.5 to 0.75
    assert table.loc["none", "boundary"] == pytest.approx(0.5 + 0.25 / 3)
    assert table.loc["none", "where"] == WITHIN
    # training: shares 0, 0.4, 0.7, 1, 1 -> one level lower, a shift of -0.25
    assert table.loc["training", "boundary"] == pytest.approx(0.25 + 0.25 / 3)
    assert table.loc["training", "shift"] == pytest.approx(-0.25)
    # the shift is the same in every resample of the replicates: the pairing holds
    assert (table.loc["training", "shift_low"], table.loc["training", "shift_high"]) == (
        pytest.approx(-0.25), pytest.approx(-0.25))
    assert table.loc["cooperation", "shift"] == pytest.approx(0.0)
    assert table.loc["none", "boundary_low"] < 0.58 < table.loc["none", "boundary_high"]


def test_the_mean_index_reading_finds_where_the_mean_reaches_the_threshold():
    runs = boundary_runs()
    # the index is 0.5 or 1.5 thresholds: the mean reaches the threshold where half the
    # runs are high, so both readings agree here
    table = boundary_table(runs)
    by_mean = table[table["reading"] == "mean_index"].set_index("programme")
    assert by_mean.loc["none", "boundary"] == pytest.approx(0.5 + 0.25 / 3)
    assert by_mean.loc["training", "shift"] == pytest.approx(-0.25)
    # a run far above the threshold pulls the mean, not the majority
    lifted = runs.copy()
    one = ((lifted["replicate"] == 0) & (lifted["capability"] == 0.5)
           & (lifted["training_budget"] == 0) & (lifted["cooperation_budget"] == 0))
    lifted.loc[one, "capability_index"] = THRESHOLD * 20
    table = boundary_table(lifted)
    by_mean = table[table["reading"] == "mean_index"].set_index("programme")
    assert by_mean.loc["none", "boundary"] < 0.5
    assert majority(table).loc["none", "boundary"] == pytest.approx(0.5 + 0.25 / 3)


def test_a_boundary_beyond_the_levels_run_is_said_not_extrapolated():
    runs = boundary_runs()
    runs.loc[runs["training_budget"] > 0, ["capability_index", "scenario"]] = (
        THRESHOLD * 2, ISOLATED_EXCELLENCE)
    table = majority(boundary_table(runs))
    assert table.loc["training", "where"] == "below 0"
    assert math.isnan(table.loc["training", "boundary"])
    assert math.isnan(table.loc["training", "shift"])


def test_the_shares_count_the_runs_of_each_cell():
    shares = shares_table(boundary_runs())
    none = shares[shares["programme"] == "none"].set_index("capability")
    assert list(none["share_high"]) == pytest.approx([0.0, 0.0, 0.4, 0.7, 1.0])
    assert list(none["n"]) == [10] * 5
    assert none.loc[0.75, "majority"] == ISOLATED_EXCELLENCE
    assert none.loc[0.5, "majority"] == HOLLOW_NETWORKING


def test_two_capability_levels_cannot_place_a_boundary():
    runs = boundary_runs()
    with pytest.raises(ValueError, match="3 or more"):
        boundary_table(runs[runs["capability"] >= 0.75])


# --- the designs -------------------------------------------------------------------------------
class FakeDesign:
    def __init__(self, columns, rows, replicates=2):
        self.grid, self.fixed, self.replicates, self.series = {}, {}, replicates, False
        self.sample = {"method": "points", "columns": columns, "rows": rows}


def unmet(name: str, design) -> str | None:
    for requirement in analysis(name).requirements:
        problem = requirement.check(design)
        if problem is not None:
            return problem
    return None


def test_the_timing_design_needs_two_start_years_and_one_reference_for_them():
    columns = ["coupling", "training_budget", "training_start"]
    # the run without programmes serves every start year: no reference per start
    assert unmet("programme_timing", FakeDesign(
        columns, [[0.2, 0.0, 2026], [0.2, 10.0, 2020], [0.2, 10.0, 2026]])) is None
    assert "2 start years or more" in unmet("programme_timing", FakeDesign(
        columns, [[0.2, 0.0, 2020], [0.2, 10.0, 2026]]))


def test_the_boundary_design_needs_three_capability_levels():
    columns = ["capability", "training_budget"]
    rows = [[c, b] for c in (0.2, 0.5, 0.8) for b in (0.0, 10.0)]
    assert unmet("programme_boundary", FakeDesign(columns, rows)) is None
    assert "at least 3 capability levels" in unmet(
        "programme_boundary", FakeDesign(columns, rows[:4]))
