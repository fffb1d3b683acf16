"""Processes of the safety tests: sweeps, Dask schedulers and workers, started in their
own sessions, logged to files, waited for with bounds and killed (with their children)
by the test that started them. Every server binds 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
"""The venv's bin directory: its python and dask import ``sim`` (installed editable)."""

TIMEOUT = 180  # seconds: no subprocess or wait of these tests may take longer
RUNS = 160  # runs of the reference experiment: 8-40 s in one process, long enough to
#             stop a sweep mid-way


def subprocess_env(**extra: str) -> dict[str, str]:
    """This environment, without a scheduler address unless given, unbuffered."""
    env = dict(os.environ)
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def write_experiment(path: Path, name: str, *, couplings: int = 4, replicates: int = 2,
                     master_seed: int = 5) -> Path:
    """A coupling x capability grid at scale 0.05 until 2020:
    ``couplings * 2 * replicates`` runs of about 0.05-0.2 s each."""
    path.write_text(textwrap.dedent(f"""\
        [experiment]
        name = "{name}"
        analysis = "phase_diagram"
        master_seed = {master_seed}
        replicates = {replicates}

        [fixed]
        scale = 0.05
        until_year = 2020

        [grid]
        coupling = {{from = 0.0, to = 1.0, num = {couplings}}}
        capability = [0.3, 0.7]
        """), encoding="utf-8")
    return path


def sweep_command(experiment: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sim", "sweep", str(experiment), "--out", str(out), *extra]


def manifest(directory: Path) -> dict:
    return json.loads((directory / "manifest.json").read_text())


def part_files(directory: Path) -> list[Path]:
    return sorted((directory / "parts").glob("runs-*.parquet"))


def stored_in_parts(directory: Path) -> pd.DataFrame:
    frames = [pd.read_parquet(path) for path in part_files(directory)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


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


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class Processes:
    """Background processes of one test, each in its own session, logged to files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[tuple[subprocess.Popen, object]] = []

    def start(self, command: list[str], log_name: str,
              env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.directory / f"{log_name}.log", "wb")
        process = subprocess.Popen(command, cwd=ROOT, env=env or subprocess_env(),
                                   stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        self.started.append((process, log))
        return process

    def log(self, log_name: str) -> str:
        return (self.directory / f"{log_name}.log").read_text(errors="replace")

    def logs(self) -> str:
        texts = []
        for path in sorted(self.directory.glob("*.log")):
            texts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}")
        return "\n".join(texts)

    def stop_all(self) -> None:
        for process, log in reversed(self.started):
            kill_group(process)
            log.close()

    # --- a Dask cluster on 127.0.0.1 -----------------------------------------------------
    def scheduler(self, scratch: Path) -> tuple[subprocess.Popen, str]:
        """A ``dask scheduler`` on a free loopback port: (process, its address)."""
        scheduler_file = scratch / "scheduler.json"
        process = self.start([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1",
                              "--port", "0", "--scheduler-file", str(scheduler_file),
                              "--no-dashboard", "--dashboard-address", "127.0.0.1:0",
                              "--idle-timeout", "600"], "scheduler")

        def ready() -> bool:
            try:
                return bool(json.loads(scheduler_file.read_text()).get("address"))
            except (OSError, ValueError):
                return False

        wait_for(ready, 90, "the scheduler file", alive=process)
        return process, json.loads(scheduler_file.read_text())["address"]

    def worker(self, address: str, scratch: Path, name: str,
               preload: Path | None = None) -> subprocess.Popen:
        """One single-threaded ``dask worker`` (with its nanny) joining ``address``."""
        command = [str(BIN / "dask"), "worker", address, "--nthreads", "1",
                   "--nworkers", "1", "--no-dashboard", "--dashboard-address",
                   "127.0.0.1:0", "--host", "127.0.0.1", "--local-directory",
                   str(scratch / name), "--death-timeout", "60", "--name", name]
        if preload is not None:
            command += ["--preload", str(preload)]
        return self.start(command, name)


def worker_addresses(address: str) -> list[str]:
    """The workers the scheduler at ``address`` knows."""
    from distributed import Client

    with Client(address, timeout="30s") as client:
        return sorted(client.scheduler_info()["workers"])


def wait_for_workers(address: str, count: int, timeout: float = 90) -> list[str]:
    """Wait until the scheduler at ``address`` has ``count`` workers; their addresses."""
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(count, timeout=timeout)
        return sorted(client.scheduler_info()["workers"])


@pytest.fixture(name="reference", scope="session")
def reference_fixture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``reference``: the experiment of the stopped sweeps, swept in-process without
    interruption: (its file, its results directory)."""
    from sim.sweep import InProcessExecutor, load, run_sweep

    base = tmp_path_factory.mktemp("reference")
    experiment = write_experiment(base / "stopped.toml", "stopped", couplings=8,
                                  replicates=10, master_seed=17)
    out = base / "results"
    assert len(run_sweep(load(experiment), out, InProcessExecutor(), progress=False)) == RUNS
    return experiment, out


@pytest.fixture(name="processes")
def processes_fixture(tmp_path: Path) -> Iterator[Processes]:
    """``processes``: starts processes for a test and kills every one of them (and their children)
    afterwards, whatever happened; their logs are printed (pytest shows them if the
    test failed)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    started = Processes(logs)
    try:
        yield started
    finally:
        started.stop_all()
        print(started.logs())
