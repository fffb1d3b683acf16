"""The critical-mass analysis (sim.analyses.critical_mass): starting states named by
what varies, mean paths with hand-computed intervals, and whether the states end apart;
and the starting-state inputs of the model."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import ClusterModel, analyses
from sim.analyses.critical_mass import (
    SERIES,
    convergence_table,
    critical_mass_table,
    state_labels,
)
from sim.calibration import CLUSTERS


def _runs_and_series(paths: dict[float, list[list[float]]]) -> tuple[pd.DataFrame,
                                                                    pd.DataFrame]:
    """Runs at scale 0.5 differing in ventures_pangyo_factor, with two quarters each:
    ``paths[factor]`` lists, per replicate, Pangyo's ventures in 2018Q1 and 2030Q4
    (every other series constant)."""
    runs, series = [], []
    for factor, replicates in paths.items():
        for replicate, (start, end) in enumerate(replicates):
            run_id = f"{factor}-{replicate}"
            runs.append({"run_id": run_id, "ventures_pangyo_factor": factor,
                         "replicate": replicate, "seed": replicate, "scale": 0.5})
            for quarter, pangyo in (("2018Q1", start), ("2030Q4", end)):
                series.append({"run_id": run_id, "quarter": quarter,
                               "ventures_daedeok": 600.0, "ventures_pangyo": pangyo,
                               "capability_stock_daedeok": 0.4,
                               "capability_stock_pangyo": 0.4})
    return pd.DataFrame(runs), pd.DataFrame(series)


def test_a_state_is_named_by_the_inputs_that_vary():
    runs = pd.DataFrame({"run_id": ["a", "b", "c"], "seed": [1, 2, 3],
                         "replicate": [0, 1, 0], "scale": [0.5] * 3,
                         "ventures_pangyo_factor": [0.5, 0.5, 2.0],
                         "capability_daedeok": [0.2, 0.2, 0.2]})
    assert state_labels(runs).tolist() == ["ventures_pangyo_factor=0.5"] * 2 + [
        "ventures_pangyo_factor=2"]
    assert state_labels(runs.iloc[:2]).tolist() == ["as calibrated"] * 2


def test_hand_computed_paths_and_a_gap_that_closes():
    runs, series = _runs_and_series({0.5: [[250, 600], [260, 620], [240, 580]],
                                     2.0: [[1000, 610], [1010, 600], [990, 620]]})
    table = critical_mass_table(runs, series).set_index(["state", "series", "quarter"])
    small = table.loc[("ventures_pangyo_factor=0.5", "ventures_pangyo", "2018Q1")]
    half = stats.t.ppf(0.975, 2) * pd.Series([500, 520, 480]).std() / math.sqrt(3)
    assert small["n"] == 3 and small["mean"] == pytest.approx(500)  # 250 / scale 0.5
    assert small["low"] == pytest.approx(500 - half)
    stock = table.loc[("ventures_pangyo_factor=2", "capability_stock_pangyo", "2030Q4")]
    assert stock["mean"] == stock["low"] == stock["high"] == pytest.approx(0.4)
    gaps = convergence_table(critical_mass_table(runs, series)).set_index("series")
    pangyo = gaps.loc["ventures_pangyo"]
    assert pangyo["spread_first"] == pytest.approx(2000 - 500)
    assert pangyo["spread_last"] == pytest.approx(abs(1220 - 1200))
    assert pangyo["spread_ratio"] == pytest.approx(20 / 1500)
    assert not pangyo["apart_at_end"]
    assert (gaps["runs"] == 6).all()  # the runs behind every comparison
    assert math.isnan(gaps.loc["ventures_daedeok", "spread_ratio"])  # never apart


def test_states_that_stay_apart_are_said_to():
    runs, series = _runs_and_series({0.5: [[250, 300], [260, 310], [240, 290]],
                                     2.0: [[1000, 900], [1010, 910], [990, 890]]})
    gaps = convergence_table(critical_mass_table(runs, series)).set_index("series")
    assert gaps.loc["ventures_pangyo", "apart_at_end"]
    figure = analyses.figure_from_table(
        "critical_mass", critical_mass_table(runs, series),
        companions={"critical_mass_convergence": gaps.reset_index()})
    assert len(figure.axes) == len(SERIES)
    titles = [axis.get_title() for axis in figure.axes]
    assert titles[1] == ("Pangyo: ventures alive (at scale 1)\n"
                         "highest and lowest state still apart in 2030Q4")
    assert titles[0].endswith("the states' 95 % bands overlap in 2030Q4")


def test_without_series_the_analysis_says_what_to_do():
    runs, _series = _runs_and_series({1.0: [[100, 100], [100, 100]]})
    with pytest.raises(ValueError, match="series = true"):
        critical_mass_table(runs, None)


def test_the_starting_population_follows_the_factors():
    calibrated = ClusterModel(rng=2, scale=0.1, spin_up_years=0).ventures_by_cluster()
    started = ClusterModel(rng=2, scale=0.1, spin_up_years=0, ventures_pangyo_factor=2.0,
                           ventures_daedeok_factor=0.5).ventures_by_cluster()
    # the observed counts of 2018, the first year when the spin-up is empty
    daedeok, pangyo = (profile.ventures_in(2018) * 0.1 for profile in CLUSTERS)
    assert started.tolist() == [round(daedeok * 0.5), round(pangyo * 2)]
    assert calibrated.tolist() == [round(daedeok), round(pangyo)]
    assert np.all(started > 0)
