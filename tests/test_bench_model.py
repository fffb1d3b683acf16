"""The model benchmark's statistics: the interval for the median pair ratio and the
verdict it gives (the timings themselves are a benchmark, never a test)."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import math
import re
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_model.py"
_SPEC = importlib.util.spec_from_file_location("bench_model", _PATH)
bench_model = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = bench_model  # dataclasses look their module up there
_SPEC.loader.exec_module(bench_model)


def test_fifteen_pairs_give_the_fourth_and_twelfth_values() -> None:
    # P(B <= 3) for B ~ binomial(15, 1/2) is (1 + 15 + 105 + 455) / 2**15 = 576 / 32768,
    # so [x_(4), x_(12)] covers the median with chance 1 - 2 x 576 / 32768 = 0.96484;
    # one rank further in, [x_(5), x_(11)], would cover only 1 - 2 x 1941 / 32768 = 0.88
    values = [float(v) for v in (9, 3, 14, 1, 7, 12, 5, 15, 2, 11, 8, 4, 13, 6, 10)]
    interval, coverage = bench_model.median_interval(values, 0.95)
    assert interval == (4.0, 12.0)
    assert coverage == pytest.approx(1 - 2 * 576 / 32768, abs=1e-12)


@pytest.mark.parametrize("n", [6, 9, 20, 41])
def test_the_interval_is_the_narrowest_with_enough_coverage(n: int) -> None:
    values = [float(v) for v in range(n)]
    (low, high), coverage = bench_model.median_interval(values, 0.95)
    k = int(low) + 1  # the values are 0..n-1, so x_(k) = k - 1
    assert high == n - k
    below = sum(math.comb(n, r) for r in range(k)) / 2**n
    assert coverage == pytest.approx(1 - 2 * below, abs=1e-12)
    assert coverage >= 0.95
    one_rank_in = 1 - 2 * (below + math.comb(n, k) / 2**n)
    assert one_rank_in < 0.95


def test_five_pairs_are_too_few_for_a_95_percent_interval() -> None:
    # even the full range [x_(1), x_(5)] covers only 1 - 2 / 32 = 0.9375
    assert bench_model.median_interval([0.3, 0.2, 0.4, 0.1, 0.5], 0.95) == (None, None)


def _ratio(pairs: list[float]) -> object:
    interval, coverage = bench_model.median_interval(pairs, 0.95)
    return bench_model.Ratio(pairs, interval, coverage)


def test_the_verdict_follows_where_the_interval_lies() -> None:
    below = [0.20 + 0.005 * k for k in range(15)]  # 0.200 .. 0.270
    assert _ratio(below).verdict(0.3) == "met"
    above = [0.31 + 0.005 * k for k in range(15)]
    assert _ratio(above).verdict(0.3) == "NOT met"
    # median 0.29 <= 0.3, but the interval [0.275, 0.315] holds the goal
    straddling = [0.26 + 0.005 * k for k in range(15)]
    assert _ratio(straddling).verdict(0.3).startswith("not settled")


def test_pair_ratios_pair_the_same_seed() -> None:
    cluster = bench_model.Timing([1.0, 2.0], [100, 100], [100.0, 100.0], 10)
    boltzmann = bench_model.Timing([4.0, 4.0], [100, 100], [100.0, 100.0], 10)
    assert bench_model.Ratio.of(cluster, boltzmann).pairs == pytest.approx([0.25, 0.5])


def _rules_called_by_step() -> set[tuple[str, str]]:
    """(class, attribute) of every rule ClusterModel.step calls by name; ``self.x`` is
    ClusterModel's, and the agencies are stepped through ``map("step")``."""
    from sim.model import ClusterModel

    owners = set(bench_model.stage_owners())
    tree = ast.parse(textwrap.dedent(inspect.getsource(ClusterModel.step)))
    called = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        receiver = node.func.value
        if isinstance(receiver, ast.Name) and receiver.id == "self":
            called.add(("ClusterModel", node.func.attr))
        elif isinstance(receiver, ast.Name) and receiver.id in owners:
            called.add((receiver.id, node.func.attr))
        elif node.func.attr == "map" and isinstance(node.args[0], ast.Constant):
            called.add(("SupportAgency", node.args[0].value))
    return called


def test_the_stage_clock_times_every_stage_of_the_step() -> None:
    declared = {(owner, attribute) for _, owner, attribute in bench_model.STAGES}
    assert _rules_called_by_step() == declared


def test_the_clocked_run_is_the_same_run_and_the_rules_are_put_back() -> None:
    from sim.model import ClusterModel

    def run() -> list[dict]:
        model = ClusterModel(rng=5, scale=0.1, until_year=2019)
        model.run_model()
        return model.history

    owners = bench_model.stage_owners()
    before = {(o, a): owners[o].__dict__[a] for _, o, a in bench_model.STAGES}
    seconds: dict[str, float] = defaultdict(float)
    with bench_model.stage_clock(seconds):
        clocked = run()
    assert clocked == run()
    assert {label for label, _, _ in bench_model.STAGES} == set(seconds)
    assert all(value > 0.0 for value in seconds.values())
    assert {(o, a): owners[o].__dict__[a] for o, a in before} == before


def test_the_stages_carry_the_odd_names_in_the_odd_order() -> None:
    odd = (Path(__file__).resolve().parents[1] / "docs" / "ODD.md").read_text("utf-8")
    overview = odd.split("## 3.", 1)[1].split("\n## ", 1)[0]
    names = re.findall(r"^\d+\. \*\*([^*]+?)\.?\*\*", overview, flags=re.MULTILINE)
    assert len(names) >= 18, names  # the parse found the schedule
    stages = [label.split(":")[0] for label, _, _ in bench_model.STAGES]
    assert set(stages) <= set(names)
    ranks = [names.index(stage) for stage in stages]
    assert ranks == sorted(ranks)


def test_the_fixed_cost_is_the_intercept_of_the_least_squares_line() -> None:
    # y = 2 + 0.5 x exactly, then a point off the line: hand-computed fit
    assert bench_model.least_squares_line([(0, 2), (2, 3), (4, 4)]) == (2.0, 0.5)
    intercept, slope = bench_model.least_squares_line([(0, 0), (1, 1), (2, 1)])
    assert math.isclose(slope, 0.5) and math.isclose(intercept, 1 / 6)
    with pytest.raises(ValueError, match="two distinct"):
        bench_model.least_squares_line([(1, 1), (1, 2)])


def test_the_small_runs_are_the_model_runs_at_their_scales() -> None:
    fixed = bench_model.measure_fixed_cost(range(1))
    scales = [scale for scale, _, _ in fixed.points]
    agents = [count for _, count, _ in fixed.points]
    assert scales == list(bench_model.FIXED_COST_SCALES)
    assert agents == sorted(agents) and agents[0] > 0  # more agents at a larger scale
    assert all(seconds > 0 for _, _, seconds in fixed.points)
    assert fixed.at_scale(0.1) == fixed.points[1][2]
