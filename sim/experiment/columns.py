"""What every stored column and manifest field means: the one source of docs/OUTPUTS.md.

A results directory (:mod:`sim.sweep.storage`) holds two Parquet tables:

* ``runs.parquet``: one row per run, its identity (:data:`RUN_KEYS`), the parameters
  its experiment fixes or varies (meaning and unit from :meth:`sim.params.Params.describe`)
  and the run's summary at the horizon (:data:`SUMMARY`, from the summary's declaration
  :data:`sim.summary.FIELDS`);
* ``series.parquet``: one row per run and recorded quarter (:data:`SERIES_KEYS`), one
  column per series of :data:`sim.observation.SCHEMA` (meaning, unit and type from its
  declaration there).

:func:`annotate` attaches each column's description and unit to a table as Parquet
field metadata (keys ``description`` and ``unit``), so that a table read without these
docs still says what it holds. :data:`MANIFEST` describes ``manifest.json`` and
:data:`FILES` the files of a results directory. :mod:`sim.experiment.outputs` lays all of it
out, with what each analysis needs of its design, as docs/OUTPUTS.md.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pyarrow as pa

from sim.observation import SCHEMA, column_meanings
from sim.params import Params
from sim.summary import FIELDS

KINDS = ("runs", "series")
"""The two tables of a results directory, as :func:`annotate` names them."""

TYPES = ("string", "int64", "float64", "bool")
"""Column types, as Arrow names them (``float64`` is Arrow's ``double``)."""

DESCRIPTION_KEY = b"description"
UNIT_KEY = b"unit"


@dataclass(frozen=True)
class Column:
    """One stored column: what it holds, its unit ('' for a share, label or pure number)
    and its type (one of :data:`TYPES`)."""

    name: str
    description: str
    unit: str
    type: str


# --- runs.parquet ---------------------------------------------------------------------------
RUN_KEYS: tuple[Column, ...] = (
    Column("run_id", "identity of the run: the first 16 hex digits of the SHA-256 of its "
           "parameters, replicate and seed (and its point, in a morris, sobol or points "
           "design, whose points may coincide)", "", "string"),
    Column("point", "design point, counted from 0 in design order (the grid's product "
           "in file order, the sample's order, which a Morris or Sobol analysis reads, or "
           "the points file's row order)", "", "int64"),
    Column("replicate", "replicate at its point, counted from 0; replicate r of every "
           "point has the same seed", "", "int64"),
    Column("seed", "random seed of the run, spawned from the master seed and the "
           "replicate alone (numpy SeedSequence)", "", "int64"),
)

_PARAMETER_TYPES = {float: "float64", int: "int64", bool: "bool"}


def parameter_columns() -> dict[str, Column]:
    """A column for every model parameter (a runs table holds those its experiment
    fixes or varies): the parameter's help text and unit."""
    return {name: Column(name, spec["help"], spec["unit"], _PARAMETER_TYPES[spec["kind"]])
            for name, spec in Params.describe().items()}


# Units and types of the series, read from their one declaration in the schema. A
# per-cluster series is keyed NAME_<cluster>: it may differ in type from the series of the
# same name summed over the clusters (innovations credited to a cluster come in halves).
SERIES_UNITS: dict[str, tuple[str, str]] = {
    (f"{series.name}_<cluster>" if series.per_cluster else series.name):
        (series.unit, series.kind) for series in SCHEMA}

SERIES_KEYS: tuple[Column, ...] = (
    Column("run_id", "the run (a run_id of runs.parquet)", "", "string"),
    Column("quarter", "recorded quarter, 2018Q1 to the fourth quarter of until_year",
           "", "string"),
)


def series_columns() -> dict[str, Column]:
    """A column for every recorded series: its meaning, unit and type from its
    declaration in :data:`sim.observation.SCHEMA`."""
    return {name: Column(name, meaning.description, meaning.unit, meaning.kind)
            for name, meaning in column_meanings().items()}


SUMMARY: dict[str, Column] = {field.name: Column(field.name, field.description, field.unit,
                                                 field.kind) for field in FIELDS}
"""The summary fields of a run stored in the runs table (``seed`` is a run key; the
summary's ``quarter``, the horizon, is the same for every run and not stored), from
their one declaration, :data:`sim.summary.FIELDS`."""


def columns(kind: str) -> dict[str, Column]:
    """Every column a table of ``kind`` ('runs' or 'series') may hold, by name."""
    return dict(_columns(kind))


@functools.cache  # annotate() asks for every table written
def _columns(kind: str) -> dict[str, Column]:
    if kind == "runs":
        # summary after parameters: capability_threshold is both, and always stored
        return {**{c.name: c for c in RUN_KEYS}, **parameter_columns(), **SUMMARY}
    if kind == "series":
        return {**{c.name: c for c in SERIES_KEYS}, **series_columns()}
    raise ValueError(f"unknown table kind {kind!r} (expected one of {', '.join(KINDS)})")


def undescribed(kind: str, names: list[str]) -> list[str]:
    """The names among ``names`` that have no entry for a table of ``kind``."""
    known = columns(kind)
    return [name for name in names if name not in known]


def annotate(table: pa.Table, kind: str) -> pa.Table:
    """``table`` with each column's description and unit as field metadata.

    Columns without an entry keep their field as it is: a table is never refused for a
    column these docs do not know (tests/test_outputs_doc.py fails instead). The
    table's own metadata (pandas', the code identity) is kept.
    """
    known = columns(kind)
    fields = []
    for field in table.schema:
        column = known.get(field.name)
        if column is not None:
            field = field.with_metadata({**(field.metadata or {}),
                                         DESCRIPTION_KEY: column.description.encode(),
                                         UNIT_KEY: column.unit.encode()})
        fields.append(field)
    schema = pa.schema(fields, metadata=table.schema.metadata)
    return pa.Table.from_arrays(table.columns, schema=schema)


# --- manifest.json and the results directory -------------------------------------------------
MANIFEST: dict[str, str] = {
    "experiment.name": "the experiment's name (its [experiment] name)",
    "experiment.fingerprint": "SHA-256 of the validated experiment (comments, layout and "
                              "max_runs do not count): a directory holds one experiment",
    "experiment.analysis": "the analysis `python -m sim figures` draws",
    "experiment.file": "the copy of the experiment file in the directory (experiment.toml)",
    "experiment.figure_prefix": "only when the experiment sets it: the name its figure files "
                                "carry in place of the analysis's (sensitivity_morris.png for the "
                                "sensitivity analysis), so two experiments of one analysis "
                                "publish side by side",
    "design.method": "how the design points are made: grid, latin_hypercube, uniform, "
                     "morris, sobol or points",
    "design.parameters": "the varied parameters, in the order of the experiment file (of "
                         "the points file's header for points)",
    "design.points": "number of design points (runs_total is points x replicates)",
    "design.n": "latin_hypercube and uniform: points drawn; sobol: the base sample (a "
                "power of 2)",
    "design.second_order": "sobol: whether the design allows second-order indices (n x (2 "
                           "x parameters + 2) points; else n x (parameters + 2))",
    "design.trajectories": "morris: number of trajectories (each of parameters + 1 points)",
    "design.levels": "morris: number of grid levels of each parameter",
    "design.ranges": "sampled designs: [low, high] of each parameter, in the order of "
                     "design.parameters",
    "design.file": "points: the points file as the experiment file names it (copied to "
                   "points.csv)",
    "design.sha256": "points: SHA-256 of the points file, part of the experiment's "
                     "fingerprint with its rows",
    "master_seed": "the experiment's master seed",
    "replicate_seeds": "the seed of each replicate, in replicate order",
    "runs_total": "runs in the design (points x replicates)",
    "runs_stored": "distinct runs stored so far",
    "status": "'running' while a sweep writes the directory (or after one was killed "
              "without notice), 'interrupted' when it was stopped (Ctrl-C), 'complete' "
              "when every run of the design is stored once (with its series if asked), "
              "'incomplete' when the consolidated tables fall short (see "
              "incomplete_reason)",
    "incomplete_reason": "why the tables are not the whole design (only when status is "
                         "'incomplete')",
    "code_version": "a label of the code for people: VERSION+gCOMMIT[-dirty] from a "
                    "checkout, else VERSION",
    "code.version": "package version of the code that wrote the manifest",
    "code.source_sha256": "SHA-256 of the sim package's source files: with "
                          "code.environment_sha256, what makes two codes the same "
                          "(workers with another one are refused)",
    "code.environment": "the Python version and the versions of the packages a run's "
                        "numbers depend on (numpy, mesa, pandas, pyarrow)",
    "code.environment_sha256": "SHA-256 of code.environment: runs made in another "
                               "environment are another code's (a resume there is refused "
                               "unless --allow-code-change)",
    "code.git.commit": "commit of the checkout the code ran from (code.git is null outside "
                       "a checkout)",
    "code.git.dirty": "whether that checkout had uncommitted changes",
    "code_history": "each code that made stored runs, as {code, runs}: one entry unless "
                    "runs of several codes were allowed together (--allow-code-change)",
    "python": "Python version",
    "packages": "versions of the main packages (mesa, numpy, networkx, pandas, pyarrow, "
                "dask, distributed, scipy, matplotlib; null when absent)",
    "created": "when the directory was claimed (UTC, ISO 8601)",
    "updated": "when the manifest was last written (UTC, ISO 8601)",
    "rebuilt": "when the manifest was rebuilt from experiment.toml and the stored runs "
               "(only if it was ever missing)",
}
"""Each field of ``manifest.json`` (nested fields joined by '.')."""

FILES: dict[str, str] = {
    "manifest.json": "what the directory holds and how it was made (below); written "
                     "first, rewritten by each sweep",
    "experiment.toml": "the experiment file as run",
    "points.csv": "the points file as run, for a [points] design: with experiment.toml, "
                  "the whole design",
    "runs.parquet": "one row per run, sorted by point and replicate (below)",
    "series.parquet": "one row per run and quarter, when the experiment sets series = "
                      "true (below)",
    "parts/": "batches of finished runs (runs-*.parquet, series-*.parquet) while a sweep "
              "is under way; merged into the two tables at its end",
    "quarantine/": "stored files found damaged, moved aside (never deleted); their runs "
                   "are run again",
    ".lock": "held (flock) by the one sweep writing the directory; names its holder",
    "figures/": "what `python -m sim figures DIR` draws (by default)",
}
"""The entries of a results directory."""

PARQUET_METADATA: dict[str, str] = {
    "description": "field metadata of each column: what it holds (the tables below)",
    "unit": "field metadata of each column: its unit (empty for a share, a label, an "
            "index or a pure number)",
    "sim.code": "file metadata: the identity of the code that made every run of the "
                "file, as in manifest.json's code",
    "sim.code_history": "file metadata: each code that made runs of the file, with their "
                        "count (and run ids when there are several)",
}
