"""A results directory: manifest, run table and series, written as runs complete.

The directory's layout and how it is read are the contract's (:mod:`sim.experiment.results`);
this module writes it.

One sweep at a time writes a directory (:mod:`sim.experiment.lock`). Every file appears by an
atomic rename, so a sweep killed at any moment leaves only complete files. Starting again
reads which runs are stored and runs only the rest; duplicates (a run stored twice) are
dropped when the tables are consolidated.

Every Parquet file records the code that made its runs (key ``sim.code``, and
``sim.code_history`` where runs of several codes were consolidated). Runs of other code
are not added to a directory unless asked (``allow_code_change``).

What is stored is checked whenever a directory is opened: a part that cannot be read,
has the wrong columns, holds runs of another design or lacks its series is moved to
``quarantine/`` with a warning on stderr, and its runs are run again.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import platform
import sys
import uuid
import weakref
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.experiment import columns as column_docs
from sim.experiment import identity, lock
from sim.experiment.design import Experiment, ExperimentError, replicate_seeds
from sim.experiment.results import (
    CODE_KEY,
    EXPERIMENT,
    HISTORY_KEY,
    MANIFEST,
    POINTS,
    QUARANTINE,
    RUNS,
    SERIES,
    UNREADABLE,
    Code,
    codes_of_file,
    read_manifest,
    short_reason,
    stored_experiment,
)
from sim.params import Params
from sim.sweep.tasks import RunResult

_PACKAGES = ("mesa", "numpy", "networkx", "pandas", "pyarrow", "dask", "distributed",
             "scipy", "matplotlib")
_KEYS = ("run_id", "point", "replicate", "seed")




@dataclass
class _Batch:
    """Runs stored together: a runs file and, with series, the file of their series."""

    runs: Path
    series: Path | None
    consolidated: bool
    run_ids: list[str]
    codes: dict[str, Code]
    """Code of each run of the batch."""
    columns: frozenset[str]
    series_columns: frozenset[str] | None = None
    lacking: set[str] = field(default_factory=set)
    """Runs whose series are missing or incomplete."""
    runs_table: pd.DataFrame | None = None
    series_table: pd.DataFrame | None = None


@dataclass
class _Survey:
    """What a results directory holds: usable batches, and files to set aside."""

    batches: list[_Batch]
    damaged: list[tuple[list[Path], str]]
    """Files to move to quarantine (a runs file with its series file) and why."""
    splits: list[_Batch]
    """Consolidated tables of which only some runs have their series."""

    def done(self) -> dict[str, Code]:
        """Each stored run (the first copy of it) and the code that made it."""
        codes: dict[str, Code] = {}
        for batch in self.batches:
            for run_id in batch.run_ids:
                if run_id not in batch.lacking and run_id not in codes:
                    codes[run_id] = batch.codes[run_id]
        return codes


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
        self._specs = {spec.run_id: spec for spec in experiment.runs()}
        # quarters per run depend on until_year alone: no Params per point (a million
        # points would take minutes)
        default_year = Params().until_year
        self._steps = {run_id: Params.steps_until(spec.parameters.get("until_year",
                                                                       default_year))
                       for run_id, spec in self._specs.items()}

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
        survey = self._survey()
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
            _atomic_write_text(experiment_copy, self.experiment.source)
        points_copy = self.directory / POINTS
        if self.experiment.points_bytes and not points_copy.exists():
            _atomic_write_bytes(points_copy, self.experiment.points_bytes)
        self.parts.mkdir(exist_ok=True)
        for folder in (self.directory, self.parts):
            for stray in folder.glob(".tmp-*"):  # a write cut short by a kill
                stray.unlink()
        repaired = self._repair(survey)
        if repaired:
            done = self._survey().done()
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
        name = _part_name()
        runs = pd.DataFrame(self._rows)
        codes = [(self.code, list(runs["run_id"]))]
        self._made["columns"] = frozenset(runs.columns)
        if self._series:
            series = pd.concat(self._series, ignore_index=True)
            self._made["series_columns"] = frozenset(series.columns)
            # series first: a part of runs is only ever visible with its series
            _write_parquet(series, self.parts / f"series-{name}.parquet", "series", codes)
        _write_parquet(runs, self.parts / f"runs-{name}.parquet", "runs", codes)
        self._rows, self._series = [], []

    def finalize(self, total: int) -> pd.DataFrame:
        """Consolidate every part into the final tables and check them against the
        design: the manifest says 'complete' only when every run of the design is stored
        once (with its series, when asked), else 'incomplete' and why."""
        self.flush()
        self._repair(self._survey())
        # read in full this time: a file damaged since the sweep opened is set aside too
        survey = self._survey(tables=True)
        if self._repair(survey):
            survey = self._survey(tables=True)
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
                else pd.DataFrame(columns=list(_KEYS)))
        runs = runs.sort_values(["point", "replicate"]).reset_index(drop=True)
        codes = _codes_of_runs(runs["run_id"], done)
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
            _write_parquet(series, self.directory / SERIES, "series", codes)
        _write_parquet(runs, self.directory / RUNS, "runs", codes)
        for part in list(self.parts.glob("*.parquet")):
            part.unlink()
        self._write_manifest(status="incomplete" if reasons else "complete",
                             stored=len(runs), history=_history(done),
                             reason="; ".join(reasons) or None)
        return runs

    def _shortfalls(self, runs: pd.DataFrame, series: pd.DataFrame | None, total: int,
                    survey: _Survey) -> list[str]:
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
        for path in self._runs_files():
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
        _atomic_write_text(path, json.dumps(manifest, indent=2) + "\n")

    # --- checking what is stored ----------------------------------------------------------
    def _runs_files(self) -> list[Path]:
        final = self.directory / RUNS
        return ([final] if final.exists() else []) + sorted(self.parts.glob("runs-*.parquet"))

    def _survey(self, *, tables: bool = False) -> _Survey:
        """Read every stored runs file (and series file) and sort them into usable
        batches and files to set aside. Writes nothing."""
        damaged: list[tuple[list[Path], str]] = []
        batches: list[_Batch] = []
        for path in self._runs_files():
            consolidated = path.parent == self.directory
            series = (self.directory / SERIES if consolidated
                      else path.with_name("series-" + path.name.removeprefix("runs-")))
            pair = [path, series] if series.exists() else [path]
            try:
                table = pq.read_table(path)
            except UNREADABLE as error:
                damaged.append((pair, f"cannot be read ({short_reason(error)})"))
                continue
            problem = self._runs_problem(table)
            if problem:
                damaged.append((pair, problem))
                continue
            run_ids = table.column("run_id").to_pylist()
            batches.append(_Batch(
                runs=path, series=series if self.experiment.series else None,
                consolidated=consolidated, run_ids=run_ids,
                codes=codes_of_file(table.schema.metadata, run_ids),
                columns=frozenset(table.schema.names),
                runs_table=table.to_pandas() if tables else None))
        batches = self._agreeing(batches, "columns", damaged, "runs")
        splits: list[_Batch] = []
        if self.experiment.series:
            batches = self._with_series(batches, damaged, splits, tables)
        return _Survey(batches, damaged, splits)

    def _runs_problem(self, table: pa.Table) -> str | None:
        """Why a readable runs file cannot be used, or None."""
        names = table.schema.names
        expected = [*_KEYS, *self.experiment.fixed, *self.experiment.varied]
        missing = [name for name in expected if name not in names]
        if missing:
            return f"has the wrong columns (no {missing[0]!r})"
        if not (pa.types.is_string(table.schema.field("run_id").type)
                or pa.types.is_large_string(table.schema.field("run_id").type)):
            return "has the wrong columns (run_id is not text)"
        if not all(pa.types.is_integer(table.schema.field(name).type) for name in _KEYS[1:]):
            return "has the wrong columns (point, replicate and seed must be integers)"
        keys = table.select(list(_KEYS)).to_pylist()
        for row in keys:
            spec = self._specs.get(row["run_id"])
            if spec is None or (spec.point, spec.replicate, spec.seed) != (
                    row["point"], row["replicate"], row["seed"]):
                return "holds runs that are not in this experiment's design"
        return None

    def _agreeing(self, batches: list[_Batch], attribute: str,
                  damaged: list[tuple[list[Path], str]], what: str) -> list[_Batch]:
        """Batches whose columns are those of most files of the same code; the others
        are set aside (a code change may change the columns, one code may not)."""
        def code_key(batch: _Batch) -> frozenset[str | None]:
            return frozenset(identity.code_key(code) for code in batch.codes.values())

        common: dict[frozenset[str | None], frozenset[str]] = {}
        for key in {code_key(batch) for batch in batches}:
            votes: Counter[frozenset[str]] = Counter()
            for batch in batches:  # by runs, ties to the oldest file
                if code_key(batch) == key:
                    votes[getattr(batch, attribute)] += len(set(batch.run_ids))
            common[key] = votes.most_common(1)[0][0]
        if attribute in self._made:  # what the running code made this time decides
            common[frozenset({identity.code_key(self.code)})] = self._made[attribute]
        kept = []
        for batch in batches:
            names = getattr(batch, attribute)
            usual = common[code_key(batch)]
            if names == usual:
                kept.append(batch)
                continue
            pair = [path for path in (batch.runs, batch.series)
                    if path is not None and path.exists()]
            odd = sorted(names ^ usual)
            damaged.append((pair, f"has {what} columns unlike the other files of its code "
                                  f"({odd[0]!r} {'extra' if odd[0] in names else 'missing'})"))
        return kept

    def _with_series(self, batches: list[_Batch], damaged: list[tuple[list[Path], str]],
                     splits: list[_Batch], tables: bool) -> list[_Batch]:
        """Check that every run of every batch has its whole series."""
        kept = []
        for batch in batches:
            series = batch.series
            where = SERIES if batch.consolidated else series.name
            if not series.exists():
                problem = f"has no series ({where} is missing)"
            else:
                try:
                    names = pq.read_schema(series).names
                    if "run_id" not in names or "quarter" not in names:
                        raise ValueError(f"no {'run_id' if 'run_id' not in names else 'quarter'}"
                                         " column")
                    table = pq.read_table(series) if tables else pq.read_table(
                        series, columns=["run_id", "quarter"])
                    problem = None
                except UNREADABLE as error:
                    problem = f"has unreadable series ({where}: {short_reason(error)})"
            if problem is None:
                quarters = (table.select(["run_id", "quarter"]).to_pandas()
                            .drop_duplicates().groupby("run_id").size())
                batch.lacking = {run_id for run_id in batch.run_ids
                                 if quarters.get(run_id, 0) != self._steps[run_id]}
                batch.series_columns = frozenset(names)
                if tables:
                    batch.series_table = table.to_pandas()
                if not batch.lacking:
                    kept.append(batch)
                    continue
                if batch.consolidated and len(batch.lacking) < len(set(batch.run_ids)):
                    splits.append(batch)
                    kept.append(batch)
                    continue
                problem = (f"has runs without their whole series ({len(batch.lacking)} "
                           f"of {len(set(batch.run_ids))} in {where})")
            damaged.append(([p for p in (batch.runs, series) if p.exists()], problem))
        return self._agreeing(kept, "series_columns", damaged, "series")

    def _repair(self, survey: _Survey) -> bool:
        """Move damaged files to quarantine and cut consolidated tables back to their
        complete runs, saying so on stderr. Returns whether anything was moved."""
        for paths, problem in survey.damaged:
            moved = [self._quarantine(path) for path in paths]
            others = "" if len(moved) == 1 else f" (with {paths[1].name})"
            print(f"warning: {paths[0]} {problem}; moved to {moved[0].parent}{others}, its "
                  "runs will be run again", file=sys.stderr)
        for batch in survey.splits:
            runs = pq.read_table(batch.runs)
            series = pq.read_table(batch.series)
            complete = [run_id for run_id in dict.fromkeys(batch.run_ids)
                        if run_id not in batch.lacking]
            keep_runs = runs.filter(pc.is_in(runs.column("run_id"),
                                                     pa.array(complete)))
            keep_series = series.filter(pc.is_in(series.column("run_id"),
                                                         pa.array(complete)))
            codes = _codes_of_runs(complete, batch.codes)
            name = _part_name()
            # the complete runs are stored again as a part before the tables move away
            _write_parquet(keep_series.to_pandas(), self.parts / f"series-{name}.parquet",
                           "series", codes)
            _write_parquet(keep_runs.to_pandas(), self.parts / f"runs-{name}.parquet",
                           "runs", codes)
            moved = [self._quarantine(path) for path in (batch.runs, batch.series)]
            print(f"warning: {batch.runs}: {len(batch.lacking)} of its "
                  f"{len(set(batch.run_ids))} runs have no whole series in {batch.series}; "
                  f"moved both to {moved[0].parent}, kept the {len(complete)} complete runs, "
                  f"the {len(batch.lacking)} others will be run again", file=sys.stderr)
        return bool(survey.damaged or survey.splits)

    def _quarantine(self, path: Path) -> Path:
        folder = self.directory / QUARANTINE
        folder.mkdir(exist_ok=True)
        target = folder / path.name
        if target.exists():
            target = folder / f"{path.stem}-{_part_name()}{path.suffix}"
        os.replace(path, target)
        return target


# --- code identities ------------------------------------------------------------------------
def _codes_of_runs(run_ids: Any, codes: dict[str, Code]) -> list[tuple[Code, list[str]]]:
    """The runs of a table grouped by the code that made them, codes in order of first
    appearance."""
    groups: dict[str | None, tuple[Code, list[str]]] = {}
    for run_id in run_ids:
        code = codes.get(run_id)
        groups.setdefault(identity.code_key(code), (code, []))[1].append(run_id)
    return list(groups.values())


def _history(done: dict[str, Code]) -> list[dict[str, Any]]:
    """Each code that made stored runs, with how many (for the manifest)."""
    return [{"code": code, "runs": len(run_ids)}
            for code, run_ids in _codes_of_runs(list(done), done)]


def _describe(code: Code, manifest: dict[str, Any] | None) -> str:
    if isinstance(code, dict):
        return identity.short(code)
    label = (manifest or {}).get("code_version")
    return "code not recorded" + (f", labelled {label}" if label else "")


# --- files ------------------------------------------------------------------------------------
def _write_parquet(frame: pd.DataFrame, path: Path, kind: str,
                   identity: list[tuple[Code, list[str]]]) -> None:
    """Write one table atomically, with its column descriptions and the identity of the
    code that made its runs (``kind`` is 'runs' or 'series')."""
    table = column_docs.annotate(pa.Table.from_pandas(frame, preserve_index=False), kind)
    metadata = dict(table.schema.metadata or {})
    if len(identity) == 1:
        code, run_ids = identity[0]
        if code is not None:
            metadata[CODE_KEY] = json.dumps(code).encode()
        history = [{"code": code, "runs": len(run_ids)}]
    else:  # several codes: which run is whose, so that a later split keeps it
        history = [{"code": code, "runs": len(run_ids), "run_ids": run_ids}
                   for code, run_ids in identity]
    metadata[HISTORY_KEY] = json.dumps(history).encode()
    table = table.replace_schema_metadata(metadata)
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    pq.write_table(table, tmp)
    _fsync_replace(tmp, path)


def _manifest_or_none(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _part_name() -> str:
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _atomic_write_text(path: Path, text: str) -> None:
    _atomic_write_bytes(path, text.encode("utf-8"))


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    tmp.write_bytes(data)
    _fsync_replace(tmp, path)


def _fsync_replace(tmp: Path, path: Path) -> None:
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
