"""Spot checks of the published runs: re-simulate a seeded sample of them, compare exactly.

Publishing (``python -m sim reproduce --update``) writes, next to each experiment's
figures, its committed per-run results, ``FIGURES/runs/EXPERIMENT.parquet``
(:func:`publish_runs`): one row per run with its keys (run_id, point, replicate, seed),
the values of the parameters its design varies, and every summary outcome of the run
(the runs table's summary columns, float64 as stored, so that they compare bit for bit).

``python -m sim reproduce --budget DURATION`` (:func:`spot_check`) runs no sweep. It
draws, for each experiment, a seeded random order of its committed runs, and takes the
experiments in turn (round robin: every experiment has a run checked before any has a
second), re-simulating each run with the sweep's own task (:func:`sim.sweep.tasks.run_task`)
from the experiment file's own run specification, until the budget is spent. Every
committed number of a checked run must equal the re-simulated one exactly (NaN equals
NaN); the check has no tolerance, so it holds on the platform and package versions the
runs were made with (the manifest's ``code.environment``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.experiment import registry
from sim.experiment.columns import RUN_KEYS, SUMMARY
from sim.experiment.design import Experiment, RunSpec
from sim.experiment.results import read_results
from sim.experiment.style import replace_atomically
from sim.sweep.tasks import run_task

#: The folder, inside the committed figures folder, of the per-run files.
RUNS_FOLDER = "runs"
#: Parquet file metadata key of a per-run file: the experiment it was written for.
EXPERIMENT_KEY = b"sim.experiment"

_KEYS = tuple(column.name for column in RUN_KEYS)
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smh])")
DURATION_FORM = "a number of seconds, minutes or hours such as 90s, 10m or 1h"


def parse_budget(text: str) -> float:
    """Seconds in a duration written ``90s``, ``10m``, ``1.5h``; ``ValueError`` naming the
    allowed form otherwise (also for zero)."""
    match = _DURATION.fullmatch(text.strip())
    seconds = float(match.group(1)) * _UNITS[match.group(2)] if match else 0.0
    if not seconds > 0 or math.isinf(seconds):
        raise ValueError(f"expected {DURATION_FORM}, got {text!r}")
    return seconds


# --- publishing ----------------------------------------------------------------------------
def runs_path(figures_dir: Path, experiment_name: str) -> Path:
    """Where the committed per-run results of an experiment lie."""
    return Path(figures_dir) / RUNS_FOLDER / f"{experiment_name}.parquet"


def per_run_table(experiment: Experiment, runs: pd.DataFrame) -> pd.DataFrame:
    """The committed per-run columns of a runs table: keys, varied parameters, summary
    outcomes (in the summary's order), rows by point and replicate."""
    summary = [name for name in SUMMARY if name in runs.columns]
    varied = [name for name in experiment.varied if name not in summary]
    columns = [*_KEYS, *varied, *summary]
    missing = [name for name in columns if name not in runs.columns]
    if missing:
        raise ValueError(f"the runs of {experiment.name} lack {', '.join(missing)}")
    return runs[columns].sort_values(["point", "replicate"]).reset_index(drop=True)


def publish_runs(experiment: Experiment, results_dir: Path, figures_dir: Path) -> Path:
    """Write the per-run file of ``experiment`` from its finished results directory into
    ``figures_dir/runs`` (atomically: a kill leaves the old file whole); return its path.
    ``ValueError`` when the directory holds another design of the experiment."""
    manifest, runs, _ = read_results(results_dir)
    stored = manifest.get("experiment", {}).get("fingerprint")
    if stored != experiment.fingerprint:
        raise ValueError(f"{results_dir} holds another design of {experiment.name} than "
                         "its experiment file (fingerprints differ): run the sweep again")
    table = pa.Table.from_pandas(per_run_table(experiment, runs), preserve_index=False)
    about = {"name": experiment.name, "fingerprint": experiment.fingerprint,
             "runs_total": experiment.run_count,
             "code": manifest.get("code", {}).get("source_sha256")}
    # no pandas metadata and no column statistics: a few kilobytes less per file
    table = table.replace_schema_metadata({EXPERIMENT_KEY: json.dumps(about).encode()})
    path = runs_path(figures_dir, experiment.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(path, lambda tmp: pq.write_table(
        table, tmp, compression="zstd", compression_level=19, write_statistics=False))
    return path


# --- checking ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mismatch:
    """The first committed number of a run that the re-simulation does not give."""

    run_id: str
    field: str
    committed: Any
    resimulated: Any

    def words(self) -> str:
        return (f"run {self.run_id} {self.field}: {self.committed!r} committed, "
                f"{self.resimulated!r} re-simulated")


@dataclass
class Tally:
    """What was checked of one experiment's committed runs."""

    experiment: str
    figures: tuple[str, ...]
    published: int
    checked: int = 0
    matched: int = 0
    mismatched: int = 0
    first: Mismatch | None = None
    problem: str = ""
    """Why none of its runs could be checked (a per-run file of another design)."""

    @property
    def passed(self) -> bool:
        return not self.mismatched and not self.problem

    @property
    def status(self) -> str:
        """FAIL (a run differs, or the file is of another design), UNCHECKED (the budget
        was spent before any of its runs) or PASS (every run checked matched)."""
        if not self.passed:
            return "FAIL"
        return "PASS" if self.checked else "UNCHECKED"

    def line(self) -> str:
        head = f"{self.status} {self.experiment}"
        if self.figures and self.figures != (self.experiment,):
            head += f" (figures {', '.join(self.figures)})"
        if self.problem:
            return f"{head}: {self.problem}"
        text = (f"{head}: {self.checked:,} of {self.published:,} runs checked "
                f"({_percent(self.checked, self.published)}), {self.matched:,} matched")
        if self.mismatched:
            text += f", {self.mismatched:,} mismatched; first: {self.first.words()}"
        return text


@dataclass
class Report:
    """The outcome of a spot check: one tally per experiment and the time it took."""

    tallies: list[Tally]
    seconds: float = 0.0
    budget: float = 0.0
    sample_seed: int = 0

    @property
    def passed(self) -> bool:
        return all(tally.passed for tally in self.tallies)

    def total_line(self) -> str:
        checked = sum(t.checked for t in self.tallies)
        published = sum(t.published for t in self.tallies)
        matched = sum(t.matched for t in self.tallies)
        mismatched = sum(t.mismatched for t in self.tallies)
        return (f"total: {checked:,} of {published:,} runs checked "
                f"({_percent(checked, published)}) across {len(self.tallies)} experiments, "
                f"{matched:,} matched, {mismatched:,} mismatched, in {self.seconds:.0f} s "
                f"(budget {self.budget:.0f} s, sample seed {self.sample_seed})")

    @property
    def unchecked(self) -> list[str]:
        """The experiments none of whose runs was checked."""
        return [t.experiment for t in self.tallies if t.status == "UNCHECKED"]


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


@dataclass(frozen=True)
class CommittedRuns:
    """One experiment's committed per-run results as read, and why they cannot be
    checked (empty when they can)."""

    experiment: Experiment
    path: Path
    table: pd.DataFrame
    problem: str = ""


def read_committed(experiment: Experiment, figures_dir: Path) -> CommittedRuns:
    """The committed per-run file of ``experiment``. ``FileNotFoundError`` naming the
    file when there is none, ``ValueError`` when it is not a per-run table. A file
    written for another design of the experiment is returned with its ``problem``."""
    path = runs_path(figures_dir, experiment.name)
    if not path.is_file():
        raise FileNotFoundError(f"no committed per-run results {path} for the experiment "
                                f"{experiment.name}: publish them with reproduce --update")
    try:
        file = pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise ValueError(f"committed per-run results {path} are not a readable Parquet "
                         f"file ({' '.join(str(error).split())})") from None
    missing = [name for name in _KEYS if name not in file.column_names]
    if missing:
        raise ValueError(f"committed per-run results {path} lack the column "
                         f"{missing[0]}")
    about = json.loads((file.schema.metadata or {}).get(EXPERIMENT_KEY, b"{}"))
    problem = ""
    if about.get("fingerprint") not in (None, experiment.fingerprint):
        problem = (f"{path} was written for another design of {experiment.name} than its "
                   "experiment file: publish it again")
    return CommittedRuns(experiment, path, file.to_pandas(), problem)


def sample_order(run_ids: Sequence[str], experiment_name: str, sample_seed: int) -> list[str]:
    """The order in which an experiment's runs are checked: a permutation drawn from the
    sample seed and the experiment's name (so experiments are drawn independently)."""
    entropy = [sample_seed, zlib.crc32(experiment_name.encode())]
    order = np.random.default_rng(entropy).permutation(len(run_ids))
    return [run_ids[i] for i in order]


def round_robin(orders: Sequence[Sequence[Any]]) -> Iterator[tuple[int, Any]]:
    """``(which, item)`` taking one item of each order in turn until all are used."""
    for depth in range(max((len(order) for order in orders), default=0)):
        for which, order in enumerate(orders):
            if depth < len(order):
                yield which, order[depth]


def resimulate(spec: RunSpec) -> dict[str, Any]:
    """The runs-table row the sweep would store for ``spec`` (without its series)."""
    return run_task(dataclasses.replace(spec, series=False)).row


def _checked_item(item: tuple[int, RunSpec]) -> tuple[int, RunSpec, dict[str, Any]]:
    which, spec = item
    return which, spec, resimulate(spec)


def first_mismatch(committed: dict[str, Any], row: dict[str, Any]) -> Mismatch | None:
    """The first committed field of a run that ``row`` does not reproduce exactly."""
    for name, old in committed.items():
        if name not in row:
            return Mismatch(str(committed["run_id"]), str(name), _plain(old),
                            "(not produced)")
        if not same_value(old, row[name]):
            return Mismatch(str(committed["run_id"]), str(name), _plain(old),
                            _plain(row[name]))
    return None


def same_value(old: Any, new: Any) -> bool:
    """Exact equality; NaN (or a missing value) equals NaN. Numbers compare by value
    (a float64 bit for bit, apart from the sign of zero), text only with text."""
    old, new = _plain(old), _plain(new)
    if _missing(old) or _missing(new):
        return _missing(old) and _missing(new)
    if isinstance(old, str) or isinstance(new, str):
        return isinstance(old, str) and isinstance(new, str) and old == new
    return bool(old == new)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    """A numpy or pandas scalar as the Python value it holds."""
    if value is pd.NA or value is None:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def spot_check(committed: Sequence[CommittedRuns], budget: float,
               map_unordered: Callable[[Callable[[Any], Any], list[Any]], Iterator[Any]],
               width: int = 1, sample_seed: int = 0, *,
               clock: Callable[[], float] = time.monotonic,
               started: float | None = None) -> Report:
    """Re-simulate committed runs, ``width`` at a time through ``map_unordered`` (an
    executor's), in the round-robin order of their seeded samples, starting no new
    batch once ``budget`` seconds have passed since ``started`` (a ``clock()`` reading;
    default: now); compare each with its committed row."""
    start = clock() if started is None else started
    tallies, orders, rows, specs = [], [], [], []
    for entry in committed:
        experiment = entry.experiment
        analysis = registry.analysis(experiment.analysis)
        figures = tuple(registry.file_stem(figure.name, experiment.analysis,
                                           experiment.figure_prefix)
                        for figure in analysis.figures)
        tallies.append(Tally(experiment.name, figures, len(entry.table),
                             problem=entry.problem))
        table = entry.table
        rows.append({str(row["run_id"]): row for row in table.to_dict(orient="records")})
        specs.append({spec.run_id: spec for spec in experiment.runs()})
        ids = [] if entry.problem else [str(run_id) for run_id in table["run_id"]]
        orders.append(sample_order(ids, experiment.name, sample_seed))
    schedule = round_robin(orders)
    while clock() - start < budget:
        batch: list[tuple[int, RunSpec]] = []
        for which, run_id in schedule:
            spec = specs[which].get(run_id)
            if spec is None:  # not a run of the experiment file's design
                _count(tallies[which], Mismatch(run_id, "run_id", run_id,
                                                "(not in the experiment's design)"))
                continue
            batch.append((which, spec))
            if len(batch) == width:
                break
        if not batch:
            break
        for which, spec, row in map_unordered(_checked_item, batch):
            _count(tallies[which], first_mismatch(rows[which][spec.run_id], row))
    return Report(tallies, clock() - start, budget, sample_seed)


def _count(tally: Tally, mismatch: Mismatch | None) -> None:
    tally.checked += 1
    if mismatch is None:
        tally.matched += 1
        return
    tally.mismatched += 1
    if tally.first is None:
        tally.first = mismatch
