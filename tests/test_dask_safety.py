"""Sweeps on Dask that cannot go on end in one line, soon, with what finished stored.

Each failure is reproduced against real processes on 127.0.0.1: a scheduler with no
worker, the last worker killed, the scheduler killed, an HTTP server and a server that
speaks first given as the scheduler, malformed addresses, and workers whose code differs
from the submitter's (a preload script makes a worker report another fingerprint).
Tests that start processes are marked ``slow``; every wait is bounded.
"""

from __future__ import annotations

import http.server
import io
import pickle
import random
import resource
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from conftest import invoke
from processes import (
    ROOT,
    RUNS,
    TIMEOUT,
    Processes,
    kill_group,
    manifest,
    part_files,
    processes_fixture,  # noqa: F401 - the fixture 'processes'
    reference_fixture,  # noqa: F401 - the fixture 'reference'
    stored_in_parts,
    subprocess_env,
    sweep_command,
    wait_for,
    wait_for_workers,
    write_experiment,
)

from sim.experiment import identity
from sim.sweep import DaskExecutor, InProcessExecutor, load, run_sweep
from sim.sweep.execute import (
    HANDSHAKE_SECONDS,
    SchedulerAddressError,
    parse_scheduler_address,
    probe_scheduler,
)
from sim.sweep.progress import Progress
from sim.sweep.tasks import CodeMismatchError, run_checked

RESUME = "finished runs are stored, run the same command again to resume"


@pytest.fixture
def experiment(tmp_path: Path, reference: tuple[Path, Path]) -> Path:
    path = tmp_path / "stopped.toml"
    path.write_bytes(reference[0].read_bytes())
    return path


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    path = tmp_path / "scratch"
    path.mkdir()
    return path


def other_code_preload(directory: Path) -> Path:
    """A worker preload that makes the worker's code fingerprint differ from this
    checkout's, as a worker with another version of the model would."""
    path = directory / "other_code.py"
    path.write_text('"""This worker reports another code fingerprint."""\n'
                    "import sim.experiment.identity as identity\n\n"
                    "identity.source_sha256 = lambda: '0' * 64\n")
    return path


def error_lines(text: str) -> list[str]:
    """The lines of a sweep's output, checked to hold no traceback."""
    assert "Traceback" not in text, text
    return [line for line in text.splitlines() if line.strip()]


def assert_resumes_to_reference(experiment: Path, out: Path, reference: Path) -> None:
    """Resuming the stopped sweep gives the same table as the uninterrupted one."""
    # allow_code_change: this checkout may be edited while the test runs; the table
    # must come out the same all the same
    runs = run_sweep(load(experiment), out, InProcessExecutor(), progress=False,
                     allow_code_change=True)
    pd.testing.assert_frame_equal(runs, pd.read_parquet(reference / "runs.parquet"))
    assert manifest(out)["status"] == "complete"


# --- addresses ---------------------------------------------------------------------------------
def test_scheduler_addresses_are_normalised() -> None:
    assert parse_scheduler_address("127.0.0.1:8786") == "tcp://127.0.0.1:8786"
    assert parse_scheduler_address(" tcp://node-3.example:1 ") == "tcp://node-3.example:1"
    assert parse_scheduler_address("[::1]:8786") == "tcp://[::1]:8786"
    assert parse_scheduler_address("tcp://[::1]:65535") == "tcp://[::1]:65535"


GARBAGE = ["not an address!", "tcp://127.0.0.1:99999", "tcp://127.0.0.1:0",
           "http://127.0.0.1:8786", "tls://127.0.0.1:8786", "127.0.0.1", "tcp://:8786",
           "127.0.0.1:port", "  "]


@pytest.mark.parametrize("source", ["option", "environment"])
@pytest.mark.parametrize("address", GARBAGE)
def test_garbage_address_is_one_line_and_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        source: str, address: str) -> None:
    experiment = write_experiment(tmp_path / "exp.toml", "garbage")
    out = tmp_path / "out"
    argv = ["sweep", str(experiment), "--out", str(out), "--quiet"]
    if source == "option":
        argv += ["--scheduler", address]
    else:
        if not address.strip():
            pytest.skip("an empty $DASK_SCHEDULER_ADDRESS means: no scheduler")
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
    began = time.monotonic()
    exit_code, stdout, err = invoke(capsys, argv)
    assert time.monotonic() - began < 30
    assert exit_code == 2 and stdout == ""
    lines = error_lines(err)
    assert len(lines) == 1, err
    named = "--scheduler" if source == "option" else "$DASK_SCHEDULER_ADDRESS"
    assert lines[0].startswith(f"python -m sim sweep: error: {named}: "), lines[0]
    assert not out.exists(), "the results directory was touched"


