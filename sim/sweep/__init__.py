"""Sweeps: running an experiment's runs (in-process or on Dask) into a resumable results
directory.

The experiment design, the results directory's layout and how it is read are the
contract's (:mod:`sim.experiment`); this package keeps the tasks, the executors, the
progress meter and the writer, so a new executor or storage format replaces one module
without touching the others. :func:`load`, :class:`Experiment`, :class:`ExperimentError`
and :func:`read_results` are the contract's, named here too for convenience.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pandas as pd

from sim.experiment.design import Experiment, ExperimentError, load
from sim.experiment.results import read_results
from sim.sweep.execute import DaskExecutor, ExecutorError, InProcessExecutor
from sim.sweep.progress import Progress
from sim.sweep.storage import ResultStore
from sim.sweep.tasks import run_group, spin_up_groups

__all__ = ["DaskExecutor", "Experiment", "ExperimentError", "ExecutorError",
           "InProcessExecutor", "ResultStore", "load", "read_results", "run_sweep"]

FLUSH_EVERY_RUNS = 50
FLUSH_EVERY_SECONDS = 5.0


def run_sweep(experiment: Experiment, out: str | Path,
              executor: InProcessExecutor | DaskExecutor,
              progress: bool = True, *, allow_code_change: bool = False) -> pd.DataFrame:
    """Run every run of ``experiment`` not yet stored in ``out``; return the runs table.

    The runs go out in groups that share a spin-up (:func:`~sim.sweep.tasks.run_group`);
    results are written as they arrive, once ``FLUSH_EVERY_RUNS`` runs are in hand or
    ``FLUSH_EVERY_SECONDS`` seconds have passed. A sweep stopped by an exception (Ctrl-C,
    SIGTERM in the command line, an :class:`~sim.sweep.execute.ExecutorError`) stores
    what finished and marks its manifest ``interrupted``; one killed outright loses at
    most the batch in hand. Either resumes where it stopped when called again. No other
    process may write ``out`` meanwhile (its lock is held until the end), and runs
    stored by other code are refused unless ``allow_code_change``.
    """
    store = ResultStore(out, experiment, allow_code_change=allow_code_change)
    done = store.open()
    specs = experiment.runs()
    todo = [spec for spec in specs if spec.run_id not in done]
    meter = Progress(len(specs), len(specs) - len(todo), experiment.name) if progress else None
    if meter is not None and hasattr(executor, "on_status"):
        executor.on_status = meter.waiting  # a cluster reports even when no run finishes
    last_flush = time.monotonic()
    try:
        with executor if todo else contextlib.nullcontext():
            try:
                groups = spin_up_groups(todo)
                for results in executor.map_unordered(run_group, groups) if todo else ():
                    for result in results:
                        store.add(result)
                        if meter is not None:
                            meter.update()
                    now = time.monotonic()
                    if (store.buffered >= FLUSH_EVERY_RUNS
                            or now - last_flush >= FLUSH_EVERY_SECONDS):
                        store.flush()
                        last_flush = now
            finally:
                store.flush()  # before a cluster shuts down, which can take seconds
    except BaseException:
        try:
            store.mark_interrupted()  # the manifest says so; resuming clears it
        finally:
            store.close()  # writes what is buffered and gives the directory's lock up
        raise
    finally:
        store.flush()
        if meter is not None:
            meter.close()
    try:
        return store.finalize(len(specs))
    finally:
        store.close()

