"""What a results directory holds, checked part by part against the design, and the
repair of what is damaged.

A runs file that cannot be read, has the wrong columns, holds runs of another design or
lacks its series is moved to ``quarantine/`` (never deleted) with a warning on stderr,
and its runs are run again; a consolidated table of which only some runs have their
series is cut back to its complete runs.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.experiment import identity
from sim.experiment.design import Experiment
from sim.experiment.results import (
    QUARANTINE,
    RUNS,
    SERIES,
    UNREADABLE,
    Code,
    codes_of_file,
    short_reason,
)
from sim.params import Params
from sim.sweep.parts import KEYS, codes_of_runs, part_name, write_parquet

__all__ = ["Batch", "StoredRuns", "Survey"]


@dataclass
class Batch:
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
class Survey:
    """What a results directory holds: usable batches, and files to set aside."""

    batches: list[Batch]
    damaged: list[tuple[list[Path], str]]
    """Files to move to quarantine (a runs file with its series file) and why."""
    splits: list[Batch]
    """Consolidated tables of which only some runs have their series."""

    def done(self) -> dict[str, Code]:
        """Each stored run (the first copy of it) and the code that made it."""
        codes: dict[str, Code] = {}
        for batch in self.batches:
            for run_id in batch.run_ids:
                if run_id not in batch.lacking and run_id not in codes:
                    codes[run_id] = batch.codes[run_id]
        return codes


class StoredRuns:
    """The runs a results directory holds, for one experiment and the running code.

    Args:
        directory: the results directory.
        experiment: the experiment whose runs it holds.
        code: the identity of the running code.
        made: the columns of the files this code wrote in this sweep, by attribute
            (``columns``, ``series_columns``): what the running code makes decides
            which columns are usual.
    """

    def __init__(self, directory: Path, experiment: Experiment, code: Code,
                 made: dict[str, frozenset[str]]) -> None:
        self.directory = directory
        self.parts = directory / "parts"
        self.experiment = experiment
        self.code = code
        self.made = made
        self.specs = {spec.run_id: spec for spec in experiment.runs()}
        # quarters per run depend on until_year alone: no Params per point (a million
        # points would take minutes)
        default_year = Params().until_year
        self.steps = {run_id: Params.steps_until(spec.parameters.get("until_year",
                                                                      default_year))
                      for run_id, spec in self.specs.items()}

    def runs_files(self) -> list[Path]:
        """The stored runs files: the consolidated table first, then the parts."""
        final = self.directory / RUNS
        return ([final] if final.exists() else []) + sorted(self.parts.glob("runs-*.parquet"))

    def survey(self, *, tables: bool = False) -> Survey:
        """Read every stored runs file (and series file) and sort them into usable
        batches and files to set aside. Writes nothing."""
        damaged: list[tuple[list[Path], str]] = []
        batches: list[Batch] = []
        for path in self.runs_files():
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
            batches.append(Batch(
                runs=path, series=series if self.experiment.series else None,
                consolidated=consolidated, run_ids=run_ids,
                codes=codes_of_file(table.schema.metadata, run_ids),
                columns=frozenset(table.schema.names),
                runs_table=table.to_pandas() if tables else None))
        batches = self._agreeing(batches, "columns", damaged, "runs")
        splits: list[Batch] = []
        if self.experiment.series:
            batches = self._with_series(batches, damaged, splits, tables)
        return Survey(batches, damaged, splits)

    def _runs_problem(self, table: pa.Table) -> str | None:
        """Why a readable runs file cannot be used, or None."""
        names = table.schema.names
        expected = [*KEYS, *self.experiment.fixed, *self.experiment.varied]
        missing = [name for name in expected if name not in names]
        if missing:
            return f"has the wrong columns (no {missing[0]!r})"
        if not (pa.types.is_string(table.schema.field("run_id").type)
                or pa.types.is_large_string(table.schema.field("run_id").type)):
            return "has the wrong columns (run_id is not text)"
        if not all(pa.types.is_integer(table.schema.field(name).type) for name in KEYS[1:]):
            return "has the wrong columns (point, replicate and seed must be integers)"
        keys = table.select(list(KEYS)).to_pylist()
        for row in keys:
            spec = self.specs.get(row["run_id"])
            if spec is None or (spec.point, spec.replicate, spec.seed) != (
                    row["point"], row["replicate"], row["seed"]):
                return "holds runs that are not in this experiment's design"
        return None

    def _agreeing(self, batches: list[Batch], attribute: str,
                  damaged: list[tuple[list[Path], str]], what: str) -> list[Batch]:
        """Batches whose columns are those of most files of the same code; the others
        are set aside (a code change may change the columns, one code may not)."""
        def code_key(batch: Batch) -> frozenset[str | None]:
            return frozenset(identity.code_key(code) for code in batch.codes.values())

        common: dict[frozenset[str | None], frozenset[str]] = {}
        for key in {code_key(batch) for batch in batches}:
            votes: Counter[frozenset[str]] = Counter()
            for batch in batches:  # by runs, ties to the oldest file
                if code_key(batch) == key:
                    votes[getattr(batch, attribute)] += len(set(batch.run_ids))
            common[key] = votes.most_common(1)[0][0]
        if attribute in self.made:  # what the running code made this time decides
            common[frozenset({identity.code_key(self.code)})] = self.made[attribute]
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

    def _with_series(self, batches: list[Batch], damaged: list[tuple[list[Path], str]],
                     splits: list[Batch], tables: bool) -> list[Batch]:
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
                                 if quarters.get(run_id, 0) != self.steps[run_id]}
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

    def repair(self, survey: Survey) -> bool:
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
            codes = codes_of_runs(complete, batch.codes)
            name = part_name()
            # the complete runs are stored again as a part before the tables move away
            write_parquet(keep_series.to_pandas(), self.parts / f"series-{name}.parquet",
                           "series", codes)
            write_parquet(keep_runs.to_pandas(), self.parts / f"runs-{name}.parquet",
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
            target = folder / f"{path.stem}-{part_name()}{path.suffix}"
        os.replace(path, target)
        return target
