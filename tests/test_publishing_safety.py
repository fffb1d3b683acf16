"""Nothing is published from partial or foreign data: figures refuse a results directory
that is not the whole design as designed (unless told, and then say so), an incomplete
sweep exits non-zero, colliding figure names are refused before anything runs, figures
are written whole or not at all, runs of another environment are another code's, and
the counts of workers and seeds have bounds checked first."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import invoke

import sim.cli
from sim.analyses import draw, read_table
from sim.experiment import identity as code_identity
from sim.experiment.style import save_figure
from sim.sweep import InProcessExecutor, load, run_sweep
from tests.conftest import write_experiment


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The small experiment swept whole: (file, results directory)."""
    base = tmp_path_factory.mktemp("swept")
    experiment = write_experiment(base / "small.toml")
    out = base / "results"
    run_sweep(load(experiment), out, InProcessExecutor(), progress=False)
    return experiment, out


def copy_of(swept: tuple[Path, Path], tmp_path: Path) -> Path:
    out = tmp_path / "results"
    shutil.copytree(swept[1], out)
    return out


def test_a_whole_directory_draws_without_a_word(swept, tmp_path):
    paths = draw(swept[1], tmp_path / "figures")
    table = pd.read_csv(tmp_path / "figures" / "coupling_response.csv")
    assert paths and "partial" not in table.columns


@pytest.mark.parametrize("damage", ["lost_rows", "status_running", "changed_value",
                                    "foreign_run", "no_experiment_file"])
def test_figures_refuse_a_directory_that_is_not_the_whole_design(swept, tmp_path, capsys,
                                                                 damage):
    out = copy_of(swept, tmp_path)
    runs = pd.read_parquet(out / "runs.parquet")
    manifest = json.loads((out / "manifest.json").read_text())
    expected = {
        "lost_rows": "1 of the design's 4 runs are missing",
        "status_running": "its manifest says 'running'",
        "changed_value": "1 stored runs have another coupling than the design gives them",
        "foreign_run": "1 stored runs are not in the design",
        "no_experiment_file": "its experiment.toml is missing or not a valid experiment",
    }[damage]
    if damage == "lost_rows":
        runs.iloc[:-1].to_parquet(out / "runs.parquet", index=False)
    elif damage == "status_running":
        manifest["status"] = "running"
        (out / "manifest.json").write_text(json.dumps(manifest))
    elif damage == "changed_value":
        runs.loc[1, "coupling"] = 0.25
        runs.to_parquet(out / "runs.parquet", index=False)
    elif damage == "foreign_run":
        runs.loc[0, "run_id"] = "0123456789abcdef"
        runs.to_parquet(out / "runs.parquet", index=False)
    else:
        (out / "experiment.toml").unlink()
    code, stdout, err = invoke(capsys, ["figures", str(out), "--out", str(tmp_path / "f")])
    assert (code, stdout) == (2, "")
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "is not the whole design" in lines[0] and expected in lines[0], lines[0]
    assert not (tmp_path / "f").exists()


def test_allow_partial_draws_and_says_what_is_missing_on_the_figure_and_in_its_csv(
        swept, tmp_path, capsys):
    out = copy_of(swept, tmp_path)
    runs = pd.read_parquet(out / "runs.parquet")
    runs.iloc[:-1].to_parquet(out / "runs.parquet", index=False)
    code, _stdout, err = invoke(capsys, ["figures", str(out), "--out", str(tmp_path / "f"),
                                         "--allow-partial"])
    assert code == 0, err
    table = read_table("coupling_response", tmp_path / "f" / "coupling_response.csv")
    assert set(table["partial"]) == {
        "PARTIAL DATA, 3 runs of 4: 1 of the design's 4 runs are missing"}
    svg = (tmp_path / "f" / "coupling_response.svg").read_text()
    whole = draw(swept[1], tmp_path / "whole")
    assert svg != (tmp_path / "whole" / "coupling_response.svg").read_text()
    assert whole  # the whole directory draws the same figure without the note


def test_an_incomplete_sweep_exits_4_and_says_why(tmp_path, capsys, monkeypatch):
    experiment = write_experiment(tmp_path / "small.toml")

    class SkipsOne(InProcessExecutor):
        def map_unordered(self, task, items):
            return super().map_unordered(task, list(items)[1:])

    monkeypatch.setattr(sim.cli, "_executor", lambda args: SkipsOne())
    out = tmp_path / "results"
    code, _stdout, err = invoke(capsys, ["sweep", str(experiment), "--out", str(out),
                                         "--quiet"])
    assert code == sim.cli.EXIT_INCOMPLETE == 4
    assert f"{out} is incomplete (" in err and "run the same command again" in err
    monkeypatch.undo()
    code, _stdout, err = invoke(capsys, ["sweep", str(experiment), "--out", str(out),
                                         "--quiet", "--workers", "1"])
    assert code == 0, err


