"""Benchmark: sweep throughput and parallel efficiency; phase-diagram wall times.

What is measured
----------------
1. **Throughput and parallel efficiency.** A fixed workload of full-scale runs (scale 1.0,
   default horizon) is written as a temporary experiment file and loaded with
   :func:`sim.sweep.load`: a 2 x 2 grid, coupling and capability in {0.3, 0.7}
   (mid-range, so a run costs about as much as an average phase-diagram run), with
   ``ceil(R/4)`` replicates, cut to the first ``R = --runs`` runs in replicate-major order
   (every point stays equally represented). Four executors make the same runs:

   * ``InProcessExecutor()`` (the reference: this process, no Dask),
   * ``DaskExecutor(workers=1)`` (a ``LocalCluster`` with one single-threaded worker
     process) and
   * ``DaskExecutor(workers=2)`` (the same with two), and
   * the same two workers started with ``MALLOC_TRIM_THRESHOLD_=65536``, as Dask's nannies
     start workers by default; the executor unsets it, and this round shows what that
     is worth.

   A **round** is one pass of the workload through one executor, called directly:
   ``for result in executor.map_unordered(run_task, specs)``, timed with
   ``time.perf_counter`` from the first submission to the last result (so it includes
   scheduling and bringing the results back, but not starting the cluster). Rounds are
   interleaved (in-process, 1 worker, 2 workers, then again, ``--repeats`` times) so that
   a change of background load hits all three alike, and every Dask round gets a cluster
   of its own, started just before and closed just after it: only the executor being
   timed exists (an idle local cluster still uses CPU -- heartbeats, the workers'
   statistical profilers -- which on a 2-core machine would be taken from the other
   executors' rounds). The reported throughput is runs / seconds of the median round.
   Every round's run table is checked to be identical to the in-process one (the same
   work was done).

   **Parallel efficiency** = throughput(2 workers) / (2 x throughput(1)), with (1) the
   one-worker Dask cluster (like with like: same scheduling and transfer overheads) and,
   as a second figure, the in-process executor; from the median rounds (the headline)
   and from each executor's fastest round (the one least disturbed by other work).
   Goal: >= 90 %.

   **Start-up** (``DaskExecutor.__enter__``: ``LocalCluster`` + ``Client``, until all
   workers are registered), **warm-up** and closing are timed separately (medians over
   the rounds) and excluded from the throughput. Warm-up: one task pinned to each
   worker imports the run code and runs one small model (scale 0.05, to 2018) before
   the round (this process does the same once, before its first in-process round), so
   rounds measure the steady state. The CPU time of this process tree
   (scheduler, client, nannies, workers) over each round is reported as cores used.

2. **Phase diagrams end to end.** ``python -m sim sweep experiments/quick/phase_diagram.toml
   --out TMP --quiet --workers 2`` in a subprocess, wall time from start to exit (interpreter,
   imports, cluster start-up, warm-up, runs and storage included); goal <= 2 minutes. The
   results directory is checked to be complete. With ``--publication`` the same for
   ``experiments/publication/phase_diagram.toml`` (about 10 minutes); goal <= 15 minutes.
   ``DASK_SCHEDULER_ADDRESS`` is removed from the subprocess's environment so that it
   always uses its own embedded cluster.

3. **Environment.** Python, Mesa, dask and distributed versions, cores, load average
   (before and after). Because a 2-core machine shared with other work distorts every
   figure, the CPU time used by *other* processes during each measurement is also
   reported (Linux: busy time from ``/proc/stat`` minus the CPU time of this process
   and its descendants), as a share of one core. Before each round and each end-to-end
   sweep the benchmark waits (up to ``--wait-quiet`` seconds, default 30; 0 never
   waits) until other processes use less than 10 % of a core over one second; the wait
   is not timed.

Run it (not part of the test suite)::

    make bench-sweep
    .venv/bin/python benchmarks/bench_sweep.py --runs 80 --repeats 5 --json bench-sweep.json
    .venv/bin/python benchmarks/bench_sweep.py --publication     # + about 10 minutes
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from bench_model import environment as machine_environment

ROOT = Path(__file__).resolve().parents[1]
QUICK_FILE = ROOT / "experiments" / "quick" / "phase_diagram.toml"
PUBLICATION_FILE = ROOT / "experiments" / "publication" / "phase_diagram.toml"

SCALE = 1.0
GRID = {"coupling": [0.3, 0.7], "capability": [0.3, 0.7]}
MASTER_SEED = 2030
E2E_WORKERS = 2
EFFICIENCY_GOAL = 0.90
QUICK_GOAL_S = 120.0
PUBLICATION_GOAL_S = 900.0

IN_PROCESS, DASK_1, DASK_2 = "in-process", "Dask, 1 worker", "Dask, 2 workers"
#: Two workers as Dask's nannies would start them without the executor's correction:
#: with MALLOC_TRIM_THRESHOLD_=65536 (set in this process's environment while the
#: cluster starts, which the workers inherit).
DASK_2_TRIM = "2 workers, trim 64K"
DASK_TRIM_THRESHOLD = "65536"


# --- the workload ----------------------------------------------------------------------
def workload_toml(replicates: int) -> str:
    """The temporary experiment: full-scale runs on a mid-range 2 x 2 grid."""
    grid = "\n".join(f"{name} = {values!r}" for name, values in GRID.items())
    return textwrap.dedent(f"""\
        # Written by benchmarks/bench_sweep.py: the throughput workload.
        [experiment]
        name = "bench_sweep"
        description = "Sweep throughput workload: mid-range cells at full scale."
        analysis = "none"
        master_seed = {MASTER_SEED}
        replicates = {replicates}

        [fixed]
        scale = {SCALE}

        [grid]
        """) + grid + "\n"


def make_workload(directory: Path, runs: int) -> tuple[str, list[Any]]:
    """Write and load the workload experiment; return its TOML and ``runs`` run specs."""
    from sim.sweep import load

    points = math.prod(len(values) for values in GRID.values())
    text = workload_toml(math.ceil(runs / points))
    path = directory / "bench_sweep.toml"
    path.write_text(text, encoding="utf-8")
    specs = sorted(load(path).runs(), key=lambda spec: (spec.replicate, spec.point))
    return text, specs[:runs]


def warm_worker(scale: float) -> dict[str, float]:
    """Import the run code and run one small model (``scale`` is kept for the call's
    shape; the warm-up model is always small). Runs once in every worker process, and in
    this process for the in-process executor; pickled by value (cloudpickle), so no
    import of this file."""
    import os
    import time

    start = time.perf_counter()
    import sim.sweep.tasks  # noqa: F401  (what unpickling run_task would import)
    from sim.runs import run

    imported = time.perf_counter()
    run(0, scale=0.05, until_year=2018)
    done = time.perf_counter()
    return {"pid": os.getpid(), "import_s": imported - start, "warm_run_s": done - imported}


# --- CPU accounting (Linux) --------------------------------------------------------------
def _clock_ticks() -> int:
    try:
        return os.sysconf("SC_CLK_TCK")
    except (AttributeError, ValueError, OSError):
        return 100


TICKS = _clock_ticks()


def _cpu_line() -> list[int] | None:
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            return [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None


def machine_busy_seconds() -> float | None:
    """CPU seconds all processors have spent busy since boot (None off Linux)."""
    fields = _cpu_line()
    if fields is None:
        return None
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / TICKS  # guest time is inside user


def steal_seconds() -> float | None:
    """CPU seconds a hypervisor has reported taking from this VM since boot."""
    fields = _cpu_line()
    return fields[7] / TICKS if fields is not None and len(fields) > 7 else None


def _proc_stat(pid: str) -> tuple[int, float] | None:
    """Parent pid and CPU seconds (user + system) of a live process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            rest = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(rest[1]), (int(rest[11]) + int(rest[12])) / TICKS


