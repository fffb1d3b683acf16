"""The unit of work of a sweep: the runs that share one spin-up, from their specs to
their table rows.

Runs with the same seed whose inputs differ only in those that take effect from 2018Q1
(:data:`sim.params.FROM_2018`: coupling, schedules, policies, horizon, thresholds) start
2018 in the same state: a phase diagram's couplings at one capability and replicate, a
policy comparison's combinations at one point. :func:`spin_up_groups` gathers them and
:func:`run_group` runs the spin-up once for a group, each run from a copy of its 2018
state (:meth:`sim.model.ClusterModel.branch`), so every result is the one a run of its
own would give, bit for bit.

Plain module-level functions, so that any executor (in-process, a local Dask cluster,
remote Dask workers) can import and call them. :func:`run_checked` wraps them for
workers that may run other code than the process submitting to them: it refuses the
work.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim import pairing
from sim.experiment import identity
from sim.experiment.columns import SUMMARY
from sim.experiment.design import RunSpec
from sim.model import END_STATE_REPORTS, ClusterModel
from sim.params import Params

#: Summary entries not stored per run (``seed`` is stored from the spec; ``quarter`` is
#: the horizon, the same for every run of an experiment).
_SKIPPED = {"seed", "quarter"}

#: Most runs made from one spin-up in one task: about ten seconds of full-scale runs, so
#: a sweep still has many tasks to spread over its workers, reports progress often, and
#: a lost worker costs little to run again.
GROUP_RUNS = 24


@dataclass
class RunResult:
    """One finished run: its row of the runs table and, if asked, its quarterly series."""

    row: dict[str, Any]
    series: pd.DataFrame | None


def run_task(spec: RunSpec) -> RunResult:
    """Run one spec to its horizon and return its results."""
    return _finish(spec, ClusterModel(rng=spec.seed, summary_only=not spec.series,
                                      **spec.parameters))


def spin_up_groups(specs: Iterable[RunSpec],
                   most: int | None = None) -> list[tuple[RunSpec, ...]]:
    """``specs`` gathered by the spin-up they share (same seed, same inputs apart from
    those that take effect from 2018Q1), at most ``most`` runs a group (default
    :data:`GROUP_RUNS`); groups in the order of their first run, runs in their order in
    ``specs``."""
    most = GROUP_RUNS if most is None else most
    if most < 1:
        raise ValueError(f"most must be at least 1, got {most}")
    shared: dict[tuple[int, Params], list[RunSpec]] = {}
    for spec in specs:
        key = (spec.seed, Params(**spec.parameters).for_spin_up())
        shared.setdefault(key, []).append(spec)
    return [tuple(runs[start:start + most]) for runs in shared.values()
            for start in range(0, len(runs), most)]


def run_group(specs: Sequence[RunSpec]) -> list[RunResult]:
    """Run a group of :func:`spin_up_groups` (runs sharing one spin-up): the spin-up once,
    every run from a copy of its 2018 state; the results in the order of ``specs``.

    A run of the group at coupling 0 is the uncoupled twin of the others
    (:mod:`sim.pairing`), bit for bit: it runs first and serves as their twin, so a run
    that needs its paired synergy does not run the twin again."""
    # stable: uncoupled runs first, the others in their order
    order = sorted(range(len(specs)),
                   key=lambda i: not pairing.is_uncoupled(Params(**specs[i].parameters)))
    *others, last = [specs[i] for i in order]
    # a run whose series are not stored records what its summary reads (the runs of an
    # experiment all store series or none)
    start = ClusterModel(rng=last.seed, summary_only=not last.series, **last.parameters)
    # every input given, so that none of the last run's carries over to another
    copies = start.branches(Params(**spec.parameters).as_dict() for spec in others)
    uncoupled: dict[Params, ClusterModel] = {}
    results: dict[int, RunResult] = {}
    # the last run needs no copy
    for index, spec, model in zip(order, [*others, last], itertools.chain(copies, [start]),
                                  strict=True):
        twin = uncoupled.get(pairing.twin_params(model.params))
        if twin is not None and model.uncoupled_twin is not None:
            model.uncoupled_twin.share(twin)
        results[index] = _finish(spec, model)
        if pairing.is_uncoupled(model.params):
            uncoupled[model.params] = model
    return [results[index] for index in range(len(specs))]


def _finish(spec: RunSpec, model: ClusterModel) -> RunResult:
    """Run ``model`` (built for ``spec``, at 2018Q1) to its horizon; its results."""
    model.run_model()
    summary = {k: v for k, v in model.summary().items() if k not in _SKIPPED}
    # NaN, not None, where a float field has no value (paired_synergy outside the
    # quadrant that needs it), so that every part of the table stores a float column
    summary = {k: math.nan if v is None and k in SUMMARY and SUMMARY[k].type == "float64"
               else v for k, v in summary.items()}
    row = {"run_id": spec.run_id, "point": spec.point, "replicate": spec.replicate,
           "seed": spec.seed, **spec.parameters, **summary}
    series = None
    if spec.series:
        # the quarterly series; the end state is the runs table's
        series = (model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
                  .drop(columns=list(END_STATE_REPORTS)))
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
