"""The sweep engine: executors agree, sweeps resume after a kill, a real Dask cluster
survives the loss of a worker, and a results directory of another experiment is refused.

Small experiments (scale 0.05-0.1, two or three simulated years) keep this quick; the
tests that start processes and kill them are also marked ``slow``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from conftest import invoke, snapshot

import sim.sweep
import sim.sweep.tasks
from sim.sweep import (
    DaskExecutor,
    Experiment,
    ExperimentError,
    InProcessExecutor,
    ResultStore,
    load,
    run_sweep,
)
from sim.sweep.tasks import spin_up_groups

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
"""The venv's bin directory: its python and dask import ``sim`` (installed editable)."""

SMALL_RUNS = 16
BIG_RUNS = 160  # about 5 s of runs in one process at scale 0.1 until 2020

TIMEOUT = 180  # seconds: no subprocess or wait of these tests may take longer


# --- helpers -------------------------------------------------------------------------------
def write_experiment(path: Path, name: str, *, series: bool = False, master_seed: int = 5,
                     replicates: int = 2, scale: float = 0.05, until_year: int = 2020,
                     couplings: int = 4) -> Path:
    """A coupling x capability grid: ``couplings * 2 * replicates`` runs."""
    path.write_text(textwrap.dedent(f"""\
        [experiment]
        name = "{name}"
        analysis = "phase_diagram"
        master_seed = {master_seed}
        replicates = {replicates}
        series = {str(series).lower()}

        [fixed]
        scale = {scale}
        until_year = {until_year}

        [grid]
        coupling = {{from = 0.0, to = 1.0, num = {couplings}}}
        capability = [0.3, 0.7]
        """), encoding="utf-8")
    return path


def big_experiment(path: Path) -> Path:
    """The experiment of the kill and distributed tests: 160 runs at scale 0.1."""
    return write_experiment(path, "big", master_seed=11, replicates=8, scale=0.1,
                            couplings=10)


def runs_table(directory: Path) -> pd.DataFrame:
    return pd.read_parquet(directory / "runs.parquet")


def series_table(directory: Path) -> pd.DataFrame:
    return pd.read_parquet(directory / "series.parquet")


def manifest(directory: Path) -> dict:
    return json.loads((directory / "manifest.json").read_text())


def part_files(directory: Path, kind: str = "runs") -> list[Path]:
    return sorted((directory / "parts").glob(f"{kind}-*.parquet"))


