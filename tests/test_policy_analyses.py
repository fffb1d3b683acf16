"""The policy, optimal-coupling, discovery and replicates analyses: known answers on
hand-made runs tables, their design requirements refusing wrong designs before any run,
and each quick experiment end to end at a tiny scale.
"""

from __future__ import annotations

import itertools
import math
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import invoke
from scipy import stats

from sim import analyses
from sim.analyses import discovery, optimal_coupling, policy, replicates
from sim.analyses.labels import END_STATE_INDICES
from sim.analyses.schema import read_table
from sim.experiment import registry
from sim.scenarios import (
    HOLLOW_NETWORKING,
    ISOLATED_EXCELLENCE,
    LOOSELY_COUPLED_SYNERGY,
    STAGNATION,
)
from sim.sweep import InProcessExecutor, load, run_sweep

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "experiments" / "quick"
THRESHOLD = 0.219  # the capability threshold stored with every run

#: (capability_index, cooperation_index) of a run that ends in each scenario under the
#: default thresholds (capability 0.219, cooperation 0.1).
ENDS_IN = {LOOSELY_COUPLED_SYNERGY: (0.3, 0.2), ISOLATED_EXCELLENCE: (0.3, 0.05),
           HOLLOW_NETWORKING: (0.1, 0.2), STAGNATION: (0.1, 0.05)}


def t_interval(values: list[float]) -> tuple[float, float, float]:
    """Mean and 95 % t-interval, by hand."""
    values = np.asarray(values, dtype=float)
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return values.mean(), values.mean() - half, values.mean() + half


# --- policy ------------------------------------------------------------------------------------
def policy_runs() -> pd.DataFrame:
    """Two points x the eight combinations x three replicates. Innovations: a replicate
    baseline, +10 for the vision, +20 for the programme, +40 for open innovation, and a
    known disturbance of the vision's replicate 2; the other indices follow the switches
    too."""
    rows = []
    for capability, coupling in ((0.2, 0.1), (0.8, 0.7)):
        for flags in itertools.product((False, True), repeat=3):
            vision, programme, open_innovation = flags
            for replicate, base in enumerate((100.0, 130.0, 90.0)):
                disturbance = 6.0 if (vision and not programme and not open_innovation
                                      and replicate == 2) else 0.0
                rows.append({
                    "capability": capability, "coupling": coupling,
                    "shared_vision": vision, "cooperation_programme": programme,
                    "open_innovation": open_innovation, "replicate": replicate,
                    "seed": 1000 + replicate, "capability_threshold": THRESHOLD,
                    "innovations_total": (base + 10 * vision + 20 * programme
                                          + 40 * open_innovation + disturbance
                                          + 1000 * capability),
                    "capability_index": 0.1 + 0.2 * capability + 0.01 * replicate,
                    "cooperation_index": 0.05 + 0.1 * programme,
                    "distinctiveness": 0.9 - 0.1 * vision, "paired_synergy": 0.1})
    return pd.DataFrame(rows)


def test_policy_combinations_are_the_eight():
    assert policy.COMBINATIONS == (
        "none", "vision", "programme", "open innovation", "vision + programme",
        "vision + open innovation", "programme + open innovation",
        "vision + programme + open innovation")


