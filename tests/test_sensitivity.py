"""The sensitivity analysis: SALib's Morris and Sobol indices of every output, from the
means over each point's replicates, beside the share of variance that is noise.

* On analytic functions it recovers known indices: the Ishigami function's Sobol'
  indices (S1 0.314, 0.442, 0; ST 0.558, 0.442, 0.244; S13 0.244) at the points of a
  Sobol design, the same through a points design of those points; and a Morris
  screening finds an inert parameter inert.
* The stochastic share is the mean variance across replicates over the total variance.
* Synergy is left out where runs have no paired run at coupling 0; scenario indicators
  follow the runs' emergent scenarios.
* ``python -m sim figures`` draws it; the table is deterministic (the same runs give the
  same bytes) and redraws from its CSV.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import invoke

from sim.analyses import catalogue, figure_from_table, read_table
from sim.analyses.labels import known_thresholds, scenarios, snake
from sim.analyses.sensitivity import (
    INDICES,
    indices_table,
    run_outputs,
    sensitivity_table,
)
from sim.scenarios import SCENARIOS
from sim.sweep import InProcessExecutor, load, run_sweep

TINY = "scale = 0.05\nspin_up_years = 1\nuntil_year = 2018\n"
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)
ISHIGAMI_S13 = 0.2437
NAMES = ["coupling", "capability", "tie_decay"]  # three inputs in [0, 1] mapped to [-pi, pi]


def ishigami(unit: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """The Ishigami function of three inputs in [0, 1], each mapped to [-pi, pi] (an
    affine map of each input leaves Sobol' indices as they are)."""
    x = -math.pi + 2 * math.pi * unit
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def experiment_file(folder: Path, design: str, *, name: str = "sens",
                    replicates: int = 1, analysis: str = "sensitivity") -> Path:
    path = folder / f"{name}.toml"
    path.write_text(f'[experiment]\nname = "{name}"\nanalysis = "{analysis}"\n'
                    f"master_seed = 8\nreplicates = {replicates}\n\n[fixed]\n{TINY}\n"
                    f"{design}", encoding="utf-8")
    return path


def stand_in_runs(experiment, model) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A runs table of the experiment's runs (keys and parameters) and the stand-in
    model's output for each run, instead of the cluster model."""
    specs = experiment.runs()
    runs = pd.DataFrame([{"run_id": s.run_id, "point": s.point, "replicate": s.replicate,
                          "seed": s.seed, **s.parameters} for s in specs])
    return runs, pd.DataFrame({"y": model(runs, specs)})


def by_measure(table: pd.DataFrame, measure: str) -> pd.Series:
    part = table[(table["measure"] == measure) & (table["partner"] == "-")]
    return part.set_index("parameter")["value"]


# --- known indices -----------------------------------------------------------------------------
SOBOL_ISHIGAMI = ('[sample]\nmethod = "sobol"\nn = 1024\nsecond_order = true\n'
                  "[sample.ranges]\ncoupling = [0.0, 1.0]\ncapability = [0.0, 1.0]\n"
                  "tie_decay = [0.0, 1.0]\n")


def check_ishigami(table: pd.DataFrame) -> None:
    s1, st = by_measure(table, "S1"), by_measure(table, "ST")
    for name, first, total in zip(NAMES, ISHIGAMI_S1, ISHIGAMI_ST, strict=True):
        assert abs(s1[name] - first) < 0.05, (name, s1[name], first)
        assert abs(st[name] - total) < 0.05, (name, st[name], total)
    s2 = table[table["measure"] == "S2"].set_index(["parameter", "partner"])["value"]
    assert abs(s2["coupling", "tie_decay"] - ISHIGAMI_S13) < 0.1
    assert abs(s2["coupling", "capability"]) < 0.1 and abs(s2["capability", "tie_decay"]) < 0.1
    intervals = table[table["measure"] == "S1"]["conf"]
    assert (intervals > 0).all() and (intervals < 0.15).all()


def test_a_sobol_design_recovers_the_ishigami_indices(tmp_path: Path) -> None:
    experiment = load(experiment_file(tmp_path, SOBOL_ISHIGAMI))
    assert experiment.point_count == 1024 * 8

    def model(runs: pd.DataFrame, _specs) -> np.ndarray:
        return ishigami(runs[NAMES].to_numpy(dtype=float))

    runs, outputs = stand_in_runs(experiment, model)
    table = indices_table(runs, outputs, experiment.design_record())
    check_ishigami(table)
    assert set(table["measure"]) == {"S1", "ST", "S2"}
    assert (table["points"] == 8192).all() and (table["runs"] == 8192).all()
    assert table["stochastic_share"].isna().all()  # one replicate: no noise to measure


def test_a_points_design_of_the_same_points_gives_the_same_indices(tmp_path: Path) -> None:
    """A Sobol design's points written to a points file (as another tool would list
    them): the points design runs the same points, as the same runs, to the same
    indices."""
    sampled = load(experiment_file(tmp_path, SOBOL_ISHIGAMI.replace("1024", "128")))
    columns = {name: [point[name] for point in sampled.points()] for name in NAMES}
    pd.DataFrame(columns).to_csv(tmp_path / "points.csv", index=False,
                                 float_format="%.17g")
    listed = load(experiment_file(tmp_path, '[points]\nfile = "points.csv"\n',
                                  name="listed", analysis="none"))
    assert listed.points() == sampled.points()
    assert [s.run_id for s in listed.runs()] == [s.run_id for s in sampled.runs()]

    def model(runs: pd.DataFrame, _specs) -> np.ndarray:
        return ishigami(runs[NAMES].to_numpy(dtype=float))

    design = sampled.design_record()
    tables = [indices_table(*stand_in_runs(experiment, model), design)
              for experiment in (sampled, listed)]
    pd.testing.assert_frame_equal(tables[0], tables[1])


def test_morris_finds_the_inert_parameter_inert(tmp_path: Path) -> None:
    """y = 2 coupling + capability^2, tie_decay inert: over ranges [0, 1] the effect of
    coupling is 2 everywhere, that of capability varies, that of tie_decay is 0."""
    experiment = load(experiment_file(tmp_path, (
        '[sample]\nmethod = "morris"\ntrajectories = 20\nlevels = 4\n[sample.ranges]\n'
        "coupling = [0.0, 1.0]\ncapability = [0.0, 1.0]\ntie_decay = [0.0, 1.0]\n"),
        replicates=2))

    def model(runs: pd.DataFrame, _specs) -> np.ndarray:
        return 2 * runs["coupling"] + runs["capability"] ** 2

    runs, outputs = stand_in_runs(experiment, model)
    table = indices_table(runs, outputs, experiment.design_record())
    mu_star, sigma = by_measure(table, "mu_star"), by_measure(table, "sigma")
    assert mu_star["tie_decay"] == 0.0 and sigma["tie_decay"] == 0.0
    assert mu_star["coupling"] == pytest.approx(2.0) and sigma["coupling"] == \
        pytest.approx(0.0, abs=1e-9)
    assert mu_star["capability"] > 0.5 and sigma["capability"] > 0.1
    assert mu_star.idxmax() == "coupling"
    assert (table["replicates"] == 2).all() and (table["runs"] == 20 * 4 * 2).all()
    assert table["stochastic_share"].iloc[0] == 0.0  # a deterministic stand-in


def test_the_stochastic_share_is_within_over_total_variance(tmp_path: Path) -> None:
    experiment = load(experiment_file(tmp_path, (
        '[sample]\nmethod = "sobol"\nn = 64\n[sample.ranges]\ncoupling = [0.0, 1.0]\n'
        "capability = [0.0, 1.0]\n"), replicates=4))
    rng = np.random.default_rng(1)

    def model(runs: pd.DataFrame, _specs) -> np.ndarray:
        return 3 * runs["coupling"].to_numpy() + rng.normal(0.0, 0.5, len(runs))

    runs, outputs = stand_in_runs(experiment, model)
    table = indices_table(runs, outputs, experiment.design_record())
    within = outputs.assign(point=runs["point"]).groupby("point")["y"].var().mean()
    expected = within / outputs["y"].var()
    assert table["stochastic_share"].iloc[0] == pytest.approx(expected, rel=1e-9)
    # noise of variance 0.25 against a signal of variance 9/12
    assert 0.15 < expected < 0.35
    assert by_measure(table, "S1")["coupling"] > 0.6


def test_runs_that_are_not_the_whole_design_are_refused(tmp_path: Path) -> None:
    experiment = load(experiment_file(tmp_path, SOBOL_ISHIGAMI.replace("1024", "4"),
                                      replicates=2))
    runs, outputs = stand_in_runs(experiment, lambda r, _s: np.zeros(len(r)))
    design = experiment.design_record()
    with pytest.raises(ValueError, match="every one of the design's 32 points, but 1 have"):
        indices_table(runs[runs["point"] != 5], outputs[runs["point"] != 5], design)
    with pytest.raises(ValueError, match="1 to 2 replicates"):
        keep = ~((runs["point"] == 5) & (runs["replicate"] == 1))
        indices_table(runs[keep], outputs[keep], design)
    with pytest.raises(ValueError, match="needs a morris or sobol design"):
        indices_table(runs, outputs, {**design, "method": "latin_hypercube"})


def test_an_output_that_does_not_vary_has_no_sobol_index(tmp_path: Path) -> None:
    experiment = load(experiment_file(tmp_path, SOBOL_ISHIGAMI.replace("1024", "4")))
    runs, outputs = stand_in_runs(experiment, lambda r, _s: np.ones(len(r)))
    table = indices_table(runs, outputs, experiment.design_record())
    assert table["value"].isna().all() and table["conf"].isna().all()


# --- the outputs of the model's runs -----------------------------------------------------------
@pytest.fixture(scope="module")
def morris_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Morris sweep of the model: 2 trajectories x 3 points x 2 replicates."""
    base = tmp_path_factory.mktemp("sensitivity")
    path = experiment_file(base, ('[sample]\nmethod = "morris"\ntrajectories = 2\n'
                                  "[sample.ranges]\ncoupling = [0.1, 0.9]\n"
                                  "tie_decay = [0.05, 0.2]\n"), name="tiny_morris",
                           replicates=2)
    out = base / "results"
    run_sweep(load(path), out, InProcessExecutor(), progress=False)
    return out


def test_outputs_are_the_indices_and_one_indicator_per_scenario(morris_results: Path) -> None:
    runs = pd.read_parquet(morris_results / "runs.parquet")
    outputs = run_outputs(runs)
    indicators = [f"scenario_{snake(s)}" for s in SCENARIOS]
    assert list(outputs.columns) == [*INDICES, *indicators]  # no synergy: no pairs
    labels = scenarios(runs, known_thresholds(runs))
    for scenario, column in zip(SCENARIOS, indicators, strict=True):
        assert (outputs[column] == (labels == scenario)).all()
    assert (outputs[indicators].sum(axis=1) == 1).all()


def test_synergy_is_an_output_only_where_every_run_has_its_pair(morris_results: Path) -> None:
    runs = pd.read_parquet(morris_results / "runs.parquet")
    assert "synergy" not in run_outputs(runs)
    # two points, each with its pair at coupling 0 (same tie_decay, replicate and seed)
    paired = pd.DataFrame({"coupling": [0.0, 0.5, 0.0, 0.5], "tie_decay": [0.1, 0.1, 0.2, 0.2],
                           "replicate": 0, "seed": 1, "innovations_total": [10, 15, 20, 10],
                           "capability_index": 0.3, "cooperation_index": 0.2,
                           "distinctiveness": 0.6,
                           "paired_synergy": [0.0, 0.5, 0.0, -0.5]})  # as the runs stored it
    assert run_outputs(paired)["synergy"].tolist() == [0.0, 0.5, 0.0, -0.5]
    assert "synergy" not in run_outputs(paired.drop(index=2))  # one run without its pair


def test_the_table_has_its_declared_columns_and_draws(morris_results: Path) -> None:
    from sim.analyses.schema import check_table

    runs = pd.read_parquet(morris_results / "runs.parquet")
    design = json.loads((morris_results / "manifest.json").read_text())["design"]
    table = catalogue.table("sensitivity").compute(runs, None, design)
    check_table("sensitivity", table)
    assert list(table.columns) == list(catalogue.table("sensitivity").columns)
    figure = figure_from_table("sensitivity", table)
    assert len(figure.axes) == 9  # 8 outputs on a 3 x 3 grid
    assert "synergy left out" in figure.get_suptitle()


@pytest.mark.slow
def test_the_figures_command_draws_it(morris_results: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "figures"
    code, stdout, err = invoke(capsys, ["figures", str(morris_results), "--out", str(out)])
    assert code == 0, err
    assert stdout.split() == [str(out / f"sensitivity.{ext}") for ext in ("png", "svg", "csv")]
    table = read_table("sensitivity", out / "sensitivity.csv")
    assert set(table["method"]) == {"morris"}
    assert set(table["measure"]) == {"mu_star", "mu", "sigma"}
    assert len(table) == (len(INDICES) + len(SCENARIOS)) * 3 * 2
    assert (table["runs"] == 12).all() and (table["points"] == 6).all()

    # drawn again from the same runs: the same bytes (what reproduce compares)
    again = tmp_path / "again"
    code, _, err = invoke(capsys, ["figures", str(morris_results), "--out", str(again)])
    assert code == 0, err
    for ext in ("csv", "svg"):
        assert (again / f"sensitivity.{ext}").read_bytes() == \
            (out / f"sensitivity.{ext}").read_bytes()
    # and from its CSV alone
    redrawn = figure_from_table("sensitivity", table)
    assert len(redrawn.axes) >= len(INDICES) + len(SCENARIOS)


def test_the_table_is_deterministic(morris_results: Path) -> None:
    runs = pd.read_parquet(morris_results / "runs.parquet")
    design = json.loads((morris_results / "manifest.json").read_text())["design"]
    first = sensitivity_table(runs, design)
    shuffled = runs.sample(frac=1.0, random_state=4)
    pd.testing.assert_frame_equal(sensitivity_table(shuffled, design), first)
    assert catalogue.table("sensitivity").runs(first).tolist() == [len(runs)]


def test_results_without_a_recorded_design_are_one_line(morris_results: Path,
                                                        tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    import shutil

    copy = tmp_path / "older"
    shutil.copytree(morris_results, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["design"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    code, stdout, err = invoke(capsys, ["figures", str(copy), "--out", str(tmp_path / "f")])
    assert code == 2 and stdout == "" and len(err.splitlines()) == 1, err
    assert "does not record it" in err and "run the same sweep command again" in err
