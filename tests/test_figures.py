"""Figures of stored results (sim.figures): files, table contents, determinism, errors.

Small in-process sweeps (scale 0.05, to 2020) build one results directory per analysis
once for the module; hand-made runs tables check the numbers against known answers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from sim import figures
from sim.params import Params
from sim.scenarios import SCENARIOS, STAGNATION, classify
from sim.sweep import InProcessExecutor, load, read_results, run_sweep

_HEAD = """[experiment]
name = "{name}"
analysis = "{analysis}"
master_seed = 7
replicates = {replicates}
series = {series}

[fixed]
scale = 0.05
until_year = 2020

[grid]
"""
_DESIGNS = {
    "phase": ("phase_diagram", 2, "false", "coupling = [0.0, 0.5]\ncapability = [0.2, 0.8]\n"),
    "response": ("coupling_response", 3, "false",
                 "coupling = [0.0, 0.5, 1.0]\ncapability = [0.2, 0.8]\n"),
    "trajectories": ("trajectories", 2, "true",
                     "coupling = [0.0, 0.6]\ncapability = [0.1, 0.9]\n"),
}
_FIGURES = {"phase": ("phase_diagram", "threshold_sensitivity"),
            "response": ("coupling_response",), "trajectories": ("trajectories",)}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, Path]:
    """One small results directory per analysis."""
    root = tmp_path_factory.mktemp("results")
    directories = {}
    for key, (analysis, replicates, series, grid) in _DESIGNS.items():
        toml = root / f"{key}.toml"
        toml.write_text(_HEAD.format(name=key, analysis=analysis, replicates=replicates,
                                     series=series) + grid)
        directories[key] = root / key
        run_sweep(load(toml), directories[key], InProcessExecutor(), progress=False)
    return directories


@pytest.fixture(scope="module")
def drawn(results, tmp_path_factory) -> dict[str, tuple[Path, list[Path]]]:
    """The figures of each results directory: output folder and paths returned."""
    root = tmp_path_factory.mktemp("figures")
    return {key: (root / key, figures.draw(directory, root / key))
            for key, directory in results.items()}


def _csv(drawn, key: str, name: str) -> pd.DataFrame:
    return pd.read_csv(drawn[key][0] / f"{name}.csv")


# --- files --------------------------------------------------------------------------------
@pytest.mark.parametrize("key", list(_FIGURES))
def test_every_figure_is_written_as_png_svg_csv(drawn, key):
    out, paths = drawn[key]
    expected = [out / f"{name}.{ext}" for name in _FIGURES[key] for ext in ("png", "svg", "csv")]
    assert paths == expected
    for path in expected:
        assert path.is_file() and path.stat().st_size > 0, path
    assert expected[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in expected[1].read_bytes()[:2000]


def test_drawing_twice_gives_identical_csv_and_svg(results, drawn, tmp_path):
    for key, directory in results.items():
        again = figures.draw(directory, tmp_path / key)
        for first, second in zip(drawn[key][1], again, strict=True):
            if first.suffix in (".csv", ".svg"):
                assert first.read_bytes() == second.read_bytes(), first.name


# --- phase diagram and thresholds -------------------------------------------------------
def test_phase_diagram_table_has_one_row_per_cell(drawn, results):
    table = _csv(drawn, "phase", "phase_diagram")
    runs = pd.read_parquet(results["phase"] / "runs.parquet")
    assert list(table.columns) == (
        ["coupling", "capability", "n"]
        + [f"share_{s.lower().replace(' ', '_')}" for s in SCENARIOS]
        + ["majority", "certainty", "mean_capability_index", "mean_cooperation_index",
           "mean_distinctiveness"])
    cells = runs[["coupling", "capability"]].drop_duplicates()
    assert len(table) == len(cells) == 4
    assert not table.duplicated(["coupling", "capability"]).any()
    assert table["n"].sum() == len(runs)
    shares = table[[c for c in table.columns if c.startswith("share_")]]
    assert (shares.sum(axis=1) - 1.0).abs().max() < 1e-9
    for row, share in zip(table.itertuples(), shares.itertuples(index=False), strict=True):
        majority_share = getattr(row, f"share_{row.majority.lower().replace(' ', '_')}")
        assert majority_share == max(share) == row.certainty


def test_threshold_table_covers_three_thresholds_three_factors_every_cell(drawn):
    table = _csv(drawn, "phase", "threshold_sensitivity")
    cells = _csv(drawn, "phase", "phase_diagram")
    assert len(table) == 3 * 3 * len(cells)
    assert sorted(table["threshold"].unique()) == sorted(figures.THRESHOLDS)
    assert sorted(table["factor"].unique()) == [0.75, 1.0, 1.25]
    assert not table.loc[table["factor"] == 1.0, "changed"].any()
    # the baseline reproduces the stored scenarios' majority
    base = table[(table["threshold"] == "capability_threshold") & (table["factor"] == 1.0)]
    assert list(base["majority"]) == list(cells["majority"])


# --- coupling response ----------------------------------------------------------------------
def test_coupling_response_table(drawn):
    table = _csv(drawn, "response", "coupling_response")
    assert len(table) == 2 * 3 and (table["n"] == 3).all()
    assert (table.loc[table["coupling"] == 0.0, "synergy_mean"] == 0.0).all()
    for measure in ("synergy", "cooperation_index", "distinctiveness"):
        assert (table[f"{measure}_low"] <= table[f"{measure}_mean"]).all()
        assert (table[f"{measure}_mean"] <= table[f"{measure}_high"]).all()


def test_coupling_response_needs_coupling_zero(tmp_path):
    runs = _hand_runs([(c, 0.5, r, 100) for c in (0.5, 1.0) for r in (0, 1)])
    _write(tmp_path / "res", "coupling_response", runs)
    with pytest.raises(ValueError, match="coupling 0"):
        figures.draw(tmp_path / "res", tmp_path / "out")


# --- trajectories ----------------------------------------------------------------------------
def test_trajectories_show_one_run_per_scenario_reached(drawn, results):
    table = _csv(drawn, "trajectories", "trajectories")
    runs = pd.read_parquet(results["trajectories"] / "runs.parquet")
    assert list(table.columns[:5]) == ["run_id", "scenario", "coupling", "capability",
                                       "quarter"]
    per_scenario = table.groupby("scenario")["run_id"].nunique()
    assert set(per_scenario.index) == set(runs["scenario"])
    assert (per_scenario == 1).all()
    assert table.groupby("run_id")["quarter"].apply(list).map(
        lambda q: q[0] == "2018Q1" and q[-1] == "2020Q4" and len(q) == 12).all()
    for row in table.drop_duplicates("run_id").itertuples():
        assert runs.set_index("run_id").loc[row.run_id, "scenario"] == row.scenario


def test_trajectories_need_series(tmp_path):
    _write(tmp_path / "res", "trajectories", _hand_runs([(0.0, 0.5, 0, 100)]))
    with pytest.raises(ValueError, match="series = true"):
        figures.draw(tmp_path / "res", tmp_path / "out")


def test_representative_run_is_nearest_the_median_ties_to_smallest_id():
    runs = pd.DataFrame({
        "run_id": ["b", "a", "c", "d", "e"],
        "scenario": [STAGNATION] * 5,
        "capability_index": [0.10, 0.10, 0.05, 0.15, 0.20],
        "cooperation_index": [0.02, 0.02, 0.00, 0.04, 0.09],
    })
    chosen = figures.representative_runs(runs)
    assert list(chosen["run_id"]) == ["a"]  # a and b sit on the median; a < b


# --- hand-made results: known answers ---------------------------------------------------------
def test_known_majority_certainty_and_threshold_changes(tmp_path):
    """Also: a grid with a single capability value still draws."""
    cells = [
        # (coupling, capability, capability_index, cooperation_index)
        (0.0, 0.2, 0.10, 0.00), (0.0, 0.2, 0.12, 0.05), (0.0, 0.2, 0.12, 0.20),
        (0.5, 0.2, 0.30, 0.20), (0.5, 0.2, 0.10, 0.20),  # tie: first in SCENARIOS order
        (1.0, 0.2, 0.17, 0.30), (1.0, 0.2, 0.17, 0.30),  # 0.17: high only at -25 %
    ]
    runs = _hand_runs([(c, k, r, 100) for r, (c, k, _, _) in enumerate(cells)])
    runs["capability_index"] = [c[2] for c in cells]
    runs["cooperation_index"] = [c[3] for c in cells]
    runs["capability_threshold"] = 0.2  # the stored threshold is the one used
    runs["scenario"] = [classify(a, b, capability_threshold=0.2, cooperation_threshold=0.1)
                        for a, b in zip(runs["capability_index"], runs["cooperation_index"],
                                        strict=True)]
    _write(tmp_path / "res", "phase_diagram", runs)
    paths = figures.draw(tmp_path / "res", tmp_path / "out")
    assert [p.name for p in paths] == [f"{n}.{e}" for n in ("phase_diagram",
                                                           "threshold_sensitivity")
                                       for e in ("png", "svg", "csv")]
    assert all(p.stat().st_size > 0 for p in paths)
    table = pd.read_csv(tmp_path / "out" / "phase_diagram.csv").set_index(
        ["coupling", "capability"])
    stagnant = table.loc[(0.0, 0.2)]
    assert stagnant["n"] == 3 and stagnant["majority"] == STAGNATION
    assert stagnant["certainty"] == pytest.approx(2 / 3)
    assert stagnant["share_stagnation"] == pytest.approx(2 / 3)
    assert stagnant["share_hollow_networking"] == pytest.approx(1 / 3)
    assert stagnant["mean_capability_index"] == pytest.approx(0.34 / 3)
    tie = table.loc[(0.5, 0.2)]
    assert tie["majority"] == SCENARIOS[0] and tie["certainty"] == 0.5
    assert len(table) == 3

    moved = pd.read_csv(tmp_path / "out" / "threshold_sensitivity.csv")
    capability = moved[(moved["threshold"] == "capability_threshold")
                       & (moved["coupling"] == 1.0)]
    by_factor = capability.set_index("factor")
    assert by_factor.loc[1.0, "majority"] == "Hollow networking"
    assert by_factor.loc[0.75, "majority"] == "Loosely coupled synergy"
    assert bool(by_factor.loc[0.75, "changed"]) and not by_factor.loc[1.25, "changed"]
    assert by_factor.loc[0.75, "threshold_value"] == pytest.approx(0.15)
    distinct = moved[moved["threshold"] == "distinctiveness_threshold"]
    assert set(distinct["classification"]) == {"coupling type"}


def test_known_synergy_and_t_interval(tmp_path):
    runs = _hand_runs([(0.0, 0.8, 0, 100), (0.0, 0.8, 1, 200),
                       (0.5, 0.8, 0, 120), (0.5, 0.8, 1, 260),
                       (0.0, 0.2, 0, 50), (0.5, 0.2, 0, 40)])  # one replicate: no band
    _write(tmp_path / "res", "coupling_response", runs)
    stored = read_results(tmp_path / "res")[1]
    table = figures.coupling_response_table(stored).set_index(["capability", "coupling"])
    high = table.loc[(0.8, 0.5)]
    half = stats.t.ppf(0.975, 1) * pd.Series([0.2, 0.3]).std() / math.sqrt(2)
    assert high["n"] == 2 and high["synergy_mean"] == pytest.approx(0.25)
    assert high["synergy_low"] == pytest.approx(0.25 - half)
    assert high["synergy_high"] == pytest.approx(0.25 + half)
    low = table.loc[(0.2, 0.5)]
    assert low["synergy_mean"] == low["synergy_low"] == low["synergy_high"] == -0.2
    assert table.loc[(0.8, 0.0), "synergy_mean"] == 0.0


def test_thresholds_default_to_params_when_not_stored():
    runs = _hand_runs([(0.0, 0.5, 0, 100)]).drop(columns="capability_threshold")
    default = Params().capability_threshold
    if default is None:  # derived by the model at run time: cannot be recovered here
        with pytest.raises(ValueError, match="capability_threshold"):
            figures.threshold_table(runs)
    else:
        table = figures.threshold_table(runs)
        base = table[(table["threshold"] == "capability_threshold") & (table["factor"] == 1)]
        assert base["threshold_value"].iloc[0] == pytest.approx(default)
    cooperation = figures.threshold_table(_hand_runs([(0.0, 0.5, 0, 100)]))
    cooperation = cooperation[(cooperation["threshold"] == "cooperation_threshold")
                              & (cooperation["factor"] == 1.25)]
    assert cooperation["threshold_value"].iloc[0] == pytest.approx(
        1.25 * Params().cooperation_threshold)


def test_analysis_none_draws_nothing(tmp_path):
    _write(tmp_path / "res", "none", _hand_runs([(0.0, 0.5, 0, 100)]))
    assert figures.draw(tmp_path / "res", tmp_path / "out") == []
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# --- helpers -----------------------------------------------------------------------------------
def _hand_runs(rows: list[tuple[float, float, int, int]]) -> pd.DataFrame:
    """A runs table in the stored layout: (coupling, capability, replicate,
    innovations_total) per run; indices put every run in Stagnation unless changed."""
    frame = pd.DataFrame(rows, columns=["coupling", "capability", "replicate",
                                        "innovations_total"])
    frame.insert(0, "run_id", [f"run{i:03d}" for i in range(len(frame))])
    frame.insert(1, "point", frame.groupby(["coupling", "capability"]).ngroup())
    frame.insert(3, "seed", 1000 + frame["replicate"])
    frame["scale"] = 0.05
    frame["until_year"] = 2020
    frame["scenario"] = STAGNATION
    frame["coupling_type"] = "decoupled"
    frame["capability_index"] = 0.1
    frame["cooperation_index"] = 0.0
    frame["distinctiveness"] = 0.9
    frame["innovations_inter"] = 0
    frame["capability_threshold"] = 0.22  # the model stores the threshold in force
    return frame


def _write(directory: Path, analysis: str, runs: pd.DataFrame) -> None:
    """A results directory as sim.sweep.storage writes it (manifest and runs table)."""
    directory.mkdir(parents=True)
    manifest = {"experiment": {"name": "hand-made", "fingerprint": "0" * 64,
                               "analysis": analysis, "file": "experiment.toml"},
                "status": "complete", "runs_total": len(runs), "runs_stored": len(runs)}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    runs.to_parquet(directory / "runs.parquet", index=False)
