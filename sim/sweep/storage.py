"""A results directory: manifest, run table and series, written as runs complete.

Layout::

    DIR/manifest.json     experiment identity, code and package versions, seeds, status
    DIR/experiment.toml   the experiment file as run
    DIR/parts/*.parquet   batches of finished runs (each written atomically)
    DIR/runs.parquet      one row per run, sorted by design point and replicate
    DIR/series.parquet    per-quarter series (when the experiment asks for them)

Every file appears by an atomic rename, so a sweep killed at any moment leaves only
complete files. Starting again reads which runs are stored and runs only the rest;
duplicates (a run stored twice) are dropped when the tables are consolidated.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import platform
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pandas as pd

from sim.sweep.design import Experiment, ExperimentError, replicate_seeds
from sim.sweep.tasks import RunResult

MANIFEST = "manifest.json"
RUNS = "runs.parquet"
SERIES = "series.parquet"
_PACKAGES = ("mesa", "numpy", "networkx", "pandas", "pyarrow", "dask", "distributed",
             "scipy", "matplotlib")


class ResultStore:
    """The results directory of one experiment."""

    def __init__(self, directory: str | Path, experiment: Experiment) -> None:
        self.directory = Path(directory)
        self.parts = self.directory / "parts"
        self.experiment = experiment
        self._rows: list[dict[str, Any]] = []
        self._series: list[pd.DataFrame] = []

    # --- opening -------------------------------------------------------------------------
    def open(self) -> set[str]:
        """Create the directory, or check that it belongs to this experiment. Returns
        the ids of the runs already stored."""
        manifest_path = self.directory / MANIFEST
        if manifest_path.exists():
            manifest = json.loads(manifest_path.read_text())
            if manifest["experiment"]["fingerprint"] != self.experiment.fingerprint:
                raise ExperimentError(
                    f"{self.directory} holds results of a different experiment "
                    f"({manifest['experiment']['name']!r}); refusing to mix them: choose "
                    "another --out directory")
        elif self.directory.exists() and any(self.directory.iterdir()):
            raise ExperimentError(f"{self.directory} is not empty and is not a results "
                                  "directory; choose another --out directory")
        else:
            # the manifest comes first: a directory is claimed by one atomic write
            self.directory.mkdir(parents=True, exist_ok=True)
            self._write_manifest(status="running", stored=0)
        experiment_copy = self.directory / "experiment.toml"
        if not experiment_copy.exists():
            _atomic_write_text(experiment_copy, self.experiment.source)
        self.parts.mkdir(exist_ok=True)
        for folder in (self.directory, self.parts):
            for stray in folder.glob(".tmp-*"):  # a write cut short by a kill
                stray.unlink()
        return set(self._stored_runs()["run_id"]) if self._has_runs() else set()

    # --- writing ------------------------------------------------------------------------
    def add(self, result: RunResult) -> None:
        """Buffer one finished run (written by the next :meth:`flush`)."""
        self._rows.append(result.row)
        if result.series is not None:
            self._series.append(result.series)

    @property
    def buffered(self) -> int:
        return len(self._rows)

    def flush(self) -> None:
        """Write the buffered runs as one new part, atomically."""
        if not self._rows:
            return
        name = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
        if self._series:
            # series first: a part of runs is only ever visible with its series
            _atomic_parquet(pd.concat(self._series, ignore_index=True),
                            self.parts / f"series-{name}.parquet")
        _atomic_parquet(pd.DataFrame(self._rows), self.parts / f"runs-{name}.parquet")
        self._rows, self._series = [], []

    def finalize(self, total: int) -> pd.DataFrame:
        """Consolidate every part into the final tables and mark the sweep complete."""
        self.flush()
        runs = self._stored_runs()
        runs = runs.drop_duplicates("run_id").sort_values(["point", "replicate"])
        runs = runs.reset_index(drop=True)
        _atomic_parquet(runs, self.directory / RUNS)
        series_parts = self._files("series")
        if series_parts:
            series = pd.concat([pd.read_parquet(p) for p in series_parts], ignore_index=True)
            order = {run_id: i for i, run_id in enumerate(runs["run_id"])}
            series = series.drop_duplicates(["run_id", "quarter"])
            series = series.assign(_order=series["run_id"].map(order))
            series = series.sort_values(["_order", "quarter"]).drop(columns="_order")
            _atomic_parquet(series.reset_index(drop=True), self.directory / SERIES)
        for part in list(self.parts.glob("*.parquet")):
            if part.name not in (RUNS, SERIES):
                part.unlink()
        self._write_manifest(status="complete" if len(runs) == total else "incomplete",
                             stored=len(runs))
        return runs

    def mark_interrupted(self) -> None:
        """Store what is buffered and record that the sweep was stopped before the end."""
        self.flush()
        stored = len(set(self._stored_runs()["run_id"])) if self._has_runs() else 0
        self._write_manifest(status="interrupted", stored=stored)

    # --- reading --------------------------------------------------------------------------
    def _files(self, kind: str) -> list[Path]:
        final = self.directory / (RUNS if kind == "runs" else SERIES)
        parts = sorted(self.parts.glob(f"{kind}-*.parquet"))
        return ([final] if final.exists() else []) + parts

    def _has_runs(self) -> bool:
        return bool(self._files("runs"))

    def _stored_runs(self) -> pd.DataFrame:
        frames = [pd.read_parquet(p) for p in self._files("runs")]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def _write_manifest(self, *, status: str, stored: int) -> None:
        path = self.directory / MANIFEST
        previous = json.loads(path.read_text()) if path.exists() else {}
        experiment = self.experiment
        manifest = {
            "experiment": {"name": experiment.name, "fingerprint": experiment.fingerprint,
                           "analysis": experiment.analysis, "file": "experiment.toml"},
            "master_seed": experiment.master_seed,
            "replicate_seeds": replicate_seeds(experiment.master_seed, experiment.replicates),
            "runs_total": len(experiment.runs()),
            "runs_stored": stored,
            "status": status,
            "code_version": code_version(),
            "python": platform.python_version(),
            "packages": {name: _version(name) for name in _PACKAGES},
            "created": previous.get("created", _now()),
            "updated": _now(),
        }
        _atomic_write_text(path, json.dumps(manifest, indent=2) + "\n")


def read_results(directory: str | Path) -> tuple[dict[str, Any], pd.DataFrame,
                                                 pd.DataFrame | None]:
    """Manifest, runs table and (if present) series of a finished results directory."""
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    if not manifest_path.exists() or not (directory / RUNS).exists():
        raise ExperimentError(f"{directory} is not a finished results directory "
                              f"(no {MANIFEST} and {RUNS})")
    manifest = json.loads(manifest_path.read_text())
    series_path = directory / SERIES
    series = pd.read_parquet(series_path) if series_path.exists() else None
    return manifest, pd.read_parquet(directory / RUNS), series


def code_version() -> str:
    """``git describe`` of the code when run from a checkout, else the package version."""
    from sim import __version__

    root = Path(__file__).resolve().parents[2]
    try:
        described = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--tags"],
            capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        return f"{__version__}+{described}" if described else __version__
    except (OSError, subprocess.SubprocessError):
        return __version__


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    frame.to_parquet(tmp, index=False)
    _fsync_replace(tmp, path)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    tmp.write_text(text, encoding="utf-8")
    _fsync_replace(tmp, path)


def _fsync_replace(tmp: Path, path: Path) -> None:
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