def own_cpu_seconds() -> float:
    """CPU seconds of this process, its reaped children and its live descendants."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    if not Path("/proc/self/stat").exists():
        return total
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := _proc_stat(entry)) is not None:
            table[int(entry)] = info
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    stack = list(children.get(os.getpid(), []))
    while stack:
        pid = stack.pop()
        total += table[pid][1]
        stack.extend(children.get(pid, []))
    return total


@dataclass
class CpuWindow:
    """What the machine did during one measurement."""

    wall_s: float
    own_cpu_s: float
    other_cpu_s: float | None  # busy CPU time of every other process (None off Linux)
    waited_s: float = 0.0  # waited beforehand for the machine to be quiet
    quiet: bool | None = None  # whether it was (None: not waited for)
    steal_s: float | None = None  # CPU time the hypervisor reported taking meanwhile

    @property
    def other_share(self) -> float | None:
        """Other processes' CPU as a share of one core over the window."""
        if self.other_cpu_s is None or self.wall_s <= 0:
            return None
        return self.other_cpu_s / self.wall_s


QUIET_SHARE = 0.10
"""The machine is quiet when other processes use less than this share of one core."""


def wait_for_quiet(limit_s: float) -> tuple[float, bool | None]:
    """Wait (up to ``limit_s``) until other processes have used less than
    ``QUIET_SHARE`` of a core over one second. Returns the seconds waited and whether
    the machine was quiet (None when not waited for or not measurable)."""
    if limit_s <= 0 or machine_busy_seconds() is None:
        return 0.0, None
    start = time.perf_counter()
    while True:
        busy, own, begun = machine_busy_seconds(), own_cpu_seconds(), time.perf_counter()
        time.sleep(1.0)
        wall = time.perf_counter() - begun
        other = (machine_busy_seconds() - busy) - (own_cpu_seconds() - own)
        waited = time.perf_counter() - start
        if other / wall < QUIET_SHARE:
            return waited, True
        if waited >= limit_s:
            return waited, False


