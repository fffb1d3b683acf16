"""Observed targets: the published numbers the model is calibrated and validated against.

The targets live in ``data/targets.csv`` (described in ``data/README.md``), one observed
pattern per row. :func:`load_targets` reads and validates the file; a bad row raises
:class:`TargetsError` with one line naming the file, the row and the problem.

Each row names the model output it is compared with in its ``model_output`` column, an
expression over the run's quarterly series (:mod:`sim.observation`) or its summary
(:meth:`sim.model.ClusterModel.summary`)::

    QUANTITY@q4[:YEAR]        the value in the fourth quarter of YEAR (default: the row's year)
    QUANTITY@sum[:YEAR]       the sum over YEAR's four quarters (a flow, e.g. births)
    QUANTITY@mean[:YEAR]      the mean over YEAR's four quarters
    QUANTITY@ratio:BASE       Q4 of the row's year over Q4 of BASE
    QUANTITY@cagr:BASE[-END]  annual growth rate from Q4 of BASE to Q4 of END (default: the
                              row's year): (end / base) ** (1 / (END - BASE)) - 1
    summary:FIELD             a summary() field, when the run ends in the row's year

QUANTITY is one of :data:`QUANTITIES` (every recorded series, and a few sums of them).
Levels (``q4``, ``sum``, ``mean`` and summary counts) of quantities that count agents
are divided by the run's ``scale``, so that they are read at scale 1, the scale of the
published counts; ratios and growth rates are scale-free. :func:`simulated_values`
evaluates the expressions on a finished run.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim import observation, summary
from sim.calibration import CLUSTER_NAMES, STAGES
from sim.params import QUARTERS_PER_YEAR, START_YEAR

__all__ = [
    "AGGREGATIONS", "CLUSTERS", "COLUMNS", "DEFAULT_PATH", "QUANTITIES", "ROLES",
    "SUMMARY_FIELDS", "UNITS", "YEAR_RANGE", "ModelOutput", "Quantity", "Target",
    "TargetsError", "deviations", "load_targets", "parse_model_output", "shipped_data",
    "simulated_values",
]


def shipped_data(name: str) -> Path:
    """A file of the project's sourced data: inside the installed package (``sim/data``,
    where a wheel puts it), else in the checkout's ``data/`` folder."""
    package = Path(__file__).resolve().parent
    installed = package / "data" / name
    return installed if installed.is_file() else package.parent / "data" / name


DEFAULT_PATH = shipped_data("targets.csv")
"""The committed targets file."""

COLUMNS: tuple[str, ...] = ("id", "quantity", "cluster", "year", "value", "low", "high",
                            "unit", "source", "url", "model_output", "role", "note")
"""The columns of the targets file, in order."""

ROLES: tuple[str, ...] = ("calibrate", "validate", "context")
"""``calibrate``: fitted to; ``validate``: held out and compared after fitting;
``context``: recorded for reference, not used in fitting or testing."""

CLUSTERS: tuple[str, ...] = (*CLUSTER_NAMES, "both")

UNITS: dict[str, str] = {
    "firms": "number of firms",
    "organisations": "number of tenant organisations (firms and public bodies)",
    "persons": "number of people",
    "spin-offs": "number of spin-off companies",
    "transfers": "number of technology transfers",
    "trillion KRW": "trillion Korean won, current prices",
    "share": "a fraction between 0 and 1",
    "ratio": "a dimensionless ratio of two counts",
    "1/year": "an annual growth rate (0.05 = 5% a year)",
}
"""The allowed units and what they mean."""

YEAR_RANGE: tuple[int, int] = (1990, 2035)
"""The sensible range of a target's year (inclusive)."""

_ID = re.compile(r"[a-z][a-z0-9_]*")
_URL = re.compile(r"https?://\S+")


class TargetsError(ValueError):
    """A malformed targets file; the message is one line naming the file, row and problem."""


# --- the registry of model outputs ---------------------------------------------------------
@dataclass(frozen=True)
class Quantity:
    """A per-quarter quantity the targets can refer to.

    ``compute`` reads it from one quarterly record; ``extensive`` quantities count agents
    (or their events) and grow with the run's scale."""

    name: str
    description: str
    extensive: bool
    compute: Callable[[Mapping[str, Any]], float]


