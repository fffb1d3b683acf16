"""Synergy earned: a run high in capability and cooperation is 'Loosely coupled synergy'
only if it out-innovates its uncoupled twin; otherwise 'Coupled without synergy'."""

from __future__ import annotations

import math
import pickle

import pandas as pd
import pytest

from sim import metrics, pairing, scenarios
from sim.analyses.labels import letter, paired_synergies
from sim.analyses.labels import scenarios as relabel
from sim.experiment.design import RunSpec
from sim.experiment.style import SCENARIO_COLOURS
from sim.model import ClusterModel
from sim.scenarios import (
    COUPLED_WITHOUT_SYNERGY,
    HOLLOW_NETWORKING,
    ISOLATED_EXCELLENCE,
    LOOSELY_COUPLED_SYNERGY,
    SCENARIOS,
    STAGNATION,
    classify,
)
from sim.sweep.tasks import run_group, run_task

THRESHOLDS = {"capability_threshold": 0.2, "cooperation_threshold": 0.1}
#: A small run that ends high in capability and cooperation (scale 0.1).
COUPLED = {"scale": 0.1, "capability": 0.8, "coupling": 1.0}
SEED = 0  # a run in the high-high quadrant at the present defaults


# --- the classifier on constructed cases -------------------------------------------------------
@pytest.mark.parametrize(("synergy", "expected"), [
    (-0.17, COUPLED_WITHOUT_SYNERGY), (-1e-12, COUPLED_WITHOUT_SYNERGY),
    (0.0, COUPLED_WITHOUT_SYNERGY), (-0.0, COUPLED_WITHOUT_SYNERGY),
    (1e-12, LOOSELY_COUPLED_SYNERGY), (0.25, LOOSELY_COUPLED_SYNERGY),
])
def test_high_high_is_synergy_only_with_a_positive_paired_synergy(synergy, expected):
    assert classify(0.3, 0.2, synergy, **THRESHOLDS) == expected
    assert classify(0.2, 0.1, synergy, **THRESHOLDS) == expected  # thresholds count as high


@pytest.mark.parametrize("synergy", [None, math.nan])
def test_high_high_without_a_paired_synergy_is_refused(synergy):
    with pytest.raises(ValueError, match="paired synergy"):
        classify(0.3, 0.2, synergy, **THRESHOLDS)


@pytest.mark.parametrize(("capability", "cooperation", "expected"), [
    (0.3, 0.05, ISOLATED_EXCELLENCE), (0.1, 0.2, HOLLOW_NETWORKING),
    (0.1, 0.05, STAGNATION), (0.1999, 0.0999, STAGNATION),
])
@pytest.mark.parametrize("synergy", [None, math.nan, -0.5, 0.0, 0.5, math.inf])
def test_other_quadrants_ignore_the_paired_synergy(capability, cooperation, expected, synergy):
    assert classify(capability, cooperation, synergy, **THRESHOLDS) == expected
    assert not scenarios.needs_synergy(capability, cooperation, **THRESHOLDS)


def test_the_paper_s_four_come_first_and_every_label_has_its_own_letter_and_colour():
    assert SCENARIOS[:4] == (LOOSELY_COUPLED_SYNERGY, ISOLATED_EXCELLENCE, HOLLOW_NETWORKING,
                             STAGNATION)
    assert SCENARIOS[4] == COUPLED_WITHOUT_SYNERGY == "Coupled without synergy"
    assert [letter(s) for s in SCENARIOS] == ["L", "I", "H", "S", "C"]
    assert list(SCENARIO_COLOURS) == list(SCENARIOS)
    assert len(set(SCENARIO_COLOURS.values())) == len(SCENARIOS)


def test_paired_synergy_keeps_the_sign_when_the_twin_never_innovated():
    assert pairing.paired_synergy(120, 100) == metrics.synergy(120, 100)
    assert pairing.paired_synergy(80, 100) == metrics.synergy(80, 100) < 0
    assert pairing.paired_synergy(7, 0) == 7.0  # more than nothing: positive, finite
    assert pairing.paired_synergy(0, 0) == 0.0  # nothing either way: not synergy


# --- real runs ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def coupled_run() -> ClusterModel:
    model = ClusterModel(rng=SEED, **COUPLED)
    model.run_model()
    return model


@pytest.fixture(scope="module")
def isolated_run() -> ClusterModel:
    """The coupled run's twin, built the long way: a fresh model at coupling 0."""
    model = ClusterModel(rng=SEED, **{**COUPLED, "coupling": 0.0})
    model.run_model()
    return model


def test_a_coupled_run_s_paired_synergy_is_over_a_fresh_run_at_coupling_0(
        coupled_run, isolated_run):
    summary = coupled_run.summary()
    assert scenarios.needs_synergy(
        summary["capability_index"], summary["cooperation_index"],
        capability_threshold=summary["capability_threshold"],
        cooperation_threshold=coupled_run.params.cooperation_threshold), summary
    expected = metrics.synergy(summary["innovations_total"],
                               isolated_run.summary()["innovations_total"])
    assert summary["paired_synergy"] == expected  # bit for bit: the same twin
    assert coupled_run.uncoupled_twin.model.totals == isolated_run.totals
    synergy_earned = summary["paired_synergy"] > 0
    assert summary["scenario"] == (LOOSELY_COUPLED_SYNERGY if synergy_earned
                                   else COUPLED_WITHOUT_SYNERGY)
    assert coupled_run.current_scenario() == summary["scenario"]


