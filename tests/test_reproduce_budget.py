"""``python -m sim reproduce --budget``: a seeded sample of the committed per-run results
(``FIGURES/runs/EXPERIMENT.parquet``) re-simulated and compared exactly.

The committed per-run files of the tiny reproduction (``tests/data/reproduce/figures/
runs``) were written by ``reproduce --update`` (see ``tests/data/reproduce/experiments/
tiny.toml``). The checks here use its smallest experiments, so each takes a few seconds.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim import spot_check
from sim.spot_check import CommittedRuns, parse_budget, read_committed, round_robin
from sim.sweep import load
from tests.conftest import invoke, write_experiment

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "reproduce"
FIGURES = DATA / "figures"
#: The fixture's smallest experiments: 8 and 6 runs at scale 0.05 to 2019.
SMALLEST = ("tiny", "tiny_replicates")


def experiments_folder(tmp_path: Path, names: tuple[str, ...] = SMALLEST) -> Path:
    folder = tmp_path / "experiments"
    folder.mkdir()
    for name in names:
        shutil.copy(DATA / "experiments" / f"{name}.toml", folder)
    return folder


def budget_args(experiments: Path, figures: Path, budget: str = "10m") -> list[str]:
    return ["reproduce", "--experiments", str(experiments), "--figures", str(figures),
            "--budget", budget, "--workers", "1"]


def lines_by_experiment(stdout: str) -> dict[str, str]:
    lines = {}
    for line in stdout.splitlines():
        status, _, rest = line.partition(" ")
        if status in ("PASS", "FAIL"):
            lines[rest.split(" ", 1)[0].rstrip(":")] = line
    return lines


def test_committed_fixture_matches(tmp_path, capsys):
    code, out, err = invoke(capsys, budget_args(experiments_folder(tmp_path), FIGURES))
    assert code == 0, out + err
    lines = lines_by_experiment(out)
    assert lines["tiny"] == ("PASS tiny (figures phase_diagram, threshold_sensitivity): 8 of "
                             "8 runs checked (100.0%), 8 matched")
    assert lines["tiny_replicates"].endswith("6 of 6 runs checked (100.0%), 6 matched")
    assert out.splitlines()[-1].startswith(
        "total: 14 of 14 runs checked (100.0%) across 2 experiments, 14 matched, "
        "0 mismatched, in ")
    assert "Traceback" not in err


def change_one_number(path: Path, row: int, column: str) -> tuple[str, float, float]:
    """Move one committed float to the next float64 up; (run_id, old, new)."""
    table = pq.read_table(path)
    frame = table.to_pandas()
    old = float(frame.loc[row, column])
    new = float(np.nextafter(old, np.inf))
    frame.loc[row, column] = new
    changed = pa.Table.from_pandas(frame, schema=table.schema, preserve_index=False)
    pq.write_table(changed, path, compression="zstd")
    return str(frame.loc[row, "run_id"]), old, new


def test_one_changed_number_fails_and_names_its_run(tmp_path, capsys):
    figures = tmp_path / "figures"
    shutil.copytree(FIGURES, figures)
    run_id, old, new = change_one_number(figures / "runs" / "tiny.parquet", 5,
                                         "capability_index")
    code, out, err = invoke(capsys, budget_args(experiments_folder(tmp_path), figures))
    assert code == 1, out + err
    lines = lines_by_experiment(out)
    assert lines["tiny"].startswith("FAIL tiny ")
    assert ("8 of 8 runs checked (100.0%), 7 matched, 1 mismatched; first: run "
            f"{run_id} capability_index: {new!r} committed, {old!r} re-simulated"
            ) in lines["tiny"]
    assert lines["tiny_replicates"].startswith("PASS tiny_replicates")
    assert "1 mismatched" in out.splitlines()[-1]


def test_a_missing_per_run_file_is_one_line(tmp_path, capsys):
    figures = tmp_path / "figures"
    shutil.copytree(FIGURES, figures)
    (figures / "runs" / "tiny_replicates.parquet").unlink()
    code, out, err = invoke(capsys, budget_args(experiments_folder(tmp_path), figures))
    assert (code, out) == (2, "")
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("python -m sim reproduce: error: no committed per-run "
                               f"results {figures / 'runs' / 'tiny_replicates.parquet'}")


@pytest.mark.parametrize(("options", "names"), [
    (["--budget", "10"], "--budget"),
    (["--budget", "ten minutes"], "--budget"),
    (["--budget", "0s"], "--budget"),
    (["--budget", "-5m"], "--budget"),
    (["--budget", "2d"], "--budget"),
    (["--budget", "5m", "--update"], "--update"),
    (["--sample-seed", "3"], "--sample-seed"),
    (["--budget", "5m", "--sample-seed", "-1"], "--sample-seed"),
])
def test_bad_options_exit_2_with_one_line(tmp_path, capsys, options, names):
    code, out, err = invoke(capsys, ["reproduce", "--experiments",
                                     str(experiments_folder(tmp_path)), "--figures",
                                     str(FIGURES), "--workers", "1", *options])
    assert (code, out) == (2, "")
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert names in lines[0]
    if options[1] == "ten minutes":
        assert "such as 90s, 10m or 1h" in lines[0]


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90.0), ("10m", 600.0),
                                               ("1h", 3600.0), ("1.5h", 5400.0)])
def test_budget_durations(text, seconds):
    assert parse_budget(text) == seconds


def committed_fixture() -> list[CommittedRuns]:
    return [read_committed(load(DATA / "experiments" / f"{name}.toml"), FIGURES)
            for name in ("tiny", "tiny_discovery", "tiny_policy")]


class Replay:
    """Stands in for an executor: hands back the committed row of each run (no
    simulation) and advances a clock by one second a run."""

    def __init__(self, committed: list[CommittedRuns]) -> None:
        self.rows = {row["run_id"]: row for entry in committed
                     for row in entry.table.to_dict(orient="records")}
        self.now = 0.0
        self.order: list[tuple[int, str]] = []

    def clock(self) -> float:
        return self.now

    def map_unordered(self, task, items):
        for which, spec in items:
            self.now += 1.0
            self.order.append((which, spec.run_id))
            yield which, spec, dict(self.rows[spec.run_id])


def test_the_sample_is_fixed_by_its_seed_and_shared_round_robin():
    committed = committed_fixture()
    runs = []
    for seed in (0, 0, 1):
        replay = Replay(committed)
        report = spot_check.spot_check(committed, 7.5, replay.map_unordered, width=2,
                                       sample_seed=seed, clock=replay.clock)
        runs.append(replay.order)
        assert report.passed
        # batches of two while time is left: 8 runs, each experiment in turn
        assert [which for which, _ in replay.order] == [0, 1, 2, 0, 1, 2, 0, 1]
        assert [t.checked for t in report.tallies] == [3, 3, 2]
        assert [t.published for t in report.tallies] == [8, 40, 32]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    ids = [str(i) for i in committed[1].table["run_id"]]
    assert spot_check.sample_order(ids, "tiny_discovery", 5) == spot_check.sample_order(
        ids, "tiny_discovery", 5)
    assert sorted(spot_check.sample_order(ids, "tiny_discovery", 5)) == sorted(ids)


def test_an_experiment_the_budget_did_not_reach_is_unchecked():
    committed = committed_fixture()
    replay = Replay(committed)
    report = spot_check.spot_check(committed, 0.5, replay.map_unordered, width=2,
                                   clock=replay.clock)
    assert [t.checked for t in report.tallies] == [1, 1, 0]
    assert report.passed and report.unchecked == ["tiny_policy"]
    assert report.tallies[2].line() == ("UNCHECKED tiny_policy (figures policy): 0 of 32 "
                                        "runs checked (0.0%), 0 matched")


def test_round_robin_serves_every_order_before_any_twice():
    assert list(round_robin([["a1", "a2", "a3"], [], ["c1"]])) == [
        (0, "a1"), (2, "c1"), (0, "a2"), (0, "a3")]


def test_exact_comparison():
    same = spot_check.same_value
    assert same(float("nan"), np.float64("nan")) and same(None, float("nan"))
    assert same(np.int64(3), 3) and same(np.float64(0.1), 0.1) and same("a", "a")
    assert not same(0.1, float(np.nextafter(0.1, 1))) and not same(1.0, float("nan"))
    assert not same("1", 1) and not same(np.bool_(True), False)


def test_publishing_writes_the_per_run_file_that_the_check_reads(tmp_path, capsys):
    folder = tmp_path / "experiments"
    folder.mkdir()
    write_experiment(folder / "small.toml")
    figures = tmp_path / "figures"
    code, out, err = invoke(capsys, ["reproduce", "--experiments", str(folder), "--figures",
                                     str(figures), "--results", str(tmp_path / "results"),
                                     "--update", "--workers", "1", "--quiet"])
    assert code == 0, err
    path = figures / "runs" / "small.parquet"
    assert f"wrote {path}" in out.splitlines()
    file = pq.read_table(path)
    assert file.column_names[:6] == ["run_id", "point", "replicate", "seed", "coupling",
                                     "capability"]
    assert file.num_rows == 4 and file.schema.field("capability_index").type == pa.float64()
    about = json.loads(file.schema.metadata[spot_check.EXPERIMENT_KEY])
    assert about["name"] == "small" and about["fingerprint"] == load(
        folder / "small.toml").fingerprint
    assert not list((figures / "runs").glob(".tmp-*"))
    code, out, err = invoke(capsys, budget_args(folder, figures, "1h"))
    assert code == 0, out + err
    assert "PASS small (figures coupling_response): 4 of 4 runs checked (100.0%), 4 matched" \
        in out
    # another design of the experiment: its committed runs are refused, not compared
    text = (folder / "small.toml").read_text().replace("master_seed = 3", "master_seed = 4")
    (folder / "small.toml").write_text(text)
    code, out, err = invoke(capsys, budget_args(folder, figures, "1h"))
    assert code == 1, out + err
    assert "FAIL small (figures coupling_response): " in out
    assert "was written for another design of small" in out


def test_ctrl_c_is_one_line_and_exit_130(tmp_path, capsys, monkeypatch):
    def interrupted(spec):
        raise KeyboardInterrupt

    monkeypatch.setattr(spot_check, "resimulate", interrupted)
    code, out, err = invoke(capsys, budget_args(experiments_folder(tmp_path), FIGURES))
    assert code == 130
    assert err.strip().splitlines()[-1] == "python -m sim reproduce: interrupted"
    assert "Traceback" not in err and "PASS" not in out
