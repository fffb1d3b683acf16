"""``python -m sim reproduce``: re-run experiments, redraw, compare with committed data.

The fixture ``tests/data/reproduce`` is a tiny reproduction: a phase-diagram experiment
of 8 runs (``experiments/tiny.toml``), one tiny experiment of each analysis of the
paper's questions (``tiny_policy.toml``, ``tiny_sensitivity.toml``,
``tiny_optimal_coupling.toml``, ``tiny_discovery.toml``, ``tiny_replicates.toml``), a
tiny calibration, and the data of their figures (``figures/*.csv``) and the experiments'
per-run results (``figures/runs/*.parquet``), generated once with ``--update`` (see the
comment at the top of ``tiny.toml``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import cli
from sim.reproduce import Verdict, compare_tables

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "reproduce"
EXPERIMENTS = DATA / "experiments"
FIGURES = DATA / "figures"
NAMES = ["calibration_posterior", "calibration_screening", "calibration_targets",
         "discovery", "discovery_boxes", "discovery_trajectory", "optimal_coupling",
         "optimal_coupling_distribution", "phase_diagram", "phase_diagram_emergence",
         "policy", "policy_transitions", "replicates", "replicates_needed", "sensitivity",
         "threshold_sensitivity"]
#: The tiny experiment that draws each figure of the paper's questions.
QUESTIONS = {"policy": "tiny_policy", "sensitivity": "tiny_sensitivity",
             "optimal_coupling": "tiny_optimal_coupling", "discovery": "tiny_discovery",
             "replicates": "tiny_replicates"}


def snapshot(directory: Path) -> dict[str, tuple[int, int, bytes]]:
    return {str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime_ns,
                                            p.read_bytes())
            for p in sorted(directory.rglob("*")) if p.is_file()}


def reproduce_args(figures: Path, results: Path) -> list[str]:
    return ["reproduce", "--experiments", str(EXPERIMENTS), "--figures", str(figures),
            "--results", str(results), "--workers", "1", "--quiet"]


def invoke(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = cli.main(argv)
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def verdict_lines(stdout: str) -> dict[str, str]:
    """The PASS/FAIL line of each figure, by figure name."""
    lines = {}
    for line in stdout.splitlines():
        status, _, rest = line.partition(" ")
        if status in ("PASS", "FAIL"):
            name = rest.split(":", 1)[0]
            assert name not in lines, f"two verdicts for {name}"
            lines[name] = line
    return lines


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny reproduction run once, from the real entry point; its results folder is
    reused (nothing to run again) by the other tests."""
    results = tmp_path_factory.mktemp("reproduce") / "results"
    before = snapshot(DATA)
    done = subprocess.run([sys.executable, "-m", "sim", *reproduce_args(FIGURES, results)],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert snapshot(DATA) == before, "reproduce without --update wrote into --figures"
    results.joinpath("entry_point.txt").write_text(
        f"{done.returncode}\n{done.stdout}\n---\n{done.stderr}")
    return results


def entry_point_output(results: Path) -> tuple[int, str, str]:
    code, rest = results.joinpath("entry_point.txt").read_text().split("\n", 1)
    stdout, stderr = rest.split("\n---\n", 1)
    return int(code), stdout, stderr


def test_fixture_is_small_and_complete() -> None:
    assert sorted(p.name for p in EXPERIMENTS.iterdir()) == sorted(
        ["calibration", "tiny.toml", *(f"{name}.toml" for name in QUESTIONS.values())])
    assert [p.name for p in (EXPERIMENTS / "calibration").iterdir()] == [
        "tiny_calibration.toml"]
    assert sorted(p.name for p in FIGURES.iterdir()) == sorted(
        [f"{n}.csv" for n in NAMES] + ["runs"])
    # the per-run results of every experiment (reproduce --budget compares with them)
    assert sorted(p.name for p in (FIGURES / "runs").iterdir()) == sorted(
        ["tiny.parquet", *(f"{name}.parquet" for name in QUESTIONS.values())])


@pytest.mark.slow
def test_reproduction_passes(results: Path) -> None:
    code, stdout, stderr = entry_point_output(results)
    assert code == 0, stdout + stderr
    lines = verdict_lines(stdout)
    assert sorted(lines) == NAMES
    assert all(line == f"PASS {name}" for name, line in lines.items()), stdout
    assert "Traceback" not in stderr
    # where the time went: every experiment and calibration, then the whole
    timing = [line for line in stderr.splitlines() if line.startswith("time: ")]
    assert len(timing) == 1, stderr
    for folder in {"tiny", "tiny_calibration (calibration)", *QUESTIONS.values()}:
        assert f" {folder} " in timing[0] or f"time: {folder} " in timing[0], timing
    assert timing[0].endswith("s in all (runs already stored are not run again)")
    assert (results / "tiny" / "runs.parquet").exists()
    for name in NAMES:
        folder = ("tiny_calibration" if name.startswith("calibration") else
                  next((QUESTIONS[q] for q in QUESTIONS if name.startswith(q)), "tiny"))
        assert (results / folder / "figures" / f"{name}.csv").exists(), name


@pytest.mark.slow
def test_reproduction_on_dask_starts_one_cluster(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Every experiment and the calibration (its screening and its ABC-SMC) run on the
    one local cluster the first sweep starts, and the results pass as in-process."""
    import distributed

    started = []

    class CountedCluster(distributed.LocalCluster):
        def __init__(self, *args, **kwargs):
            started.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(distributed, "LocalCluster", CountedCluster)
    argv = reproduce_args(FIGURES, tmp_path / "results")
    argv[argv.index("--workers") + 1] = "2"
    code, stdout, stderr = invoke(capsys, argv)
    assert code == 0, stdout + stderr
    assert all(line == f"PASS {name}" for name, line in verdict_lines(stdout).items())
    assert sorted(verdict_lines(stdout)) == NAMES
    assert len(started) == 1
    assert started[0].status.name == "closed"


@pytest.mark.slow
def test_altered_number_fails_that_figure_only(results: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    figures = tmp_path / "figures"
    shutil.copytree(FIGURES, figures)
    path = figures / "phase_diagram.csv"
    table = pd.read_csv(path)
    column = "mean_capability_index"
    old = table.loc[2, column]
    text = path.read_text()
    assert text.count(repr(float(old))) == 1
    path.write_text(text.replace(repr(float(old)), repr(round(float(old) + 0.001, 12))))

    code, stdout, _ = invoke(capsys, reproduce_args(figures, results))
    assert code != 0
    lines = verdict_lines(stdout)
    assert sorted(lines) == NAMES
    assert lines["phase_diagram"].startswith("FAIL phase_diagram: ")
    assert column in lines["phase_diagram"] and "row 2" in lines["phase_diagram"]
    assert lines["threshold_sensitivity"] == "PASS threshold_sensitivity"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(QUESTIONS))
def test_altered_data_of_each_question_fails_that_figure_only(
        results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    """One number of a figure of the paper's questions changed by 1%: that figure FAILs,
    naming the column; every other figure PASSes."""
    figures = tmp_path / "figures"
    shutil.copytree(FIGURES, figures)
    path = figures / f"{name}.csv"
    table = pd.read_csv(path)
    numbers = [c for c in table.columns if table[c].dtype.kind == "f"
               and (table[c].fillna(0) != 0).any()]
    column = numbers[0]
    row = int(np.flatnonzero(table[column].fillna(0).to_numpy() != 0)[0])
    table.loc[row, column] = table.loc[row, column] * 1.01
    table.to_csv(path, index=False, lineterminator="\n")

    code, stdout, _ = invoke(capsys, reproduce_args(figures, results))
    assert code != 0
    lines = verdict_lines(stdout)
    assert sorted(lines) == NAMES
    assert lines[name].startswith(f"FAIL {name}: ") and column in lines[name], lines[name]
    others = [line for other, line in lines.items() if other != name]
    assert all(line.startswith("PASS ") for line in others), stdout


@pytest.mark.slow
def test_altered_calibration_data_fails_that_figure_only(
        results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    figures = tmp_path / "figures"
    shutil.copytree(FIGURES, figures)
    path = figures / "calibration_posterior.csv"
    table = pd.read_csv(path)
    table.loc[0, "median"] = table.loc[0, "median"] * 1.01
    table.to_csv(path, index=False, lineterminator="\n")

    code, stdout, _ = invoke(capsys, reproduce_args(figures, results))
    assert code != 0
    lines = verdict_lines(stdout)
    assert lines["calibration_posterior"].startswith("FAIL calibration_posterior: ")
    assert "median" in lines["calibration_posterior"]
    assert lines["calibration_targets"] == "PASS calibration_targets"
    assert lines["phase_diagram"] == "PASS phase_diagram"


@pytest.mark.slow
def test_missing_committed_data_fails(results: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    figures = tmp_path / "figures"
    shutil.copytree(FIGURES, figures)
    (figures / "threshold_sensitivity.csv").unlink()

    code, stdout, _ = invoke(capsys, reproduce_args(figures, results))
    assert code != 0
    lines = verdict_lines(stdout)
    assert lines["threshold_sensitivity"].startswith("FAIL threshold_sensitivity")
    assert "no committed data" in lines["threshold_sensitivity"]
    assert lines["phase_diagram"] == "PASS phase_diagram"


# --- compare_tables ------------------------------------------------------------------------
@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame({
        "coupling": [0.0, 0.5, 1.0],
        "n": [2, 2, 3],
        "majority": ["Stagnation", "Hollow networking", "Loosely coupled synergy"],
        "index": [0.118339997839, 0.3121, 1e-3],
        "changed": [False, True, False],
        "maybe": [np.nan, 0.25, np.nan],
        "innovations": [1234.56789, 98765.4321, 5e6],
    })


def test_equal_tables(table: pd.DataFrame) -> None:
    assert compare_tables(table, table.copy()) is None


def test_tables_equal_after_a_csv_round_trip(table: pd.DataFrame, tmp_path: Path) -> None:
    table.to_csv(tmp_path / "t.csv", index=False)
    assert compare_tables(table, pd.read_csv(tmp_path / "t.csv")) is None


@pytest.mark.parametrize("column", ["index", "coupling", "innovations"])
def test_last_digit_difference_is_tolerated(table: pd.DataFrame, column: str) -> None:
    other = table.copy()
    other.loc[1, column] *= 1 + 1e-12
    assert other.loc[1, column] != table.loc[1, column]
    assert compare_tables(other, table) is None


@pytest.mark.parametrize("column", ["index", "coupling", "innovations"])
def test_real_difference_is_reported(table: pd.DataFrame, column: str) -> None:
    other = table.copy()
    other.loc[1, column] *= 1 + 1e-6
    message = compare_tables(other, table)
    assert message is not None and repr(column) in message and "row 1" in message


def test_nan_against_number_is_reported(table: pd.DataFrame) -> None:
    other = table.copy()
    other.loc[0, "maybe"] = 0.0
    message = compare_tables(other, table)
    assert message is not None and "'maybe'" in message and "row 0" in message


@pytest.mark.parametrize(("column", "value"), [("majority", "Stagnation!"), ("n", 3),
                                               ("changed", True)])
def test_changed_exact_value_is_reported(table: pd.DataFrame, column: str,
                                         value: object) -> None:
    other = table.copy()
    other.loc[0, column] = value
    message = compare_tables(other, table)
    assert message is not None and repr(column) in message and "row 0" in message


def test_different_columns_are_reported(table: pd.DataFrame) -> None:
    message = compare_tables(table.drop(columns="maybe"), table)
    assert message is not None and "columns" in message
    renamed = compare_tables(table.rename(columns={"n": "runs"}), table)
    assert renamed is not None and "columns" in renamed
    reordered = compare_tables(table[list(reversed(table.columns))], table)
    assert reordered is not None and "columns" in reordered


def test_different_rows_are_reported(table: pd.DataFrame) -> None:
    message = compare_tables(table.iloc[:2], table)
    assert message is not None and "rows" in message
    extra = compare_tables(pd.concat([table, table.iloc[:1]], ignore_index=True), table)
    assert extra is not None and "rows" in extra


def test_verdict_lines() -> None:
    assert Verdict("phase_diagram", True).line() == "PASS phase_diagram"
    assert (Verdict("trajectories", False, "3 rows regenerated, 4 committed").line()
            == "FAIL trajectories: 3 rows regenerated, 4 committed")
