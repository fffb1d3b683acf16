"""Emergence diagnostics and the hysteresis analysis, on runs tables with known answers.

No model runs here: every runs table is built by hand, so each number has a known value
(sim.emergence, sim.analyses.emergence_table and hysteresis_table, the hysteresis
experiment's validation).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import analyses, emergence
from sim.analyses.labels import snake
from sim.experiment.design import ExperimentError, load
from sim.experiment.style import save_figure
from sim.params import Params
from sim.scenarios import (
    HOLLOW_NETWORKING,
    ISOLATED_EXCELLENCE,
    LOOSELY_COUPLED_SYNERGY,
    SCENARIOS,
    STAGNATION,
    classify,
)

ROOT = Path(__file__).resolve().parents[1]
HAS_SCHEDULES = "coupling_after" in {f.name for f in dataclasses.fields(Params)}
needs_schedules = pytest.mark.skipif(
    not HAS_SCHEDULES, reason="sim.params.Params has no coupling_after field yet: the "
    "hysteresis experiment files name parameters the model does not take")

COUPLING = CAPABILITY = [round(v, 10) for v in np.linspace(0.0, 1.0, 11)]


def _grid_runs(replicates: int = 3) -> pd.DataFrame:
    cells = list(itertools.product(COUPLING, CAPABILITY, range(replicates)))
    return pd.DataFrame(cells, columns=["coupling", "capability", "replicate"])


# --- explained variance --------------------------------------------------------------------
@pytest.mark.parametrize("design", list(emergence.DESIGNS))
def test_an_exact_linear_function_of_the_inputs_is_fully_explained(design):
    runs = _grid_runs()
    index = 0.1 + 0.3 * runs["coupling"] - 0.2 * runs["capability"]
    r2, n = emergence.explained_variance(index, runs["coupling"], runs["capability"], design)
    assert r2 == pytest.approx(1.0, abs=1e-12) and n == len(runs)


def test_pure_noise_is_not_explained():
    runs = _grid_runs(replicates=40)  # 4,840 runs
    noise = np.random.default_rng(5).normal(0.0, 1.0, len(runs))
    for design in emergence.DESIGNS:
        r2, _ = emergence.explained_variance(noise, runs["coupling"], runs["capability"],
                                             design)
        assert 0.0 <= r2 < 0.01, design


def test_the_quadratic_fit_explains_curvature_the_linear_one_misses():
    runs = _grid_runs()
    index = (runs["coupling"] - 0.5) ** 2  # symmetric: no linear trend at all
    linear, _ = emergence.explained_variance(index, runs["coupling"], runs["capability"])
    quadratic, _ = emergence.explained_variance(index, runs["coupling"], runs["capability"],
                                                "quadratic")
    assert linear == pytest.approx(0.0, abs=1e-12)
    assert quadratic == pytest.approx(1.0, abs=1e-12)


def test_explained_variance_leaves_out_missing_values_and_constant_indices():
    runs = _grid_runs()
    index = (0.5 * runs["coupling"]).where(runs["replicate"] > 0)
    r2, n = emergence.explained_variance(index, runs["coupling"], runs["capability"])
    assert r2 == pytest.approx(1.0) and n == 2 * len(runs) // 3
    r2, _ = emergence.explained_variance(np.full(len(runs), 0.3), runs["coupling"],
                                         runs["capability"])
    assert math.isnan(r2)
    with pytest.raises(ValueError, match="unknown design"):
        emergence.explained_variance([1.0, 2.0], [0.0, 1.0], [0.0, 1.0], "cubic")


# --- input-only rules -----------------------------------------------------------------------
def test_best_rule_finds_planted_thresholds_with_full_accuracy():
    runs = _grid_runs(replicates=1)
    planted = emergence.quadrant_scenarios(runs["coupling"], runs["capability"], 0.35, 0.65)
    best = emergence.best_quadrant_rule(runs["coupling"], runs["capability"], planted)
    # every cut between 0.3 and 0.4 splits the runs alike: the midpoint is reported
    assert best.coupling_cut == pytest.approx(0.35)
    assert best.capability_cut == pytest.approx(0.65)
    assert best.accuracy == 1.0 and best.runs == len(runs)


def test_best_rule_beats_or_equals_every_rule_and_ties_go_to_the_smallest_cuts():
    rng = np.random.default_rng(11)
    runs = _grid_runs(replicates=2)
    scenarios = rng.choice(SCENARIOS, size=len(runs))
    best = emergence.best_quadrant_rule(runs["coupling"], runs["capability"], scenarios)
    cuts = [0.0, *(v + 0.05 for v in COUPLING[:-1]), math.inf]
    scores = {(a, b): emergence.rule_accuracy(runs["coupling"], runs["capability"],
                                              scenarios, a, b).accuracy
              for a in cuts for b in cuts}
    top = max(scores.values())
    assert best.accuracy == pytest.approx(top)
    first = min(key for key, value in scores.items() if value == pytest.approx(top))
    assert (best.coupling_cut, best.capability_cut) == pytest.approx(first)


def test_best_rule_can_put_every_run_on_one_side():
    runs = _grid_runs(replicates=1)
    everywhere = [HOLLOW_NETWORKING] * len(runs)  # high coupling, low capability everywhere
    best = emergence.best_quadrant_rule(runs["coupling"], runs["capability"], everywhere)
    assert best.coupling_cut == 0.0 and best.capability_cut == math.inf
    assert best.accuracy == 1.0


def test_rule_accuracy_counts_matching_runs():
    scenarios = [LOOSELY_COUPLED_SYNERGY, ISOLATED_EXCELLENCE, HOLLOW_NETWORKING, STAGNATION]
    coupling, capability = [0.3, 0.1, 0.3, 0.1], [0.5, 0.5, 0.1, 0.1]
    assert emergence.rule_accuracy(coupling, capability, scenarios, 0.25, 0.45).accuracy == 1
    rule = emergence.rule_accuracy(coupling, capability, scenarios, 0.35, 0.45)
    assert rule.accuracy == 0.5 and rule.runs == 4  # both high-coupling runs now wrong


# --- the emergence table of the phase diagram ------------------------------------------------
def _phase_runs(seed: int = 3) -> pd.DataFrame:
    """A phase-diagram runs table whose scenarios follow the rule (coupling >= 0.45,
    capability >= 0.25) through the indices, with noise on the cooperation index."""
    runs = _grid_runs(replicates=2)
    rng = np.random.default_rng(seed)
    runs["capability_threshold"] = 0.2
    runs["capability_index"] = np.where(runs["capability"] >= 0.25, 0.3, 0.1)
    runs["cooperation_index"] = (np.where(runs["coupling"] >= 0.45, 0.2, 0.05)
                                 + rng.uniform(-0.04, 0.04, len(runs)))
    runs["distinctiveness"] = 1.0 - 0.5 * runs["coupling"]
    runs["paired_synergy"] = 0.1  # coupling pays: high-high is synergy
    return runs


def test_emergence_table_reports_fits_and_rules():
    runs = _phase_runs()
    table = analyses.emergence_table(runs)
    assert list(table.columns) == ["quantity", "index", "value", "n", "description"]
    value = table.set_index(["quantity", "index"])["value"]
    assert value[("r2_linear", "distinctiveness")] == pytest.approx(1.0)
    assert value[("r2_quadratic", "capability_index")] < 1.0  # a step, not a parabola
    assert value[("best_rule_accuracy", "scenario")] == 1.0
    assert value[("best_rule_coupling_cut", "scenario")] == pytest.approx(0.45)
    assert value[("best_rule_capability_cut", "scenario")] == pytest.approx(0.25)
    # the fixed rule (0.25, 0.45) misreads coupling 0.3 and 0.4 and capability 0.3 and 0.4
    expected = 1.0 - (2 * 11 + 2 * 11 - 2 * 2) / 121
    assert value[("fixed_rule_accuracy", "scenario")] == pytest.approx(expected)
    assert (table.loc[table["index"] == "scenario", "n"] == len(runs)).all()


def test_emergence_table_reads_scenarios_from_indices_not_inputs():
    runs = _phase_runs()
    runs["scenario"] = STAGNATION  # a stored label that disagrees is not used
    runs["capability_threshold"] = 10.0  # nobody is capable: half the cells move
    value = analyses.emergence_table(runs).set_index(["quantity", "index"])["value"]
    scenarios = [classify(a, b, 0.1, capability_threshold=10.0, cooperation_threshold=0.1)
                 for a, b in zip(runs["capability_index"], runs["cooperation_index"],
                                 strict=True)]
    assert set(scenarios) == {HOLLOW_NETWORKING, STAGNATION}
    assert value[("best_rule_accuracy", "scenario")] == 1.0
    assert value[("best_rule_capability_cut", "scenario")] == math.inf


# --- hysteresis --------------------------------------------------------------------------------
def _hysteresis_runs(effect: float, replicates: int = 8, seed: int = 1) -> pd.DataFrame:
    """Two capability levels x coupling {0.1, 0.9} x coupling_after {0.1, 0.9}.

    Each replicate has its own random level, shared by its four paths (common random
    numbers). A switched run differs from its constant twin by +-0.002 (the sign
    alternating with the replicate, so these deviations cancel exactly over an even
    number of replicates) and, when lowered from 0.9 to 0.1, by ``effect`` more
    cooperation."""
    rng = np.random.default_rng(seed)
    rows = []
    for capability, replicate in itertools.product((0.2, 0.8), range(replicates)):
        shared = rng.normal(0.0, 0.05)
        for coupling, after in itertools.product((0.1, 0.9), (0.1, 0.9)):
            jitter = 0.0 if coupling == after else 0.002 * (-1) ** replicate
            lowered = coupling > after
            rows.append({
                "run_id": f"r{len(rows):03d}", "point": 0, "replicate": replicate,
                "seed": 100 + replicate, "capability": capability, "coupling": coupling,
                "coupling_after": after, "scale": 0.05, "until_year": 2020,
                "switch_year": 2019, "capability_threshold": 0.2,
                "capability_index": 0.1 + 0.2 * capability + shared / 5 + jitter,
                "cooperation_index": 0.05 + 0.2 * after + shared / 2 + jitter
                + (effect if lowered else 0.0),
                "distinctiveness": 0.9 - 0.4 * after + jitter,
                "innovations_total": 1000 + 500 * capability + 1000 * shared + 1000 * jitter,
                "ventures_alive": 300 + 100 * shared + 100 * jitter,
                "paired_synergy": 0.05,
            })
    return pd.DataFrame(rows)


def test_a_planted_path_effect_is_found_with_its_sign():
    table = analyses.hysteresis_table(_hysteresis_runs(effect=0.05))
    lowered = table[table["path"] == "lowered"]
    assert len(lowered) == 2 and (lowered["pairs"] == 8).all()
    assert (lowered["cooperation_index_effect_low"] > 0).all()
    assert lowered["cooperation_index_effect_mean"].to_numpy() == pytest.approx(0.05, abs=0.01)
    # the raised path got no effect: its interval contains 0
    raised = table[table["path"] == "raised"]
    assert raised["cooperation_index_effect_mean"].to_numpy() == pytest.approx(0, abs=1e-9)
    assert ((raised["cooperation_index_effect_low"] < 0)
            & (raised["cooperation_index_effect_high"] > 0)).all()


def test_a_negative_path_effect_has_an_interval_below_zero():
    table = analyses.hysteresis_table(_hysteresis_runs(effect=-0.03))
    lowered = table[table["path"] == "lowered"]
    assert (lowered["cooperation_index_effect_high"] < 0).all()


def test_without_a_path_effect_every_interval_contains_zero():
    table = analyses.hysteresis_table(_hysteresis_runs(effect=0.0, seed=4))
    switched = table[table["path"] != "constant"]
    for measure in analyses.HYSTERESIS_MEASURES:
        assert switched[f"{measure}_effect_mean"].to_numpy() == pytest.approx(0, abs=1e-9)
        assert (switched[f"{measure}_effect_low"] < 0).all(), measure
        assert (switched[f"{measure}_effect_high"] > 0).all(), measure


def test_pairing_removes_the_shared_replicate_level():
    """Replicates differ far more than the paths; unpaired intervals would be wide."""
    table = analyses.hysteresis_table(_hysteresis_runs(effect=0.01))
    lowered = table[table["path"] == "lowered"].iloc[0]
    constant_width = lowered["cooperation_index_high"] - lowered["cooperation_index_low"]
    paired_width = (lowered["cooperation_index_effect_high"]
                    - lowered["cooperation_index_effect_low"])
    assert paired_width < constant_width / 5
    assert lowered["cooperation_index_effect_low"] > 0


def test_hysteresis_table_rows_and_shares():
    runs = _hysteresis_runs(effect=0.05)
    table = analyses.hysteresis_table(runs)
    assert len(table) == 2 * 4 and (table["n"] == 8).all()
    # by capability, then final coupling, then starting coupling
    assert list(table["path"][:4]) == ["constant", "lowered", "raised", "constant"]
    assert table.loc[table["path"] == "constant", "pairs"].eq(0).all()
    assert table.loc[table["path"] == "constant", "cooperation_index_effect_mean"].isna().all()
    shares = table[[f"share_{snake(s)}" for s in SCENARIOS]]
    assert (shares.sum(axis=1) - 1.0).abs().max() < 1e-9
    # the scenario comes from the indices: high capability index at capability 0.8 only
    assert (table.loc[table["capability"] == 0.2, "share_stagnation"]
            + table.loc[table["capability"] == 0.2, "share_hollow_networking"]).eq(1).all()


def test_hysteresis_table_refuses_what_it_cannot_compare():
    runs = _hysteresis_runs(effect=0.0)
    with pytest.raises(ValueError, match="no run switches coupling"):
        analyses.hysteresis_table(runs[runs["coupling"] == runs["coupling_after"]])
    with pytest.raises(ValueError, match="no constant path at coupling 0.1"):
        analyses.hysteresis_table(runs[~((runs["coupling"] == 0.1)
                                         & (runs["coupling_after"] == 0.1))])
    with pytest.raises(ValueError, match="switch in 2019, 2020"):
        analyses.hysteresis_table(runs.assign(switch_year=[2019, 2020] * (len(runs) // 2)))
    with pytest.raises(ValueError, match="coupling_after"):
        analyses.hysteresis_table(runs.drop(columns="coupling_after"))


@pytest.mark.slow
def test_hysteresis_figure_redrawn_from_its_csv_is_identical(tmp_path):
    table = analyses.hysteresis_table(_hysteresis_runs(effect=0.05))
    context = analyses.FigureContext(experiment="hand-made", horizon="2020", runs=64,
                                     thresholds={"capability_threshold": (0.2, 0.2)})
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    drawn = save_figure(analyses.figure_from_table("hysteresis", table, context), table,
                        first, "hysteresis")
    read = analyses.read_table("hysteresis", first / "hysteresis.csv")
    redrawn = save_figure(analyses.figure_from_table("hysteresis", read, context), read,
                          second, "hysteresis")
    for a, b in zip(drawn, redrawn, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_hysteresis_table_with_a_wrong_path_label_is_refused():
    table = analyses.hysteresis_table(_hysteresis_runs(effect=0.0))
    table.loc[0, "path"] = "lowered"
    with pytest.raises(ValueError, match="path label"):
        analyses.figure_from_table("hysteresis", table)


# --- the hysteresis experiment files ------------------------------------------------------------
_HYSTERESIS_TOML = """[experiment]
name = "h"
analysis = "hysteresis"
master_seed = 1
replicates = {replicates}

