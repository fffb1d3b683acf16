"""A results directory as every command reads it: its layout, its manifest and tables,
the code identities its files record, and whether it holds the whole design.

Layout::

    DIR/.lock             held (flock) by the one sweep writing the directory
    DIR/manifest.json     experiment identity, code identities, package versions, seeds,
                          status
    DIR/experiment.toml   the experiment file as run
    DIR/points.csv        the points file as run (a [points] design only)
    DIR/parts/*.parquet   batches of finished runs (each written atomically)
    DIR/runs.parquet      one row per run, sorted by design point and replicate
    DIR/series.parquet    per-quarter series (when the experiment asks for them)
    DIR/quarantine/       stored files found damaged, moved aside (never deleted)

The sweep's writer (:class:`sim.sweep.storage.ResultStore`) makes it; the analyses, the
calibration and ``reproduce`` read it through this module.

A directory is complete and consistent when its manifest says ``complete``, its runs
table holds each run of the design once (by run id, which the design derives from the
run's parameters, replicate and seed) and no other, and every stored parameter value is
the design's for that run. Anything else is a :class:`Shortfall`: drawn from only with
``--allow-partial``, and then said on the figure and in its CSV (:func:`shortfall`, the
check every command that publishes from stored runs makes first).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.experiment.design import Experiment, ExperimentError, parse

__all__ = ["CODE_KEY", "EXPERIMENT", "HISTORY_KEY", "MANIFEST", "POINTS", "QUARANTINE", "RUNS",
           "SERIES", "UNREADABLE", "Code", "Shortfall", "codes_of_file", "read_manifest",
           "read_results", "short_reason", "shortfall", "stored_experiment"]

MANIFEST = "manifest.json"
EXPERIMENT = "experiment.toml"
"""The experiment file as run (as written when it was made from a dict)."""
POINTS = "points.csv"
"""A points design's copy of its points file: with experiment.toml, the whole design."""
RUNS = "runs.parquet"
SERIES = "series.parquet"
QUARANTINE = "quarantine"
CODE_KEY = b"sim.code"
"""Parquet key-value metadata: the identity of the code that made every run of a file."""
HISTORY_KEY = b"sim.code_history"
"""Parquet key-value metadata: each code that made runs of a file, with their count (and
their run ids when there are several codes)."""

_MANIFEST_FIELDS = {"status": str, "runs_total": int, "runs_stored": int}
#: What reading a damaged Parquet file raises: ArrowInvalid (a ValueError) or an OSError.
UNREADABLE = (pa.ArrowException, OSError, ValueError)

#: Identity of a code (:func:`sim.experiment.identity.code_identity`), None when not recorded.
Code = dict[str, Any] | None



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
    experiment = stored_experiment(directory)
    if experiment is None:
        problems.append(f"its {EXPERIMENT} is missing or not a valid experiment, so "
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


def stored_experiment(directory: str | Path, max_runs: int | None = None) -> Experiment | None:
    """The experiment of the directory's ``experiment.toml`` (a points design with the
    copy of its points file kept there), or None if it is missing or not a valid
    experiment. ``max_runs``: as :func:`sim.experiment.design.load` takes it."""
    directory = Path(directory)
    path = directory / EXPERIMENT
    points = directory / POINTS
    try:
        text = path.read_text(encoding="utf-8")
        return parse(tomllib.loads(text), text, str(path), max_runs=max_runs, base=directory,
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


# --- reading finished results ---------------------------------------------------------------
def read_results(directory: str | Path) -> tuple[dict[str, Any], pd.DataFrame,
                                                 pd.DataFrame | None]:
    """Manifest, runs table and (if present) series of a finished results directory.

    A missing, damaged or unreadable file is one :class:`ExperimentError` line.
    """
    directory = Path(directory)
    if not (directory / MANIFEST).exists() or not (directory / RUNS).exists():
        raise ExperimentError(f"{directory} is not a finished results directory "
                              f"(no {MANIFEST} and {RUNS})")
    manifest = read_manifest(directory, advice="move it aside and run the sweep again to "
                             "rebuild it from experiment.toml and the stored runs")
    advice = "run the sweep again to set it aside and run its runs again"
    runs = _read_final(directory / RUNS, ("run_id",), advice)
    series_path = directory / SERIES
    series = (_read_final(series_path, ("run_id", "quarter"), advice)
              if series_path.exists() else None)
    return manifest, runs, series


def read_manifest(directory: Path, advice: str) -> dict[str, Any]:
    """The manifest of ``directory``, checked; one :class:`ExperimentError` line, ending
    with ``advice``, when it is damaged."""
    path = directory / MANIFEST
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        problem = "not UTF-8 text"
    except OSError as error:
        problem = f"cannot be read: {error.strerror or error}"
    else:
        problem = _manifest_problem(text)
    if problem is None:
        return json.loads(text)
    raise ExperimentError(f"{MANIFEST} in {directory} is damaged ({problem}); {advice}")


def _manifest_problem(text: str) -> str | None:
    if not text.strip():
        return "empty"
    try:
        manifest = json.loads(text)
    except ValueError as error:
        return f"not valid JSON: {error}"
    if not isinstance(manifest, dict):
        return "not a JSON object"
    experiment = manifest.get("experiment")
    if not isinstance(experiment, dict):
        return "no 'experiment' object"
    for key in ("name", "fingerprint"):
        if not isinstance(experiment.get(key), str):
            return f"no experiment {key!r}"
    for key, kind in _MANIFEST_FIELDS.items():
        if key not in manifest:
            return f"no {key!r}"
        if not isinstance(manifest[key], kind) or isinstance(manifest[key], bool):
            return f"{key!r} is not {kind.__name__}"
    return None


def _read_final(path: Path, required: tuple[str, ...], advice: str) -> pd.DataFrame:
    try:
        table = pq.read_table(path)
    except UNREADABLE as error:
        raise ExperimentError(f"{path} cannot be read ({short_reason(error)}); {advice}") from None
    missing = [name for name in required if name not in table.schema.names]
    if missing:
        raise ExperimentError(f"{path} has the wrong columns (no {missing[0]!r}); {advice}")
    return table.to_pandas()


def codes_of_file(metadata: dict[bytes, bytes] | None, run_ids: list[str]) -> dict[str, Code]:
    """Code of each run of a file, from its metadata (None where not recorded)."""
    metadata = metadata or {}
    try:
        if HISTORY_KEY in metadata:
            history = json.loads(metadata[HISTORY_KEY])
            if len(history) == 1:
                return dict.fromkeys(run_ids, history[0]["code"])
            codes: dict[str, Code] = dict.fromkeys(run_ids)
            for entry in history:
                for run_id in entry.get("run_ids", []):
                    if run_id in codes:
                        codes[run_id] = entry["code"]
            return codes
        if CODE_KEY in metadata:
            return dict.fromkeys(run_ids, json.loads(metadata[CODE_KEY]))
    except (ValueError, TypeError, KeyError, IndexError):  # metadata written by hand
        pass
    return dict.fromkeys(run_ids)


def short_reason(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    # pyarrow names the file again; the message names it already
    text = text.split("': ", 1)[-1] if "Could not open Parquet input source" in text else text
    return text[:160]