class Meter:
    """Times a block and accounts the CPU used by this process tree and by others;
    first waits up to ``wait_quiet_s`` for the machine to be quiet."""

    def __init__(self, wait_quiet_s: float = 0.0) -> None:
        self.wait_quiet_s = wait_quiet_s

    def __enter__(self) -> Meter:
        gc.collect()
        self._waited, self._quiet = wait_for_quiet(self.wait_quiet_s)
        self._busy, self._own = machine_busy_seconds(), own_cpu_seconds()
        self._steal = steal_seconds()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self._start
        busy, own = machine_busy_seconds(), own_cpu_seconds()
        own_delta = own - self._own
        other = None
        if busy is not None and self._busy is not None:
            other = max(0.0, (busy - self._busy) - own_delta)
        steal = steal_seconds()
        stolen = steal - self._steal if steal is not None and self._steal is not None else None
        self.window = CpuWindow(wall, own_delta, other, self._waited, self._quiet, stolen)


# --- 1. throughput ----------------------------------------------------------------------
@dataclass
class ExecutorFigures:
    """Start-ups, warm-ups, timed rounds and tear-downs of one executor (one of each per
    round for a Dask cluster, which is started afresh for every round)."""

    label: str
    workers: int
    startup_s: list[float] = field(default_factory=list)  # empty: nothing to start
    warmup_s: list[float] = field(default_factory=list)
    warm: list[dict[str, float]] = field(default_factory=list)  # per worker process
    rounds: list[CpuWindow] = field(default_factory=list)
    teardown_s: list[float] = field(default_factory=list)
    identical: bool = True

    @property
    def round_seconds(self) -> list[float]:
        return [r.wall_s for r in self.rounds]

    @property
    def median_s(self) -> float:
        return statistics.median(self.round_seconds)

    @property
    def best_s(self) -> float:
        return min(self.round_seconds)

    def throughput(self, runs: int, best: bool = False) -> float:
        return runs / (self.best_s if best else self.median_s)

    @property
    def cores_used(self) -> float:
        """CPU time of this process tree over wall time, summed over the rounds."""
        return sum(r.own_cpu_s for r in self.rounds) / sum(self.round_seconds)

    @property
    def other_share(self) -> float | None:
        shares = [r.other_cpu_s for r in self.rounds]
        if any(s is None for s in shares):
            return None
        return sum(shares) / sum(self.round_seconds)

    def to_dict(self, runs: int) -> dict[str, Any]:
        return {"label": self.label, "workers": self.workers, "startup_s": self.startup_s,
                "warmup_s": self.warmup_s, "warm_per_process": self.warm,
                "rounds": [asdict(r) for r in self.rounds],
                "round_seconds": self.round_seconds, "median_round_s": self.median_s,
                "runs_per_s": self.throughput(runs), "s_per_run": self.median_s / runs,
                "runs_per_s_best_round": self.throughput(runs, best=True),
                "cores_used": self.cores_used,
                "other_processes_cpu_share": self.other_share,
                "teardown_s": self.teardown_s, "results_identical": self.identical}


