"""The tables the figures draw: what an analysis module declares of each
(:class:`Table`), and the shape every one of them shares.

Every table is tidy: one row per cell, point, path or quarter, rows sorted by their
keys, floats rounded to :data:`SIG_DIGITS` significant digits, so that its CSV reads
back as the numbers written and the same runs always give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.params import Params

__all__ = ["SIG_DIGITS", "Table", "check_labels", "missing_series", "require",
           "round_value", "tidy", "total_runs", "with_inputs"]

SIG_DIGITS = 12
"""Significant digits kept of every float in a table."""


def total_runs(table: pd.DataFrame) -> np.ndarray:
    """The number of runs behind a table with one count ``n`` per row: their sum."""
    return np.array([table["n"].sum()])


@dataclass(frozen=True)
class Table:
    """One table an analysis writes (a figure's own or a companion).

    ``compute`` makes it from the runs table and the per-quarter series (None when the
    results have none); ``columns`` maps each column, in order, to its kind
    (:data:`sim.analyses.schema.KINDS`: number, integer, text or flag); ``check``
    raises ``ValueError`` for values a well-typed table may still hold wrongly (unknown
    labels, say), given the table's name and the table; ``runs`` gives the run counts
    the table implies, each of which must be the number of runs of the experiment it
    comes from, or is None when the table lists its runs by ``run_id`` instead.

    ``takes_design``: ``compute`` takes a third argument, the design as the results'
    manifest records it (its ``design`` object,
    :meth:`sim.experiment.design.Experiment.design_record`). An analysis whose numbers follow
    from the design's structure (the order of a Morris or Sobol sample) reads it there
    rather than guess it from the runs.
    """

    compute: Callable[..., pd.DataFrame]
    columns: Mapping[str, str]
    check: Callable[[str, pd.DataFrame], None] | None = None
    runs: Callable[[pd.DataFrame], np.ndarray] | None = total_runs
    takes_design: bool = False


def require(frame: pd.DataFrame, columns: Sequence[str], what: str = "runs table") -> None:
    """Raise ``ValueError`` naming the columns ``frame`` lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"the {what} lacks column(s) {', '.join(missing)}")


def missing_series(analysis_needs: str) -> ValueError:
    """The error for an analysis of the per-quarter series given results without them;
    ``analysis_needs`` starts the sentence (e.g. "trajectories need")."""
    return ValueError(f"{analysis_needs} the per-quarter series, and these results have "
                      "none: run the experiment with series = true in its [experiment] "
                      "table")


def design_inputs(runs: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """The columns among ``columns`` that the experiment's design varies: those taking
    more than one value within some replicate. A constant an experiment draws per
    replicate from a posterior (``[experiment] posterior``: the same draw at every point
    of the replicate) varies between replicates only; it is part of what a replicate
    draws, like its seed, not an input the runs are compared over."""
    if "replicate" not in runs.columns:
        return [c for c in columns if runs[c].nunique(dropna=False) > 1]
    by_replicate = runs.groupby("replicate", sort=False)
    return [c for c in columns
            if bool((by_replicate[c].nunique(dropna=False) > 1).any())]


def with_inputs(runs: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """The runs table with every named input as a column (its default if not stored)."""
    defaults = Params()
    missing = {n: getattr(defaults, n) for n in names if n not in runs.columns}
    return runs.assign(**missing) if missing else runs


def round_value(value: Any) -> Any:
    """A finite float rounded to :data:`SIG_DIGITS` significant digits; anything else
    as it is."""
    if isinstance(value, float | np.floating) and math.isfinite(value):
        return float(f"{value:.{SIG_DIGITS}g}")
    return value


def tidy(table: pd.DataFrame, keys: list[str] | None) -> pd.DataFrame:
    """Rows sorted by their keys, floats rounded to 12 significant digits."""
    if keys:
        table = table.sort_values(keys, kind="stable")
    table = table.reset_index(drop=True)
    for column in table.columns:
        if pd.api.types.is_float_dtype(table[column]):
            table[column] = table[column].map(round_value).astype(float)
    return table


def check_labels(name: str, values: pd.Series, known: Sequence[str]) -> None:
    """Raise ``ValueError`` when a column of the table ``name`` holds a label not in
    ``known``."""
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"the {name} table has unknown label(s) "
                         f"{', '.join(map(repr, unknown))} in column {values.name!r}; "
                         f"expected one of {', '.join(known)}")
