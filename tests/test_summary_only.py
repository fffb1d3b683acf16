"""Observation on demand: a model built with ``summary_only=True`` records every quarter
only what its summary reads, and the state of the clusters at the horizon; its summary is
the full model's, bit for bit (docs/ODD.md 7.19)."""

from collections.abc import Iterator
from typing import Any

import pytest

from sim import ClusterModel, observation
from sim.experiment.design import RunSpec
from sim.sweep.tasks import run_group, run_task


@pytest.mark.parametrize("inputs", [
    {"rng": 3, "scale": 0.05},
    # high capability and cooperation: the paired synergy runs the twin
    {"rng": 1, "scale": 0.1, "coupling": 1.0, "capability": 0.9},
    {"rng": 2, "scale": 0.1, "coupling": 0.8, "capability": 0.9, "cooperation_budget": 50.0,
     "brain_drain": True, "cooperation_start": 2020, "until_year": 2024},
])
def test_a_summary_only_run_has_the_full_runs_summary(inputs: dict[str, Any]) -> None:
    full = ClusterModel(**inputs)
    lean = ClusterModel(summary_only=True, **inputs)
    for model in (full, lean):
        model.run_model()
    assert lean.summary() == full.summary()
    assert lean.history[-1] == full.history[-1]  # the horizon recorded in full
    assert lean.totals == full.totals
    kept = {c for s in observation.summary_series() for c in s.columns}
    assert set(lean.history[0]) == {"quarter", *kept} < set(full.history[0])
    assert not lean.spin_up_history and full.spin_up_history


class _Guarded(dict):
    """A record that fails on any column not in ``allowed``."""

    def __init__(self, record: dict[str, Any], allowed: set[str]) -> None:
        super().__init__(record)
        self.allowed = allowed

    def __getitem__(self, key: str) -> Any:
        if key not in self.allowed:
            raise AssertionError(f"an annual series read {key!r}, not in its reads")
        return super().__getitem__(key)

    def __iter__(self) -> Iterator[str]:
        return iter(k for k in super().__iter__() if k in self.allowed)


def test_each_annual_series_reads_only_the_columns_it_declares() -> None:
    model = ClusterModel(rng=0, scale=0.05, until_year=2019)
    model.run_model()
    year = model.history[-4:]
    annual = [s for s in observation.SCHEMA if s.annual]
    assert annual and all(s.reads for s in annual)
    for series in annual:
        guarded = [_Guarded(record, set(series.reads)) for record in year]
        expected = series.measure(year)
        assert series.measure(guarded) == pytest.approx(expected, rel=0, abs=0)


def test_a_summary_only_model_says_what_it_cannot_give() -> None:
    model = ClusterModel(rng=0, scale=0.05, until_year=2019, summary_only=True)
    model.step()
    with pytest.raises(RuntimeError, match="summary at the horizon only"):
        model.summary()
    model.run_model()
    model.summary()  # at the horizon it can
    with pytest.raises(RuntimeError, match="records no quarterly series"):
        model.datacollector.get_model_vars_dataframe()


def test_a_sweep_run_without_series_is_recorded_summary_only_with_the_same_row() -> None:
    parameters = {"scale": 0.05, "until_year": 2019, "coupling": 0.5}
    spec = RunSpec("r", 0, 0, 11, parameters, series=False)
    with_series = RunSpec("r", 0, 0, 11, parameters, series=True)
    lean, full = run_task(spec), run_task(with_series)
    assert lean.series is None and full.series is not None
    assert lean.row == full.row
    assert run_group([spec])[0].row == full.row
