"""One spin-up for the runs that share it: ClusterModel.branch and the sweep's groups.

The claim is exactness: a run made from a copy of another run's 2018 state is the run a
fresh model would make, bit for bit, so sharing the spin-up is invisible in every result.
"""

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import ClusterModel
from sim.experiment.design import RunSpec
from sim.params import FROM_2018, ParameterError, Params
from sim.population import VENTURE, Population
from sim.sweep.tasks import run_group, run_task, spin_up_groups

SMALL = {"scale": 0.08, "capability": 0.4}


def _frame_and_summary(model: ClusterModel) -> tuple[pd.DataFrame, dict]:
    model.run_model()
    return model.datacollector.get_model_vars_dataframe(), model.summary()


def _assert_same_run(a: ClusterModel, b: ClusterModel) -> None:
    frame_a, summary_a = _frame_and_summary(a)
    frame_b, summary_b = _frame_and_summary(b)
    pd.testing.assert_frame_equal(frame_a, frame_b, check_exact=True)
    assert summary_a == summary_b
    assert [x.unique_id for x in a.agents] == [x.unique_id for x in b.agents]


after_2018 = st.fixed_dictionaries({
    "coupling": st.sampled_from([0.0, 0.15, 0.6, 1.0]),
    "until_year": st.integers(2018, 2021),
}, optional={
    "coupling_after": st.sampled_from([0.0, 0.9]),
    "switch_year": st.integers(2019, 2021),
    "capability_investment": st.sampled_from([0.0, 0.2]),
    "shared_vision": st.booleans(),
    "cooperation_programme": st.booleans(),
    "open_innovation": st.booleans(),
    "open_innovation_boost": st.sampled_from([1.5, 4.0]),
    "capability_threshold": st.sampled_from([0.1, 0.5]),
})


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), start=after_2018, other=after_2018)
def test_a_branch_is_the_fresh_run_bit_for_bit(seed: int, start: dict, other: dict) -> None:
    model = ClusterModel(rng=seed, **SMALL, **start)
    full = Params(**SMALL, **other).as_dict()
    _assert_same_run(model.branch(**full), ClusterModel(rng=seed, **SMALL, **other))
    # branching leaves the model it came from as it was
    _assert_same_run(model, ClusterModel(rng=seed, **SMALL, **start))


def test_branches_from_one_snapshot_are_each_their_fresh_run() -> None:
    model = ClusterModel(rng=21, **SMALL, until_year=2019)
    inputs = [{"coupling": 0.9}, {"coupling": 0.0, "open_innovation": True},
              {"coupling": 0.9}]
    copies = model.branches(inputs)
    first = next(copies)
    first.run_model()  # a copy that has run leaves the next ones at 2018Q1
    rest = list(copies)
    assert [m.quarter_number for m in rest] == [1, 1]
    assert rest[0] is not rest[1]
    for twin, change in zip([first, *rest], inputs, strict=True):
        _assert_same_run(twin, ClusterModel(rng=21, **SMALL, until_year=2019, **change))
    _assert_same_run(model, ClusterModel(rng=21, **SMALL, until_year=2019))


def test_branches_check_each_input_and_the_model_at_once() -> None:
    model = ClusterModel(rng=2, **SMALL, until_year=2018)
    copies = model.branches([{"coupling": 0.4}, {"capability": 0.9}])
    assert next(copies).params.coupling == 0.4
    with pytest.raises(ParameterError, match="cannot change capability"):
        next(copies)
    model.step()
    with pytest.raises(RuntimeError, match="start of 2018Q1"):
        model.branches([])  # refused when asked, before any copy is wanted


def test_a_branch_changes_only_what_it_is_given() -> None:
    model = ClusterModel(rng=4, **SMALL, coupling=0.3, open_innovation=True)
    twin = model.branch(coupling=0.8)
    assert twin.params == Params(**SMALL, coupling=0.8, open_innovation=True)
    assert twin.regime.coupling == 0.8 and model.regime.coupling == 0.3
    assert twin.branch(capability=0.4, scale=0.08).params == twin.params  # unchanged: fine


