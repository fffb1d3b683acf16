"""The unit of work of a sweep: one run, from its spec to its table rows.

A plain module-level function so that any executor (in-process, a local Dask cluster,
remote Dask workers) can import and call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.runs import run
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
