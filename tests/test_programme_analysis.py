"""The programmes analysis (sim/analyses/programmes.py): paired differences against the
run without programmes, on constructed runs with a known paired structure; what its
design must list; the committed points files."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analyses.programmes import NONE, cost_effectiveness_table, programme_labels
from sim.emergence import t_interval
from sim.experiment.registry import analysis

ROOT = Path(__file__).resolve().parents[1]

MEASURE_COLUMNS = ("innovations_total", "ventures_alive", "scale_ups", "cooperation_index",
                   "distinctiveness", "capability_index", "capability_stock_daedeok",
                   "capability_stock_pangyo")


def constructed_runs(scale: float = 1.0) -> pd.DataFrame:
    """Two states x (none, training at 10, cooperation+training at 10) x 4 replicates.
    Each replicate has its own level (seed noise shared by the pair); training adds
    100 + replicate innovations at coupling 0.2 and twice that at 0.7, the mix 50."""
    rows = []
    for coupling in (0.2, 0.7):
        for replicate in range(4):
            level = 1000.0 * (replicate + 1)  # the seed's own level, shared by the pair
            for training, cooperation in ((0.0, 0.0), (10.0, 0.0), (5.0, 5.0)):
                effect = 0.0
                if training == 10.0:
                    effect = (100.0 + replicate) * (1 if coupling == 0.2 else 2)
                elif training == 5.0:
                    effect = 50.0
                spent = 0.0 if training == 0.0 else 40.0
                rows.append({
                    "run_id": f"{coupling}-{replicate}-{training}", "replicate": replicate,
                    "seed": 100 + replicate, "coupling": coupling, "scale": scale,
                    "training_budget": training, "cooperation_budget": cooperation,
                    "innovations_total": (level + effect) * scale,
                    "ventures_alive": (level / 10 + effect / 10) * scale,
                    "scale_ups": 5.0 * scale, "cooperation_index": 0.1 + effect / 1e4,
                    "distinctiveness": 0.9, "capability_index": 0.2,
                    "capability_stock_daedeok": 0.3, "capability_stock_pangyo": 0.3,
                    "programme_spent": spent})
    return pd.DataFrame(rows)


def cell(table: pd.DataFrame, state: str, programme: str, measure: str) -> pd.Series:
    row = table[(table["state"] == state) & (table["programme"] == programme)
                & (table["measure"] == measure)]
    assert len(row) == 1
    return row.iloc[0]


def test_labels_name_the_funded_programmes_and_their_total_budget():
    labels, budgets = programme_labels(constructed_runs())
    assert set(labels) == {NONE, "training", "cooperation+training"}
    assert set(budgets) == {0.0, 10.0}


def test_effects_are_paired_differences_hand_computed():
    table = cost_effectiveness_table(constructed_runs())
    # the seed levels (1,000 to 4,000) cancel in every pair: only the effect is left
    training = cell(table, "coupling=0.2", "training", "innovations_total")
    mean, low, high = t_interval([100.0, 101.0, 102.0, 103.0])
    assert training["n"] == 4
    assert (training["mean"], training["low"], training["high"]) == pytest.approx(
        (101.5, low, high))
    assert training["high"] - training["low"] < 5  # unpaired, the levels would swamp it
    doubled = cell(table, "coupling=0.7", "training", "innovations_total")
    assert doubled["mean"] == pytest.approx(203.0)
    mix = cell(table, "coupling=0.2", "cooperation+training", "innovations_total")
    assert (mix["mean"], mix["low"], mix["high"]) == pytest.approx((50.0, 50.0, 50.0))
    per_bn = cell(table, "coupling=0.2", "training", "innovations_per_bn")
    assert per_bn["mean"] == pytest.approx(101.5 / 40.0)
    spent = cell(table, "coupling=0.2", "training", "programme_spent")
    assert spent["mean"] == pytest.approx(40.0)
    assert set(table["runs"]) == {24}


def test_counts_read_at_full_size_whatever_the_scale():
    full = cost_effectiveness_table(constructed_runs(1.0))
    small = cost_effectiveness_table(constructed_runs(0.1))
    for measure in ("innovations_total", "ventures_alive", "innovations_per_bn"):
        assert (cell(small, "coupling=0.2", "training", measure)["mean"]
                == pytest.approx(cell(full, "coupling=0.2", "training", measure)["mean"]))


def test_a_programme_that_spent_nothing_has_no_effect_per_won():
    runs = constructed_runs()
    runs.loc[runs["training_budget"] == 10.0, "programme_spent"] = 0.0
    table = cost_effectiveness_table(runs)
    per_bn = cell(table, "coupling=0.2", "training", "innovations_per_bn")
    assert per_bn["n"] == 0 and np.isnan(per_bn["mean"])


def test_a_state_without_its_reference_run_is_refused():
    runs = constructed_runs()
    runs = runs[~((runs["coupling"] == 0.7) & (runs["training_budget"] == 0.0))]
    with pytest.raises(ValueError, match="no run without programmes at coupling=0.7"):
        cost_effectiveness_table(runs)


# --- the design --------------------------------------------------------------------------------
class FakeDesign:
    def __init__(self, *, grid=None, sample=None, fixed=None, replicates=2):
        self.grid, self.sample = grid or {}, sample or {}
        self.fixed, self.replicates, self.series = fixed or {}, replicates, False


def unmet(design) -> str | None:
    for requirement in analysis("programmes").requirements:
        problem = requirement.check(design)
        if problem is not None:
            return problem
    return None


def test_the_design_must_list_budgets_and_each_states_reference():
    assert unmet(FakeDesign(grid={"coupling": [0.2, 0.7], "training_budget": [0, 10]})) is None
    assert "at least one of" in unmet(FakeDesign(grid={"coupling": [0.2, 0.7]}))
    rows = [[0.2, 0.0], [0.2, 10.0], [0.7, 10.0]]
    listed = FakeDesign(sample={"method": "points", "columns": ["coupling", "training_budget"],
                                "rows": rows})
    assert "coupling=0.7 has none" in unmet(listed)
    fixed = FakeDesign(grid={"training_budget": [0, 10]}, fixed={"cooperation_budget": 5})
    assert "fixed above 0" in unmet(fixed)
    assert "replicates >= 2" in unmet(FakeDesign(grid={"training_budget": [0, 10]},
                                                 replicates=1))
    assert "not a sampled design" in unmet(FakeDesign(sample={"method": "latin_hypercube"}))


def test_the_committed_points_files_are_the_ones_the_script_writes():
    spec = importlib.util.spec_from_file_location(
        "programme_points", ROOT / "experiments" / "programme_points.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, setting in module.SETTINGS.items():
        committed = (ROOT / "experiments" / name).read_text(encoding="utf-8")
        assert committed == module.text(module.rows(**setting)), name
    for name, setting in module.TIMINGS.items():
        committed = (ROOT / "experiments" / name).read_text(encoding="utf-8")
        assert committed == module.text(module.timing_rows(**setting)), name
    for name, setting in module.BOUNDARIES.items():
        committed = (ROOT / "experiments" / name).read_text(encoding="utf-8")
        assert committed == module.text(module.rows(**setting)), name
    for name, setting in module.FUTURES.items():
        committed = (ROOT / "experiments" / name).read_text(encoding="utf-8")
        assert committed == module.text(module.future_rows(**setting)), name
    # equal money: every mix of one budget costs the same
    points = pd.read_csv(ROOT / "experiments" / "publication" / "programmes_points.csv")
    totals = points.filter(like="_budget").sum(axis=1).round(9)
    assert set(totals) == {0.0, 10.0, 50.0, 200.0}