def stored_in_parts(directory: Path) -> pd.DataFrame:
    frames = [pd.read_parquet(p) for p in part_files(directory)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()




def assert_complete(directory: Path, reference: Path, total: int, *,
                    series: bool = False) -> None:
    """``directory`` holds a complete sweep identical to ``reference``."""
    runs = runs_table(directory)
    pd.testing.assert_frame_equal(runs, runs_table(reference))
    assert len(runs) == total
    assert runs["run_id"].is_unique
    meta = manifest(directory)
    assert meta["status"] == "complete"
    assert meta["runs_total"] == meta["runs_stored"] == total
    assert not list((directory / "parts").glob("*.parquet")), "parts left after finalize"
    if series:
        table = series_table(directory)
        pd.testing.assert_frame_equal(table, series_table(reference))
        assert not table.duplicated(["run_id", "quarter"]).any()
        assert set(table["run_id"]) == set(runs["run_id"])


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DASK_SCHEDULER_ADDRESS", None)  # the CLI would use it instead of --workers
    env["PYTHONUNBUFFERED"] = "1"
    return env


def sweep_command(experiment: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sim", "sweep", str(experiment), "--out", str(out),
            "--quiet", *extra]


def wait_for(condition: Callable[[], bool], timeout: float, what: str,
             alive: subprocess.Popen | None = None, interval: float = 0.02) -> None:
    """Poll ``condition`` until true; fail after ``timeout`` s or if ``alive`` exits."""
    deadline = time.monotonic() + timeout
    while not condition():
        if alive is not None and alive.poll() is not None:
            pytest.fail(f"process exited ({alive.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL a process started with ``start_new_session`` and all its children; reap it."""
    if process.returncode is None:  # not reaped yet: its pid (= its group) is still ours
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:  # pragma: no cover - a zombie that never goes
        pass


class Processes:
    """Background processes of one test, each in its own session, logged to files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[tuple[subprocess.Popen, object]] = []

    def start(self, command: list[str], log_name: str) -> subprocess.Popen:
        log = open(self.directory / f"{log_name}.log", "wb")
        process = subprocess.Popen(command, cwd=ROOT, env=subprocess_env(), stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        self.started.append((process, log))
        return process

    def logs(self) -> str:
        texts = []
        for path in sorted(self.directory.glob("*.log")):
            texts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}")
        return "\n".join(texts)

    def stop_all(self) -> None:
        for process, log in reversed(self.started):
            kill_group(process)
            log.close()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    """Starts processes for a test and kills every one of them (and their children)
    afterwards, whatever happened."""
    logs = tmp_path / "logs"
    logs.mkdir()
    started = Processes(logs)
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture(scope="module")
def big_reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The big experiment swept in-process without interruption: (file, results dir)."""
    base = tmp_path_factory.mktemp("big_reference")
    experiment = big_experiment(base / "big.toml")
    out = base / "results"
    runs = run_sweep(load(experiment), out, InProcessExecutor(), progress=False)
    assert len(runs) == BIG_RUNS
    return experiment, out


# --- 1. executors agree ---------------------------------------------------------------------
@pytest.mark.slow
def test_local_workers_keep_glibcs_own_heap_trimming(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dask's nannies would start workers with MALLOC_TRIM_THRESHOLD_=65536, which makes
    a run 2-10% slower; the embedded cluster's workers run without it, unless
    the user's own environment sets it."""
    import dask
    import distributed  # noqa: F401  (loads its default configuration)

    assert dask.config.get("distributed.nanny.pre-spawn-environ")[
        "MALLOC_TRIM_THRESHOLD_"] == 65536  # what the executor has to undo
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    with DaskExecutor(workers=2) as executor:
        seen = list(executor.map_unordered(os.getenv, ["MALLOC_TRIM_THRESHOLD_"] * 4))
    assert seen == [None] * 4
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1048576")  # the user's choice wins
    with DaskExecutor(workers=1) as executor:
        seen = list(executor.map_unordered(os.getenv, ["MALLOC_TRIM_THRESHOLD_"]))
    assert seen == ["1048576"]


@pytest.mark.slow
def test_sweeps_in_a_row_share_one_cluster(tmp_path: Path) -> None:
    """Inside kept_running(), the cluster the first sweep starts serves the next one and
    is closed at the block's end; a block in which no sweep has runs starts nothing."""
    first = load(write_experiment(tmp_path / "a.toml", "first"))
    second = load(write_experiment(tmp_path / "b.toml", "second"))
    executor = DaskExecutor(workers=1)
    clients = []
    with executor.kept_running():
        assert executor._client is None  # nothing started yet
        for experiment in (first, second):
            run_sweep(experiment, tmp_path / experiment.name, executor, progress=False)
            clients.append(executor._client)
    assert clients[0] is not None and clients[1] is clients[0]
    assert clients[0].status == "closed" and executor._client is None
    with executor.kept_running():  # every run stored: no cluster at all
        run_sweep(first, tmp_path / "first", executor, progress=False)
        assert executor._client is None
    # outside such a block, each sweep starts and closes its own
    run_sweep(second, tmp_path / "again", executor, progress=False)
    assert executor._client is None
    pd.testing.assert_frame_equal(runs_table(tmp_path / "again"), runs_table(tmp_path / "second"))


@pytest.mark.slow
def test_a_kept_cluster_lost_between_sweeps_is_started_afresh(tmp_path: Path) -> None:
    """A cluster kept running whose client was lost before the next sweep is not reused:
    that sweep starts a new one and completes."""
    first = load(write_experiment(tmp_path / "a.toml", "first"))
    second = load(write_experiment(tmp_path / "b.toml", "second"))
    executor = DaskExecutor(workers=1)
    with executor.kept_running():
        run_sweep(first, tmp_path / "first", executor, progress=False)
        lost = executor._client
        lost.close()  # as if the scheduler had gone away meanwhile
        assert lost.status != "running"
        run_sweep(second, tmp_path / "second", executor, progress=False)
        assert executor._client is not None and executor._client is not lost
        assert executor._client.status == "running"
    assert executor._client is None
    alone = run_sweep(second, tmp_path / "alone", InProcessExecutor(), progress=False)
    pd.testing.assert_frame_equal(runs_table(tmp_path / "second"), alone)


@pytest.mark.slow
@pytest.mark.parametrize("series", [False, True], ids=["runs", "series"])
def test_executors_give_identical_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         series: bool) -> None:
    # small batches, so the tables are consolidated from several parts
    monkeypatch.setattr(sim.sweep, "FLUSH_EVERY_RUNS", 3)
    experiment = load(write_experiment(tmp_path / "exp.toml", "agree", series=series))
    assert len(experiment.runs()) == SMALL_RUNS

    in_order = run_sweep(experiment, tmp_path / "in_order", InProcessExecutor(),
                         progress=False)
    shuffled = run_sweep(experiment, tmp_path / "shuffled", InProcessExecutor(shuffle_seed=3),
                         progress=False)
    dask = run_sweep(experiment, tmp_path / "dask", DaskExecutor(workers=2), progress=False)
    # the runs sharing a spin-up go out together (4 groups of 4 here); one run a task,
    # each with its own spin-up, gives the same tables
    assert [len(group) for group in spin_up_groups(experiment.runs())] == [4, 4, 4, 4]
    monkeypatch.setattr(sim.sweep.tasks, "GROUP_RUNS", 1)
    alone = run_sweep(experiment, tmp_path / "alone", InProcessExecutor(), progress=False)

    reference = tmp_path / "in_order"
    assert len(in_order) == SMALL_RUNS and in_order["run_id"].is_unique
    pd.testing.assert_frame_equal(in_order, runs_table(reference))
    for other, table in (("shuffled", shuffled), ("dask", dask), ("alone", alone)):
        pd.testing.assert_frame_equal(table, in_order)
        assert_complete(tmp_path / other, reference, SMALL_RUNS, series=series)
    assert (tmp_path / "in_order" / "series.parquet").exists() == series
    if series:
        frame = series_table(reference)
        # one row per quarter of every run: 2018Q1..2020Q4
        assert len(frame) == SMALL_RUNS * 12


def test_shuffle_really_changes_the_order() -> None:
    """Guards the test above: a shuffled executor does run in another order."""
    items = list(range(20))
    order = list(InProcessExecutor(shuffle_seed=3).map_unordered(lambda x: x, items))
    assert sorted(order) == items and order != items


# --- 2. interrupted sweeps resume ------------------------------------------------------------
class _Interrupted(InProcessExecutor):
    """Stops the sweep like Ctrl-C after ``after`` tasks (one result each)."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after

    def map_unordered(self, task, items):
        for done, result in enumerate(super().map_unordered(task, items), start=1):
            yield result
            if done == self.after:
                raise KeyboardInterrupt


class _Recording(InProcessExecutor):
    """Runs the tasks and remembers which run ids it was given."""

    def __init__(self, shuffle_seed: int | None = None) -> None:
        super().__init__(shuffle_seed)
        self.given: list[str] = []

    def map_unordered(self, task, items):
        items = list(items)
        self.given.extend(spec.run_id for group in items for spec in group)
        return super().map_unordered(task, items)


def _stopped_sweep(tmp_path: Path, name: str, after: int) -> tuple[Experiment, Path, Path]:
    """The small experiment (series on) swept whole into ``reference`` and stopped like
    Ctrl-C after ``after`` tasks into ``out``: (experiment, reference, out)."""
    experiment = load(write_experiment(tmp_path / "exp.toml", name, series=True))
    reference = tmp_path / "reference"
    run_sweep(experiment, reference, InProcessExecutor(), progress=False)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(experiment, out, _Interrupted(after=after), progress=False)
    return experiment, reference, out


def test_interrupted_store_with_stray_temporary_files_resumes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim.sweep, "FLUSH_EVERY_RUNS", 3)
    monkeypatch.setattr(sim.sweep.tasks, "GROUP_RUNS", 1)  # a stop between any two runs
    experiment, reference, out = _stopped_sweep(tmp_path, "resume", after=7)
    assert not (out / "runs.parquet").exists()
    assert manifest(out)["status"] == "interrupted"
    parts = part_files(out)
    assert len(parts) == 3  # 3 + 3 + the 1 flushed on the way out
    assert len(stored_in_parts(out)) == 7

    # A kill between the series part and its runs part: that batch's series stays, its
    # runs do not (so they are run again and their series come twice).
    last = parts[-1]
    last.unlink()
    assert (out / "parts" / last.name.replace("runs-", "series-", 1)).exists()
    stored = set(stored_in_parts(out)["run_id"])
    assert len(stored) == 6
    # A write killed half way: a truncated temporary file next to the parts.
    good = part_files(out)[0].read_bytes()
    stray = out / "parts" / ".tmp-0123456789abcdef-runs-20260101T000000000000-dead.parquet"
    stray.write_bytes(good[: len(good) // 2])

    # opening the store clears what the killed write left
    assert ResultStore(out, experiment).open() == stored
    assert not stray.exists()
    stray.write_bytes(good[: len(good) // 3])  # and once more, for the sweep to meet

    executor = _Recording()
    run_sweep(experiment, out, executor, progress=False)
    all_ids = {spec.run_id for spec in experiment.runs()}
    assert sorted(executor.given) == sorted(all_ids - stored), "resume must run only the rest"
    assert not list((out / "parts").glob(".tmp-*"))
    assert_complete(out, reference, SMALL_RUNS, series=True)

    # A complete directory: sweeping again runs nothing and changes no table.
    again = _Recording()
    run_sweep(experiment, out, again, progress=False)
    assert again.given == []
    assert_complete(out, reference, SMALL_RUNS, series=True)


def test_a_sweep_stopped_between_groups_resumes(tmp_path: Path) -> None:
    """Stopped after two groups of runs sharing a spin-up (8 runs): the rest run on
    resuming, and the tables are those of a sweep never stopped."""
    experiment, reference, out = _stopped_sweep(tmp_path, "groups", after=2)
    stored = set(stored_in_parts(out)["run_id"])
    assert len(stored) == 8
    executor = _Recording(shuffle_seed=2)
    run_sweep(experiment, out, executor, progress=False)
    assert sorted(executor.given) == sorted({s.run_id for s in experiment.runs()} - stored)
    assert_complete(out, reference, SMALL_RUNS, series=True)


def test_duplicate_part_is_consolidated_once(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A run stored twice (e.g. the same batch written by two attempts) is kept once."""
    monkeypatch.setattr(sim.sweep, "FLUSH_EVERY_RUNS", 4)
    monkeypatch.setattr(sim.sweep.tasks, "GROUP_RUNS", 1)
    experiment = load(write_experiment(tmp_path / "exp.toml", "duplicates"))
    reference = tmp_path / "reference"
    run_sweep(experiment, reference, InProcessExecutor(), progress=False)

    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(experiment, out, _Interrupted(after=8), progress=False)
    first = part_files(out)[0]
    shutil.copyfile(first, first.with_name("runs-29991231T235959999999-copy0000.parquet"))
    run_sweep(experiment, out, InProcessExecutor(shuffle_seed=1), progress=False)
    assert_complete(out, reference, SMALL_RUNS)


@pytest.mark.slow
def test_kill_9_and_resume(tmp_path: Path, processes: Processes,
                           big_reference: tuple[Path, Path]) -> None:
    experiment_file, reference = big_reference
    experiment = tmp_path / "big.toml"
    shutil.copyfile(experiment_file, experiment)
    out = tmp_path / "out"
    command = sweep_command(experiment, out, "--workers", "1")

    sweep = processes.start(command, "sweep")
    # A part appears every FLUSH_EVERY_RUNS (50) runs or 5 s: long before 160 runs end.
    wait_for(lambda: bool(part_files(out)), 60, "the first part", alive=sweep)
    os.kill(sweep.pid, signal.SIGKILL)
    assert sweep.wait(timeout=30) == -signal.SIGKILL

    assert not (out / "runs.parquet").exists(), "the sweep ended before it was killed"
    assert manifest(out)["status"] == "running"
    stored = stored_in_parts(out)
    assert 0 < len(stored) < BIG_RUNS
    print(f"sweep killed with {len(stored)} of {BIG_RUNS} runs stored")
    assert stored["run_id"].is_unique

    finished = subprocess.run(command, cwd=ROOT, env=subprocess_env(), capture_output=True,
                              text=True, timeout=TIMEOUT)
    assert finished.returncode == 0, finished.stderr
    assert f"{BIG_RUNS} runs stored" in finished.stdout
    assert_complete(out, reference, BIG_RUNS)
    # the runs stored before the kill are in the final table unchanged
    final = runs_table(out).set_index("run_id")
    before = stored.set_index("run_id")[final.columns]
    pd.testing.assert_frame_equal(before, final.loc[before.index])


# --- 3. a real Dask cluster losing a worker --------------------------------------------------
@pytest.mark.slow
def test_distributed_sweep_survives_a_killed_worker(
        tmp_path: Path, processes: Processes, big_reference: tuple[Path, Path]) -> None:
    from distributed import Client

    experiment_file, reference = big_reference
    experiment = tmp_path / "big.toml"
    shutil.copyfile(experiment_file, experiment)
    scheduler_file = tmp_path / "scheduler.json"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    dask = str(BIN / "dask")

    processes.start([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                     "--scheduler-file", str(scheduler_file), "--no-dashboard",
                     "--dashboard-address", "127.0.0.1:0", "--idle-timeout", "600"],
                    "scheduler")
    workers = [
        processes.start([dask, "worker", "--scheduler-file", str(scheduler_file),
                         "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                         "--dashboard-address", "127.0.0.1:0", "--host", "127.0.0.1",
                         "--local-directory", str(scratch / f"w{i}"),
                         "--death-timeout", "60", "--name", f"w{i}"],
                        f"worker{i}")
        for i in range(2)]

    def scheduler_ready() -> bool:
        try:
            return bool(json.loads(scheduler_file.read_text()).get("address"))
        except (OSError, ValueError):
            return False

    try:
        wait_for(scheduler_ready, 60, "the scheduler file")
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        with Client(scheduler_file=str(scheduler_file), timeout="30s") as client:
            client.wait_for_workers(2, timeout=90)

            out = tmp_path / "out"
            sweep = processes.start(sweep_command(experiment, out, "--scheduler", address),
                                    "sweep")
            wait_for(lambda: bool(part_files(out)), 90, "the first part", alive=sweep)
            kill_group(workers[0])  # the worker and its nanny, SIGKILL
            assert workers[0].returncode == -signal.SIGKILL
            assert not (out / "runs.parquet").exists(), "sweep ended before the kill"
            at_kill = len(stored_in_parts(out))
            assert at_kill < BIG_RUNS
            print(f"worker killed with {at_kill} of {BIG_RUNS} runs stored")

            assert sweep.wait(timeout=TIMEOUT) == 0
            wait_for(lambda: len(client.scheduler_info()["workers"]) == 1, 30,
                     "the scheduler to drop the killed worker")
    except BaseException:
        print(processes.logs())
        raise
    assert_complete(out, reference, BIG_RUNS)


# --- 4. a results directory of another experiment ---------------------------------------------


def test_results_of_another_experiment_are_refused(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    first = write_experiment(tmp_path / "first.toml", "first")
    out = tmp_path / "results"
    code, _, err = invoke(capsys, ["sweep", str(first), "--out", str(out), "--workers", "1",
                                   "--quiet"])
    assert code == 0, err
    before = snapshot(out)
    time.sleep(0.01)  # so that a rewrite would show in the mtimes

    # same name, one value changed: another experiment all the same
    for name, seed in (("first", 6), ("second", 5)):
        other = write_experiment(tmp_path / f"other-{name}-{seed}.toml", name,
                                 master_seed=seed)
        code, stdout, err = invoke(capsys, ["sweep", str(other), "--out", str(out),
                                            "--workers", "1", "--quiet"])
        assert code == 2
        assert stdout == ""
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert "different experiment" in lines[0] and str(out) in lines[0]
        assert "Traceback" not in err
        assert snapshot(out) == before


def test_same_experiment_with_another_layout_is_accepted(tmp_path: Path) -> None:
    """Comments and key order are not part of an experiment's identity."""
    first = load(write_experiment(tmp_path / "first.toml", "layout"))
    text = (tmp_path / "first.toml").read_text()
    second_file = tmp_path / "second.toml"
    second_file.write_text("# the same experiment, written differently\n" + text)
    second = load(second_file)
    assert first.fingerprint == second.fingerprint
    out = tmp_path / "results"
    run_sweep(first, out, InProcessExecutor(), progress=False)
    assert ResultStore(out, second).open() == {spec.run_id for spec in first.runs()}


def test_a_non_results_directory_is_refused(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    experiment = write_experiment(tmp_path / "exp.toml", "elsewhere")
    out = tmp_path / "not_results"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    before = snapshot(out)
    code, _, err = invoke(capsys, ["sweep", str(experiment), "--out", str(out),
                                   "--workers", "1", "--quiet"])
    assert code == 2
    assert len(err.splitlines()) == 1 and "not a results directory" in err
    assert snapshot(out) == before
    with pytest.raises(ExperimentError):
        ResultStore(out, load(experiment)).open()


def test_dashboard_is_served_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    """--dashboard prints the dashboard's address once the cluster is up; without it
    the executor describes itself with no dashboard."""
    assert "dashboard" not in DaskExecutor(workers=1).describe()
    assert DaskExecutor(workers=1, dashboard=True).describe() == "local Dask cluster, 1 workers"
    with DaskExecutor(workers=1, dashboard=True) as executor:
        link = executor.describe()
    assert "dashboard http://127.0.0.1:" in link
    assert link in capsys.readouterr().err