[fixed]
scale = 0.05
until_year = 2020
{fixed}
[grid]
{grid}
"""
_GOOD_GRID = "coupling = [0.1, 0.9]\ncoupling_after = [0.1, 0.9]\n"


@needs_schedules
@pytest.mark.parametrize("setting", ["quick", "publication"])
def test_hysteresis_experiment_files_load(setting):
    experiment = load(ROOT / "experiments" / setting / "hysteresis.toml")
    assert experiment.analysis == "hysteresis" and experiment.master_seed == 2033
    assert experiment.grid["coupling"] == experiment.grid["coupling_after"] == [0.1, 0.9]
    assert experiment.fixed["switch_year"] == 2024
    capability = [0.2, 0.8] if setting == "quick" else [0.2, 0.5, 0.8]
    assert experiment.grid["capability"] == capability
    assert len(experiment.runs()) == len(capability) * 4 * experiment.replicates


def test_hysteresis_master_seed_is_its_own():
    seeds = {}
    for path in sorted((ROOT / "experiments").rglob("*.toml")):
        text = path.read_text()
        seed = int(text.split("master_seed = ")[1].split()[0])
        name = text.split('name = "')[1].split('"')[0]
        seeds.setdefault(seed, set()).add(name)
    assert seeds[2033] == {"hysteresis"}


@needs_schedules
@pytest.mark.parametrize(("fixed", "grid", "replicates", "words"), [
    ("", "coupling = [0.1, 0.9]\n", 2, "needs coupling_after in the [grid]"),
    ("coupling_after = 0.1\n", "coupling = [0.1, 0.9]\n", 2, "coupling_after"),
    ("", "coupling = [0.1]\ncoupling_after = [0.1, 0.9]\n", 2,
     "coupling_after 0.9 is not in the coupling grid"),
    ("", "coupling = [0.5]\ncoupling_after = [0.5]\n", 2, "at least two coupling levels"),
    ("", _GOOD_GRID + "switch_year = [2019, 2020]\n", 2, "fix switch_year"),
    ("switch_year = 2024\n", _GOOD_GRID, 2, "switch_year 2024 must be in (2018, 2020]"),
    ("switch_year = 2019\n", _GOOD_GRID, 1, "replicates >= 2"),
])
def test_bad_hysteresis_designs_are_one_line_errors(tmp_path, fixed, grid, replicates, words):
    path = tmp_path / "h.toml"
    path.write_text(_HYSTERESIS_TOML.format(fixed=fixed, grid=grid, replicates=replicates))
    with pytest.raises(ExperimentError, match="hysteresis|coupling_after") as error:
        load(path)
    message = str(error.value)
    assert words in message and "\n" not in message and str(path) in message


@needs_schedules
def test_hysteresis_sample_design_is_refused(tmp_path):
    path = tmp_path / "h.toml"
    path.write_text(_HYSTERESIS_TOML.format(fixed="", replicates=2, grid="").replace(
        "[grid]\n", "[sample]\nn = 4\n[sample.ranges]\ncoupling = [0.1, 0.9]\n"
                    "coupling_after = [0.1, 0.9]\n"))
    with pytest.raises(ExperimentError, match="needs a \\[grid\\]"):
        load(path)


@needs_schedules
def test_a_good_hysteresis_design_loads(tmp_path):
    path = tmp_path / "h.toml"
    path.write_text(_HYSTERESIS_TOML.format(fixed="switch_year = 2019\n", grid=_GOOD_GRID,
                                            replicates=2))
    assert len(load(path).runs()) == 8
