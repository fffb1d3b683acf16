"""The unit of work of a sweep: one run, from its spec to its table rows.

A plain module-level function so that any executor (in-process, a local Dask cluster,
remote Dask workers) can import and call it. :func:`run_checked` wraps it for workers
that may run other code than the process submitting to them: it refuses the run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.runs import run
from sim.sweep import identity
from sim.sweep.design import RunSpec

#: Summary entries not stored per run (``seed`` is stored from the spec; ``quarter`` is
#: the horizon, the same for every run of an experiment).
_SKIPPED = {"seed", "quarter"}


@dataclass
class RunResult:
    """One finished run: its row of the runs table and, if asked, its quarterly series."""

    row: dict[str, Any]
    series: pd.DataFrame | None


def run_task(spec: RunSpec) -> RunResult:
    """Run one spec to its horizon and return its results."""
    model = run(spec.seed, **spec.parameters)
    summary = {k: v for k, v in model.summary().items() if k not in _SKIPPED}
    row = {"run_id": spec.run_id, "point": spec.point, "replicate": spec.replicate,
           "seed": spec.seed, **spec.parameters, **summary}
    series = None
    if spec.series:
        series = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        series.insert(0, "quarter", [r["quarter"] for r in model.history])
        series.insert(0, "run_id", spec.run_id)
    return RunResult(row, series)


class CodeMismatchError(RuntimeError):
    """A worker was sent a run made for other code than its own; it ran nothing.

    Raised on the worker and sent back to the submitter (it pickles by its arguments).
    """

    def __init__(self, worker: str, worker_identity: dict[str, Any]) -> None:
        super().__init__(worker, worker_identity)
        self.worker = worker
        self.worker_identity = worker_identity

    def __str__(self) -> str:
        return f"worker {self.worker} runs {identity.short(self.worker_identity)}"


def run_checked(item: Any, *, task: Callable[[Any], Any], source_sha256: str) -> Any:
    """``task(item)``, but only if this process runs the code whose ``source_sha256``
    the submitter sent; otherwise :class:`CodeMismatchError` before anything runs."""
    if identity.source_sha256() != source_sha256:  # looked up now: a preload may patch it
        raise CodeMismatchError(_this_worker(), identity.code_identity())
    return task(item)


def _this_worker() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):  # not inside a Dask worker
        return f"process {os.getpid()}"