_EXTENSIVE_SERIES = frozenset(series.name for series in observation.SCHEMA
                              if series.extensive)
"""Series (by schema name) that count agents or events, so scale with the population: read
from their declaration (:class:`sim.observation.Series`)."""


def _column(name: str) -> Callable[[Mapping[str, Any]], float]:
    def read(record: Mapping[str, Any]) -> float:
        return float(record[name])
    return read


def _sum_over_clusters(base: str) -> Callable[[Mapping[str, Any]], float]:
    names = [f"{base}_{c.lower()}" for c in CLUSTER_NAMES]

    def read(record: Mapping[str, Any]) -> float:
        return float(sum(record[n] for n in names))
    return read


def _build_quantities() -> dict[str, Quantity]:
    quantities: dict[str, Quantity] = {}
    for series in observation.SCHEMA:
        extensive = series.name in _EXTENSIVE_SERIES
        names = series.columns
        for column, cluster in zip(names, CLUSTER_NAMES if series.per_cluster else (None,),
                                   strict=True):
            where = f" ({cluster})" if cluster else ""
            suffix = ", over the last four quarters" if series.annual else ""
            quantities[column] = Quantity(column, f"{series.description}{where}{suffix}",
                                          extensive, _column(column))
    for base in ("ventures", "births", "entries", "exits"):
        name = f"{base}_total"
        quantities[name] = Quantity(name, f"{base} in both clusters together", True,
                                    _sum_over_clusters(base))
    # compositions, as a survey reports them: shares of a cluster's living ventures
    for part, what in (*((f"ventures_{stage.replace('-', '')}", f"at the {stage} stage")
                         for stage in STAGES),
                       ("ventures_it", "whose largest technology domain is IT")):
        for cluster in CLUSTER_NAMES:
            name = f"{part}_share_{cluster.lower()}"
            quantities[name] = Quantity(
                name, f"share of the ventures alive {what} ({cluster})", False,
                _share(f"{part}_{cluster.lower()}", f"ventures_{cluster.lower()}"))
    return quantities


def _share(part: str, whole: str) -> Callable[[Mapping[str, Any]], float]:
    def read(record: Mapping[str, Any]) -> float:
        return float(record[part]) / record[whole] if record[whole] else math.nan
    return read


QUANTITIES: dict[str, Quantity] = _build_quantities()
"""Every quantity a ``model_output`` can name: each recorded series column, and the
two-cluster totals of ventures, births, entries and exits."""

AGGREGATIONS: dict[str, str] = {
    "q4": "the value in the fourth quarter of the year (a stock), at scale 1",
    "sum": "the sum over the year's four quarters (a flow), at scale 1",
    "mean": "the mean over the year's four quarters, at scale 1",
    "ratio": "Q4 of the row's year over Q4 of a base year (scale-free)",
    "cagr": "annual growth rate between the Q4 values of two years (scale-free)",
}
"""How a quantity is turned into one number per target."""

SUMMARY_FIELDS: dict[str, bool] = {field.name: field.extensive for field in summary.FIELDS
                                   if field.kind in ("int64", "float64")}
"""Numeric summary() fields a target can name (``summary:FIELD``), each with whether it
counts agents (then divided by the run's scale): from their declaration,
:data:`sim.summary.FIELDS`."""