def result_table(results: list[Any]):
    """The rows of a round as a frame in run-id order (to compare executors)."""
    import pandas as pd

    return pd.DataFrame([r.row for r in results]).sort_values("run_id").reset_index(
        drop=True)


@contextlib.contextmanager
def dask_cluster(workers: int, figures: ExecutorFigures, trim_threshold: str | None = None):
    """A fresh local cluster of ``workers``: started (timed), every worker warmed up
    (timed), closed on exit (timed). With ``trim_threshold``, the workers start with
    that MALLOC_TRIM_THRESHOLD_ (Dask's own default is 65536)."""
    from sim.sweep import DaskExecutor

    executor = DaskExecutor(workers=workers)
    start = time.perf_counter()
    saved = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    if trim_threshold is not None:
        os.environ["MALLOC_TRIM_THRESHOLD_"] = trim_threshold
    try:
        executor.__enter__()
    finally:  # the workers have inherited it; this process keeps its own setting
        if saved is None:
            os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
        else:
            os.environ["MALLOC_TRIM_THRESHOLD_"] = saved
    try:
        client = executor._client  # the benchmark looks inside to reach every worker
        client.wait_for_workers(workers)
        figures.startup_s.append(time.perf_counter() - start)

        start = time.perf_counter()
        addresses = sorted(client.scheduler_info()["workers"])
        futures = [client.submit(warm_worker, SCALE, workers=[address], pure=False,
                                 allow_other_workers=False) for address in addresses]
        warm = client.gather(futures)
        figures.warmup_s.append(time.perf_counter() - start)
        if len({w["pid"] for w in warm}) != workers:
            raise RuntimeError(f"{figures.label}: warm-up did not reach every worker")
        figures.warm.extend(warm)
        yield executor
    finally:
        start = time.perf_counter()
        executor.__exit__(None, None, None)
        figures.teardown_s.append(time.perf_counter() - start)


@contextlib.contextmanager
def in_process(figures: ExecutorFigures):
    """The in-process executor; this process is warmed up the first time only (its
    imports last as long as the process)."""
    from sim.sweep import InProcessExecutor

    if not figures.warm:
        start = time.perf_counter()
        figures.warm.append(warm_worker(SCALE))
        figures.warmup_s.append(time.perf_counter() - start)
    with InProcessExecutor() as executor:
        yield executor


def bench_throughput(specs: list[Any], repeats: int,
                     wait_quiet_s: float) -> dict[str, ExecutorFigures]:
    """Interleaved rounds; only the executor being timed exists during its round (an
    idle local cluster still uses CPU: heartbeats, the workers' profilers)."""
    from sim.sweep.tasks import run_task

    figures = {IN_PROCESS: ExecutorFigures(IN_PROCESS, 1), DASK_1: ExecutorFigures(DASK_1, 1),
               DASK_2: ExecutorFigures(DASK_2, 2), DASK_2_TRIM: ExecutorFigures(DASK_2_TRIM, 2)}
    executors = {IN_PROCESS: lambda: in_process(figures[IN_PROCESS]),
                 DASK_1: lambda: dask_cluster(1, figures[DASK_1]),
                 DASK_2: lambda: dask_cluster(2, figures[DASK_2]),
                 DASK_2_TRIM: lambda: dask_cluster(2, figures[DASK_2_TRIM],
                                                   DASK_TRIM_THRESHOLD)}
    reference = None
    for _ in range(repeats):
        for label, make in executors.items():
            with make() as executor, Meter(wait_quiet_s) as meter:
                results = list(executor.map_unordered(run_task, specs))
            figures[label].rounds.append(meter.window)
            if len(results) != len(specs):
                raise RuntimeError(f"{label}: {len(results)} results for {len(specs)} runs")
            table = result_table(results)
            if reference is None:
                reference = table
            elif not table.equals(reference):
                figures[label].identical = False
    return figures


# --- 2. phase diagrams end to end ------------------------------------------------------------
@dataclass
class EndToEnd:
    """One ``python -m sim sweep`` of a whole experiment in a subprocess."""

    experiment: str
    runs: int
    workers: int
    goal_s: float
    substitute: bool  # not the experiment file the goal is set for
    window: CpuWindow
    stored: int
    status: str

    @property
    def met(self) -> bool:
        return self.window.wall_s <= self.goal_s and self.status == "complete"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"wall_s": self.window.wall_s, "goal_met": self.met}


