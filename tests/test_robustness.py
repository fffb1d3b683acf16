"""The robustness analysis (sim/analyses/robustness.py): regret and the goal on a
constructed table of futures x mixes, hand-computed; PRIM finds a planted box of failing
futures; what its design must list."""

import numpy as np
import pandas as pd
import pytest

from sim.analyses.robustness import (
    NEVER_FAILS,
    future_outcomes,
    robustness_boxes_table,
    robustness_table,
)
from sim.experiment.registry import analysis
from sim.scenarios import LOOSELY_COUPLED_SYNERGY, SCENARIOS

OTHER = next(s for s in SCENARIOS if s != LOOSELY_COUPLED_SYNERGY)


def run(future: int, coupling: float, *, training: float = 0.0, cooperation: float = 0.0,
        innovations: float, synergy: bool = True, stock: float = 0.3,
        scale: float = 1.0) -> dict:
    return {"run_id": f"{future}-{training}-{cooperation}", "replicate": 0, "seed": 7,
            "scale": scale, "coupling": coupling, "training_budget": training,
            "cooperation_budget": cooperation, "innovations_total": innovations * scale,
            "scenario": LOOSELY_COUPLED_SYNERGY if synergy else OTHER,
            "capability_stock_daedeok": stock, "capability_stock_pangyo": 0.3}


def three_futures(scale: float = 1.0) -> pd.DataFrame:
    """Gains over none: future 0: training +100, cooperation +40; future 1: training
    +10, cooperation +60; future 2: training -20, cooperation +30 (cooperation lowers
    Daedeok's stock there, and training ends without synergy)."""
    rows = [
        run(0, 0.1, innovations=1000, scale=scale),
        run(0, 0.1, training=50, innovations=1100, scale=scale),
        run(0, 0.1, cooperation=50, innovations=1040, scale=scale),
        run(1, 0.5, innovations=2000, scale=scale),
        run(1, 0.5, training=50, innovations=2010, scale=scale),
        run(1, 0.5, cooperation=50, innovations=2060, scale=scale),
        run(2, 0.9, innovations=3000, scale=scale),
        run(2, 0.9, training=50, innovations=2980, synergy=False, scale=scale),
        run(2, 0.9, cooperation=50, innovations=3030, stock=0.29, scale=scale),
    ]
    return pd.DataFrame(rows)


def test_regret_and_goal_hand_computed():
    outcomes = future_outcomes(three_futures()).set_index(["future", "mix"])
    # best gains by future: 100 (training), 60 (cooperation), 30 (cooperation)
    assert outcomes.loc[(0, "training"), "regret"] == 0.0
    assert outcomes.loc[(0, "cooperation"), "regret"] == 60.0
    assert outcomes.loc[(1, "training"), "regret"] == 50.0
    assert outcomes.loc[(2, "training"), "regret"] == 50.0
    assert outcomes.loc[(2, "none"), "regret"] == 30.0
    assert not outcomes.loc[(2, "training"), "goal"]      # no synergy
    assert not outcomes.loc[(2, "cooperation"), "goal"]   # Daedeok's stock fell
    assert outcomes.loc[(1, "cooperation"), "goal"]
    table = robustness_table(three_futures()).set_index("mix")
    assert table.loc["training", "gain_mean"] == pytest.approx((100 + 10 - 20) / 3)
    assert table.loc["training", "regret_median"] == 50.0
    assert table.loc["cooperation", "regret_max"] == 60.0
    assert table.loc["none", "regret_p90"] == pytest.approx(np.quantile([100, 60, 30], 0.9))
    assert table.loc["training", "goal_share"] == pytest.approx(2 / 3)
    assert table.loc["cooperation", "goal_share"] == pytest.approx(2 / 3)
    assert table.loc["none", "goal_share"] == 1.0
    assert table.loc["training", "synergy_share"] == pytest.approx(2 / 3)
    assert table.loc["cooperation", "synergy_share"] == 1.0  # its goal fails on the stock
    assert table.loc["none", "fails_where"] == NEVER_FAILS
    assert table.loc["none", "rank_goal"] == 1
    # 90th-percentile regret: training 50, cooperation 0.9 quantile of (60, 0, 0) = 48
    assert table.loc["cooperation", "rank_regret"] == 1
    assert set(table["runs"]) == {9}


def test_gains_read_at_full_size():
    full = robustness_table(three_futures(1.0)).set_index("mix")
    small = robustness_table(three_futures(0.1)).set_index("mix")
    assert small["gain_mean"].to_dict() == pytest.approx(full["gain_mean"].to_dict())


def test_a_future_without_its_reference_or_a_mix_is_refused():
    runs = three_futures()
    with pytest.raises(ValueError, match="has no run without programmes"):
        future_outcomes(runs.drop(index=3))
    with pytest.raises(ValueError, match="lacks a mix"):
        future_outcomes(runs.drop(index=4))


def test_prim_finds_a_planted_box_of_failing_futures():
    # 150 futures over coupling and capability; the one mix misses the goal exactly
    # where coupling > 0.7 and capability < 0.4
    rng = np.random.default_rng(3)
    rows = []
    for future in range(150):
        coupling, capability = rng.uniform(0, 1), rng.uniform(0, 1)
        fails = coupling > 0.7 and capability < 0.4
        for training, gain in ((0.0, 0), (50.0, 10)):
            rows.append({**run(future, coupling, training=training,
                               innovations=1000 + gain, synergy=not (fails and training)),
                         "capability": capability})
    runs = pd.DataFrame(rows)
    row = robustness_table(runs).set_index("mix").loc["training"]
    assert "coupling >=" in row["fails_where"] and "capability <=" in row["fails_where"]
    assert row["box_density"] >= 0.8 and row["box_coverage"] >= 0.8
    boxes = robustness_boxes_table(runs)
    limits = boxes[boxes["mix"] == "training"].set_index("parameter")
    assert limits.loc["coupling", "low"] == pytest.approx(0.7, abs=0.08)
    assert limits.loc["capability", "high"] == pytest.approx(0.4, abs=0.08)


class FakeDesign:
    def __init__(self, rows, columns=("coupling", "training_budget"), replicates=1):
        self.grid, self.fixed, self.series, self.replicates = {}, {}, False, replicates
        self.sample = {"method": "points", "columns": list(columns), "rows": rows}


def unmet(design) -> str | None:
    for requirement in analysis("robustness").requirements:
        problem = requirement.check(design)
        if problem is not None:
            return problem
    return None


def test_the_design_must_list_every_mix_in_every_future():
    assert unmet(FakeDesign([[0.1, 0], [0.1, 50], [0.9, 0], [0.9, 50]])) is None
    assert "lacks some of them" in unmet(FakeDesign([[0.1, 0], [0.1, 50], [0.9, 0],
                                                     [0.5, 0], [0.5, 50], [0.9, 10]]))
    assert "at least 2 futures" in unmet(FakeDesign([[0.1, 0], [0.1, 50]]))
    assert "coupling=0.9 has none" in unmet(FakeDesign([[0.1, 0], [0.1, 50], [0.9, 50]]))