@dataclass(frozen=True)
class ModelOutput:
    """A parsed ``model_output`` expression (see the module docstring)."""

    text: str
    quantity: str
    aggregation: str
    year: int | None = None
    base: int | None = None

    @property
    def is_summary(self) -> bool:
        """Whether this reads a summary() field rather than the quarterly series."""
        return self.aggregation == "summary"

    def years(self, row_year: int) -> tuple[int, ...]:
        """The simulated years this output needs, for a target in ``row_year``."""
        end = self.year if self.year is not None else row_year
        return (end,) if self.base is None else (self.base, end)

    def evaluate(self, table: Mapping[str, Mapping[str, Any]], *, row_year: int,
                 scale: float, summary: Mapping[str, Any] | None = None,
                 last_year: int | None = None) -> float | None:
        """The simulated value, or None when the run does not cover the years needed
        (or a growth rate has a zero base). ``table`` maps quarter labels ('2019Q4') to
        records; ``last_year`` is the run's last simulated year (for ``summary:``)."""
        if self.is_summary:
            if summary is None or last_year != row_year or self.quantity not in summary:
                return None
            value = _finite(summary[self.quantity])
            if value is None:
                return None
            return value / scale if SUMMARY_FIELDS[self.quantity] else value
        quantity = QUANTITIES[self.quantity]
        end = self.year if self.year is not None else row_year
        if self.aggregation in ("q4", "sum", "mean"):
            labels = ([f"{end}Q{QUARTERS_PER_YEAR}"] if self.aggregation == "q4" else
                      [f"{end}Q{q}" for q in range(1, QUARTERS_PER_YEAR + 1)])
            if any(label not in table for label in labels):
                return None
            values = [quantity.compute(table[label]) for label in labels]
            value = sum(values) / (len(values) if self.aggregation == "mean" else 1)
            value = value / scale if quantity.extensive else value
            return _finite(value)
        start_label, end_label = f"{self.base}Q{QUARTERS_PER_YEAR}", f"{end}Q{QUARTERS_PER_YEAR}"
        if start_label not in table or end_label not in table:
            return None
        start, stop = quantity.compute(table[start_label]), quantity.compute(table[end_label])
        if start == 0:
            return None
        if self.aggregation == "ratio":
            return _finite(stop / start)
        if stop < 0 or start < 0:
            return None
        assert self.base is not None
        return _finite((stop / start) ** (1.0 / (end - self.base)) - 1.0)


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def parse_model_output(text: str, row_year: int) -> ModelOutput:
    """Parse a ``model_output`` expression for a target in ``row_year``.

    Raises ValueError (with a one-line reason) for an unknown quantity, aggregation or
    summary field, or for years outside :data:`YEAR_RANGE`."""
    text = text.strip()
    if text.startswith("summary:"):
        field = text.removeprefix("summary:")
        if field not in SUMMARY_FIELDS:
            raise ValueError(f"unknown summary field {field!r} in model_output {text!r}; "
                             f"known: {', '.join(SUMMARY_FIELDS)}")
        return ModelOutput(text, field, "summary")
    name, at, rest = text.partition("@")
    if not at:
        raise ValueError(f"model_output {text!r} is not QUANTITY@AGGREGATION or "
                         f"summary:FIELD")
    if name not in QUANTITIES:
        raise ValueError(f"unknown quantity {name!r} in model_output {text!r}")
    aggregation, colon, argument = rest.partition(":")
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation {aggregation!r} in model_output {text!r}; "
                         f"known: {', '.join(AGGREGATIONS)}")
    year: int | None = None
    base: int | None = None
    if aggregation in ("q4", "sum", "mean"):
        if colon:
            year = _year_argument(argument, text)
    elif aggregation == "ratio":
        if not colon:
            raise ValueError(f"model_output {text!r} needs a base year (ratio:BASE)")
        base = _year_argument(argument, text)
        if base == row_year:
            raise ValueError(f"model_output {text!r}: base year equals the row's year")
    else:  # cagr
        if not colon:
            raise ValueError(f"model_output {text!r} needs a base year (cagr:BASE[-END])")
        first, dash, second = argument.partition("-")
        base = _year_argument(first, text)
        year = _year_argument(second, text) if dash else None
        if base >= (year if year is not None else row_year):
            raise ValueError(f"model_output {text!r}: the base year must come before "
                             f"the end year")
    # a year before 2018 is read from the spin-up's records when the run's spin-up
    # reaches back that far (a calibration checks its own runs do)
    return ModelOutput(text, name, aggregation, year, base)


def _year_argument(argument: str, text: str) -> int:
    if not re.fullmatch(r"\d{4}", argument):
        raise ValueError(f"bad year {argument!r} in model_output {text!r}")
    year = int(argument)
    if not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        raise ValueError(f"year {year} in model_output {text!r} is outside "
                         f"{YEAR_RANGE[0]}-{YEAR_RANGE[1]}")
    return year


# --- the targets ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """One observed pattern: a published number with its range, source and the model
    output it is compared with (None when no model output corresponds yet)."""

    id: str
    quantity: str
    cluster: str
    year: int
    value: float
    low: float
    high: float
    unit: str
    source: str
    url: str
    model_output: ModelOutput | None
    role: str
    note: str
    line: int = 0

    @property
    def half_width(self) -> float:
        """Half the width of the target's range (its uncertainty)."""
        return (self.high - self.low) / 2.0

    def contains(self, simulated: float) -> bool:
        """Whether ``simulated`` lies within the target's range."""
        return self.low <= simulated <= self.high


