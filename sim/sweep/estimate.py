"""What a sweep will cost, from its design alone: time on one core and peak memory.

``python -m sim sweep`` prints :meth:`Estimate.line` when it starts, so that a design
that would take a month or more memory than the machine has is seen before it is left
running. The numbers are rough (a factor of two either way): a run's time is modelled as
a fixed cost plus its quarters (spin-up included) times a cost per quarter that grows
with the number of agents (about 2,300 at scale 1). The constants were fitted to runs at
scale 0.05 and 1, to 2018 and to 2030, and scaled to the full-scale run of
``benchmarks/bench_model.py`` on a quiet 2-core machine (0.35 s); a run inside a Dask
worker takes 10-20 % longer. Every run is charged its spin-up, although a sweep runs one
spin-up for the runs that share it (:mod:`sim.sweep.tasks`): for a phase diagram the
estimate errs high by about a tenth. Memory is the sweeping process's baseline plus, per run
and per series row, what the run list and the consolidated tables hold (measured with
``memory_usage(deep=True)`` and the process's resident size).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.experiment.design import Experiment
from sim.params import QUARTERS_PER_YEAR, START_YEAR, Params

#: Collaborating agents of a run at scale 1 (2018Q1, after the spin-up).
AGENTS_AT_SCALE_1 = 2_300
#: Seconds per run (building the model), and per simulated quarter: a fixed part and a
#: part per agent.
SECONDS_PER_RUN = 0.01
SECONDS_PER_QUARTER = 0.0012
SECONDS_PER_AGENT_QUARTER = 1.7e-6
#: A run in a Dask worker process takes 10-20 % longer than in a plain process.
DASK_SLOWDOWN = 1.15
#: Memory of the sweeping process before any run (interpreter, numpy, pandas, Dask).
BASE_BYTES = 250_000_000
#: Memory per run: its spec in the run list and its row of the runs table, both held
#: until the tables are consolidated.
RUN_BYTES = 600 + 800
#: Memory per row of the series table (about 45 columns), which consolidation holds
#: about three times over (the parts read, their concatenation, the sorted table).
SERIES_ROW_BYTES = 370
SERIES_COPIES = 3


@dataclass(frozen=True)
class Estimate:
    """Rough cost of a whole sweep."""

    runs: int
    seconds_per_run: float
    series_rows: int
    memory_bytes: int

    @property
    def core_seconds(self) -> float:
        """Time of every run, one after another on one core."""
        return self.runs * self.seconds_per_run

    def line(self, workers: int | None = None) -> str:
        """The estimate in one line; with ``workers``, also the time on that many."""
        text = (f"estimate: ~{_duration(self.core_seconds)} of one core "
                f"(~{_duration(self.seconds_per_run)} a run)")
        if workers is not None and workers > 1:
            wall = self.core_seconds * DASK_SLOWDOWN / workers
            text += f", ~{_duration(wall)} on {workers} workers"
        text += f", peak memory ~{_size(self.memory_bytes)}"
        if self.series_rows:
            text += f", {self.series_rows:,} series rows"
        return text


def estimate(experiment: Experiment) -> Estimate:
    """The cost of ``experiment``, computed from its design without building its runs.

    Scale and horizon are taken where the design fixes them; where it varies them, at
    their mean over the grid (or the middle of the sampled range).
    """
    scale = _typical(experiment, "scale")
    until_year = _typical(experiment, "until_year")
    spin_up_years = _typical(experiment, "spin_up_years")
    recorded = (until_year - START_YEAR + 1) * QUARTERS_PER_YEAR
    quarters = recorded + spin_up_years * QUARTERS_PER_YEAR
    agents = max(AGENTS_AT_SCALE_1 * scale, 1.0)
    seconds = SECONDS_PER_RUN + quarters * (SECONDS_PER_QUARTER
                                            + SECONDS_PER_AGENT_QUARTER * agents)
    runs = experiment.run_count
    series_rows = math.ceil(runs * recorded) if experiment.series else 0
    memory = BASE_BYTES + runs * RUN_BYTES + series_rows * SERIES_ROW_BYTES * SERIES_COPIES
    return Estimate(runs=runs, seconds_per_run=seconds, series_rows=series_rows,
                    memory_bytes=int(memory))


def _typical(experiment: Experiment, name: str) -> float:
    if name in experiment.fixed:
        return float(experiment.fixed[name])
    if name in experiment.grid:
        values = experiment.grid[name]
        return sum(values) / len(values)
    if experiment.sample and name in experiment.sample["ranges"]:
        return sum(experiment.sample["ranges"][name]) / 2
    return float(getattr(Params(), name))


def _duration(seconds: float) -> str:
    for unit, length in (("days", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= 2 * length:
            value = seconds / length
            return f"{value:,.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"
    return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"


def _size(count: float) -> str:
    for unit, length in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if count >= length:
            return f"{count / length:.1f} {unit}"
    return f"{count / 1e3:.0f} kB"