def test_policy_paired_effects_equal_hand_computed_values():
    table = policy.policy_table(policy_runs())
    assert len(table) == 2 * 8 and table["n"].sum() == 48
    row = table[(table["capability"] == 0.2) & (table["combination"] == "vision")].iloc[0]
    # the vision's paired differences: +10, +10, +16 (replicate 2 disturbed)
    mean, low, high = t_interval([10.0, 10.0, 16.0])
    assert row["pairs"] == 3 and row["n"] == 3
    assert row["innovations_total_effect_mean"] == pytest.approx(mean)
    assert row["innovations_total_effect_low"] == pytest.approx(low)
    assert row["innovations_total_effect_high"] == pytest.approx(high)
    assert row["distinctiveness_effect_mean"] == pytest.approx(-0.1)
    assert row["cooperation_index_effect_mean"] == pytest.approx(0.0)
    # the mean of the policy runs themselves
    assert row["innovations_total_mean"] == pytest.approx((110 + 140 + 106) / 3 + 200)
    both = table[(table["capability"] == 0.8)
                 & (table["combination"] == "programme + open innovation")].iloc[0]
    assert both["innovations_total_effect_mean"] == pytest.approx(60.0)
    assert both["innovations_total_effect_low"] == pytest.approx(60.0)  # no spread
    assert both["cooperation_index_effect_mean"] == pytest.approx(0.1)
    none = table[table["combination"] == "none"]
    assert (none["pairs"] == 0).all() and none["innovations_total_effect_mean"].isna().all()
    assert set(table["cost"]) == {policy.COST_NOTE}
    assert not table[["shared_vision", "cooperation_programme", "open_innovation"]].loc[
        table["combination"] == "none"].to_numpy().any()


def test_policy_dose_axes_pair_within_their_level():
    """A dose axis makes its own points: each policy run is compared with the run without
    policy at the same boost (the same seed and inputs)."""
    runs = policy_runs()
    runs = pd.concat([runs.assign(programme_boost=3.0),
                      runs.assign(programme_boost=6.0,
                                  innovations_total=runs["innovations_total"]
                                  + 5.0 * runs["cooperation_programme"])])
    table = policy.policy_table(runs)
    assert len(table) == 2 * 2 * 8
    row = table[(table["capability"] == 0.2) & (table["programme_boost"] == 6.0)
                & (table["combination"] == "programme")].iloc[0]
    assert row["innovations_total_effect_mean"] == pytest.approx(25.0)
    row = table[(table["capability"] == 0.2) & (table["programme_boost"] == 3.0)
                & (table["combination"] == "programme")].iloc[0]
    assert row["innovations_total_effect_mean"] == pytest.approx(20.0)


def test_policy_transition_counts():
    runs = policy_runs()
    runs = runs[(runs["capability"] == 0.2) & ~runs["shared_vision"]
                & ~runs["open_innovation"] & (runs["replicate"] < 2)].copy()
    # without policy: replicate 0 ends in Stagnation, 1 in Isolated excellence; with the
    # programme: 0 in Hollow networking, 1 stays in Isolated excellence
    ends = {(False, 0): STAGNATION, (False, 1): ISOLATED_EXCELLENCE,
            (True, 0): HOLLOW_NETWORKING, (True, 1): ISOLATED_EXCELLENCE}
    for index, run in runs.iterrows():
        scenario = ends[(bool(run["cooperation_programme"]), int(run["replicate"]))]
        runs.loc[index, ["capability_index", "cooperation_index"]] = ENDS_IN[scenario]
    table = policy.policy_transitions_table(runs)
    counts = {(r.combination, r.from_scenario, r.to_scenario): r.n
              for r in table.itertuples()}
    assert counts == {("none", STAGNATION, STAGNATION): 1,
                      ("none", ISOLATED_EXCELLENCE, ISOLATED_EXCELLENCE): 1,
                      ("programme", STAGNATION, HOLLOW_NETWORKING): 1,
                      ("programme", ISOLATED_EXCELLENCE, ISOLATED_EXCELLENCE): 1}
    assert table["n"].sum() == len(runs)


def test_policy_transitions_over_the_full_design_add_up():
    runs = policy_runs()
    table = policy.policy_transitions_table(runs)
    assert table["n"].sum() == len(runs)
    per_combination = table.groupby(["capability", "combination"])["n"].sum()
    assert (per_combination == 3).all()


def test_policy_refuses_runs_without_a_no_policy_twin():
    runs = policy_runs()
    with pytest.raises(ValueError, match="no run has all three switches off"):
        policy.policy_table(runs[runs["shared_vision"]])
    none = ~runs["shared_vision"] & ~runs["cooperation_programme"] & ~runs["open_innovation"]
    lonely = runs[~(none & (runs["capability"] == 0.8))]  # no twin at capability 0.8
    with pytest.raises(ValueError, match="no run without policy"):
        policy.policy_table(lonely)
    with pytest.raises(ValueError, match="no run without policy"):
        policy.policy_transitions_table(lonely)