def load_targets(path: str | Path | None = None) -> list[Target]:
    """Read and validate the targets file (default: :data:`DEFAULT_PATH`).

    Checks the header (exactly :data:`COLUMNS`), and in every row: a unique slug id, a
    known cluster, unit and role, a year in :data:`YEAR_RANGE`, finite numbers with
    ``low <= value <= high``, a non-empty source, a URL (or a note saying 'no URL'), a
    parseable ``model_output`` (required for the calibrate and validate roles; a note
    is required when it is empty). The first problem raises :class:`TargetsError`."""
    path = Path(path) if path is not None else DEFAULT_PATH
    targets: list[Target] = []
    seen: dict[str, int] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise TargetsError(f"{path}, line 1: empty file; expected the header "
                               f"{','.join(COLUMNS)}")
        header = [name.strip() for name in header]
        missing = [c for c in COLUMNS if c not in header]
        unknown = [c for c in header if c not in COLUMNS]
        if missing or unknown or len(header) != len(COLUMNS):
            problem = "; ".join(filter(None, [
                f"missing column(s): {', '.join(missing)}" if missing else "",
                f"unknown column(s): {', '.join(map(repr, unknown))}" if unknown else "",
                "duplicate column(s)" if not missing and not unknown else ""]))
            raise TargetsError(f"{path}, line 1 (header): {problem}")
        number = 0
        start = reader.line_num + 1
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not fields or all(not f.strip() for f in fields):
                continue
            number += 1
            try:
                target = _parse_row(dict(zip(header, fields, strict=False)), len(fields),
                                    line)
            except ValueError as problem:
                raise TargetsError(_where(path, number, line, str(problem))) from None
            if target.id in seen:
                raise TargetsError(_where(path, number, line,
                                          f"duplicate id {target.id!r} (first in row "
                                          f"{seen[target.id]})"))
            seen[target.id] = number
            targets.append(target)
    return targets


def _where(path: Path, number: int, line: int, problem: str) -> str:
    return f"{path}, row {number} (line {line}): {' '.join(problem.split())}"


def _parse_row(row: dict[str, str], n_fields: int, line: int) -> Target:
    if n_fields != len(COLUMNS):
        raise ValueError(f"expected {len(COLUMNS)} fields, found {n_fields}")
    row = {key: value.strip() for key, value in row.items()}
    ident = row["id"]
    if not _ID.fullmatch(ident):
        raise ValueError(f"id {ident!r} is not a slug (lower-case letters, digits, '_')")
    if not row["quantity"]:
        raise ValueError("empty quantity")
    if row["cluster"] not in CLUSTERS:
        raise ValueError(f"unknown cluster {row['cluster']!r}; known: {', '.join(CLUSTERS)}")
    if not re.fullmatch(r"-?\d+", row["year"]):
        raise ValueError(f"year {row['year']!r} is not an integer")
    year = int(row["year"])
    if not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        raise ValueError(f"year {year} is outside {YEAR_RANGE[0]}-{YEAR_RANGE[1]}")
    value, low, high = (_number(row, key) for key in ("value", "low", "high"))
    if not low <= value <= high:
        raise ValueError(f"needs low <= value <= high, got low={low:g}, value={value:g}, "
                         f"high={high:g}")
    if row["unit"] not in UNITS:
        raise ValueError(f"unknown unit {row['unit']!r}; known: {', '.join(UNITS)}")
    if not row["source"]:
        raise ValueError("empty source")
    note = row["note"]
    url = row["url"]
    if url and not _URL.fullmatch(url):
        raise ValueError(f"url {url!r} is not an http(s) address")
    if not url and "no url" not in note.lower():
        raise ValueError("empty url and the note does not say why ('no URL: ...')")
    if row["role"] not in ROLES:
        raise ValueError(f"unknown role {row['role']!r}; known: {', '.join(ROLES)}")
    output = None
    if row["model_output"]:
        output = parse_model_output(row["model_output"], year)
        if output.aggregation == "cagr" and row["unit"] != "1/year":
            raise ValueError(f"a growth rate (cagr) needs unit '1/year', not {row['unit']!r}")
        if output.aggregation == "ratio" and row["unit"] != "ratio":
            raise ValueError(f"a ratio needs unit 'ratio', not {row['unit']!r}")
    elif row["role"] != "context":
        raise ValueError(f"role {row['role']!r} needs a model_output")
    elif not note:
        raise ValueError("empty model_output needs a note saying why")
    return Target(ident, row["quantity"], row["cluster"], year, value, low, high,
                  row["unit"], row["source"], url, output, row["role"], note, line)


