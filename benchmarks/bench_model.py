"""Benchmark: ClusterModel against Mesa's own Boltzmann Wealth example.

What is measured
----------------
* **Run time.** ``ClusterModel(rng=seed, scale=1.0)`` is built and run to its horizon
  (``run_model()``, 52 quarters by default) for seeds ``0..R-1``; the run (the 52
  recorded quarters) and the construction (agents, initial ties and the spin-up of
  ``spin_up_years``, 16 quarters by default) are timed apart with
  ``time.perf_counter``, and the medians are reported. The ratio uses the run alone;
  the spin-up's cost is reported beside it. Mesa's ``BoltzmannWealth`` example is timed
  the same way, as written (its own ``step()``, ``DataCollector`` and ``DataRecorder``),
  with as many agents as ClusterModel has right after construction, the same number of
  steps, and the example's default density of one agent per cell (a ``ceil(sqrt(n))``
  square grid).
* **Pairs.** The two models are timed seed by seed, back to back (ClusterModel first for
  even seeds, Boltzmann first for odd ones), so that both meet the machine in the same
  state: a shared virtual machine's speed drifts by tens of percent within minutes, and
  timing all of one model's runs before the other's would put that drift into the ratio.
* **Microseconds per agent-step** = run seconds / (agents x steps), the median over runs.
  Boltzmann's population is constant. ClusterModel's changes (ventures are born and
  exit), so its agents are the mean of ``len(model.agents)`` at the start of each step,
  counted in a separate, untimed run of the same seed that steps the model by hand (the
  same loop as ``run_model``, so the same run; the final count is checked against the
  timed run). Those counting runs double as warm-up; Boltzmann gets one untimed warm-up.
* **Ratio** ClusterModel / Boltzmann microseconds per agent-step, one per pair; the
  median over pairs is reported with its distribution-free 95% confidence interval (order
  statistics of the pair ratios, from the binomial distribution: no assumption about
  the noise). The goal is <= 0.3: *met* when the whole interval lies at or below it,
  *not met* when the whole interval lies above it, and *not settled* when the interval
  holds the goal (more repeats narrow it).
* **Where a run's time goes.** The same runs once more, after the pairs, each stage of
  ``ClusterModel.step`` (:data:`STAGES`, the ODD's schedule) timed with
  ``time.perf_counter`` around the rule that runs it; what the stages leave of a run is
  Mesa's scheduling of the step and the model's own bookkeeping between stages.
* **Fixed cost per quarter.** Small runs (scales :data:`FIXED_COST_SCALES`, the same
  seeds) stepped by hand and timed; seconds per quarter against the mean number of
  agents, fitted by least squares: the intercept is what a quarter costs whatever the
  population (the model's bookkeeping, observation, Mesa's scheduling), the slope what
  each agent adds. A student's run at scale 0.1 and the dashboard are dominated by the
  first; the per-quarter time at scale 0.1 is reported beside the fit.
* **Peak memory.** Each model runs once (seed 0) in a fresh subprocess of this script;
  ``ru_maxrss`` at the end of the run is its peak resident set (interpreter and imports
  included; the figure after imports is reported as the baseline). The goal for
  ClusterModel is <= 300 MB (1 MB = 2**20 bytes). Linux carries ``ru_maxrss`` over from
  the parent across fork/exec, so these subprocesses are started first, while this
  process has imported nothing but the standard library (Mesa, numpy and the models are
  imported lazily); ``VmHWM`` from /proc/self/status is recorded as a cross-check. A
  second subprocess per model reports the ``tracemalloc`` peak of the Python heap (numpy
  buffers included), kept apart so the tracing overhead does not inflate the RSS figure.

Run it (not part of the test suite)::

    make bench
    .venv/bin/python benchmarks/bench_model.py --repeats 15 --json bench.json
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import textwrap
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import partial, wraps
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Mesa, numpy and the models are imported inside the functions that use them, so that this
# process is still small when it starts the memory subprocesses (see the docstring).
if TYPE_CHECKING:
    import mesa
    from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannWealth

    from sim.model import ClusterModel

SCALE = 1.0
RATIO_GOAL = 0.3
CONFIDENCE = 0.95
RSS_GOAL_MB = 300.0
MEMORY_SEED = 0
#: Scales of the small runs whose per-quarter times give the fixed cost per quarter.
FIXED_COST_SCALES = (0.05, 0.1, 0.2)
CLUSTER, BOLTZMANN = "cluster", "boltzmann"

CHILD_IMPORTS = {CLUSTER: "sim.model",
                 BOLTZMANN: "mesa.examples.basic.boltzmann_wealth_model.model"}
AGENT_COUNT_METHOD = (
    "ClusterModel: mean of len(model.agents) at the start of each step, from a separate "
    "untimed run of the same seed stepped by hand; Boltzmann: n (constant)")


# --- the two workloads --------------------------------------------------------------------
def build_cluster(seed: int) -> ClusterModel:
    """Build ClusterModel at full scale: agents, initial ties and the spin-up."""
    from sim.model import ClusterModel

    return ClusterModel(rng=seed, scale=SCALE)


def run_to_horizon(model: ClusterModel) -> ClusterModel:
    """Run a built ClusterModel to its horizon."""
    model.run_model()
    return model


def run_cluster(seed: int) -> ClusterModel:
    """Build and run ClusterModel at full scale to its horizon."""
    return run_to_horizon(build_cluster(seed))


def boltzmann_side(n: int) -> int:
    """Grid side giving the example's default density (100 agents on 10 x 10)."""
    return math.ceil(math.sqrt(n))