# --- optimal coupling --------------------------------------------------------------------------
def optimum_runs() -> pd.DataFrame:
    """Two conditions (capability), five coupling levels, four replicates: at capability
    0.8 innovation peaks at coupling 0.5 (an interior optimum), at 0.2 it rises with
    coupling (an optimum at the highest level)."""
    rows = []
    for capability in (0.2, 0.8):
        for coupling in (0.0, 0.25, 0.5, 0.75, 1.0):
            for replicate, noise in enumerate((-1.0, 0.5, 1.0, -0.5)):
                shape = (100 - 200 * (coupling - 0.5) ** 2 if capability == 0.8
                         else 100 + 50 * coupling)
                rows.append({"capability": capability, "coupling": coupling,
                             "replicate": replicate, "seed": 7 + replicate,
                             "innovations_total": shape + noise})
    return pd.DataFrame(rows)


def test_optimal_coupling_finds_a_known_interior_maximum():
    table = optimal_coupling.optimal_coupling_table(optimum_runs())
    assert list(table["inputs"]) == ["capability 0.2", "capability 0.8"]
    low, high = table.iloc[0], table.iloc[1]
    assert high["optimum"] == 0.5 and bool(high["interior"])
    assert high["innovations_optimum"] == pytest.approx(100.0)
    assert high["optimum_low"] == 0.5 and high["optimum_high"] == 0.5
    assert high["share_interior"] == 1.0
    assert low["optimum"] == 1.0 and not bool(low["interior"])
    assert low["share_interior"] == 0.0
    assert (table["levels"] == 5).all() and (table["replicates"] == 4).all()
    assert table["n"].sum() == 40
    distribution = optimal_coupling.optimal_coupling_distribution_table(optimum_runs())
    assert len(distribution) == 10 and distribution["n"].sum() == 40
    peak = distribution[(distribution["capability"] == 0.8)
                        & (distribution["coupling"] == 0.5)].iloc[0]
    assert peak["optimum_share"] == 1.0
    assert peak["innovations_mean"] == pytest.approx(100.0)
    # the same runs, the same tables (the bootstrap is seeded)
    pd.testing.assert_frame_equal(table,
                                  optimal_coupling.optimal_coupling_table(optimum_runs()))


def test_optimal_coupling_bootstrap_keeps_replicates_paired():
    """Replicate noise shared by every coupling level (same seed) moves no optimum: a
    bootstrap that resampled each level on its own would scatter it."""
    runs = optimum_runs()
    runs = runs[runs["capability"] == 0.8].copy()
    runs["innovations_total"] += runs["replicate"].map({0: -30.0, 1: 30.0, 2: 0.0, 3: 10.0})
    table = optimal_coupling.optimal_coupling_table(runs)
    assert table.iloc[0]["optimum_low"] == table.iloc[0]["optimum_high"] == 0.5


def test_optimal_coupling_needs_three_levels():
    runs = optimum_runs()
    with pytest.raises(ValueError, match="at least 3 coupling levels"):
        optimal_coupling.optimal_coupling_table(runs[runs["coupling"].isin([0.0, 1.0])])


# --- discovery ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_prim_finds_a_known_box():
    rng = np.random.default_rng(11)
    inputs = pd.DataFrame({"a": rng.random(1000), "b": rng.random(1000),
                           "c": rng.random(1000)})
    cases = ((inputs["a"] > 0.6) & (inputs["b"] < 0.4)).to_numpy()
    result = discovery.prim_box(inputs, cases, threshold=1.0)
    assert result.chosen is not None
    step = result.chosen
    assert result.restricted(step) == ["a", "b"]
    assert result.limits.loc[(step, "low"), "a"] == pytest.approx(0.6, abs=0.03)
    assert result.limits.loc[(step, "high"), "b"] == pytest.approx(0.4, abs=0.03)
    box = result.trajectory.iloc[step]
    assert box["density"] == 1.0 and box["coverage"] >= 0.9
    assert result.trajectory.iloc[0]["coverage"] == 1.0  # the explored box holds all
    assert result.describe(step).startswith("a >= 0.")


