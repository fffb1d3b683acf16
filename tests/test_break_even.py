"""The break-even map of coupling (sim.analyses.coupling_break_even): paired synergy per
cell with hand-computed intervals and signs, the figure, and what its design needs."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import analyses
from sim.analyses.catalogue import table
from sim.analyses.coupling_break_even import break_even_table, sign


def _runs(innovations: dict[tuple[bool, float, float, float, int], int]) -> pd.DataFrame:
    """A runs table: (rule, coupling, slots, cross cost, replicate) -> innovations."""
    rows = [{"attention_by_value": rule, "coupling": coupling, "attention_venture": slots,
             "cross_attention_cost": cost, "replicate": replicate, "seed": 100 + replicate,
             "capability": 0.8, "innovations_total": total}
            for (rule, coupling, slots, cost, replicate), total in innovations.items()]
    return pd.DataFrame(rows)


def test_sign_is_settled_only_by_an_interval_that_excludes_zero():
    assert sign(0.01, 0.2) == "positive"
    assert sign(-0.3, -0.01) == "negative"
    assert sign(-0.1, 0.1) == sign(0.0, 0.2) == sign(0.0, 0.0) == "unsettled"


def test_hand_computed_cells_pair_each_run_with_its_own_coupling_zero_twin():
    innovations = {}
    for rule, slots, cost in itertools.product((False, True), (2.0, 4.0), (1.0, 2.0)):
        for replicate, base in enumerate((100, 200, 400)):
            innovations[rule, 0.0, slots, cost, replicate] = base
            # at coupling 1: -18 %, -20 %, -22 % for two slots and cost 2 under the fixed
            # order; +10 %, +5 %, +0 % everywhere else
            if not rule and slots == 2.0 and cost == 2.0:
                innovations[rule, 1.0, slots, cost, replicate] = (
                    base * (82 - 2 * replicate) // 100)
            else:
                innovations[rule, 1.0, slots, cost, replicate] = base * (22 - replicate) // 20
    result = break_even_table(_runs(innovations)).set_index(
        ["attention_by_value", "coupling", "attention_venture", "cross_attention_cost"])
    assert len(result) == 16 and (result["n"] == 3).all()
    half = stats.t.ppf(0.975, 2) * pd.Series([-0.18, -0.2, -0.22]).std() / math.sqrt(3)
    worst = result.loc[(False, 1.0, 2.0, 2.0)]
    assert worst["synergy_mean"] == pytest.approx(-0.2)
    assert worst["synergy_low"] == pytest.approx(-0.2 - half)
    assert worst["synergy_high"] == pytest.approx(-0.2 + half)
    assert worst["sign"] == "negative"
    other = result.loc[(True, 1.0, 2.0, 2.0)]
    half = stats.t.ppf(0.975, 2) * pd.Series([0.1, 0.05, 0.0]).std() / math.sqrt(3)
    assert other["synergy_mean"] == pytest.approx(0.05)
    assert other["synergy_low"] == pytest.approx(0.05 - half)
    assert other["sign"] == "unsettled"  # 0.05 - 0.124 < 0
    twins = result.xs(0.0, level="coupling")
    assert (twins["synergy_mean"] == 0).all() and (twins["sign"] == "unsettled").all()


def test_a_table_whose_sign_contradicts_its_interval_is_refused():
    table_of = table("coupling_break_even")
    frame = pd.DataFrame([{"attention_by_value": False, "coupling": 1.0,
                           "attention_venture": 3.0, "cross_attention_cost": 1.5, "n": 4,
                           "synergy_mean": -0.1, "synergy_low": -0.2, "synergy_high": -0.05,
                           "sign": "unsettled"}])
    with pytest.raises(ValueError, match="says 'unsettled' for an interval"):
        table_of.check("coupling_break_even", frame)
    table_of.check("coupling_break_even", frame.assign(sign="negative"))


def test_the_figure_is_drawn_from_its_table(tmp_path):
    innovations = {(rule, coupling, slots, cost, replicate): 100 + 10 * replicate + (
                   int(20 * coupling * (slots - 3) / cost))
                   for rule, coupling, slots, cost, replicate in itertools.product(
                       (False, True), (0.0, 0.5, 1.0), (2.0, 3.0, 4.0), (1.0, 1.5), range(2))}
    frame = break_even_table(_runs(innovations))
    figure = analyses.figure_from_table("coupling_break_even", frame)
    # one panel per rule and coupling above 0, and the colour bar
    assert len(figure.axes) == 2 * 2 + 1
    titles = [axis.get_title() for axis in figure.axes[:4]]
    assert titles[0] == "coupling 0.5; fixed order (ties, brokered, searched)"
    assert titles[3] == "coupling 1; attention allocated by value"
    # the zero contour is drawn where the mean changes sign
    assert any(collection.__class__.__name__ in ("QuadContourSet", "ContourSet")
               or hasattr(collection, "get_paths") for collection in figure.axes[0].collections)


def test_the_posterior_weighs_the_map_by_the_cell_its_particles_fall_in():
    from sim.analyses.coupling_break_even import posterior_mass_table
    from sim.profile import Posterior

    rows = []
    for slots, cost, low, high in ((2.0, 1.0, 0.1, 0.3), (2.0, 2.0, -0.3, -0.1),
                                   (4.0, 1.0, -0.1, 0.1), (4.0, 2.0, -0.5, -0.2)):
        rows.append({"attention_by_value": True, "coupling": 1.0, "attention_venture": slots,
                     "cross_attention_cost": cost, "n": 4, "synergy_mean": (low + high) / 2,
                     "synergy_low": low, "synergy_high": high,
                     "sign": "positive" if low > 0 else "negative" if high < 0 else "unsettled"})
    table = pd.DataFrame(rows)
    # particles near (2, 1): positive; near (4, 1): unsettled; near (4, 2): negative
    particles = np.array([[2.4, 1.2], [3.6, 1.4], [4.9, 1.9], [3.1, 1.6]])
    posterior = Posterior("probe", ("attention_venture", "cross_attention_cost"),
                          particles, np.array([0.4, 0.3, 0.2, 0.1]), "0")
    weighed = posterior_mass_table(table, posterior).iloc[0]
    assert weighed["mass_positive"] == pytest.approx(0.4)
    assert weighed["mass_unsettled"] == pytest.approx(0.3)
    assert weighed["mass_negative"] == pytest.approx(0.3)  # (4.9, 1.9) and (3.1, 1.6)
    assert weighed["n_runs"] == 16
    assert weighed["attention_venture_median"] == pytest.approx(3.1)  # cumulative 0.4, 0.5
    # a posterior without the constants says nothing about where on the map we are
    unfitted = posterior_mass_table(table, Posterior("probe", ("entry_rate",),
                                                     particles[:, :1], np.ones(4) / 4, "0"))
    assert len(unfitted) == 1 and unfitted["n_runs"].iloc[0] == 16
    assert unfitted.filter(like="mass_").isna().all().all()
    assert unfitted.filter(like="_median").isna().all().all()
