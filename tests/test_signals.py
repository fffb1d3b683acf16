"""Stopping commands with signals: SIGTERM is handled like Ctrl-C.

A sweep stopped mid-way (in-process and on a local Dask cluster) stores the runs that
finished, including those not yet written, marks its manifest ``interrupted``, says in
one line how to resume, leaves no worker process behind, and resumes to the table of an
uninterrupted sweep. ``python -m sim run`` says only that it was interrupted. The
dashboard launcher stops its Solara server before it exits.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
from conftest import invoke
from processes import (
    ROOT,
    RUNS,
    TIMEOUT,
    Processes,
    manifest,
    part_files,
    processes_fixture,  # noqa: F401 - the fixture 'processes'
    reference_fixture,  # noqa: F401 - the fixture 'reference'
    running,
    stored_in_parts,
    subprocess_env,
    sweep_command,
    wait_for,
)

from sim import cli
from sim.dashboard import assets

RESUME = "finished runs are stored, run the same command again to resume"


# --- sweeps ------------------------------------------------------------------------------------
STOPS = {
    "sigterm-in-process": (signal.SIGTERM, ["--workers", "1"], 143, "interrupted by SIGTERM"),
    "sigterm-dask": (signal.SIGTERM, ["--workers", "2"], 143, "interrupted by SIGTERM"),
    "sigint-in-process": (signal.SIGINT, ["--workers", "1"], 130, "interrupted"),
}


@pytest.mark.slow
@pytest.mark.parametrize("stop", list(STOPS))
def test_signal_mid_sweep_stores_finished_runs_and_resumes(
        tmp_path: Path, processes: Processes, reference: tuple[Path, Path],
        stop: str) -> None:
    signum, executor, exit_code, said = STOPS[stop]
    experiment = tmp_path / "stopped.toml"
    experiment.write_bytes(reference[0].read_bytes())
    out = tmp_path / "out"
    command = sweep_command(experiment, out, "--quiet", *executor)
    sweep = processes.start(command, "sweep")
    wait_for(lambda: bool(part_files(out)), TIMEOUT, "the first part", alive=sweep)
    workers = psutil.Process(sweep.pid).children(recursive=True)
    assert len(workers) >= (2 if "dask" in stop else 0)
    written = set(stored_in_parts(out)["run_id"])
    # runs finish meanwhile and wait in the buffer: the next part is due in 5 s or 50 runs
    time.sleep(0.5)
    sweep.send_signal(signum)
    signalled = time.monotonic()
    assert sweep.wait(timeout=TIMEOUT) == exit_code
    print(f"exited {time.monotonic() - signalled:.1f} s after the signal")

    log = processes.log("sweep")
    assert "Traceback" not in log and "Warning" not in log, log
    lines = log.splitlines()
    assert len(lines) == 2, lines  # the header, then one line
    assert lines[1] == f"python -m sim sweep: {said}; {RESUME}"
    stored = stored_in_parts(out)
    assert written < set(stored["run_id"]), "runs finished before the signal were lost"
    assert stored["run_id"].is_unique and len(stored) < RUNS
    assert not (out / "runs.parquet").exists()
    meta = manifest(out)
    assert (meta["status"], meta["runs_stored"]) == ("interrupted", len(stored))
    _, left = psutil.wait_procs(workers, timeout=30)
    assert left == [], f"worker processes left running: {left}"

    # --allow-code-change: this checkout may be edited while the test runs
    resumed = subprocess.run([*command, "--allow-code-change"], cwd=ROOT,
                             env=subprocess_env(), capture_output=True, text=True,
                             timeout=TIMEOUT)
    assert resumed.returncode == 0, resumed.stderr
    final = pd.read_parquet(out / "runs.parquet")
    pd.testing.assert_frame_equal(final, pd.read_parquet(reference[1] / "runs.parquet"))
    assert manifest(out)["status"] == "complete"
    # the runs stored at the signal are in the final table unchanged
    before = stored.set_index("run_id")[final.columns.drop("run_id")]
    pd.testing.assert_frame_equal(before, final.set_index("run_id").loc[before.index],
                                  check_dtype=False)


@pytest.mark.slow
def test_ctrl_c_at_a_terminal_prints_one_line_whatever_the_workers(
        tmp_path: Path, reference: tuple[Path, Path]) -> None:
    # a terminal's Ctrl-C reaches the whole process group: the Dask workers too, which
    # must not each print a traceback
    experiment = tmp_path / "stopped.toml"
    experiment.write_bytes(reference[0].read_bytes())
    out = tmp_path / "out"
    sweep = subprocess.Popen(sweep_command(experiment, out, "--quiet", "--workers", "2"),
                             cwd=ROOT, env=subprocess_env(), start_new_session=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: bool(part_files(out)), TIMEOUT, "the first part", alive=sweep)
        workers = psutil.Process(sweep.pid).children(recursive=True)
        os.killpg(sweep.pid, signal.SIGINT)
        log, _ = sweep.communicate(timeout=TIMEOUT)
    finally:
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)
    assert sweep.returncode == 130
    lines = log.splitlines()
    assert "Traceback" not in log and len(lines) == 2, log
    assert lines[1] == f"python -m sim sweep: interrupted; {RESUME}"
    _, left = psutil.wait_procs(workers, timeout=30)
    assert left == [], f"worker processes left running: {left}"


# --- python -m sim run -------------------------------------------------------------------------
SLOW_RUN = textwrap.dedent("""\
    import sys
    import time

    import sim.cli as cli


    def run(seed, **parameters):  # a run that lasts until it is stopped
        print("running", flush=True)
        time.sleep(120)


    cli.run = run
    sys.exit(cli.main(["run", "--scale", "0.05"]))
    """)


@pytest.mark.slow
@pytest.mark.parametrize("signum, exit_code, said", [
    (signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "interrupted by SIGTERM")],
    ids=["sigint", "sigterm"])
def test_interrupted_run_does_not_talk_about_resuming(
        processes: Processes, signum: int, exit_code: int, said: str) -> None:
    process = processes.start([sys.executable, "-c", SLOW_RUN], "run")
    wait_for(lambda: "running" in processes.log("run"), 120, "the run to start",
             alive=process)
    process.send_signal(signum)
    assert process.wait(timeout=60) == exit_code
    assert processes.log("run").splitlines() == ["running", f"python -m sim run: {said}"]


def test_interrupted_run_in_process(capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(seed: int, **parameters: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run", interrupted)
    assert invoke(capsys, ["run", "--scale", "0.05"]) == (130, "",
                                                          "python -m sim run: interrupted\n")


def test_commands_put_the_sigterm_handler_back(capsys: pytest.CaptureFixture[str]) -> None:
    before = signal.getsignal(signal.SIGTERM)
    code, _, _ = invoke(capsys, ["params"])
    assert code == 0
    assert signal.getsignal(signal.SIGTERM) is before


# --- the dashboard launcher --------------------------------------------------------------------
STAND_IN = textwrap.dedent("""\
    \"\"\"Stands in for the Solara server: writes its pid, then waits to be stopped.\"\"\"
    import os
    import signal
    import sys
    import time

    if sys.argv[2] == "ignore":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with open(sys.argv[1] + ".tmp", "w") as handle:
        handle.write(str(os.getpid()))
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    time.sleep(300)
    """)

LAUNCHER = textwrap.dedent("""\
    import sys

    import sim.dashboard.__main__ as launcher
    from sim.dashboard import assets

    stand_in, pid_file, mode = sys.argv[1:4]
    assets.cache_assets = lambda cache: False  # the stand-in needs no front-end files
    launcher.serve_command = lambda host, port: [sys.executable, stand_in, pid_file, mode]
    launcher.STOP_SECONDS = 2.0
    sys.exit(launcher.main(["--port", "8765"]))
    """)


@pytest.mark.slow
@pytest.mark.parametrize("server", ["stops", "ignore"],
                         ids=["server-stops", "server-ignores-sigterm"])
def test_dashboard_launcher_stops_its_server_on_sigterm(
        tmp_path: Path, processes: Processes, server: str) -> None:
    """The real launcher (``main``, ``serve``, ``stop``) with a stand-in for Solara."""
    stand_in = tmp_path / "stand_in.py"
    stand_in.write_text(STAND_IN)
    pid_file = tmp_path / "server.pid"
    launcher = processes.start([sys.executable, "-c", LAUNCHER, str(stand_in),
                                str(pid_file), server], "launcher")
    wait_for(pid_file.exists, 120, "the server to start", alive=launcher)
    child = int(pid_file.read_text())
    assert running(child)
    launcher.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    assert launcher.wait(timeout=60) == 143
    took = time.monotonic() - signalled
    assert not running(child), "the server outlived its launcher"
    if server == "ignore":
        assert 2.0 <= took < 30  # killed once the grace was over
    else:
        assert took < 10
    assert "Traceback" not in processes.log("launcher")


@pytest.mark.slow
def test_dashboard_launcher_stops_solara_on_sigterm(processes: Processes) -> None:
    if not any(assets.cache_dir().glob("*")):
        pytest.skip(f"Solara's front-end files are not cached in {assets.cache_dir()} "
                    "(make dashboard-assets)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    launcher = processes.start([sys.executable, "-m", "sim.dashboard", "--port", str(port)],
                               "dashboard")

    def serving() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    wait_for(serving, 180, "the dashboard to serve", alive=launcher, interval=0.5)
    servers = psutil.Process(launcher.pid).children(recursive=True)
    assert servers, "no Solara child process"
    launcher.send_signal(signal.SIGTERM)
    assert launcher.wait(timeout=60) == 143
    _, left = psutil.wait_procs(servers, timeout=5)
    assert left == [], f"Solara left running: {left}"
    assert not serving()