def test_prim_reports_that_no_region_is_dense_enough():
    rng = np.random.default_rng(12)
    inputs = pd.DataFrame({"a": rng.random(600), "b": rng.random(600)})
    cases = rng.random(600) < 0.2  # unrelated to the inputs
    result = discovery.prim_box(inputs, cases)
    assert result.chosen is None
    assert result.trajectory["density"].max() < discovery.DENSITY_THRESHOLD


def sampled_runs(n: int = 400) -> pd.DataFrame:
    """A sampled design made by hand: Loosely coupled synergy exactly where coupling >=
    0.4 and capability >= 0.6; innovation peaking at coupling 0.5 where tie_decay <
    0.12 and flat elsewhere."""
    rng = np.random.default_rng(5)
    runs = pd.DataFrame({"point": np.arange(n), "replicate": 0,
                         "coupling": rng.random(n), "capability": rng.random(n),
                         "tie_decay": rng.uniform(0.05, 0.2, n),
                         "capability_threshold": THRESHOLD, "distinctiveness": 0.8,
                         "paired_synergy": 0.1})
    runs["capability_index"] = np.where(runs["capability"] >= 0.6, 0.3, 0.1)
    runs["cooperation_index"] = np.where(runs["coupling"] >= 0.4, 0.2, 0.05)
    peaked = 100 - 200 * (runs["coupling"] - 0.5) ** 2
    runs["innovations_total"] = np.where(runs["tie_decay"] < 0.12, peaked, 50.0)
    return runs


def test_discovery_tables_on_a_known_design():
    runs = sampled_runs()
    table = discovery.discovery_table(runs)
    assert list(table["target"]) == list(discovery.TARGETS)
    assert (table["runs"] == len(runs)).all()
    synergy = table[table["target"] == LOOSELY_COUPLED_SYNERGY].iloc[0]
    assert bool(synergy["box"]) and synergy["density"] >= discovery.DENSITY_THRESHOLD
    assert "coupling" in synergy["restricted"] and "capability" in synergy["restricted"]
    assert "tie_decay" not in synergy["restricted"]
    lbt = table[table["target"] == discovery.LOOSE_BEATS_TIGHT].iloc[0]
    loose, bands = discovery.loose_tight_comparison(
        runs, ["coupling", "capability", "tie_decay"])
    assert lbt["n"] == len(loose) and lbt["cases"] == loose["beats"].sum()
    assert lbt["loose_from"] == pytest.approx(bands["loose_from"])
    # where tie_decay < 0.12 a loose point beats its tight neighbours, elsewhere it ties
    assert lbt["difference_mean"] > 0
    boxes = discovery.discovery_boxes_table(runs)
    beats = boxes[boxes["target"] == discovery.LOOSE_BEATS_TIGHT].set_index("parameter")
    assert set(beats.index) == {"capability", "tie_decay"}  # coupling defines the bands
    assert bool(beats.loc["tie_decay", "restricted"])
    assert beats.loc["tie_decay", "high"] < 0.15  # the cut at 0.12, of a range 0.05-0.2
    trajectory = discovery.discovery_trajectory_table(runs)
    assert (trajectory.groupby("target")["chosen"].sum() == 1).all()


def test_loose_tight_comparison_by_hand():
    """Two other inputs; coupling bands [0, 1/3), [1/3, 2/3), [2/3, 1]: each loose point
    against its nearest tight point (one neighbour)."""
    runs = pd.DataFrame({
        "coupling": [0.0, 0.5, 0.5, 0.9, 0.95, 1.0],
        "capability": [0.0, 0.1, 0.9, 0.12, 0.88, 0.5],  # no twins
        "innovations_total": [1.0, 10.0, 10.0, 12.0, 7.0, 100.0]})
    loose, bands = discovery.loose_tight_comparison(runs, ["coupling", "capability"],
                                                    neighbours=1)
    assert bands["loose_from"] == pytest.approx(1 / 3)
    assert bands["tight_from"] == pytest.approx(2 / 3)
    assert list(loose["tight"]) == [12.0, 7.0]
    assert list(loose["beats"]) == [False, True]
    assert not loose["twins"].any()