def run_boltzmann(n: int, steps: int, seed: int) -> BoltzmannWealth:
    """Build Mesa's Boltzmann Wealth example and step it ``steps`` times as written."""
    from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario, BoltzmannWealth

    side = boltzmann_side(n)
    model = BoltzmannWealth(
        scenario=BoltzmannScenario(n=n, width=side, height=side, rng=seed))
    for _ in range(steps):  # the example never stops by itself, so no run_model()
        model.step()
    return model


@dataclass(frozen=True)
class AgentCount:
    """Agents of one ClusterModel run: at construction, mean per step and at the end."""

    initial: int
    steps: int
    mean: float
    final: int


def count_cluster_agents(seed: int) -> AgentCount:
    """Run ClusterModel stepping by hand (run_model's loop) and count agents per step."""
    from sim.model import ClusterModel

    model = ClusterModel(rng=seed, scale=SCALE)
    initial = len(model.agents)
    at_step_start: list[int] = []
    while model.running:
        at_step_start.append(len(model.agents))
        model.step()
    return AgentCount(initial, model.steps, statistics.fmean(at_step_start),
                      len(model.agents))


def timed(build_and_run: Callable[[], mesa.Model]) -> tuple[float, mesa.Model]:
    """Seconds taken by ``build_and_run`` (garbage collected beforehand), and its model."""
    gc.collect()
    start = time.perf_counter()
    model = build_and_run()
    return time.perf_counter() - start, model


# --- memory, in a fresh subprocess ------------------------------------------------------------
def max_rss_mb() -> float:
    """Peak resident set of this process so far, in MB (2**20 bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB


def vm_hwm_mb() -> float | None:
    """Peak resident set of this process's own address space (Linux only), in MB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10  # kB
    except OSError:
        pass
    return None


def child_main(which: str, agents: int, steps: int, trace: bool) -> None:
    """Run one model once in this (fresh) process and print its memory figures as JSON."""
    importlib.import_module(CHILD_IMPORTS[which])  # the imports count in the baseline
    baseline = max_rss_mb()
    if trace:
        tracemalloc.start()
    if which == CLUSTER:  # the run_model() run, also reporting its agents and steps
        count = count_cluster_agents(MEMORY_SEED)
        agents, steps = count.initial, count.steps
    else:
        run_boltzmann(agents, steps, MEMORY_SEED)
    result: dict[str, float | None] = {
        "baseline_rss_mb": baseline, "peak_rss_mb": max_rss_mb(), "vm_hwm_mb": vm_hwm_mb(),
        "agents": agents, "steps": steps}
    if trace:
        result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    print(json.dumps(result))