def test_the_spin_up_runs_without_the_2018_inputs() -> None:
    params = Params(coupling=0.9, open_innovation=True, until_year=2040,
                    capability_threshold=0.4, capability=0.7)
    spin_up = params.for_spin_up()
    defaults = Params()
    assert {name for name in FROM_2018 if getattr(spin_up, name) != getattr(defaults, name)
            } == set()
    assert spin_up.capability == 0.7  # the endowment shapes the spin-up
    assert {"coupling", "open_innovation", "until_year"} <= FROM_2018
    assert not {"capability", "scale", "spin_up_years", "search_rate"} & FROM_2018


@pytest.mark.parametrize("change, named", [({"capability": 0.9}, "capability"),
                                           ({"scale": 0.2, "coupling": 0.5}, "scale"),
                                           ({"spin_up_years": 2}, "spin_up_years")])
def test_a_branch_refuses_an_input_of_the_spin_up(change: dict, named: str) -> None:
    model = ClusterModel(rng=1, **SMALL)
    with pytest.raises(ParameterError, match=f"cannot change {named}: the spin-up depends"):
        model.branch(**change)


def test_a_branch_refuses_bad_values_and_names() -> None:
    model = ClusterModel(rng=1, **SMALL)
    with pytest.raises(ParameterError, match=r"coupling must be in \[0.0, 1.0\]"):
        model.branch(coupling=1.5)
    with pytest.raises(ParameterError, match="unknown parameter 'coupleing'"):
        model.branch(coupleing=0.5)


def test_a_branch_needs_a_model_at_2018q1() -> None:
    model = ClusterModel(rng=1, **SMALL, until_year=2018)
    model.step()
    with pytest.raises(RuntimeError, match="start of 2018Q1"):
        model.branch(coupling=0.5)


@pytest.mark.parametrize("duplicate", [copy.deepcopy,
                                       lambda p: pickle.loads(pickle.dumps(p))],
                         ids=["deepcopy", "pickle"])
def test_a_copied_population_stays_one_store(duplicate) -> None:
    population = Population(2)
    population.append(np.full((3, 2), 0.5), kind=VENTURE, cash=1.0)
    twin = duplicate(population)
    twin.alive[1] = False
    twin.cash += 2.0
    assert twin._buffers["alive"][1] == np.False_ and (twin._buffers["cash"][:3] == 3.0).all()
    assert population.alive.all() and (population.cash == 1.0).all()  # the original: untouched
    twin.append(np.full((70, 2), 0.5), kind=VENTURE)  # grows its buffers
    assert len(twin.alive) == len(twin) == 73 and not twin.alive[1]


def _spec(run_id: str, seed: int, series: bool = False, **parameters) -> RunSpec:
    return RunSpec(run_id, 0, 0, seed, {**SMALL, "until_year": 2019, **parameters}, series)


def test_spin_up_groups_gather_by_seed_and_spin_up_inputs() -> None:
    specs = [_spec("a", 1, coupling=0.1), _spec("b", 2, coupling=0.1),
             _spec("c", 1, coupling=0.7, open_innovation=True),
             _spec("d", 1, coupling=0.1, capability=0.9),
             _spec("e", 1, coupling=0.4, until_year=2020)]
    groups = spin_up_groups(specs)
    assert [[s.run_id for s in group] for group in groups] == [["a", "c", "e"], ["b"], ["d"]]
    capped = spin_up_groups(specs, most=2)
    assert [[s.run_id for s in group] for group in capped] == [["a", "c"], ["e"], ["b"], ["d"]]
    with pytest.raises(ValueError, match="most must be at least 1"):
        spin_up_groups(specs, most=0)


def test_a_group_gives_each_run_its_own_result() -> None:
    # the last run's inputs (here coupling_after, series) must not leak into the others
    specs = [_spec("a", 9, coupling=0.0), _spec("b", 9, True, coupling=0.6),
             _spec("c", 9, True, coupling=0.3, coupling_after=1.0, switch_year=2019,
                   cooperation_programme=True)]
    grouped = run_group(specs)
    assert [r.row["run_id"] for r in grouped] == ["a", "b", "c"]
    for result, spec in zip(grouped, specs, strict=True):
        alone = run_task(spec)
        assert result.row == alone.row
        if spec.series:
            pd.testing.assert_frame_equal(result.series, alone.series, check_exact=True)
        else:
            assert result.series is None and alone.series is None
    assert grouped[0].row["cooperation_index"] == 0.0 < grouped[2].row["cooperation_index"]
