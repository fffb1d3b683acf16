"""Experiments that carry the calibration's uncertainty: each replicate draws its constants
from a profile's posterior sample, shared by every point it is compared over."""

from pathlib import Path

import pandas as pd
import pytest

import sim.profile
from sim.experiment.design import ExperimentError, parse


def _posterior(folder: Path, rows: list[tuple[float, float, float]]) -> None:
    lines = ["entry_rate,startup_cash,weight"] + [f"{a},{b},{w}" for a, b, w in rows]
    (folder / "probe.posterior.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "probe.toml").write_text('[profile]\nname = "probe"\n\n[parameters]\n'
                                       'entry_rate = 0.02\n', encoding="utf-8")


@pytest.fixture
def profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(sim.profile, "PROFILES", tmp_path)
    return tmp_path


def _experiment(**head: object) -> dict:
    return {"experiment": {"name": "probe", "master_seed": 5, "replicates": 6,
                           "posterior": "probe", **head},
            "fixed": {"scale": 0.1}, "grid": {"coupling": [0.0, 0.5, 1.0]}}


def test_each_replicate_draws_once_and_every_point_shares_the_draw(profiles: Path):
    _posterior(profiles, [(0.01, 2.0, 1.0), (0.03, 4.0, 1.0), (0.05, 6.0, 1.0)])
    runs = parse(_experiment()).runs()
    by_replicate: dict[int, set] = {}
    for run in runs:
        drawn = (run.parameters["entry_rate"], run.parameters["startup_cash"])
        by_replicate.setdefault(run.replicate, set()).add(drawn)
        assert run.parameters["scale"] == 0.1
    assert all(len(draws) == 1 for draws in by_replicate.values())  # common to the points
    # six draws from three equally weighted particles: more than one particle is drawn
    assert len(set().union(*by_replicate.values())) > 1
    again = parse(_experiment()).runs()
    assert [r.parameters for r in again] == [r.parameters for r in runs]
    assert [r.run_id for r in again] == [r.run_id for r in runs]
    assert len({r.run_id for r in runs}) == len(runs)


def test_weights_decide_which_particles_are_drawn(profiles: Path):
    _posterior(profiles, [(0.01, 2.0, 0.0), (0.03, 4.0, 1.0), (0.05, 6.0, 0.0)])
    runs = parse(_experiment(replicates=20)).runs()
    assert {r.parameters["entry_rate"] for r in runs} == {0.03}


def test_what_the_design_fixes_or_varies_wins_over_the_draw(profiles: Path):
    _posterior(profiles, [(0.01, 2.0, 1.0), (0.03, 4.0, 1.0)])
    document = _experiment()
    document["fixed"]["startup_cash"] = 9.0
    document["grid"]["entry_rate"] = [0.0, 0.06]
    runs = parse(document).runs()
    assert {r.parameters["startup_cash"] for r in runs} == {9.0}
    assert {r.parameters["entry_rate"] for r in runs} == {0.0, 0.06}


def test_the_posterior_file_is_part_of_the_experiments_identity(profiles: Path):
    _posterior(profiles, [(0.01, 2.0, 1.0), (0.03, 4.0, 1.0)])
    before = parse(_experiment()).fingerprint
    without = parse({**_experiment(), "experiment": {
        k: v for k, v in _experiment()["experiment"].items() if k != "posterior"}})
    _posterior(profiles, [(0.01, 2.0, 1.0), (0.04, 4.0, 1.0)])
    after = parse(_experiment()).fingerprint
    assert len({before, after, without.fingerprint}) == 3
    assert all(run.parameters.keys() == {"scale", "coupling"} for run in without.runs())


@pytest.mark.parametrize(("rows", "message"), [
    ([(0.01, 2.0, -1.0)], "weights must be finite"),
    ([(0.01, 2.0, 0.0)], "weights must be finite"),
    ([(2.0, 2.0, 1.0)], "entry_rate must be in"),
])
def test_a_bad_posterior_sample_is_one_line(profiles: Path, rows, message):
    _posterior(profiles, rows)
    with pytest.raises(ExperimentError, match=message) as caught:
        parse(_experiment())
    assert "\n" not in str(caught.value)


def test_a_profile_without_a_posterior_sample_is_refused(profiles: Path):
    with pytest.raises(ExperimentError, match="no posterior sample for profile 'probe'"):
        parse(_experiment())


def test_constants_drawn_per_replicate_are_not_design_inputs() -> None:
    """A posterior draw is the same at every point of a replicate: it varies between
    replicates only, so analyses that name points or states by the inputs the design
    varies leave it out, and keep a design input that also varies between replicates."""
    from sim.analyses.critical_mass import state_labels
    from sim.analyses.tables import design_inputs

    runs = pd.DataFrame({
        "replicate": [0, 0, 1, 1, 2, 2],
        "seed": [5, 5, 6, 6, 7, 7],
        "ventures_pangyo_factor": [0.5, 2.0] * 3,          # the design's input
        "entry_rate": [0.001, 0.001, 0.004, 0.004, 0.002, 0.002],  # drawn per replicate
        "success_scale": [1.0, 1.2, 1.1, 1.3, 0.9, 1.4],    # design input, also per replicate
        "scale": 0.5,
    })
    assert design_inputs(runs, ["ventures_pangyo_factor", "entry_rate", "success_scale",
                                "scale"]) == ["ventures_pangyo_factor", "success_scale"]
    labels = state_labels(runs.drop(columns="success_scale"))
    assert labels.tolist() == ["ventures_pangyo_factor=0.5", "ventures_pangyo_factor=2"] * 3
    # without a replicate column every varying column counts, as before
    assert design_inputs(runs.drop(columns="replicate"), ["entry_rate"]) == ["entry_rate"]