def test_a_port_nobody_listens_on_is_one_line_and_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    experiment = write_experiment(tmp_path / "exp.toml", "closed")
    out = tmp_path / "out"
    exit_code, _, err = invoke(capsys, ["sweep", str(experiment), "--out", str(out), "--quiet",
                                    "--scheduler", f"127.0.0.1:{port}"])
    assert exit_code == 2
    assert error_lines(err) == [f"python -m sim sweep: error: no Dask scheduler at "
                                f"tcp://127.0.0.1:{port}: connection refused"]
    assert not out.exists()


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf"])
def test_no_worker_timeout_must_be_positive(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str],
                                            value: str) -> None:
    experiment = write_experiment(tmp_path / "exp.toml", "timeout")
    exit_code, _, err = invoke(capsys, ["sweep", str(experiment), "--out", str(tmp_path / "o"),
                                    "--workers", "2", f"--no-worker-timeout={value}"])
    assert exit_code == 2
    lines = error_lines(err)
    assert len(lines) == 1 and "--no-worker-timeout" in lines[0], err
    with pytest.raises(ValueError):
        DaskExecutor(workers=1, no_worker_timeout=0)


# --- servers that are not Dask schedulers ---------------------------------------------------
@pytest.fixture
def http_server() -> Iterator[int]:
    """An HTTP server on 127.0.0.1 (it waits for a request, as HTTP servers do): its port."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class SpeakingFirst:
    """A TCP server on 127.0.0.1 that sends ``greeting`` to whoever connects, then holds
    the connection (or, with ``hang_up``, closes it at once)."""

    def __init__(self, greeting: bytes, hang_up: bool = False) -> None:
        self.greeting = greeting
        self.hang_up = hang_up
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)  # so that the loop sees close() soon
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.closed.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            with connection:
                if self.hang_up:
                    continue
                try:
                    connection.sendall(self.greeting)
                    connection.settimeout(10)
                    connection.recv(1)  # hold the connection until the client leaves
                except OSError:
                    pass

    def close(self) -> None:
        self.closed.set()
        self.thread.join(timeout=15)
        self.listener.close()


GREETINGS = {
    # random bytes: the first eight announce a length in the exabytes
    "random": random.Random(7).randbytes(64),
    # a length that could be allocated (768 MiB), then never sent
    "plausible": struct.pack("Q", 768 << 20) + random.Random(8).randbytes(56),
}


@pytest.mark.slow
def test_http_server_as_scheduler_is_refused_within_seconds(
        tmp_path: Path, http_server: int) -> None:
    experiment = write_experiment(tmp_path / "exp.toml", "http")
    out = tmp_path / "out"
    address = f"tcp://127.0.0.1:{http_server}"
    began = time.monotonic()
    result = subprocess.run(sweep_command(experiment, out, "--scheduler", address), cwd=ROOT,
                            env=subprocess_env(), capture_output=True, text=True,
                            timeout=TIMEOUT)
    took = time.monotonic() - began
    print(f"refused after {took:.1f} s (interpreter start included)")
    assert result.returncode == 2 and result.stdout == ""
    assert error_lines(result.stderr) == [
        f"python -m sim sweep: error: {address} is not a Dask scheduler: it sent no Dask "
        f"greeting within {HANDSHAKE_SECONDS:g} s"]
    assert took < HANDSHAKE_SECONDS + 30
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.parametrize("greeting", list(GREETINGS))
def test_server_speaking_first_is_refused_without_allocating(tmp_path: Path,
                                                              greeting: str) -> None:
    """Under a 1 GiB address-space limit, so reading what the first bytes announce (as
    Dask's own handshake would) fails or hangs instead of passing unnoticed."""
    server = SpeakingFirst(GREETINGS[greeting])
    experiment = write_experiment(tmp_path / "exp.toml", "first")
    out = tmp_path / "out"

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    try:
        began = time.monotonic()
        result = subprocess.run(
            sweep_command(experiment, out, "--scheduler", f"127.0.0.1:{server.port}"),
            cwd=ROOT, env=subprocess_env(), capture_output=True, text=True,
            timeout=TIMEOUT, preexec_fn=limit_memory)
        took = time.monotonic() - began
    finally:
        server.close()
    print(f"refused after {took:.1f} s (interpreter start included)")
    assert server.accepted >= 1
    assert result.returncode == 2 and result.stdout == "", result.stderr
    (size,) = struct.unpack("Q", GREETINGS[greeting][:8])
    assert error_lines(result.stderr) == [
        f"python -m sim sweep: error: tcp://127.0.0.1:{server.port} is not a Dask "
        f"scheduler: its first bytes announce a {size:,}-byte message"]
    assert took < HANDSHAKE_SECONDS + 30
    assert not out.exists()


def test_probe_refuses_a_server_that_hangs_up() -> None:
    server = SpeakingFirst(b"", hang_up=True)
    try:
        with pytest.raises(SchedulerAddressError, match="closed the connection without a "
                           "Dask greeting"):
            probe_scheduler(f"tcp://127.0.0.1:{server.port}", timeout=10)
    finally:
        server.close()


# --- a cluster that stops working ---------------------------------------------------------------
@pytest.mark.slow
def test_scheduler_without_workers_gives_up_with_progress_meanwhile(
        experiment: Path, tmp_path: Path, scratch: Path, processes: Processes) -> None:
    _, address = processes.scheduler(scratch)
    out = tmp_path / "out"
    began = time.monotonic()
    sweep = processes.start(sweep_command(experiment, out, "--scheduler", address,
                                          "--no-worker-timeout", "11"), "sweep")
    exit_code = sweep.wait(timeout=TIMEOUT)
    took = time.monotonic() - began
    print(f"gave up after {took:.1f} s (interpreter start included)")
    assert exit_code == 3
    lines = error_lines(processes.log("sweep"))
    assert lines[-1] == (f"python -m sim sweep: error: no Dask worker for 11 s (scheduler "
                         f"{address}); {RESUME}")
    # the state is reported while nothing finishes: at once, then every 10 s
    waiting = [line for line in lines if line.endswith(f"0 workers, {RUNS} runs pending")]
    assert len(waiting) == 2, lines
    assert len(lines) == 1 + len(waiting) + 1  # the header, the progress, the error
    assert 11 < took < 11 + 40
    meta = manifest(out)
    assert (meta["status"], meta["runs_stored"]) == ("interrupted", 0)


@pytest.mark.slow
def test_killed_last_worker_gives_up_keeping_finished_runs(
        experiment: Path, tmp_path: Path, scratch: Path, processes: Processes,
        reference: tuple[Path, Path]) -> None:
    _, address = processes.scheduler(scratch)
    worker = processes.worker(address, scratch, "w0")
    wait_for_workers(address, 1)
    out = tmp_path / "out"
    sweep = processes.start(sweep_command(experiment, out, "--scheduler", address, "--quiet",
                                          "--no-worker-timeout", "5"), "sweep")
    wait_for(lambda: bool(part_files(out)), 120, "the first part", alive=sweep)
    kill_group(worker)  # the worker and its nanny: no worker is left
    killed = time.monotonic()
    at_kill = set(stored_in_parts(out)["run_id"])
    assert sweep.wait(timeout=TIMEOUT) == 3
    took = time.monotonic() - killed
    print(f"gave up {took:.1f} s after the kill, {len(at_kill)} runs stored at the kill")
    lines = error_lines(processes.log("sweep"))
    assert len(lines) == 2, lines  # the header, the error
    assert lines[-1] == (f"python -m sim sweep: error: no Dask worker for 5 s (scheduler "
                         f"{address}); {RESUME}")
    assert 5 <= took < 5 + 30
    stored = stored_in_parts(out)
    assert at_kill <= set(stored["run_id"]) and len(stored) < RUNS
    assert stored["run_id"].is_unique
    meta = manifest(out)
    assert (meta["status"], meta["runs_stored"]) == ("interrupted", len(stored))
    assert_resumes_to_reference(experiment, out, reference[1])


@pytest.mark.slow
def test_lost_scheduler_ends_the_sweep_keeping_finished_runs(
        experiment: Path, tmp_path: Path, scratch: Path, processes: Processes,
        reference: tuple[Path, Path]) -> None:
    scheduler, address = processes.scheduler(scratch)
    processes.worker(address, scratch, "w0")
    wait_for_workers(address, 1)
    out = tmp_path / "out"
    sweep = processes.start(sweep_command(experiment, out, "--scheduler", address,
                                          "--quiet"), "sweep")
    wait_for(lambda: bool(part_files(out)), 120, "the first part", alive=sweep)
    kill_group(scheduler)
    killed = time.monotonic()
    at_kill = set(stored_in_parts(out)["run_id"])
    assert sweep.wait(timeout=TIMEOUT) == 3
    took = time.monotonic() - killed
    print(f"ended {took:.1f} s after the kill, {len(at_kill)} runs stored at the kill")
    lines = error_lines(processes.log("sweep"))
    assert len(lines) == 2, lines
    assert lines[-1] == (f"python -m sim sweep: error: lost the connection to the Dask "
                         f"scheduler {address}; {RESUME}")
    assert took < 30
    stored = stored_in_parts(out)
    assert at_kill <= set(stored["run_id"]) and len(stored) < RUNS
    meta = manifest(out)
    assert (meta["status"], meta["runs_stored"]) == ("interrupted", len(stored))
    assert_resumes_to_reference(experiment, out, reference[1])


# --- workers running other code ----------------------------------------------------------------
def test_run_checked_refuses_other_code_before_running(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[int] = []
    ours = identity.source_sha256()
    assert run_checked(1, task=ran.append, source_sha256=ours) is None and ran == [1]
    monkeypatch.setattr(identity, "source_sha256", lambda: "f" * 64)
    with pytest.raises(CodeMismatchError) as refused:
        run_checked(2, task=ran.append, source_sha256=ours)
    assert ran == [1], "the refused task ran"
    error = refused.value
    assert error.worker_identity["source_sha256"] == "f" * 64
    assert "source ffffffffffff" in str(error)
    copy = pickle.loads(pickle.dumps(error))  # as it travels from a worker
    assert (copy.worker, copy.worker_identity) == (error.worker, error.worker_identity)


def assert_refused(lines: list[str], worker: str) -> None:
    assert lines[-1].startswith(f"python -m sim sweep: error: worker {worker} runs other "
                                "code (version "), lines[-1]
    assert ", source 000000000000" in lines[-1]
    assert "than this process (version " in lines[-1]
    assert lines[-1].endswith(f"none of its runs is stored: install the same code on every "
                              f"worker; {RESUME}")


@pytest.mark.slow
def test_worker_with_other_code_is_refused_on_connection(
        experiment: Path, tmp_path: Path, scratch: Path, processes: Processes) -> None:
    _, address = processes.scheduler(scratch)
    processes.worker(address, scratch, "other", preload=other_code_preload(scratch))
    (worker,) = wait_for_workers(address, 1)
    out = tmp_path / "out"
    began = time.monotonic()
    sweep = processes.start(sweep_command(experiment, out, "--scheduler", address,
                                          "--quiet"), "sweep")
    assert sweep.wait(timeout=TIMEOUT) == 3
    print(f"refused after {time.monotonic() - began:.1f} s (interpreter start included)")
    lines = error_lines(processes.log("sweep"))
    assert len(lines) == 2, lines
    assert_refused(lines, worker)
    assert part_files(out) == [] and not (out / "runs.parquet").exists()
    meta = manifest(out)
    assert (meta["status"], meta["runs_stored"]) == ("interrupted", 0)


@pytest.mark.slow
def test_worker_with_other_code_joining_later_is_refused_by_its_first_task(
        experiment: Path, tmp_path: Path, scratch: Path, processes: Processes) -> None:
    _, address = processes.scheduler(scratch)
    out = tmp_path / "out"
    sweep = processes.start(sweep_command(experiment, out, "--scheduler", address,
                                          "--no-worker-timeout", "120"), "sweep")
    # connected, every (that is, no) worker checked, runs submitted: now it joins
    wait_for(lambda: "0 workers" in processes.log("sweep"), 120, "the sweep to wait",
             alive=sweep)
    processes.worker(address, scratch, "late", preload=other_code_preload(scratch))
    (worker,) = wait_for_workers(address, 1)
    joined = time.monotonic()
    assert sweep.wait(timeout=TIMEOUT) == 3
    print(f"refused {time.monotonic() - joined:.1f} s after the worker joined")
    lines = error_lines(processes.log("sweep"))
    assert_refused(lines, worker)
    assert part_files(out) == [] and not (out / "runs.parquet").exists()
    assert manifest(out)["runs_stored"] == 0


# --- progress ------------------------------------------------------------------------------------
class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_progress_reports_the_cluster_while_nothing_finishes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock()
    monkeypatch.setattr("sim.sweep.progress.time", clock)
    stream = io.StringIO()
    meter = Progress(10, 2, "grid", stream=stream, interval=10.0)
    for now in (1000.0, 1005.0, 1010.0, 1019.0, 1020.5):
        clock.now = now
        meter.waiting(3 if now < 1020 else 1, 8)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3, lines
    assert lines[0].startswith("grid: 2/10 runs (20%)")
    assert [line.rsplit("; ", 1)[1] for line in lines] == [
        "3 workers, 8 runs pending", "3 workers, 8 runs pending", "1 worker, 8 runs pending"]
