"""A results directory: manifest, run table and series, written as runs complete.

The directory's layout and how it is read are the contract's
(:mod:`sim.experiment.results`); this module writes it.

One sweep at a time writes a directory (:mod:`sim.experiment.lock`). Every file appears
by an atomic rename, so a sweep killed at any moment leaves only complete files. Starting again
reads which runs are stored and runs only the rest; duplicates (a run stored twice) are
dropped when the tables are consolidated.

Every Parquet file records the code that made its runs (key ``sim.code``, and
``sim.code_history`` where runs of several codes were consolidated). Runs of other code
are not added to a directory unless asked (``allow_code_change``).

What is stored is checked whenever a directory is opened (:mod:`sim.sweep.survey`): a
part that cannot be read, has the wrong columns, holds runs of another design or lacks its
series is moved to ``quarantine/`` with a warning on stderr, and its runs are run again.
Files are written by :mod:`sim.sweep.parts`.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import platform
import sys
import weakref
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from sim.experiment import identity, lock
from sim.experiment.design import Experiment, ExperimentError, replicate_seeds
from sim.experiment.results import (
    EXPERIMENT,
    MANIFEST,
    POINTS,
    RUNS,
    SERIES,
    UNREADABLE,
    Code,
    codes_of_file,
    read_manifest,
    stored_experiment,
)
from sim.sweep.parts import KEYS, codes_of_runs, part_name, write_bytes, write_parquet, write_text
from sim.sweep.survey import StoredRuns, Survey
from sim.sweep.tasks import RunResult

_PACKAGES = ("mesa", "numpy", "networkx", "pandas", "pyarrow", "dask", "distributed",
             "scipy", "matplotlib")




class ResultStore:
    """The results directory of one experiment.

    ``open()`` takes the directory's lock (see :mod:`sim.experiment.lock`) and keeps it until
    ``close()``; as a context manager the store is opened on entry and closed on exit. A
    store that is dropped without ``close()`` gives its lock up when it is collected.

    Args:
        directory: the results directory (created if missing).
        experiment: the experiment whose runs it holds.
        allow_code_change: accept a directory whose stored runs were made by other code
            (runs of several codes then sit in one table; the manifest lists each code).
    """

    def __init__(self, directory: str | Path, experiment: Experiment, *,
                 allow_code_change: bool = False) -> None:
        self.directory = Path(directory)
        self.parts = self.directory / "parts"
        self.experiment = experiment
        self.allow_code_change = allow_code_change
        self.code = identity.code_identity()
        self._rows: list[dict[str, Any]] = []
        self._series: list[pd.DataFrame] = []
        self._lock: lock.DirectoryLock | None = None
        # columns of the parts this store wrote: what the running code makes
        self._made: dict[str, frozenset[str]] = {}
        self._release: weakref.finalize | None = None
        self.stored = StoredRuns(self.directory, experiment, self.code, self._made)
        self._specs, self._steps = self.stored.specs, self.stored.steps

    # --- opening -------------------------------------------------------------------------
    def __enter__(self) -> ResultStore:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> set[str]:
        """Take the directory's lock, create the directory or check that it belongs to
        this experiment and this code, set damaged files aside. Returns the ids of the
        runs already stored."""
        self._acquire()
        try:
            return self._open_locked()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Write what is buffered and give up the directory's lock."""
        try:
            if self._release is not None:
                self.flush()
        finally:
            if self._release is not None:
                self._release()
                self._release = None

    def _acquire(self) -> None:
        if self._lock is not None and self._lock.held:
            return
        try:
            self._ownership()
        except ExperimentError:
            # Refused before touching anything; but if a sweep holds the directory,
            # that is the news (its manifest may be about to change).
            holder = lock.holder(self.directory)
            if holder is not None:
                raise ExperimentError(lock.in_use_message(self.directory, holder)) from None
            raise
        self.directory.mkdir(parents=True, exist_ok=True)
        directory_lock = lock.DirectoryLock(self.directory, self.experiment.name)
        directory_lock.acquire()
        self._lock = directory_lock
        self._release = weakref.finalize(self, directory_lock.release)

    def _open_locked(self) -> set[str]:
        state, manifest = self._ownership()  # again: the directory may have changed
        survey = self.stored.survey()
        done = survey.done()
        recorded = manifest.get("code") if manifest else None
        first_meeting = identity.code_key(recorded) != identity.code_key(self.code)
        self._check_code(manifest, done, warn=first_meeting)
        # checked: from here on the directory is written
        if state == "new":
            # the manifest comes first: with it the directory is this experiment's
            self._write_manifest(status="running", stored=0, history=[])
        experiment_copy = self.directory / EXPERIMENT
        if not experiment_copy.exists():
            write_text(experiment_copy, self.experiment.source)
        points_copy = self.directory / POINTS
        if self.experiment.points_bytes and not points_copy.exists():
            write_bytes(points_copy, self.experiment.points_bytes)
        self.parts.mkdir(exist_ok=True)
        for folder in (self.directory, self.parts):
            for stray in folder.glob(".tmp-*"):  # a write cut short by a kill
                stray.unlink()
        repaired = self.stored.repair(survey)
        if repaired:
            done = self.stored.survey().done()
        if state == "rebuild":
            print(f"warning: {self.directory} had no {MANIFEST}; rebuilt it from "
                  f"experiment.toml and the {len(done)} stored runs", file=sys.stderr)
        if state != "new" and (state == "rebuild" or repaired or first_meeting):
            self._write_manifest(status="running", stored=len(done),
                                 history=_history(done), rebuilt=state == "rebuild")
        return set(done)

    def _ownership(self) -> tuple[str, dict[str, Any] | None]:
        """Whether the directory is new, this experiment's (with its manifest) or this
        experiment's without a manifest ('rebuild'). Reads only; raises
        :class:`ExperimentError` for a directory that is not this experiment's."""
        directory = self.directory
        if (directory / MANIFEST).exists():
            manifest = read_manifest(directory, advice=self._manifest_advice())
            if manifest["experiment"]["fingerprint"] != self.experiment.fingerprint:
                raise ExperimentError(
                    f"{directory} holds results of a different experiment "
                    f"({manifest['experiment']['name']!r}); refusing to mix them: choose "
                    "another --out directory")
            return "resume", manifest
        if not directory.exists():
            return "new", None
        if not directory.is_dir():
            raise ExperimentError(f"{directory} is not a directory; choose another --out "
                                  "directory")
        copy = directory / EXPERIMENT
        if copy.exists():
            stored = self._stored_experiment()
            if stored is None:
                raise ExperimentError(
                    f"{directory} has no {MANIFEST} and its experiment.toml is not a valid "
                    "experiment; choose another --out directory")
            if stored.fingerprint != self.experiment.fingerprint:
                raise ExperimentError(
                    f"{directory} holds results of a different experiment "
                    f"({stored.name!r}, by its experiment.toml); refusing to mix them: "
                    "choose another --out directory")
            return "rebuild", None
        # a claim cut short leaves only the lock file or a temporary file
        if any(entry.name != lock.LOCK_FILE and not entry.name.startswith(".tmp-")
               for entry in directory.iterdir()):
            raise ExperimentError(f"{directory} is not empty and is not a results "
                                  "directory; choose another --out directory")
        return "new", None

    def _stored_experiment(self) -> Experiment | None:
        """The experiment of the directory's experiment.toml, or None if it is missing or
        not a valid experiment."""
        text, points = self.directory / EXPERIMENT, self.directory / POINTS
        try:  # nothing to parse when the copies are this experiment's
            if (text.read_text(encoding="utf-8") == self.experiment.source
                    and (points.read_bytes() if points.exists() else b"")
                    == self.experiment.points_bytes):
                return self.experiment
        except (OSError, UnicodeDecodeError):
            return None
        return stored_experiment(self.directory, max_runs=self.experiment.max_runs)

    def _manifest_advice(self) -> str:
        stored = self._stored_experiment()
        if stored is not None and stored.fingerprint == self.experiment.fingerprint:
            return ("move it aside (e.g. to manifest.json.damaged) and run again to rebuild "
                    "it from experiment.toml and the stored runs, or choose another --out "
                    "directory")
        return ("its experiment.toml is missing or not this experiment's, so it cannot be "
                "rebuilt: choose another --out directory")

    def _check_code(self, manifest: dict[str, Any] | None, done: dict[str, Code], *,
                    warn: bool) -> None:
        """Refuse to add runs of this code to runs of other code, unless allowed (then
        say so once, if ``warn``)."""
        running = identity.code_key(self.code)
        others: dict[str | None, str] = {}
        recorded = [manifest.get("code")] if manifest is not None else []
        for code in [*recorded, *done.values()]:
            key = identity.code_key(code)
            if key != running and key not in others:
                others[key] = _describe(code, manifest)
        if not others:
            return
        stored = "; ".join(others.values())
        if not self.allow_code_change:
            raise ExperimentError(
                f"{self.directory} holds runs made by other code ({stored}) than the code "
                f"running now ({identity.short(self.code)}); run again with "
                "--allow-code-change to add runs of this code to them (the manifest lists "
                "each code and its runs), or choose another --out directory")
        if warn:
            print(f"warning: {self.directory} holds runs made by other code ({stored}); "
                  f"adding runs of {identity.short(self.code)} (--allow-code-change)",
                  file=sys.stderr)

    # --- writing ------------------------------------------------------------------------
    def add(self, result: RunResult) -> None:
        """Buffer one finished run (written by the next :meth:`flush`)."""
        self._rows.append(result.row)
        if result.series is not None:
            self._series.append(result.series)

    @property
    def buffered(self) -> int:
        """Number of finished runs not yet written."""
        return len(self._rows)

    def flush(self) -> None:
        """Write the buffered runs as one new part, atomically."""
        if not self._rows:
            return
        name = part_name()
        runs = pd.DataFrame(self._rows)
        codes = [(self.code, list(runs["run_id"]))]
        self._made["columns"] = frozenset(runs.columns)
        if self._series:
            series = pd.concat(self._series, ignore_index=True)
            self._made["series_columns"] = frozenset(series.columns)
            # series first: a part of runs is only ever visible with its series
            write_parquet(series, self.parts / f"series-{name}.parquet", "series", codes)
        write_parquet(runs, self.parts / f"runs-{name}.parquet", "runs", codes)
        self._rows, self._series = [], []

    def finalize(self, total: int) -> pd.DataFrame:
        """Consolidate every part into the final tables and check them against the
        design: the manifest says 'complete' only when every run of the design is stored
        once (with its series, when asked), else 'incomplete' and why."""
        self.flush()
        self.stored.repair(self.stored.survey())
        # read in full this time: a file damaged since the sweep opened is set aside too
        survey = self.stored.survey(tables=True)
        if self.stored.repair(survey):
            survey = self.stored.survey(tables=True)
        done = survey.done()
        self._check_code(None, done, warn=False)  # never consolidate several codes unasked

        runs_frames, series_frames, seen = [], [], set()
        for batch in survey.batches:
            keep = [r for r in dict.fromkeys(batch.run_ids)
                    if r not in seen and r not in batch.lacking]
            seen.update(keep)
            if not keep:
                continue
            runs_table = batch.runs_table.drop_duplicates("run_id")
            runs_frames.append(runs_table[runs_table["run_id"].isin(keep)])
            if batch.series_table is not None:
                series_table = batch.series_table
                series_frames.append(series_table[series_table["run_id"].isin(keep)])
        runs = (pd.concat(runs_frames, ignore_index=True) if runs_frames
                else pd.DataFrame(columns=list(KEYS)))
        runs = runs.sort_values(["point", "replicate"]).reset_index(drop=True)
        codes = codes_of_runs(runs["run_id"], done)
        series = None
        if series_frames:
            series = pd.concat(series_frames, ignore_index=True)
            order = {run_id: i for i, run_id in enumerate(runs["run_id"])}
            series = series.drop_duplicates(["run_id", "quarter"])
            series = series.assign(_order=series["run_id"].map(order))
            series = series.sort_values(["_order", "quarter"]).drop(columns="_order")
            series = series.reset_index(drop=True)

        reasons = self._shortfalls(runs, series, total, survey)
        # series first, runs second, parts last: a kill in between leaves duplicates,
        # which the next consolidation drops, never a run without its series
        if series is not None:
            write_parquet(series, self.directory / SERIES, "series", codes)
        write_parquet(runs, self.directory / RUNS, "runs", codes)
        for part in list(self.parts.glob("*.parquet")):
            part.unlink()
        self._write_manifest(status="incomplete" if reasons else "complete",
                             stored=len(runs), history=_history(done),
                             reason="; ".join(reasons) or None)
        return runs

    def _shortfalls(self, runs: pd.DataFrame, series: pd.DataFrame | None, total: int,
                    survey: Survey) -> list[str]:
        """Why the consolidated tables are not the whole design (empty when they are)."""
        reasons = []
        stray = set(runs["run_id"]) - set(self._specs)
        if stray:
            reasons.append(f"{len(stray)} stored runs are not in the design")
        if len(runs) != total:
            reasons.append(f"{len(runs)} runs stored of {total} in the design")
        if len({batch.columns for batch in survey.batches}) > 1:
            reasons.append("runs of different code have different columns")
        if self.experiment.series:
            expected = sum(self._steps.get(run_id, 0) for run_id in runs["run_id"])
            rows = 0 if series is None else len(series)
            if rows != expected:
                reasons.append(f"{rows} series rows for {expected} expected "
                               f"({len(runs)} runs x their quarters)")
        return reasons

    def mark_interrupted(self) -> None:
        """Store what is buffered and record that the sweep was stopped before the end."""
        self.flush()
        # quick, on the way out: run ids and codes only; files are checked on resuming
        done: dict[str, Code] = {}
        for path in self.stored.runs_files():
            try:
                run_ids = pq.read_table(path, columns=["run_id"]).column(0).to_pylist()
                codes = codes_of_file(pq.read_schema(path).metadata, run_ids)
            except UNREADABLE:  # set aside when the sweep is resumed
                continue
            for run_id, code in codes.items():
                if run_id in self._specs:
                    done.setdefault(run_id, code)
        self._write_manifest(status="interrupted", stored=len(done), history=_history(done))

    def _write_manifest(self, *, status: str, stored: int,
                        history: list[dict[str, Any]] | None = None,
                        reason: str | None = None, rebuilt: bool = False) -> None:
        path = self.directory / MANIFEST
        previous = _manifest_or_none(path)
        experiment = self.experiment
        manifest = {
            "experiment": {"name": experiment.name, "fingerprint": experiment.fingerprint,
                           "analysis": experiment.analysis, "file": "experiment.toml",
                           **({"figure_prefix": experiment.figure_prefix}
                              if experiment.figure_prefix else {})},
            "design": experiment.design_record(),
            "master_seed": experiment.master_seed,
            "replicate_seeds": replicate_seeds(experiment.master_seed, experiment.replicates),
            "runs_total": len(self._specs),
            "runs_stored": stored,
            "status": status,
            "code_version": identity.code_version(),
            "code": self.code,
            "code_history": history if history is not None else previous.get(
                "code_history", []),
            "python": platform.python_version(),
            "packages": {name: _version(name) for name in _PACKAGES},
            "created": previous.get("created", _now()),
            "updated": _now(),
        }
        if reason:
            manifest["incomplete_reason"] = reason
        if rebuilt or "rebuilt" in previous:
            manifest["rebuilt"] = _now() if rebuilt else previous["rebuilt"]
        write_text(path, json.dumps(manifest, indent=2) + "\n")

    # --- checking what is stored ----------------------------------------------------------
# --- code identities ------------------------------------------------------------------------
def _history(done: dict[str, Code]) -> list[dict[str, Any]]:
    """Each code that made stored runs, with how many (for the manifest)."""
    return [{"code": code, "runs": len(run_ids)}
            for code, run_ids in codes_of_runs(list(done), done)]


def _describe(code: Code, manifest: dict[str, Any] | None) -> str:
    if isinstance(code, dict):
        return identity.short(code)
    label = (manifest or {}).get("code_version")
    return "code not recorded" + (f", labelled {label}" if label else "")


# --- files ------------------------------------------------------------------------------------
def _manifest_or_none(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