def test_reproduce_refuses_colliding_figure_names_before_running_anything(tmp_path, capsys):
    folder = tmp_path / "experiments"
    folder.mkdir()
    write_experiment(folder / "a.toml", "first")
    write_experiment(folder / "b.toml", "second")
    results = tmp_path / "results"
    code, stdout, err = invoke(capsys, ["reproduce", "--experiments", str(folder),
                                        "--results", str(results), "--figures",
                                        str(tmp_path / "figures"), "--update",
                                        "--workers", "1"])
    assert (code, stdout) == (2, "")
    assert len(err.strip().splitlines()) == 1, err
    assert "a.toml and" in err and "b.toml both write coupling_response" in err
    assert not results.exists() and not (tmp_path / "figures").exists()
    # a figure_prefix on one of them lets both publish side by side
    write_experiment(folder / "b.toml", "second", prefix="second_response")
    code, _stdout, err = invoke(capsys, ["reproduce", "--experiments", str(folder),
                                         "--results", str(results), "--figures",
                                         str(tmp_path / "figures"), "--update",
                                         "--workers", "1", "--quiet"])
    assert code == 0, err
    assert (tmp_path / "figures" / "second_response.csv").exists()
    assert (tmp_path / "figures" / "coupling_response.csv").exists()


def test_a_figure_write_cut_short_leaves_the_old_file_whole(swept, tmp_path, monkeypatch):
    draw(swept[1], tmp_path)
    csv = tmp_path / "coupling_response.csv"
    before = csv.read_bytes()
    table = pd.read_csv(csv)

    def full_disk(self, path, *args, **kwargs):
        Path(path).write_text("truncat")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    from matplotlib.figure import Figure
    with pytest.raises(OSError, match="No space left"):
        save_figure(Figure(), table, tmp_path, "coupling_response")
    assert csv.read_bytes() == before
    assert not list(tmp_path.glob(".tmp-*"))


def test_runs_of_another_environment_are_another_codes(swept, tmp_path, capsys,
                                                       monkeypatch):
    out = copy_of(swept, tmp_path)
    runs = pd.read_parquet(out / "runs.parquet")
    runs.iloc[:-1].to_parquet(out / "runs.parquet", index=False)  # one run left to do
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["status"] = "interrupted"
    (out / "manifest.json").write_text(json.dumps(manifest))
    parts = out / "parts"
    parts.mkdir(exist_ok=True)
    (out / "runs.parquet").rename(parts / "runs-old.parquet")
    if (out / "series.parquet").exists():
        (out / "series.parquet").unlink()
    other = {**code_identity.environment(), "numpy": "0.0.0"}
    monkeypatch.setattr(code_identity, "environment", lambda: other)
    code, _stdout, err = invoke(capsys, ["sweep", str(swept[0]), "--out", str(out),
                                         "--workers", "1", "--quiet"])
    assert code == 2 and "holds runs made by other code" in err, err
    assert "numpy 0.0.0" in err
    code, _stdout, err = invoke(capsys, ["sweep", str(swept[0]), "--out", str(out),
                                         "--workers", "1", "--quiet",
                                         "--allow-code-change"])
    assert code == 0, err
    history = json.loads((out / "manifest.json").read_text())["code_history"]
    assert len(history) == 2  # both environments kept, with their runs
    assert sorted(entry["runs"] for entry in history) == [1, 3]


@pytest.mark.parametrize(("argv", "message"), [
    (["sweep", "EXPERIMENT", "--workers", "100000"], "--workers must be between 1 and 256"),
    (["sweep", "EXPERIMENT", "--workers", "0"], "--workers must be between 1 and 256"),
    (["baseline", "--seeds", "1000000000"], "--seeds must be between 1 and 10,000"),
])
def test_worker_and_seed_counts_have_bounds_checked_first(tmp_path, capsys, argv, message):
    experiment = write_experiment(tmp_path / "small.toml")
    argv = [str(experiment) if a == "EXPERIMENT" else a for a in argv]
    code, stdout, err = invoke(capsys, argv)
    assert (code, stdout) == (2, "")
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (Path("results") / "small").exists()


def test_calibration_figures_redraw_from_their_csv_or_say_why_not(tmp_path, capsys):
    root = Path(__file__).resolve().parents[1]
    experiments = tmp_path / "experiments"
    (experiments / "calibration").mkdir(parents=True)
    shutil.copy(root / "experiments" / "publication" / "coupling_response.toml", experiments)
    shutil.copy(root / "experiments" / "publication" / "calibration" / "calibration.toml",
                experiments / "calibration")
    code, stdout, err = invoke(capsys, ["figures", "--from-csv", str(root / "figures"),
                                        "--out", str(tmp_path / "out"), "--experiments",
                                        str(experiments)])
    assert code == 0, err
    for name in ("calibration_screening", "calibration_targets"):
        assert str(tmp_path / "out" / f"{name}.png") in stdout
        assert ((tmp_path / "out" / f"{name}.csv").read_bytes()
                == (root / "figures" / f"{name}.csv").read_bytes())
    assert not (tmp_path / "out" / "calibration_posterior.png").exists()
    assert err.startswith("note: calibration_posterior is not redrawn from its CSV")


def test_an_experiment_made_from_a_dict_publishes_whole(tmp_path):
    # the notebooks build experiments in Python: the directory keeps a TOML text of the
    # document, from which the completeness check rebuilds the design
    from sim.experiment.design import parse

    document = {"experiment": {"name": "from_a_dict", "analysis": "coupling_response",
                               "master_seed": 3, "replicates": 2},
                "fixed": {"scale": 0.05, "until_year": 2018},
                "grid": {"coupling": [0.0, 0.5], "capability": {"from": 0.5, "to": 0.5,
                                                                 "num": 1}}}
    experiment = parse(document)
    run_sweep(experiment, tmp_path / "results", InProcessExecutor(), progress=False)
    assert draw(tmp_path / "results", tmp_path / "figures")
    table = pd.read_csv(tmp_path / "figures" / "coupling_response.csv")
    assert "partial" not in table.columns