def test_loose_tight_comparison_uses_twins_when_the_design_has_them():
    """A points design listing each point at a middle and a high coupling: each loose
    point is compared with its own tight twin, however near other points are."""
    runs = pd.DataFrame({
        "coupling": [0.0, 0.5, 0.9, 0.5, 0.9, 1.0],
        "capability": [0.3, 0.3, 0.3, 0.31, 0.31, 0.8],
        "innovations_total": [1.0, 10.0, 12.0, 10.0, 7.0, 100.0]})
    loose, _bands = discovery.loose_tight_comparison(runs, ["coupling", "capability"])
    assert list(loose["twins"]) == [True, True] and list(loose["compared"]) == [1, 1]
    assert list(loose["tight"]) == [12.0, 7.0]
    assert list(loose["beats"]) == [False, True]


def test_discovery_handles_a_scenario_no_run_reaches():
    runs = sampled_runs()
    runs["capability_index"] = 0.3  # every run high capability
    table = discovery.discovery_table(runs)
    hollow = table[table["target"] == HOLLOW_NETWORKING].iloc[0]
    assert hollow["cases"] == 0 and not bool(hollow["box"]) and hollow["step"] == -1
    assert "no run" in hollow["restricted"]


# --- replicates --------------------------------------------------------------------------------
def replicate_runs() -> pd.DataFrame:
    values = [10.0, 12.0, 11.0, 11.5, 10.5, 11.0]
    return pd.DataFrame({"point": 0, "replicate": range(6), "capability": 0.5,
                         "coupling": 0.2, "innovations_total": values,
                         "capability_index": [0.2] * 6, "cooperation_index": 0.0,
                         "distinctiveness": [0.9, 0.8, 0.9, 0.8, 0.9, 0.8]})


def test_replicates_statistics_by_hand():
    table = replicates.replicates_table(replicate_runs())
    assert sorted(table["replicates"].unique()) == [2, 3, 4, 5, 6]
    innovations = table[table["measure"] == "innovations_total"].set_index("replicates")
    first = np.array([10.0, 12.0, 11.0])
    sd = first.std(ddof=1)
    assert innovations.loc[3, "mean"] == pytest.approx(11.0)
    assert innovations.loc[3, "cv"] == pytest.approx(sd / 11.0)
    assert innovations.loc[3, "half_width"] == pytest.approx(
        stats.t.ppf(0.975, 2) * sd / math.sqrt(3))
    assert innovations.loc[3, "cv_change"] == pytest.approx(
        abs(sd / 11.0 - math.sqrt(2) / 11.0))
    assert math.isnan(innovations.loc[2, "cv_change"])
    cooperation = table[table["measure"] == "cooperation_index"]
    assert cooperation["cv"].isna().all()  # mean 0: no coefficient of variation
    assert replicates.TABLES["replicates"].runs(table).tolist() == [6]


def test_needed_replicates_by_hand():
    counts = np.arange(2, 7)
    assert replicates.needed_replicates(np.array([0.5, 0.3, 0.305, 0.301, 0.302]),
                                        counts, 0.01) == 3
    assert replicates.needed_replicates(np.array([0.5, 0.5, 0.5, 0.5, 0.5]), counts,
                                        0.01) == 2
    # still moving at the last count: more replicates are needed than were run
    assert math.isnan(replicates.needed_replicates(np.array([0.5, 0.5, 0.5, 0.5, 0.6]),
                                                   counts, 0.01))
    assert math.isnan(replicates.needed_replicates(np.full(5, math.nan), counts, 0.01))
    needed = replicates.replicates_needed_table(replicate_runs()).set_index("measure")
    assert needed.loc["capability_index", "needed"] == 2  # no spread: stable at once
    assert not bool(needed.loc["cooperation_index", "stable"])
    assert (needed["replicates_run"] == 6).all()
    assert set(needed.index) == set(END_STATE_INDICES)