def measure_in_subprocess(which: str, agents: int, steps: int,
                          trace: bool) -> dict[str, Any]:
    """Run :func:`child_main` in a fresh interpreter and return what it printed."""
    command = [sys.executable, str(Path(__file__).resolve()), "--_child", which,
               "--_agents", str(agents), "--_steps", str(steps)]
    if trace:
        command.append("--_trace")
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@dataclass(frozen=True)
class Memory:
    """Memory figures of one run (seed 0), from two fresh subprocesses."""

    agents: int  # at the start of the run
    steps: int
    baseline_rss_mb: float  # ru_maxrss after imports, before the model is built
    peak_rss_mb: float  # ru_maxrss at the end of the run
    vm_hwm_mb: float | None  # cross-check: /proc/self/status VmHWM at the end of the run
    tracemalloc_peak_mb: float  # Python heap, in the second subprocess
    parent_rss_mb: float  # this process's ru_maxrss when it started the subprocesses


def measure_memory(which: str, agents: int = 0, steps: int = 0) -> Memory:
    """Memory of one run of ``which``; ClusterModel reports its own agents and steps."""
    parent = max_rss_mb()
    plain = measure_in_subprocess(which, agents, steps, trace=False)
    traced = measure_in_subprocess(which, agents, steps, trace=True)
    return Memory(plain["agents"], plain["steps"], plain["baseline_rss_mb"],
                  plain["peak_rss_mb"], plain["vm_hwm_mb"], traced["tracemalloc_peak_mb"],
                  parent)


# --- where a run's time goes --------------------------------------------------------------
STAGES: tuple[tuple[str, str, str], ...] = (
    ("Regime of the quarter", "Regime", "in_quarter"),
    ("Loosening of ties", "ClusterModel", "loosen_ties"),
    ("Research productivity", "ResearchInstitute", "research_productivity"),
    ("Support agencies act", "SupportAgency", "step"),
    ("Partner search", "ClusterAgent", "search_partners"),
    ("Tie projects", "ClusterModel", "tie_projects"),
    ("Limited attention", "ClusterAgent", "allocate_attention"),
    ("Joint projects", "ClusterAgent", "collaborate"),
    ("Training", "University", "train"),
    ("Training: programme places", "University", "train_funded"),
    ("Capability stock", "ClusterAgent", "accumulate_capability"),
    ("Venture life cycle", "Venture", "life_cycle"),
    ("Removal", "ClusterModel", "remove"),
    ("Relocation", "Venture", "relocate"),
    ("Spin-offs: parents", "ClusterAgent", "spin_off_parents"),
    ("Spin-offs: founding", "Venture", "found"),
    ("Spin-offs: grant holders", "ClusterAgent", "granted_spin_off_parents"),
    ("Spin-offs: founding on grants", "Venture", "found_on_grants"),
    ("Entry", "Venture", "enter"),
    ("Moving in", "Venture", "move_in"),
    ("Observation", "ClusterModel", "observe"),
    ("Compaction", "ClusterModel", "compact"),
    ("Advance", "ClusterModel", "_record_end_state"),
)
"""The stages of ``ClusterModel.step`` in its order: the stage's name in docs/ODD.md
section 3 (stage 14 in its two rules), and the class and attribute of the rule that runs
it. tests/test_bench_model.py checks both against step() and the ODD. Ageing and the
advance of the quarter are single lines of step(), timed with what lies between stages."""


def stage_owners() -> dict[str, type]:
    """The classes named in :data:`STAGES`."""
    from sim.agents import ClusterAgent, ResearchInstitute, SupportAgency, University, Venture
    from sim.model import ClusterModel
    from sim.policy import Regime

    return {cls.__name__: cls for cls in (Regime, ClusterModel, ClusterAgent,
                                          ResearchInstitute, SupportAgency, University,
                                          Venture)}


@contextlib.contextmanager
def stage_clock(seconds: dict[str, float]) -> Iterator[None]:
    """While open, every call of a stage's rule adds its duration to ``seconds[label]``;
    the rules are put back as they were on leaving."""
    owners = stage_owners()
    originals = []
    try:
        for label, owner_name, attribute in STAGES:
            owner = owners[owner_name]
            rule = owner.__dict__[attribute]  # as declared: function, static or class method
            originals.append((owner, attribute, rule))
            setattr(owner, attribute, _clocked(rule, label, seconds))
        yield
    finally:
        for owner, attribute, rule in reversed(originals):
            setattr(owner, attribute, rule)


