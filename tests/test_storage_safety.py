"""A results directory is safe to leave running and to share.

* One writer: a second sweep into a directory another process is writing (same or other
  experiment, or both claiming a new directory at once) is refused in one line naming
  the holder; the lock dies with its holder, so a sweep killed with ``kill -9`` resumes.
* Code identity: every stored table records the code that made its runs; runs of other
  code are refused unless ``--allow-code-change``, and then every code is recorded.
* Damaged storage: unreadable or inconsistent parts are moved to ``quarantine/``, named
  on stderr and run again; a damaged manifest is one line with advice that works;
  ``sim figures`` reports a damaged table in one line.

Experiments are tiny (scale 0.05, to 2020); tests that start processes are ``slow``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import invoke, snapshot

import sim.sweep
import sim.sweep.tasks
from sim.experiment import identity
from sim.experiment import lock as directory_lock
from sim.experiment.results import CODE_KEY, HISTORY_KEY
from sim.sweep import ExperimentError, InProcessExecutor, ResultStore, load, run_sweep

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 240  # seconds: no subprocess of these tests may take longer
RUNS = 16  # runs of the small experiment
QUARTERS = 12  # 2018Q1..2020Q4


# --- experiments and directories ---------------------------------------------------------------
def write_experiment(path: Path, name: str, *, series: bool = True, replicates: int = 2,
                     couplings: int = 4, scale: float = 0.05) -> Path:
    """A coupling x capability grid of ``couplings * 2 * replicates`` runs to 2020."""
    path.write_text(textwrap.dedent(f"""\
        [experiment]
        name = "{name}"
        analysis = "phase_diagram"
        master_seed = 5
        replicates = {replicates}
        series = {str(series).lower()}

        [fixed]
        scale = {scale}
        until_year = 2020

        [grid]
        coupling = {{from = 0.0, to = 1.0, num = {couplings}}}
        capability = [0.3, 0.7]
        """), encoding="utf-8")
    return path


def long_experiment(path: Path, name: str) -> Path:
    """About ten seconds of runs in one process: long enough for a second sweep to meet
    the first one still running, whatever the start-up times."""
    return write_experiment(path, name, series=False, replicates=10, couplings=10)


def stored_state(directory: Path) -> dict:
    """Every stored file and folder, but the lock file: taking the lock writes the
    holder's details into it, and a refusal after the lock is taken gives it up."""
    return {name: entry for name, entry in snapshot(directory).items() if name != ".lock"}


def runs_table(directory: Path) -> pd.DataFrame:
    return pd.read_parquet(directory / "runs.parquet")


def series_table(directory: Path) -> pd.DataFrame:
    return pd.read_parquet(directory / "series.parquet")


def manifest(directory: Path) -> dict:
    return json.loads((directory / "manifest.json").read_text())


def part_files(directory: Path, kind: str = "runs") -> list[Path]:
    return sorted((directory / "parts").glob(f"{kind}-*.parquet"))


