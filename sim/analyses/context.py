"""What a figure shows besides the numbers of its table: :class:`FigureContext`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from sim.analyses.labels import THRESHOLDS, thresholds
from sim.analyses.tables import round_value
from sim.params import Params

__all__ = ["Companions", "FigureContext", "Span", "context_from_runs", "horizon", "span"]

Span = tuple[float, float]
"""Lowest and highest value of a threshold over the runs behind a figure."""

Companions = Mapping[str, pd.DataFrame]
"""The companion tables a figure draws besides its own, by name."""


@dataclass(frozen=True)
class FigureContext:
    """What a figure shows besides the numbers of its table.

    ``experiment`` prefixes the title; ``horizon`` is the last simulated year (a range
    ``"2025-2030"`` when the runs differ); ``runs`` is the number of runs behind the
    figure (None: the sum of the table's ``n`` where it has one, else not shown);
    ``thresholds`` maps a classification threshold (:data:`THRESHOLDS`) to its lowest and
    highest value over the runs, or to None when unknown. A threshold left out of the
    mapping takes its :class:`sim.params.Params` default, which is unknown for the
    capability threshold (the model derives it at run time from the scale). Threshold
    lines are drawn where the lowest and highest value coincide.
    """

    experiment: str = ""
    horizon: str = field(default_factory=lambda: str(Params().until_year))
    runs: int | None = None
    thresholds: Mapping[str, Span | None] = field(default_factory=dict)

    def threshold(self, name: str) -> Span | None:
        """Lowest and highest value of one threshold, or None when it is unknown."""
        if name in self.thresholds:
            return self.thresholds[name]
        default = getattr(Params(), name)
        return None if default is None else (float(default), float(default))


def span(values: pd.Series) -> Span | None:
    """Lowest and highest value, rounded like the tables; None if any is unknown."""
    if values.empty or values.isna().any():
        return None
    return round_value(float(values.min())), round_value(float(values.max()))


def horizon(runs: pd.DataFrame) -> str:
    """The last simulated year of the runs (one row per run), or the range of them."""
    if "until_year" in runs and runs["until_year"].nunique() == 1:
        return str(int(runs["until_year"].iloc[0]))
    if "until_year" in runs:
        return f"{int(runs['until_year'].min())}-{int(runs['until_year'].max())}"
    return str(Params().until_year)


def context_from_runs(runs: pd.DataFrame, experiment: str) -> FigureContext:
    """The context of a figure drawn from a runs table: its horizon, its number of runs
    and the span of each threshold stored with them."""
    limits = thresholds(runs)
    return FigureContext(experiment=experiment, horizon=horizon(runs), runs=len(runs),
                         thresholds={name: span(limits[name]) for name in THRESHOLDS})