# --- design requirements -----------------------------------------------------------------------
_HEAD = """[experiment]
name = "wrong"
analysis = "{analysis}"
master_seed = 1
replicates = {replicates}

[fixed]
scale = 0.05
until_year = 2018
{fixed}
"""
_SAMPLE = """[sample]
n = 4
[sample.ranges]
{ranges}
"""
# case: analysis, replicates, extra [fixed] lines, design, words of the one-line error
WRONG_DESIGNS: dict[str, tuple[str, int, str, str, list[str]]] = {
    "policy on a sample": ("policy", 2, "", _SAMPLE.format(ranges="coupling = [0.0, 1.0]"),
                           ["policy analysis", "needs a [grid]"]),
    "policy without a switch": ("policy", 2, "", "[grid]\ncoupling = [0.1, 0.5]\n",
                                ["at least one of shared_vision"]),
    "policy without none": ("policy", 2, "",
                            "[grid]\nshared_vision = [true]\nopen_innovation = [false, true]\n",
                            ["shared_vision grid lacks false"]),
    "policy with a switch fixed on": ("policy", 2, "cooperation_programme = true",
                                      "[grid]\nshared_vision = [false, true]\n",
                                      ["cooperation_programme is true in every run"]),
    "policy with one replicate": ("policy", 1, "", "[grid]\nshared_vision = [false, true]\n",
                                  ["replicates >= 2", "got 1"]),
    "optimal coupling with two levels": ("optimal_coupling", 2, "",
                                         "[grid]\ncoupling = [0.0, 1.0]\n",
                                         ["at least 3 coupling levels", "got 2"]),
    "optimal coupling on a sample": ("optimal_coupling", 2, "",
                                     _SAMPLE.format(ranges="coupling = [0.0, 1.0]"),
                                     ["coupling in a [grid] or a [points] file",
                                      "not a [sample]"]),
    "optimal coupling without coupling": ("optimal_coupling", 2, "",
                                          "[grid]\ncapability = [0.2, 0.5, 0.8]\n",
                                          ["the [grid] lacks it"]),
    "optimal coupling with one replicate": ("optimal_coupling", 1, "",
                                            "[grid]\ncoupling = [0.0, 0.5, 1.0]\n",
                                            ["replicates >= 2"]),
    "discovery on a grid": ("discovery", 1, "", "[grid]\ncoupling = [0.0, 1.0]\n",
                            ["needs a [sample] or a [points] file"]),
    "discovery without coupling": ("discovery", 1, "",
                                   _SAMPLE.format(ranges="capability = [0.0, 1.0]"),
                                   ["needs coupling among the sampled"]),
    "discovery with coupling alone": ("discovery", 1, "",
                                      _SAMPLE.format(ranges="coupling = [0.0, 1.0]"),
                                      ["besides coupling"]),
    "replicates with two": ("replicates", 2, "", "[grid]\ncoupling = [0.1]\n",
                            ["replicates >= 3", "got 2"]),
}