def warnings_in(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning:")]


def assert_same_as(directory: Path, reference: Path, *, series: bool = True) -> None:
    """``directory`` holds a complete sweep, table for table equal to ``reference``."""
    runs = runs_table(directory)
    pd.testing.assert_frame_equal(runs, runs_table(reference))
    assert len(runs) == RUNS and runs["run_id"].is_unique
    meta = manifest(directory)
    assert meta["status"] == "complete", meta.get("incomplete_reason")
    assert meta["runs_total"] == meta["runs_stored"] == RUNS
    assert not list((directory / "parts").glob("*.parquet"))
    if series:
        table = series_table(directory)
        pd.testing.assert_frame_equal(table, series_table(reference))
        assert len(table) == RUNS * QUARTERS


@pytest.fixture(autouse=True)
def one_run_a_task(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests stop, damage and resume sweeps at chosen runs: one run a task, so that
    a stop can fall between any two runs (grouped runs resume alike: test_sweep.py)."""
    monkeypatch.setattr(sim.sweep.tasks, "GROUP_RUNS", 1)


class Interrupted(InProcessExecutor):
    """Stops the sweep like Ctrl-C after ``after`` runs."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after

    def map_unordered(self, task, items):
        for done, result in enumerate(super().map_unordered(task, items), start=1):
            yield result
            if done == self.after:
                raise KeyboardInterrupt


class Recording(InProcessExecutor):
    """Runs the tasks (all, or all but ``skip``) and remembers which run ids it got."""

    def __init__(self, skip: int = 0) -> None:
        super().__init__()
        self.given: list[str] = []
        self.skip = skip

    def map_unordered(self, task, items):
        items = list(items)
        self.given.extend(spec.run_id for group in items for spec in group)
        return super().map_unordered(task, items[self.skip:])


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The small experiment (series on) swept without interruption: (file, directory)."""
    base = tmp_path_factory.mktemp("reference")
    experiment = write_experiment(base / "exp.toml", "safety")
    out = base / "results"
    run_sweep(load(experiment), out, InProcessExecutor(), progress=False)
    return experiment, out


@pytest.fixture
def partial(tmp_path: Path, reference: tuple[Path, Path],
            monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The small experiment stopped after 7 runs, stored in parts of 3, 3 and 1 runs:
    (file, directory)."""
    monkeypatch.setattr(sim.sweep, "FLUSH_EVERY_RUNS", 3)
    experiment = tmp_path / "exp.toml"
    shutil.copyfile(reference[0], experiment)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(load(experiment), out, Interrupted(after=7), progress=False)
    assert [len(pd.read_parquet(p)) for p in part_files(out)] == [3, 3, 1]
    return experiment, out


def stored_ids(directory: Path) -> set[str]:
    return {run_id for path in part_files(directory)
            for run_id in pd.read_parquet(path)["run_id"]}


def all_ids(experiment: Path) -> set[str]:
    return {spec.run_id for spec in load(experiment).runs()}


# --- processes ---------------------------------------------------------------------------------
def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def sweep_command(experiment: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sim", "sweep", str(experiment), "--out", str(out),
            "--workers", "1", "--quiet", *extra]


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen]]:
    """Processes a test starts (each in its own session); all killed afterwards."""
    processes: list[subprocess.Popen] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def start(processes: list[subprocess.Popen], command: list[str]) -> subprocess.Popen:
    process = subprocess.Popen(command, cwd=ROOT, env=subprocess_env(), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    processes.append(process)
    return process


def holder_details(out: Path) -> dict:
    try:
        return json.loads((out / ".lock").read_text())
    except (OSError, ValueError):
        return {}


def wait_for(condition, timeout: float, what: str, alive: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while not condition():
        if alive is not None and alive.poll() is not None:
            pytest.fail(f"process exited ({alive.returncode}) while waiting for {what}: "
                        f"{alive.stderr.read()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


# --- 1. one writer per results directory -------------------------------------------------------
def test_lock_names_its_holder_and_is_given_up(tmp_path: Path,
                                               reference: tuple[Path, Path]) -> None:
    experiment = load(reference[0])
    out = tmp_path / "out"
    with ResultStore(out, experiment) as store:
        details = holder_details(out)
        assert details["pid"] == os.getpid() and details["experiment"] == "safety"
        assert details["host"] == socket.gethostname()
        # the same process may open the directory again (the CLI, then run_sweep)
        assert ResultStore(out, experiment).open() == set()
        assert directory_lock.holder(out) is None  # this process's own lock
        assert store.directory == out
    assert (out / ".lock").read_text() == ""  # given up: no holder named
    assert directory_lock._HELD == {}


def test_an_interrupted_sweep_gives_its_lock_up(partial: tuple[Path, Path]) -> None:
    """Ctrl-C in a notebook must not leave the directory locked by the kernel."""
    assert directory_lock._HELD == {}
    assert holder_details(partial[1]) == {}


@pytest.mark.slow
@pytest.mark.parametrize("second", ["same", "other"])
def test_a_second_sweep_into_a_directory_in_use_is_refused(
        tmp_path: Path, started: list[subprocess.Popen], second: str) -> None:
    first_file = long_experiment(tmp_path / "first.toml", "first")
    second_file = (first_file if second == "same"
                   else long_experiment(tmp_path / "second.toml", "second"))
    out = tmp_path / "out"
    first = start(started, sweep_command(first_file, out))
    wait_for(lambda: holder_details(out).get("pid") == first.pid, 120,
             "the first sweep to hold the directory", alive=first)

    began = time.monotonic()
    refused = subprocess.run(sweep_command(second_file, out), cwd=ROOT, env=subprocess_env(),
                             capture_output=True, text=True, timeout=TIMEOUT)
    took = time.monotonic() - began
    assert first.poll() is None, "the first sweep ended before the second was refused"
    assert refused.returncode == 2 and refused.stdout == ""
    lines = refused.stderr.splitlines()
    assert len(lines) == 1, refused.stderr
    assert lines[0] == (f"python -m sim sweep: error: {out} is in use by another sweep "
                        f"(experiment 'first', pid {first.pid} on {socket.gethostname()}, "
                        f"started {holder_details(out)['started']}); wait for it to end or "
                        "choose another --out directory")
    print(f"refused in {took:.2f} s (interpreter start included)")

    stdout, stderr = first.communicate(timeout=TIMEOUT)
    assert first.returncode == 0, stderr
    runs = runs_table(out)
    expected = load(first_file).runs()
    assert len(runs) == len(expected) and runs["run_id"].is_unique
    assert list(runs["run_id"]) == [spec.run_id for spec in expected]
    assert manifest(out)["status"] == "complete"


_CLAIM_SCRIPT = """
import json, sys, time
from pathlib import Path
from sim.sweep import ExperimentError, ResultStore, load
experiment, base = load(sys.argv[1]), Path(sys.argv[2])
rounds, at = int(sys.argv[3]), float(sys.argv[4])
stores, outcomes = [], []
for i in range(rounds):
    while time.time() < at + i * 0.5:  # both processes try each directory at once
        pass
    try:
        store = ResultStore(base / f"out{i}", experiment)
        store.open()
        stores.append(store)
        outcomes.append("claimed")
    except ExperimentError as error:
        outcomes.append(str(error))
time.sleep(at + rounds * 0.5 + 1 - time.time())  # hold every claim until both are done
print(json.dumps(outcomes))
"""


@pytest.mark.slow
@pytest.mark.parametrize("second", ["same", "other"])
def test_a_new_directory_is_claimed_by_exactly_one_process(
        tmp_path: Path, started: list[subprocess.Popen], second: str) -> None:
    rounds = 8
    files = [write_experiment(tmp_path / "a.toml", "a")]
    files.append(files[0] if second == "same" else write_experiment(tmp_path / "b.toml", "b"))
    at = time.time() + 15  # after both interpreters have started
    processes = [start(started, [sys.executable, "-c", _CLAIM_SCRIPT, str(path),
                                 str(tmp_path), str(rounds), str(at)]) for path in files]
    outcomes = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
        assert process.returncode == 0, stderr
        outcomes.append(json.loads(stdout))
    assert time.time() > at, "a process started too late for the race"
    for i, pair in enumerate(zip(*outcomes, strict=True)):
        assert sorted(pair).count("claimed") == 1, pair
        refusal = next(outcome for outcome in pair if outcome != "claimed")
        winner = pair.index("claimed")
        assert refusal.startswith(f"{tmp_path / f'out{i}'} is in use by another sweep "
                                  f"(experiment '{'ab'[winner] if second == 'other' else 'a'}'"
                                  f", pid {processes[winner].pid} on "), refusal
        assert manifest(tmp_path / f"out{i}")["experiment"]["name"] == (
            "ab"[winner] if second == "other" else "a")


@pytest.mark.slow
def test_kill_9_leaves_no_stale_lock_and_the_sweep_resumes(
        tmp_path: Path, started: list[subprocess.Popen], reference: tuple[Path, Path]) -> None:
    experiment = write_experiment(tmp_path / "exp.toml", "safety", replicates=20,
                                  couplings=10)
    out = tmp_path / "out"
    sweep = start(started, sweep_command(experiment, out))
    # a part appears after 50 runs or 5 s, long before the 400 runs end
    wait_for(lambda: bool(part_files(out)), 120, "the first part", alive=sweep)
    os.killpg(sweep.pid, signal.SIGKILL)
    assert sweep.wait(timeout=30) == -signal.SIGKILL
    assert not (out / "runs.parquet").exists(), "the sweep ended before it was killed"
    assert holder_details(out)["pid"] == sweep.pid  # what the dead holder wrote stays...

    resumed = subprocess.run(sweep_command(experiment, out), cwd=ROOT, env=subprocess_env(),
                             capture_output=True, text=True, timeout=TIMEOUT)
    assert resumed.returncode == 0, resumed.stderr  # ...but its lock died with it
    assert warnings_in(resumed.stderr) == []

    clean = tmp_path / "clean"
    run_sweep(load(experiment), clean, InProcessExecutor(), progress=False)
    pd.testing.assert_frame_equal(runs_table(out), runs_table(clean))
    pd.testing.assert_frame_equal(series_table(out), series_table(clean))
    assert len(runs_table(out)) == 400 and manifest(out)["status"] == "complete"


# --- 2. code identity --------------------------------------------------------------------------
def fake_code(monkeypatch: pytest.MonkeyPatch) -> dict:
    """Make this process's code look edited; returns the identity it now has."""
    monkeypatch.setattr(identity, "source_sha256", lambda: "f" * 64)
    return identity.code_identity()


def test_every_stored_table_records_its_code(partial: tuple[Path, Path],
                                             reference: tuple[Path, Path]) -> None:
    code = identity.code_identity()
    for path in part_files(partial[1]) + part_files(partial[1], "series"):
        schema = pq.read_schema(path)
        assert json.loads(schema.metadata[CODE_KEY]) == code
        # and what each column holds (sim.experiment.columns)
        assert schema.field("run_id").metadata[b"description"]
    stopped = manifest(partial[1])  # interrupted (Ctrl-C): the runs stored so far
    assert (stopped["status"], stopped["runs_stored"]) == ("interrupted", 7)
    assert stopped["code_history"] == [{"code": code, "runs": 7}]
    meta = manifest(reference[1])
    assert meta["code"] == code and meta["code_version"] == identity.code_version()
    assert meta["code_history"] == [{"code": code, "runs": RUNS}]
    for name in ("runs.parquet", "series.parquet"):
        metadata = pq.read_schema(reference[1] / name).metadata
        assert json.loads(metadata[CODE_KEY]) == code
        assert json.loads(metadata[HISTORY_KEY]) == [{"code": code, "runs": RUNS}]


def test_code_change_is_refused_then_recorded_when_allowed(
        partial: tuple[Path, Path], reference: tuple[Path, Path],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    experiment, out = partial
    old = identity.code_identity()
    new = fake_code(monkeypatch)
    before = stored_state(out)
    command = ["sweep", str(experiment), "--out", str(out), "--workers", "1", "--quiet"]

    code, stdout, err = invoke(capsys, command)
    assert (code, stdout) == (2, "")
    assert err.splitlines() == [
        f"python -m sim sweep: error: {out} holds runs made by other code "
        f"({identity.short(old)}) than the code running now ({identity.short(new)}); run "
        "again with --allow-code-change to add runs of this code to them (the manifest "
        "lists each code and its runs), or choose another --out directory"]
    assert stored_state(out) == before

    code, stdout, err = invoke(capsys, [*command, "--allow-code-change"])
    assert code == 0, err
    assert warnings_in(err) == [
        f"warning: {out} holds runs made by other code ({identity.short(old)}); adding "
        f"runs of {identity.short(new)} (--allow-code-change)"]
    pd.testing.assert_frame_equal(runs_table(out), runs_table(reference[1]))
    meta = manifest(out)
    assert meta["status"] == "complete" and meta["code"] == new
    assert meta["code_history"] == [{"code": old, "runs": 7}, {"code": new, "runs": 9}]
    history = json.loads(pq.read_schema(out / "runs.parquet").metadata[HISTORY_KEY])
    assert [(entry["code"], entry["runs"]) for entry in history] == [(old, 7), (new, 9)]
    assert set(history[0]["run_ids"]) | set(history[1]["run_ids"]) == set(
        runs_table(out)["run_id"])
    assert CODE_KEY not in pq.read_schema(out / "runs.parquet").metadata  # no single code

    # a directory of mixed code stays refused without the flag, even complete
    code, _, err = invoke(capsys, command)
    assert code == 2 and len(err.splitlines()) == 1 and identity.short(old) in err


def test_code_recorded_only_in_a_part_is_checked(
        partial: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    experiment, out = partial
    other = {**identity.code_identity(), "source_sha256": "e" * 64}
    path = part_files(out)[1]
    table = pq.read_table(path)
    metadata = {**table.schema.metadata, CODE_KEY: json.dumps(other).encode(),
                HISTORY_KEY: json.dumps([{"code": other, "runs": 3}]).encode()}
    pq.write_table(table.replace_schema_metadata(metadata), path)
    code, _, err = invoke(capsys, ["sweep", str(experiment), "--out", str(out),
                                   "--workers", "1", "--quiet"])
    assert code == 2
    assert len(err.splitlines()) == 1 and f"other code ({identity.short(other)})" in err


def test_consolidation_never_mixes_codes_unasked(partial: tuple[Path, Path],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    experiment, out = partial
    fake_code(monkeypatch)
    with ResultStore(out, load(experiment), allow_code_change=True) as store:
        store.allow_code_change = False
        with pytest.raises(ExperimentError, match="holds runs made by other code"):
            store.finalize(RUNS)
    assert not (out / "runs.parquet").exists()
    assert len(part_files(out)) == 3


def test_a_manifest_without_code_is_other_code(
        tmp_path: Path, reference: tuple[Path, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    """A directory written before code identities were recorded."""
    out = tmp_path / "out"
    shutil.copytree(reference[1], out)
    meta = manifest(out)
    del meta["code"], meta["code_history"]
    meta["code_version"] = "0.2.0+g70297b1"
    (out / "manifest.json").write_text(json.dumps(meta))
    table = pq.read_table(out / "runs.parquet")
    pq.write_table(table.replace_schema_metadata({b"pandas": table.schema.metadata[b"pandas"]}),
                   out / "runs.parquet")
    code, _, err = invoke(capsys, ["sweep", str(reference[0]), "--out", str(out),
                                   "--workers", "1", "--quiet"])
    assert code == 2 and len(err.splitlines()) == 1
    assert "other code (code not recorded, labelled 0.2.0+g70297b1)" in err


# --- 3. damaged storage ------------------------------------------------------------------------
def damage(path: Path, kind: str) -> None:
    """Spoil a stored Parquet file the way disks, copies and people do."""
    good = path.read_bytes()
    if kind == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "random":
        path.write_bytes(random.Random(1).randbytes(len(good)))
    elif kind == "wrong_columns":
        pd.DataFrame({"x": [1, 2, 3]}).to_parquet(path)
    elif kind == "missing_column":
        table = pq.read_table(path)
        dropped = [n for n in table.schema.names if n not in ("run_id", "quarter")][-1]
        pq.write_table(table.drop_columns([dropped]), path)
    else:
        raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["truncated", "empty", "random", "wrong_columns",
                                  "missing_column"])
@pytest.mark.parametrize("table", ["runs", "series"])
def test_a_damaged_part_is_quarantined_named_and_run_again(
        partial: tuple[Path, Path], reference: tuple[Path, Path],
        capsys: pytest.CaptureFixture[str], table: str, kind: str) -> None:
    experiment, out = partial
    target = part_files(out, table)[0]
    runs_part = part_files(out)[0]
    lost = set(pd.read_parquet(runs_part)["run_id"])
    kept = stored_ids(out) - lost
    damage(target, kind)
    damaged = target.read_bytes()
    capsys.readouterr()

    executor = Recording()
    run_sweep(load(experiment), out, executor, progress=False)
    assert set(executor.given) == all_ids(experiment) - kept
    assert len(executor.given) == RUNS - 4
    lines = warnings_in(capsys.readouterr().err)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"warning: {runs_part} ")
    assert lines[0].endswith(f"moved to {out / 'quarantine'} (with "
                             f"{runs_part.name.replace('runs-', 'series-', 1)}), its runs "
                             "will be run again")
    quarantined = out / "quarantine" / target.name
    assert quarantined.read_bytes() == damaged  # moved, never deleted
    assert sorted(p.name for p in (out / "quarantine").iterdir()) == sorted(
        [runs_part.name, runs_part.name.replace("runs-", "series-", 1)])
    assert_same_as(out, reference[1])


def test_a_deleted_series_part_is_noticed_and_its_runs_run_again(
        partial: tuple[Path, Path], reference: tuple[Path, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    experiment, out = partial
    runs_part = part_files(out)[1]
    series_part = part_files(out, "series")[1]
    lost = set(pd.read_parquet(runs_part)["run_id"])
    kept = stored_ids(out) - lost
    series_part.unlink()
    capsys.readouterr()
    executor = Recording()
    run_sweep(load(experiment), out, executor, progress=False)
    assert set(executor.given) == all_ids(experiment) - kept
    assert lost <= set(executor.given) and len(executor.given) == RUNS - 4
    assert warnings_in(capsys.readouterr().err) == [
        f"warning: {runs_part} has no series ({series_part.name} is missing); moved to "
        f"{out / 'quarantine'}, its runs will be run again"]
    assert (out / "quarantine" / runs_part.name).exists()
    assert_same_as(out, reference[1])


def test_consolidated_runs_without_their_series_are_run_again(
        tmp_path: Path, reference: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    experiment, reference_dir = reference
    out = tmp_path / "out"
    shutil.copytree(reference_dir, out)
    series = pq.read_table(out / "series.parquet")
    lost = list(dict.fromkeys(series.column("run_id").to_pylist()))[3:8]
    frame = series.to_pandas()
    pq.write_table(pq.read_table(out / "series.parquet").filter(
        ~frame["run_id"].isin(lost).to_numpy()), out / "series.parquet")
    capsys.readouterr()

    executor = Recording()
    run_sweep(load(experiment), out, executor, progress=False)
    assert sorted(executor.given) == sorted(lost)
    assert warnings_in(capsys.readouterr().err) == [
        f"warning: {out / 'runs.parquet'}: 5 of its 16 runs have no whole series in "
        f"{out / 'series.parquet'}; moved both to {out / 'quarantine'}, kept the 11 "
        "complete runs, the 5 others will be run again"]
    assert sorted(p.name for p in (out / "quarantine").iterdir()) == [
        "runs.parquet", "series.parquet"]
    assert_same_as(out, reference_dir)


@pytest.mark.parametrize("kind", ["truncated", "random", "wrong_columns"])
def test_a_damaged_consolidated_table_is_run_again(
        tmp_path: Path, reference: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
        kind: str) -> None:
    experiment, reference_dir = reference
    out = tmp_path / "out"
    shutil.copytree(reference_dir, out)
    damage(out / "runs.parquet", kind)
    capsys.readouterr()
    executor = Recording()
    run_sweep(load(experiment), out, executor, progress=False)
    assert len(executor.given) == RUNS
    lines = warnings_in(capsys.readouterr().err)
    assert len(lines) == 1 and lines[0].startswith(f"warning: {out / 'runs.parquet'} ")
    assert_same_as(out, reference_dir)


MANIFEST_DAMAGE = {
    "truncated": lambda text: text[: len(text) // 2],
    "empty": lambda text: "",
    "random": None,  # bytes, below
    "empty_object": lambda text: "{}",
    "missing_key": lambda text: json.dumps({k: v for k, v in json.loads(text).items()
                                            if k != "status"}),
}


@pytest.mark.parametrize("kind", list(MANIFEST_DAMAGE))
def test_a_damaged_manifest_is_one_line_whose_advice_works(
        partial: tuple[Path, Path], reference: tuple[Path, Path],
        capsys: pytest.CaptureFixture[str], kind: str) -> None:
    experiment, out = partial
    path = out / "manifest.json"
    if kind == "random":
        path.write_bytes(random.Random(2).randbytes(600))
    else:
        path.write_text(MANIFEST_DAMAGE[kind](path.read_text()))
    before = stored_state(out)
    code, stdout, err = invoke(capsys, ["sweep", str(experiment), "--out", str(out),
                                        "--workers", "1", "--quiet"])
    assert (code, stdout) == (2, "")
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"python -m sim sweep: error: manifest.json in {out} is "
                               "damaged (")
    assert lines[0].endswith("); move it aside (e.g. to manifest.json.damaged) and run "
                             "again to rebuild it from experiment.toml and the stored runs, "
                             "or choose another --out directory")
    assert stored_state(out) == before

    # the advice, followed: the stored runs are kept, only the others are run
    stored = stored_ids(out)
    path.rename(out / "manifest.json.damaged")
    executor = Recording()
    run_sweep(load(experiment), out, executor, progress=False)
    assert set(executor.given) == all_ids(experiment) - stored and len(stored) == 7
    assert warnings_in(capsys.readouterr().err) == [
        f"warning: {out} had no manifest.json; rebuilt it from experiment.toml and the 7 "
        "stored runs"]
    assert_same_as(out, reference[1])
    assert "rebuilt" in manifest(out)


def test_a_damaged_manifest_without_experiment_file_says_it_cannot_be_rebuilt(
        partial: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    experiment, out = partial
    (out / "manifest.json").write_text("{")
    (out / "experiment.toml").unlink()
    code, _, err = invoke(capsys, ["sweep", str(experiment), "--out", str(out),
                                   "--workers", "1", "--quiet"])
    assert code == 2 and len(err.splitlines()) == 1
    assert err.rstrip().endswith("its experiment.toml is missing or not this experiment's, "
                                 "so it cannot be rebuilt: choose another --out directory")


def test_a_directory_without_manifest_of_another_experiment_is_refused(
        partial: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = partial
    (out / "manifest.json").unlink()
    other = write_experiment(tmp_path / "other.toml", "other")
    before = stored_state(out)
    code, _, err = invoke(capsys, ["sweep", str(other), "--out", str(out), "--workers", "1",
                                   "--quiet"])
    assert code == 2 and len(err.splitlines()) == 1
    assert f"{out} holds results of a different experiment ('safety'" in err
    assert stored_state(out) == before


@pytest.mark.parametrize(("name", "kind"), [
    ("runs.parquet", "truncated"), ("runs.parquet", "empty"), ("runs.parquet", "random"),
    ("runs.parquet", "wrong_columns"), ("series.parquet", "truncated"),
    ("manifest.json", "truncated")])
def test_figures_of_a_damaged_directory_is_one_line(
        tmp_path: Path, reference: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
        name: str, kind: str) -> None:
    out = tmp_path / "out"
    shutil.copytree(reference[1], out)
    path = out / name
    if name == "manifest.json":
        path.write_text(path.read_text()[:40])
    else:
        damage(path, kind)
    code, stdout, err = invoke(capsys, ["figures", str(out), "--out", str(tmp_path / "f")])
    assert (code, stdout) == (2, "")
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    if name == "manifest.json":
        assert lines[0].startswith(f"python -m sim figures: error: manifest.json in {out} "
                                   "is damaged (not valid JSON: ")
    elif kind == "wrong_columns":
        assert lines[0] == (f"python -m sim figures: error: {path} has the wrong columns "
                            "(no 'run_id'); run the sweep again to set it aside and run its "
                            "runs again")
    else:
        assert lines[0].startswith(f"python -m sim figures: error: {path} cannot be read (")
    assert not (tmp_path / "f").exists()


def test_finalize_marks_a_short_sweep_incomplete_and_says_why(
        tmp_path: Path, reference: tuple[Path, Path]) -> None:
    out = tmp_path / "out"
    runs = run_sweep(load(reference[0]), out, Recording(skip=1), progress=False)
    assert len(runs) == RUNS - 1
    meta = manifest(out)
    assert (meta["status"], meta["runs_stored"]) == ("incomplete", RUNS - 1)
    assert meta["incomplete_reason"] == "15 runs stored of 16 in the design"
    # resuming runs the missing run and completes the directory
    run_sweep(load(reference[0]), out, InProcessExecutor(), progress=False)
    assert_same_as(out, reference[1])
    assert "incomplete_reason" not in manifest(out)
