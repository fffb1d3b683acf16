"""Whether a results directory holds the whole design, as designed: the check every
command that publishes from stored runs makes first (``figures``, ``reproduce``).

A directory is complete and consistent when its manifest says ``complete``, its runs
table holds each run of the design once (by run id, which the design derives from the
run's parameters, replicate and seed) and no other, and every stored parameter value is
the design's for that run. Anything else is a :class:`Shortfall`: drawn from only with
``--allow-partial``, and then said on the figure and in its CSV.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.sweep.design import Experiment, ExperimentError, parse

__all__ = ["Shortfall", "shortfall"]

_EXPERIMENT_COPY = "experiment.toml"
_POINTS_COPY = "points.csv"


@dataclass(frozen=True)
class Shortfall:
    """How a results directory falls short of its design."""

    stored: int
    """Runs in the runs table."""
    expected: int | None
    """Runs in the design (None when the design cannot be read)."""
    problems: tuple[str, ...]
    """Each way it falls short, in words."""

    def line(self) -> str:
        """The shortfall in one line."""
        return "; ".join(self.problems)


def shortfall(directory: str | Path, manifest: dict[str, Any],
              runs: pd.DataFrame) -> Shortfall | None:
    """The ways ``runs`` (the directory's runs table) and ``manifest`` fall short of the
    design kept in ``directory`` (its ``experiment.toml`` and, for a points design, its
    ``points.csv``), or None when they are complete and consistent."""
    directory = Path(directory)
    problems = []
    status = manifest.get("status")
    if status != "complete":
        reason = manifest.get("incomplete_reason")
        problems.append(f"its manifest says {status!r}" + (f" ({reason})" if reason else ""))
    experiment = _stored_experiment(directory)
    if experiment is None:
        problems.append(f"its {_EXPERIMENT_COPY} is missing or not a valid experiment, so "
                        "its runs cannot be checked against the design")
        return Shortfall(len(runs), None, tuple(problems))
    specs = {spec.run_id: spec for spec in experiment.runs()}
    ids = runs["run_id"].astype(str)
    repeated = int(ids.duplicated().sum())
    if repeated:
        problems.append(f"{repeated} runs are stored twice")
    missing = len(set(specs) - set(ids))
    if missing:
        problems.append(f"{missing} of the design's {len(specs):,} runs are missing")
    foreign = int((~ids.isin(list(specs))).sum())
    if foreign:
        problems.append(f"{foreign} stored runs are not in the design")
    changed = _changed_parameters(runs[ids.isin(list(specs))], specs)
    if changed:
        problems.append(changed)
    return Shortfall(len(runs), len(specs), tuple(problems)) if problems else None


def _stored_experiment(directory: Path) -> Experiment | None:
    path = directory / _EXPERIMENT_COPY
    points = directory / _POINTS_COPY
    try:
        text = path.read_text(encoding="utf-8")
        return parse(tomllib.loads(text), text, str(path), base=directory,
                     points_file=points if points.exists() else None)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ExperimentError):
        return None


def _changed_parameters(runs: pd.DataFrame, specs: dict[str, Any]) -> str | None:
    """The first stored parameter that differs from the design's value for its run, in
    words, or None."""
    if runs.empty:
        return None
    ids = runs["run_id"].astype(str).to_numpy()
    designed = pd.DataFrame([specs[run_id].parameters for run_id in ids])
    for name in designed.columns:
        if name not in runs.columns:
            continue
        stored = runs[name].to_numpy()
        wanted = designed[name].to_numpy()
        try:
            same = np.isclose(stored.astype(float), wanted.astype(float), rtol=1e-12,
                              atol=0.0, equal_nan=True)
        except (TypeError, ValueError):  # text or mixed values: compared as they are
            same = stored == wanted
        if not np.all(same):
            count = int((~np.asarray(same, dtype=bool)).sum())
            return (f"{count} stored runs have another {name} than the design gives them "
                    f"(first: run {ids[~np.asarray(same, dtype=bool)][0]})")
    return None