def test_a_run_outside_the_high_high_quadrant_never_builds_its_twin():
    model = ClusterModel(rng=SEED, **{**COUPLED, "coupling": 0.02})
    assert model.uncoupled_twin is not None  # its start is kept, nothing more
    model.run_model()
    summary = model.summary()
    assert summary["scenario"] in (ISOLATED_EXCELLENCE, HOLLOW_NETWORKING, STAGNATION)
    assert summary["paired_synergy"] is None
    assert model.current_scenario() == summary["scenario"]
    assert model.uncoupled_twin.model is None


def test_an_uncoupled_run_keeps_no_start_and_is_its_own_twin(isolated_run):
    assert isolated_run.uncoupled_twin is None
    assert pairing.synergy_of(isolated_run) == 0.0


def test_the_twin_follows_the_run_quarter_by_quarter_only_when_asked():
    model = ClusterModel(rng=SEED, **{**COUPLED, "until_year": 2019})
    asked_at = []
    while model.running:
        model.step()
        if model.paired_synergy() is not None:
            asked_at.append(model.quarter_number)
            assert model.uncoupled_twin.model.quarter_number == model.quarter_number
    assert asked_at, "the run never reached the high-high quadrant"
    fresh = ClusterModel(rng=SEED, **{**COUPLED, "until_year": 2019, "coupling": 0.0})
    fresh.run_model()
    assert model.uncoupled_twin.model.totals == fresh.totals


def test_a_branch_of_an_uncoupled_model_still_finds_its_twin(coupled_run):
    start = ClusterModel(rng=SEED, **{**COUPLED, "coupling": 0.0})
    branched = start.branch(coupling=1.0)
    branched.run_model()
    assert branched.summary()["paired_synergy"] == coupled_run.summary()["paired_synergy"]


def test_a_run_pickled_mid_way_keeps_its_twin(coupled_run):
    model = ClusterModel(rng=SEED, **COUPLED)
    for _ in range(20):
        model.step()
    copy = pickle.loads(pickle.dumps(model))
    copy.run_model()
    assert copy.summary()["paired_synergy"] == coupled_run.summary()["paired_synergy"]


# --- sweeps -------------------------------------------------------------------------------------
def test_a_sweep_row_stores_the_paired_synergy_as_a_float(monkeypatch):
    specs = [RunSpec(f"{i:016x}", i, 0, SEED, {**COUPLED, "coupling": coupling}, False)
             for i, coupling in enumerate((1.0, 0.02, 0.0))]
    alone = run_task(specs[0]).row  # builds and runs its own twin
    built = []
    branch = ClusterModel.branch
    monkeypatch.setattr(ClusterModel, "branch",
                        lambda self, **inputs: built.append(inputs) or branch(self, **inputs))
    rows = [result.row for result in run_group(specs)]
    # the group's run at coupling 0 is the twin: none is built, and rows keep their order
    assert built == []
    assert [row["run_id"] for row in rows] == [spec.run_id for spec in specs]
    rows.reverse()  # coupling 0, 0.02, 1
    assert rows[0]["paired_synergy"] is None or math.isnan(rows[0]["paired_synergy"])
    assert math.isnan(rows[1]["paired_synergy"])  # not needed: NaN, not None
    assert rows[2]["paired_synergy"] == alone["paired_synergy"]
    assert rows[2]["innovations_total"] == alone["innovations_total"]
    assert rows[2]["paired_synergy"] == metrics.synergy(rows[2]["innovations_total"],
                                                        rows[0]["innovations_total"])


# --- relabelling a runs table ---------------------------------------------------------------------
def _table(**columns) -> pd.DataFrame:
    base = {"coupling": [0.0, 0.5, 1.0], "capability": 0.8, "replicate": 0, "seed": 3,
            "innovations_total": [100, 120, 90], "capability_index": 0.3,
            "cooperation_index": [0.0, 0.2, 0.3], "capability_threshold": 0.2}
    return pd.DataFrame({**base, **columns})


def _limits(runs: pd.DataFrame, cooperation: float = 0.1) -> pd.DataFrame:
    return pd.DataFrame({"capability_threshold": runs["capability_threshold"],
                         "cooperation_threshold": cooperation}, index=runs.index)


def test_a_runs_table_is_labelled_with_its_stored_paired_synergy():
    runs = _table(paired_synergy=[math.nan, -0.3, 0.4])  # stored values win
    assert list(relabel(runs, _limits(runs))) == [
        ISOLATED_EXCELLENCE, COUPLED_WITHOUT_SYNERGY, LOOSELY_COUPLED_SYNERGY]


def test_without_a_stored_value_the_twin_in_the_table_is_used():
    runs = _table()  # a table of runs before the paired synergy was stored
    assert list(paired_synergies(runs)) == pytest.approx([0.0, 0.2, -0.1])
    # a moved threshold puts the coupling-0 run in the high-high quadrant: its own twin
    assert list(relabel(runs, _limits(runs, cooperation=0.0))) == [
        COUPLED_WITHOUT_SYNERGY, LOOSELY_COUPLED_SYNERGY, COUPLED_WITHOUT_SYNERGY]


def test_a_run_switching_to_another_coupling_has_no_twin_in_the_table():
    runs = _table(coupling_after=[0.3, 0.3, 0.3])
    assert paired_synergies(runs).isna().all()
    with pytest.raises(ValueError, match=r"2 run\(s\) are high in capability and "
                                         "cooperation but have no paired synergy"):
        relabel(runs, _limits(runs))
    runs = _table(coupling_after=[0.0, 0.0, 0.0])  # switching to 0: the twin is there
    assert list(paired_synergies(runs)) == pytest.approx([0.0, 0.2, -0.1])