@pytest.mark.parametrize("case", list(WRONG_DESIGNS))
def test_requirements_refuse_a_wrong_design_before_any_run(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    analysis, count, fixed, design, words = WRONG_DESIGNS[case]
    path = tmp_path / "wrong.toml"
    path.write_text(_HEAD.format(analysis=analysis, replicates=count, fixed=fixed) + design)
    out = tmp_path / "never"
    code, stdout, err = invoke(capsys, ["sweep", str(path), "--out", str(out),
                                        "--workers", "1", "--quiet"])
    assert code == 2 and stdout == "", err
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert f"the {analysis} analysis" in lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert not out.exists()


@pytest.mark.parametrize("name", ["policy", "optimal_coupling", "discovery", "replicates",
                                  "coupling_break_even", "critical_mass"])
def test_quick_and_publication_experiments_meet_their_requirements(name: str) -> None:
    for folder in ("quick", "publication"):
        for path in sorted((ROOT / "experiments" / folder).glob(f"{name}*.toml")):
            assert load(path).analysis == name, path
    assert (QUICK / f"{name}.toml").exists()


# --- the quick experiments, end to end at a tiny scale ------------------------------------------
def tiny(name: str, folder: Path) -> Path:
    """The quick experiment ``name`` at scale 0.05 and a 2019 horizon, written to
    ``folder`` (the design otherwise as it is)."""
    text = (QUICK / f"{name}.toml").read_text()
    document = tomllib.loads(text)
    lines = []
    for line in text.splitlines():
        if line.startswith("until_year ="):
            continue  # replaced below
        if line.startswith("scale ="):
            line = "scale = 0.05\nuntil_year = 2019"
        lines.append(line)
    assert document["fixed"]["scale"] <= 0.2  # quick: a small scale already
    path = folder / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("name", ["policy", "optimal_coupling", "discovery", "replicates",
                                  "coupling_break_even", "critical_mass"])
def test_quick_experiment_end_to_end(name: str, tmp_path: Path) -> None:
    experiments = tmp_path / "experiments"
    experiments.mkdir()
    experiment = load(tiny(name, experiments))
    results = tmp_path / "results"
    runs = run_sweep(experiment, results, InProcessExecutor(), progress=False)
    assert len(runs) == experiment.run_count
    figures = tmp_path / "figures"
    written = analyses.draw(results, figures)
    names = registry.ANALYSES[name]
    expected = [f"{figure}.{ext}" for figure in names for ext in ("png", "svg", "csv")]
    expected += [f"{extra}.csv" for figure in names
                 for extra in registry.COMPANIONS.get(figure, ())]
    assert sorted(p.name for p in written) == sorted(expected)
    for path in written:
        if path.suffix == ".csv":
            read_table(path.stem, path)  # every table reads back with its kinds
    # redrawn from the CSV files alone, checked against the experiment's run count
    redrawn = analyses.redraw(figures, tmp_path / "redrawn", experiments)
    for path in redrawn:
        if path.suffix == ".csv":
            assert path.read_bytes() == (figures / path.name).read_bytes(), path.name


# --- [points] designs: twins at several couplings ---------------------------------------------
_POINTS_HEAD = """[experiment]
name = "listed"
analysis = "{analysis}"
master_seed = 1
replicates = 2

[fixed]
scale = 0.05
until_year = 2018

[points]
file = "points.csv"
"""


def listed(tmp_path: Path, analysis: str, csv: str) -> Path:
    (tmp_path / "points.csv").write_text(csv)
    path = tmp_path / "listed.toml"
    path.write_text(_POINTS_HEAD.format(analysis=analysis))
    return path


def test_a_points_design_can_cross_sampled_points_with_coupling_levels(tmp_path: Path):
    """Each sampled point at a low, middle and high coupling: the optimum and loose beats
    tight are then told from twins (same other inputs and seeds)."""
    csv = "capability,coupling\n" + "".join(f"{k},{c}\n" for k in (0.3, 0.7)
                                            for c in (0.1, 0.5, 0.9))
    for analysis in ("optimal_coupling", "discovery"):
        assert load(listed(tmp_path, analysis, csv)).run_count == 12


@pytest.mark.parametrize(("analysis", "csv", "words"), [
    ("optimal_coupling", "capability,coupling\n0.3,0.1\n0.3,0.9\n0.7,0.1\n",
     "at least 3 coupling levels"),
    ("optimal_coupling", "capability\n0.3\n0.7\n", "the [points] file lacks it"),
    ("discovery", "capability,tie_decay\n0.3,0.1\n0.7,0.2\n",
     "needs coupling among the sampled or listed parameters"),
])
def test_a_points_design_without_coupling_levels_is_refused(tmp_path: Path, analysis: str,
                                                            csv: str, words: str):
    from sim.sweep import ExperimentError

    with pytest.raises(ExperimentError, match=re.escape(words)):
        load(listed(tmp_path, analysis, csv))