def _number(row: Mapping[str, str], key: str) -> float:
    try:
        number = float(row[key])
    except ValueError:
        raise ValueError(f"{key} {row[key]!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{key} {row[key]!r} is not a finite number")
    return number


# --- simulated values ----------------------------------------------------------------------
def simulated_values(run: Any, targets: Iterable[Target] | None = None, *,
                     scale: float | None = None,
                     summary: Mapping[str, Any] | None = None) -> dict[str, float]:
    """The simulated value of every target whose model output the run can compute.

    ``run`` is a finished :class:`sim.model.ClusterModel` (its quarterly records, scale
    and summary are read from it), or its quarterly series: a pandas DataFrame (e.g.
    ``model.datacollector.get_model_vars_dataframe()``) or a sequence of record dicts.
    Series rows are matched to quarters by a ``quarter`` column ('2019Q4') if present,
    else by a quarter-label index, else in order from 2018Q1. For series, ``scale`` (the
    run's population multiplier) is required; ``summary`` is needed only for
    ``summary:`` outputs. ``targets`` defaults to :func:`load_targets`.

    Targets without a model output, or whose years the run does not cover, are left
    out. Returns ``{target id: simulated value}`` in the targets' order."""
    targets = load_targets() if targets is None else list(targets)
    get_summary: Callable[[], Mapping[str, Any] | None]
    if hasattr(run, "history") and hasattr(run, "params"):
        # the spin-up's records first: targets before 2018 read the clusters' history
        records = [*getattr(run, "spin_up_history", ()), *run.history]
        scale = run.params.scale if scale is None else scale
        cached: list[Mapping[str, Any]] = []

        def get_summary() -> Mapping[str, Any] | None:
            if summary is not None:
                return summary
            if not cached and records:
                cached.append(run.summary())
            return cached[0] if cached else None
    else:
        if scale is None:
            raise ValueError("simulated_values needs the run's scale when given its series")
        records = _records(run)

        def get_summary() -> Mapping[str, Any] | None:
            return summary
    if not scale or scale <= 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    table = _quarter_table(records)
    last_year = max((int(label[:4]) for label in table), default=None)
    values: dict[str, float] = {}
    for target in targets:
        output = target.model_output
        if output is None:
            continue
        value = output.evaluate(
            table, row_year=target.year, scale=scale, last_year=last_year,
            summary=get_summary() if output.is_summary else None)
        if value is not None:
            values[target.id] = value
    return values


def deviations(targets: Iterable[Target], simulated: Mapping[str, float]) -> dict[str, float]:
    """For each target with a simulated value: (simulated - value) / half-width of its
    range, so that |deviation| <= 1 means inside a symmetric range (a summary
    statistic for calibration). Targets with a zero-width range are left out."""
    result: dict[str, float] = {}
    for target in targets:
        if target.id in simulated and target.half_width > 0:
            result[target.id] = (simulated[target.id] - target.value) / target.half_width
    return result


def _records(run: Any) -> list[dict[str, Any]]:
    if hasattr(run, "to_dict") and hasattr(run, "columns"):  # a pandas DataFrame
        records = run.to_dict("records")
        if "quarter" not in run.columns:
            labels = [str(label) for label in run.index]
            if all(re.fullmatch(r"\d{4}Q[1-4]", label) for label in labels):
                for record, label in zip(records, labels, strict=True):
                    record["quarter"] = label
        return records
    if isinstance(run, Sequence):
        return [dict(record) for record in run]
    raise TypeError(f"cannot read quarterly series from {type(run).__name__}")


def _quarter_table(records: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    table: dict[str, Mapping[str, Any]] = {}
    for number, record in enumerate(records):
        label = record.get("quarter")
        if label is None:
            year, quarter = divmod(number, QUARTERS_PER_YEAR)
            label = f"{START_YEAR + year}Q{quarter + 1}"
        table[str(label)] = record
    return table