def _clocked(rule: Any, label: str, seconds: dict[str, float]) -> Any:
    wrapper = type(rule) if isinstance(rule, staticmethod | classmethod) else None
    function = rule.__func__ if wrapper else rule

    @wraps(function)
    def clocked(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[label] += time.perf_counter() - start

    return wrapper(clocked) if wrapper else clocked


@dataclass(frozen=True)
class StageProfile:
    """Seconds per run spent in each stage, and in the whole run (means over runs)."""

    runs: int
    stages: dict[str, float]
    run_seconds: float

    @property
    def between_stages(self) -> float:
        return self.run_seconds - sum(self.stages.values())


def profile_stages(seeds: range) -> StageProfile:
    """Run ClusterModel for ``seeds`` with every stage timed (built, with their
    spin-ups, before the clock starts)."""
    models = [build_cluster(seed) for seed in seeds]
    seconds: dict[str, float] = defaultdict(float)
    total = 0.0
    with stage_clock(seconds):
        for model in models:
            elapsed, _ = timed(partial(run_to_horizon, model))
            total += elapsed
    runs = len(models)
    return StageProfile(runs, {label: seconds[label] / runs for label, _, _ in STAGES},
                        total / runs)


# --- results -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Timing:
    """Timed runs of one model, one per seed."""

    seconds: list[float]
    initial_agents: list[int]
    mean_agents: list[float]
    steps: int
    construction_seconds: list[float] | None = None  # ClusterModel: including the spin-up

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.seconds)

    @property
    def us_per_agent_step(self) -> list[float]:
        return [1e6 * s / (a * self.steps) for s, a in zip(self.seconds, self.mean_agents,
                                                           strict=True)]

    @property
    def median_us_per_agent_step(self) -> float:
        return statistics.median(self.us_per_agent_step)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"median_seconds": self.median_seconds,
                               "us_per_agent_step": self.us_per_agent_step,
                               "median_us_per_agent_step": self.median_us_per_agent_step}


@dataclass
class FixedCost:
    """Seconds per quarter of small runs against their mean number of agents, and the
    least-squares line through them."""

    points: list[tuple[float, float, float]]
    """(scale, mean agents, seconds per quarter), one per run."""
    intercept: float
    """Seconds a quarter costs whatever the population."""
    slope: float
    """Seconds each agent adds to a quarter."""

    def at_scale(self, scale: float) -> float:
        """Median seconds per quarter of the runs at ``scale``."""
        return statistics.median(s for sc, _, s in self.points if sc == scale)