def bench_end_to_end(path: Path, default: Path, goal_s: float, scratch: Path,
                     wait_quiet_s: float) -> EndToEnd:
    from sim.sweep import load

    runs = len(load(path).runs())
    out = scratch / f"e2e-{path.parent.name}-{path.stem}"
    command = [sys.executable, "-m", "sim", "sweep", str(path), "--out", str(out),
               "--quiet", "--workers", str(E2E_WORKERS)]
    env = {k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER_ADDRESS"}
    with Meter(wait_quiet_s) as meter:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n"
                           f"{done.stderr.strip()}")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return EndToEnd(_shown(path), runs, E2E_WORKERS, goal_s,
                    path.resolve() != default.resolve(), meter.window,
                    manifest["runs_stored"], manifest["status"])


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# --- report ----------------------------------------------------------------------------------
def environment() -> dict[str, Any]:
    """The machine and versions as bench_model reports them, plus Dask's versions."""
    versions = {}
    for name in ("dask", "distributed"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {**machine_environment(), **versions, "load_average": load_average()}


def load_average() -> list[float] | None:
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def fmt_load(load: list[float] | None) -> str:
    return "n/a" if load is None else " ".join(f"{v:.2f}" for v in load)


def fmt_share(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.0f}%"


def fmt_s(seconds: list[float]) -> str:
    """The median of some timings (``-`` when there are none)."""
    return f"{statistics.median(seconds):.2f}" if seconds else "-"


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def note(text: str) -> list[str]:
    return textwrap.wrap(text, width=96, initial_indent="  - ", subsequent_indent="    ")


def efficiencies(figures: dict[str, ExecutorFigures], runs: int) -> dict[str, dict[str, float]]:
    """Parallel efficiency at 2 workers against each one-process executor, from the
    median rounds (the headline) and from the fastest rounds (the least disturbed)."""
    two = figures[DASK_2]
    return {against: {basis: two.throughput(runs, best) / (2 * one.throughput(runs, best))
                      for basis, best in (("median", False), ("best", True))}
            for against, one in ((DASK_1, figures[DASK_1]), (IN_PROCESS, figures[IN_PROCESS]))}


def report(env: dict[str, Any], load_after: list[float] | None, runs: int, repeats: int,
           wait_quiet_s: float, figures: dict[str, ExecutorFigures],
           efficiency: dict[str, dict[str, float]], e2e: list[EndToEnd]) -> str:
    columns = (("executor", "<16"), ("start-up s", ">10"), ("warm-up s", ">9"),
               ("round s median [min-max]", ">24"), ("runs/s", ">7"), ("s/run", ">6"),
               ("cores", ">5"), ("others' CPU", ">11"))

    def line(*cells: object) -> str:
        return " ".join(f"{c:{spec}}" for c, (_, spec) in zip(cells, columns, strict=True))

    def row(f: ExecutorFigures) -> str:
        seconds = f.round_seconds
        return line(f.label, fmt_s(f.startup_s), fmt_s(f.warmup_s),
                    f"{f.median_s:.2f} [{min(seconds):.2f}-{max(seconds):.2f}]",
                    f"{f.throughput(runs):.3f}", f"{f.median_s / runs:.3f}",
                    f"{f.cores_used:.2f}", fmt_share(f.other_share))

    def rounds(f: ExecutorFigures) -> str:
        cells = [f"{w.wall_s:6.2f} ({fmt_share(w.other_share):>4}){'*' if w.quiet is False else ''}"
                 for w in f.rounds]
        return f"  {f.label:<16} " + "  ".join(cells)

    warm_runs = [w["warm_run_s"] for f in figures.values() for w in f.warm]
    warm = (f"median {statistics.median(warm_runs):.2f} [{min(warm_runs):.2f}-"
            f"{max(warm_runs):.2f}] over {len(warm_runs)} processes")
    grid = " x ".join(f"{name} {values}" for name, values in GRID.items())
    lines = [
        "Sweep throughput and parallel efficiency; phase diagrams end to end",
        f"Python {env['python']} | Mesa {env['mesa']} | dask {env['dask']} | distributed "
        f"{env['distributed']} | numpy {env['numpy']}",
        f"{env['cpu_count']} CPUs ({env['cpus_usable']} usable, {env['cpu_model']})",
        f"load average {fmt_load(env['load_average'])} (start), {fmt_load(load_after)} (end)",
        f"workload: {runs} full-scale runs (scale {SCALE}, default horizon), {grid}, "
        f"{repeats} interleaved rounds per executor",
        "",
        line(*(name for name, _ in columns)),
        *(row(f) for f in figures.values()),
        "",
        "each round, s (others' CPU):",
        *(rounds(f) for f in figures.values()),
        "",
    ]
    for against, value in efficiency.items():
        median, best = value["median"], value["best"]
        lines.append(f"parallel efficiency at 2 workers vs {against + ':':<16} "
                     f"{100 * median:5.1f}% (median rounds)   goal >= "
                     f"{100 * EFFICIENCY_GOAL:.0f}%: {verdict(median >= EFFICIENCY_GOAL)}")
        lines.append(f"{'':<53}{100 * best:5.1f}% (fastest rounds) goal >= "
                     f"{100 * EFFICIENCY_GOAL:.0f}%: {verdict(best >= EFFICIENCY_GOAL)}")
    overhead = figures[DASK_1].median_s / figures[IN_PROCESS].median_s - 1
    lines.append(f"Dask overhead at 1 worker vs in-process: {100 * overhead:+.1f}% time "
                 "(median rounds)")
    trimmed = figures[DASK_2_TRIM].median_s / figures[DASK_2].median_s - 1
    lines.append(f"2 workers with Dask's MALLOC_TRIM_THRESHOLD_={DASK_TRIM_THRESHOLD} vs "
                 f"without (the executor's setting): {100 * trimmed:+.1f}% time (median "
                 "rounds)")
    lines.append("")
    for run in e2e:
        label = f"{run.experiment} ({run.runs} runs, {run.workers} workers) end to end:"
        goal = f"goal <= {run.goal_s / 60:.0f} min: {verdict(run.met)}"
        if run.substitute:
            goal += " (substitute file; the goal is for the default one)"
        lines.append(f"{label} {run.window.wall_s:.1f} s   {goal}")
        lines.append(f"  {run.stored} runs stored, status {run.status}; others' CPU "
                     f"{fmt_share(run.window.other_share)} of a core meanwhile"
                     + (" (not quiet at start)" if run.window.quiet is False else ""))
    waiting = (f"Before each round and each end-to-end sweep the benchmark waited up to "
               f"{wait_quiet_s:.0f} s for other processes to use < {100 * QUIET_SHARE:.0f}% "
               "of a core (over 1 s); * marks a round that started without that."
               if wait_quiet_s > 0 else "Rounds started without waiting for a quiet machine "
               "(--wait-quiet 0).")
    lines += [
        "",
        "notes:",
        *note("round s: one pass of the workload through the executor, from the first "
              "submission to the last result (map_unordered(run_task, specs)); rounds of "
              "the four executors are interleaved; runs/s = runs / median round."),
        *note("efficiency = runs/s(2 workers) / (2 x runs/s(1)); '1' is the one-worker "
              "Dask LocalCluster (like with like) or this process without Dask; from the "
              "median rounds, and from the fastest round of each executor (the least "
              "disturbed by other work)."),
        *note("every Dask round has a cluster of its own, started just before it and closed "
              "just after (an idle cluster still uses CPU, so only the one timed exists). "
              "start-up: DaskExecutor.__enter__ (LocalCluster + Client) until every worker "
              "is registered; warm-up: one task pinned to each worker importing the run "
              "code and running one small model (this process once for in-process); "
              f"medians over the rounds. The small model itself took {warm}. Closing a "
              "cluster took "
              f"{fmt_s(figures[DASK_1].teardown_s)} s (1 worker) and "
              f"{fmt_s(figures[DASK_2].teardown_s)} s (2 workers). None of these is in the "
              "throughput; the end-to-end times include them all."),
        *note("cores: CPU time of this process and its descendants (scheduler, client, "
              "nannies, workers) over the rounds' wall time."),
        *note("others' CPU: busy CPU time of every other process on the machine during "
              "a measurement, as a share of one core (/proc/stat minus this process "
              "tree). Anything above a few percent makes the figures pessimistic: "
              f"2 workers need both of the {env['cpu_count']} cores, and the scheduler and "
              f"client share them too. {waiting}"),
    ]
    spread = max(max(f.round_seconds) / min(f.round_seconds) for f in figures.values())
    steal = [r.steal_s for f in figures.values() for r in f.rounds]
    stolen = (f"{sum(steal):.1f} s" if all(v is not None for v in steal) else "n/a")
    lines += note(f"rounds of one executor differ by up to {100 * (spread - 1):.0f}% (slowest "
                  f"/ fastest); steal time reported by the hypervisor over all rounds: "
                  f"{stolen}. A spread much larger than others' CPU explains points at "
                  "contention outside this machine (a VM's host, which need not report "
                  "steal); interference only slows a round down, so the fastest rounds then "
                  "estimate the undisturbed figures better than the median.")
    identical = all(f.identical for f in figures.values())
    lines += note("every round's run table identical to the in-process one: "
                  + ("yes" if identical else "NO"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=80,
                        help="full-scale runs per round of the throughput workload "
                        "(default %(default)s)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="timed rounds per executor, interleaved (default %(default)s)")
    parser.add_argument("--publication", action="store_true",
                        help="also time the publication phase diagram end to end "
                        "(about 10 minutes)")
    parser.add_argument("--quick-file", type=Path, default=QUICK_FILE,
                        help="experiment timed against the 2-minute goal (default: "
                        "experiments/quick/phase_diagram.toml)")
    parser.add_argument("--publication-file", type=Path, default=PUBLICATION_FILE,
                        help="experiment timed with --publication against the 15-minute "
                        "goal (default: experiments/publication/phase_diagram.toml)")
    parser.add_argument("--wait-quiet", type=float, default=30.0, metavar="SECONDS",
                        help="before each timed round or sweep, wait up to SECONDS for "
                        "other processes to use < 10%% of a core; 0 never waits "
                        "(default %(default)s)")
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="also write the figures to PATH as JSON")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    for path in (args.quick_file, *([args.publication_file] if args.publication else [])):
        if not path.is_file():
            parser.error(f"experiment file not found: {path}")

    # Both clusters run at once and DaskExecutor's LocalCluster serves its dashboard on the
    # default port even without --dashboard, so the second one warns that it took another.
    warnings.filterwarnings("ignore", message="Port .* is already in use")
    env = environment()  # first, so the load average shows what else the machine runs
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as scratch:
        toml, specs = make_workload(Path(scratch), args.runs)
        figures = bench_throughput(specs, args.repeats, args.wait_quiet)
        efficiency = efficiencies(figures, args.runs)
        e2e = [bench_end_to_end(args.quick_file, QUICK_FILE, QUICK_GOAL_S, Path(scratch),
                                args.wait_quiet)]
        if args.publication:
            e2e.append(bench_end_to_end(args.publication_file, PUBLICATION_FILE,
                                        PUBLICATION_GOAL_S, Path(scratch), args.wait_quiet))
    load_after = load_average()
    print(report(env, load_after, args.runs, args.repeats, args.wait_quiet, figures,
                 efficiency, e2e))

    if args.json:
        data = {
            "environment": env, "load_average_end": load_after,
            "workload": {"runs": args.runs, "repeats": args.repeats, "scale": SCALE,
                         "wait_quiet_s": args.wait_quiet, "quiet_share": QUIET_SHARE,
                         "grid": GRID, "experiment_toml": toml,
                         "run_ids": [spec.run_id for spec in specs]},
            "executors": {label: f.to_dict(args.runs) for label, f in figures.items()},
            "parallel_efficiency": {"vs_dask_1_worker": efficiency[DASK_1],
                                    "vs_in_process": efficiency[IN_PROCESS]},
            "dask_overhead_1_worker": figures[DASK_1].median_s / figures[IN_PROCESS].median_s
            - 1,
            "end_to_end": [run.to_dict() for run in e2e],
            "goals": {
                "efficiency_min": EFFICIENCY_GOAL,
                "efficiency_vs_dask_1_worker_met":
                    efficiency[DASK_1]["median"] >= EFFICIENCY_GOAL,
                "efficiency_vs_in_process_met":
                    efficiency[IN_PROCESS]["median"] >= EFFICIENCY_GOAL,
                "quick_phase_diagram_max_s": QUICK_GOAL_S,
                "publication_phase_diagram_max_s": PUBLICATION_GOAL_S},
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