def least_squares_line(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Intercept and slope of the least-squares line through ``(x, y)`` points (at least
    two distinct x)."""
    xs, ys = [x for x, _ in points], [y for _, y in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        raise ValueError("a line needs at least two distinct x values")
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return mean_y - slope * mean_x, slope


def measure_fixed_cost(seeds: range) -> FixedCost:
    """Time small runs quarter by quarter (see the module docstring)."""
    from sim.model import ClusterModel

    points = []
    for scale in FIXED_COST_SCALES:
        for seed in seeds:
            model = ClusterModel(rng=seed, scale=scale)
            agents, started = 0, time.perf_counter()
            steps = 0
            while model.running:  # run_model's loop, counting the agents on the way
                agents += len(model.agents)
                model.step()
                steps += 1
            seconds = time.perf_counter() - started
            points.append((scale, agents / steps, seconds / steps))
    intercept, slope = least_squares_line([(a, s) for _, a, s in points])
    return FixedCost(points, intercept, slope)


def bench_pairs(seeds: range) -> tuple[Timing, Timing]:
    """Time ClusterModel and Boltzmann seed by seed, back to back, alternating which goes
    first; Boltzmann gets as many agents as ClusterModel has after construction."""
    counts = [count_cluster_agents(seed) for seed in seeds]
    steps = {c.steps for c in counts}
    if len(steps) != 1:
        raise RuntimeError(f"runs of different lengths: {sorted(steps)}")
    n_steps = steps.pop()
    run_boltzmann(counts[0].initial, n_steps, seeds[0])  # warm-up, untimed
    cluster_seconds: list[float] = []
    construction: list[float] = []
    boltzmann_seconds: list[float] = []

    def time_cluster(seed: int, count: AgentCount) -> None:
        built, model = timed(partial(build_cluster, seed))
        elapsed, model = timed(partial(run_to_horizon, model))
        if (len(model.agents), model.steps) != (count.final, count.steps):
            raise RuntimeError(f"seed {seed}: the timed run differs from the counting run")
        cluster_seconds.append(elapsed)
        construction.append(built)

    def time_boltzmann(seed: int, count: AgentCount) -> None:
        elapsed, model = timed(partial(run_boltzmann, count.initial, n_steps, seed))
        if (len(model.agents), model.steps) != (count.initial, n_steps):
            raise RuntimeError(f"seed {seed}: unexpected Boltzmann run")
        boltzmann_seconds.append(elapsed)

    for turn, (seed, count) in enumerate(zip(seeds, counts, strict=True)):
        order = (time_cluster, time_boltzmann) if turn % 2 == 0 else (time_boltzmann,
                                                                      time_cluster)
        for time_model in order:
            time_model(seed, count)
    initial = [c.initial for c in counts]
    return (Timing(cluster_seconds, initial, [c.mean for c in counts], n_steps, construction),
            Timing(boltzmann_seconds, initial, [float(n) for n in initial], n_steps))


@dataclass(frozen=True)
class Ratio:
    """ClusterModel / Boltzmann microseconds per agent-step, pair by pair."""

    pairs: list[float]
    interval: tuple[float, float] | None  # for the median, at ``coverage``
    coverage: float | None

    @classmethod
    def of(cls, cluster: Timing, boltzmann: Timing) -> Ratio:
        pairs = [c / b for c, b in zip(cluster.us_per_agent_step,
                                       boltzmann.us_per_agent_step, strict=True)]
        interval, coverage = median_interval(pairs, CONFIDENCE)
        return cls(pairs, interval, coverage)

    @property
    def median(self) -> float:
        return statistics.median(self.pairs)

    def verdict(self, goal: float) -> str:
        """'met', 'NOT met' or 'not settled', by where the interval lies (by the median
        alone when there are too few pairs for an interval)."""
        if self.interval is None:
            return verdict(self.median <= goal) + " (too few pairs for an interval)"
        low, high = self.interval
        if high <= goal:
            return "met"
        if low > goal:
            return "NOT met"
        return "not settled (the interval holds the goal)"


def median_interval(values: list[float], confidence: float
                    ) -> tuple[tuple[float, float] | None, float | None]:
    """Distribution-free confidence interval for the median of ``values``.

    With ``n`` values sorted, ``[x_(k), x_(n+1-k)]`` (1-based) covers the median with
    chance ``1 - 2 P(B <= k - 1)``, ``B`` binomial(``n``, 1/2); ``k`` is the largest rank
    that keeps that chance at least ``confidence``. Returns the interval and its exact
    coverage, or ``(None, None)`` when even the full range covers less (``n`` < 6 at
    95%)."""
    n = len(values)
    below = 0.0  # P(B <= k - 1)
    k = 0
    while k < n and 1.0 - 2.0 * (below + math.comb(n, k) / 2**n) >= confidence:
        below += math.comb(n, k) / 2**n
        k += 1
    if k == 0:
        return None, None
    ordered = sorted(values)
    return (ordered[k - 1], ordered[n - k]), 1.0 - 2.0 * below


def environment() -> dict[str, Any]:
    """Versions and machine; reads package metadata so as not to import Mesa or numpy."""
    cpu_model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            cpu_model = next((line.split(":", 1)[1].strip() for line in cpuinfo
                              if line.startswith("model name")), cpu_model)
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"python": platform.python_version(), "mesa": metadata.version("mesa"),
            "numpy": metadata.version("numpy"), "cpu_count": os.cpu_count(), "cpus_usable": usable,
            "cpu_model": cpu_model, "platform": platform.platform(),
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None}


def fmt_mb(mb: float | None) -> str:
    return "n/a" if mb is None else f"{mb:.1f} MB"


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def report(env: dict[str, Any], seeds: range, cluster: Timing, boltzmann: Timing,
           memory: dict[str, Memory], ratio: Ratio, stages: StageProfile,
           fixed: FixedCost) -> str:
    """The printed summary: header, table, goals and notes."""
    columns = (("model", "<18"), ("agents start/mean", ">17"), ("steps", ">5"),
               ("s/run median [min-max]", ">22"), ("us/agent-step", ">13"),
               ("peak RSS MB", ">11"), ("heap MB", ">8"))

    def line(*cells: object) -> str:
        return " ".join(f"{cell:{spec}}" for cell, (_, spec) in zip(cells, columns,
                                                                    strict=True))

    def row(name: str, t: Timing, m: Memory) -> str:
        initial = sorted(set(t.initial_agents))
        start = str(initial[0]) if len(initial) == 1 else f"{initial[0]}-{initial[-1]}"
        return line(name, f"{start} / {statistics.fmean(t.mean_agents):.1f}", t.steps,
                    f"{t.median_seconds:.3f} [{min(t.seconds):.3f}-{max(t.seconds):.3f}]",
                    f"{t.median_us_per_agent_step:.3f}", f"{m.peak_rss_mb:.1f}",
                    f"{m.tracemalloc_peak_mb:.1f}")

    def note(text: str) -> list[str]:
        return textwrap.wrap(text, width=96, initial_indent="  - ", subsequent_indent="    ")

    side = boltzmann_side(boltzmann.initial_agents[0])
    blas = env["OPENBLAS_CORETYPE"]
    rss = memory[CLUSTER].peak_rss_mb
    load = env["load_average"]
    lines = [
        "ClusterModel vs Mesa's Boltzmann Wealth example",
        f"Python {env['python']} | Mesa {env['mesa']} | numpy {env['numpy']} | "
        f"{env['cpu_count']} CPUs ({env['cpus_usable']} usable, {env['cpu_model']})",
        (f"OPENBLAS_CORETYPE={blas}" if blas is not None else "OPENBLAS_CORETYPE not set")
        + (f" | load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}" if load else ""),
        f"{len(seeds)} timed pairs of runs, seeds {seeds[0]}..{seeds[-1]}, the two models "
        "back to back, taking turns to go first; a run = all recorded steps "
        "(ClusterModel's construction and spin-up timed apart)",
        "",
        line(*(name for name, _ in columns)),
        row("ClusterModel", cluster, memory[CLUSTER]),
        row("Boltzmann (Mesa)", boltzmann, memory[BOLTZMANN]),
        "",
        f"ratio ClusterModel / Boltzmann us per agent-step: median of {len(ratio.pairs)} "
        f"pairs {ratio.median:.3f}, " + (
            f"{ratio.coverage:.1%} interval [{ratio.interval[0]:.3f}-{ratio.interval[1]:.3f}]"
            if ratio.interval else "no interval")
        + f"   goal <= {RATIO_GOAL}: {ratio.verdict(RATIO_GOAL)}",
        "pair ratios: " + " ".join(f"{r:.3f}" for r in ratio.pairs),
        f"ClusterModel construction with its spin-up: median "
        f"{statistics.median(cluster.construction_seconds):.3f} s "
        f"[{min(cluster.construction_seconds):.3f}-{max(cluster.construction_seconds):.3f}], "
        f"{statistics.median(cluster.construction_seconds) / cluster.median_seconds:.0%} "
        "of the median run on top of it",
        f"fixed cost per quarter: {fixed.intercept * 1e3:.2f} ms, and "
        f"{fixed.slope * 1e6:.2f} us per agent (least squares over {len(fixed.points)} runs "
        f"at scales {', '.join(map(str, FIXED_COST_SCALES))}); a quarter at scale 0.1: "
        f"{fixed.at_scale(0.1) * 1e3:.2f} ms (median)",
        f"ClusterModel peak RSS: {rss:.1f} MB"
        f"   goal <= {RSS_GOAL_MB:.0f} MB: {verdict(rss <= RSS_GOAL_MB)}",
        "",
        f"where a ClusterModel run's time goes, stage by stage in the order of its step "
        f"(mean of {stages.runs} runs, {stages.run_seconds:.3f} s a run with the clocks):",
        *(f"  {label:<24}{sec * 1e3:8.1f} ms {sec / stages.run_seconds:6.1%}"
          for label, sec in stages.stages.items()),
        f"  {'between the stages':<24}{stages.between_stages * 1e3:8.1f} ms "
        f"{stages.between_stages / stages.run_seconds:6.1%}",
        "",
        "notes:",
        *note(f"agents: {AGENT_COUNT_METHOD}. us/agent-step = median over runs of "
              "seconds / (agents x steps)."),
        *note("ClusterModel's step is vectorised over numpy arrays; only its support "
              "agencies are activated one by one, so its agent-step is a normalisation, "
              "not a method call per agent."),
        *note(f"Boltzmann: {side}x{side} grid (one agent per cell, the example's default "
              "density), run as written: its own step(), DataCollector and DataRecorder."),
        *note(f"peak RSS: ru_maxrss at the end of one run (seed {MEMORY_SEED}) in a fresh "
              "subprocess, interpreter and imports included (after imports: ClusterModel "
              f"{memory[CLUSTER].baseline_rss_mb:.1f} MB, Boltzmann "
              f"{memory[BOLTZMANN].baseline_rss_mb:.1f} MB). Linux carries ru_maxrss over "
              "from the parent across fork/exec: the parent was at "
              f"{memory[CLUSTER].parent_rss_mb:.1f} MB when it started them. VmHWM "
              f"cross-check: ClusterModel {fmt_mb(memory[CLUSTER].vm_hwm_mb)}, Boltzmann "
              f"{fmt_mb(memory[BOLTZMANN].vm_hwm_mb)}. 1 MB = 2**20 bytes."),
        *note("heap MB: tracemalloc peak of the Python heap (numpy buffers included) over "
              "the same run, in a separate subprocess."),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15,
                        help="timed pairs of runs, seeds 0..R-1 (default 15)")
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="also write the figures to PATH as JSON")
    parser.add_argument("--_child", choices=(CLUSTER, BOLTZMANN), help=argparse.SUPPRESS)
    parser.add_argument("--_agents", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--_steps", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--_trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args._child:
        child_main(args._child, args._agents, args._steps, args._trace)
        return
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    env = environment()  # first, so the load average shows what else the machine runs
    # Memory next, while this process has not imported the models (see the docstring).
    memory = {CLUSTER: measure_memory(CLUSTER)}
    memory[BOLTZMANN] = measure_memory(BOLTZMANN, memory[CLUSTER].agents,
                                       memory[CLUSTER].steps)

    seeds = range(args.repeats)
    cluster, boltzmann = bench_pairs(seeds)
    if (cluster.initial_agents[MEMORY_SEED], cluster.steps) != (memory[CLUSTER].agents,
                                                                memory[CLUSTER].steps):
        raise RuntimeError("the memory run differs from the timed runs")
    ratio = Ratio.of(cluster, boltzmann)
    stages = profile_stages(seeds)
    fixed = measure_fixed_cost(seeds)
    print(report(env, seeds, cluster, boltzmann, memory, ratio, stages, fixed))

    if args.json:
        figures = {
            "environment": env, "repeats": args.repeats, "seeds": list(seeds),
            "scale": SCALE, "agent_count_method": AGENT_COUNT_METHOD,
            "cluster_model": cluster.to_dict() | {"memory": asdict(memory[CLUSTER])},
            "boltzmann": boltzmann.to_dict() | {
                "grid": [boltzmann_side(n) for n in boltzmann.initial_agents],
                "memory": asdict(memory[BOLTZMANN])},
            "ratio_us_per_agent_step": {
                "pairs": ratio.pairs, "median": ratio.median,
                "interval": ratio.interval, "coverage": ratio.coverage},
            "stages": asdict(stages) | {"between_stages": stages.between_stages},
            "fixed_cost_per_quarter": asdict(fixed) | {"scales": list(FIXED_COST_SCALES)},
            "goals": {"ratio_max": RATIO_GOAL, "ratio_verdict": ratio.verdict(RATIO_GOAL),
                      "cluster_peak_rss_mb_max": RSS_GOAL_MB,
                      "cluster_peak_rss_met": memory[CLUSTER].peak_rss_mb <= RSS_GOAL_MB},
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"\nfigures written to {args.json}")


if __name__ == "__main__":
    main()
