"""Experiment designs: read a TOML file, validate all of it, expand it into runs.

An experiment file says which parameters vary, which are fixed, how many replicates each
point gets and the master seed. The varied parameters come from one of

* ``[grid]``: every combination of listed values;
* ``[sample]``: ``n`` points drawn in ``[sample.ranges]`` by Latin hypercube
  (``method = "latin_hypercube"``, the default) or independently (``"uniform"``); or a
  sensitivity design from SALib: Morris trajectories (``method = "morris"``,
  ``trajectories`` and ``levels``; trajectories x (parameters + 1) points) or Saltelli's
  scheme over a scrambled Sobol' sequence (``method = "sobol"``, a base sample ``n``
  that is a power of 2 and ``second_order``; n x (2 x parameters + 2) points with second
  order, else n x (parameters + 2));
* ``[points]``: explicit points from any other tool, ``file = "points.csv"`` (relative
  to the experiment file), a CSV file whose header names parameters and whose rows are
  the points, run exactly as listed. The file's SHA-256 and its rows are part of the
  experiment's identity; a results directory keeps a copy (``points.csv``).

Every problem (missing or malformed file, unknown key, wrong type, value out of range,
a name that is not a plain name, a design too large to run, a design its analysis cannot
use, a points file that is empty, not UTF-8, or has unknown, unnamed or missing columns,
NaN or out-of-range values) is found here, before any run, and reported as one
:class:`ExperimentError` line.

Size: a design makes points x replicates runs, counted from the file before any list is
expanded or sampled, and is refused above :data:`DEFAULT_MAX_RUNS` unless the file raises
the limit (``[experiment] max_runs = N``) or the caller does (``load(path, max_runs=N)``,
the command line's ``--max-runs N``, which wins over the file).

Sampling is deterministic: the same file and master seed give the same points on any
machine (the sampler's seed is spawned from the master seed).

Analyses: the analyses an experiment may name, and what each needs of its design, are
declared once, in :mod:`sim.experiment.registry`; the validator checks those needs, and
docs/OUTPUTS.md lists them.

Seeds: replicate ``r`` of every point gets the same seed, derived from the master seed
and ``r`` alone (numpy ``SeedSequence``). Runs that differ only in coupling are thus
paired (common random numbers, for synergy), and no seed depends on the order in which
runs are made or finish.

Run ids: a run's id hashes its parameters, replicate and seed; in a Morris, Sobol or
points design also its point, because two points of those designs may coincide (Morris
trajectories meet on the grid; a points file may list a point twice) and each point
needs runs of its own.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.experiment import registry
from sim.experiment.spec import (
    DESCRIPTION,
    ExperimentError,
    FileSchema,
    Key,
    Section,
    name_key,
    read_document,
    refuse_unknown,
)
from sim.params import ParameterError, Params, check_names, check_value
from sim.profile import Posterior, load_posterior, load_profile

DEFAULT_MAX_RUNS = 1_000_000
"""Most runs (points x replicates) a design may make unless its file or the caller
allows more. A million runs is days of one core at full scale, and about the most
whose run list and tables the sweep engine holds in memory comfortably (a few GB)."""

MAX_FILE_BYTES = 10_000_000
"""Largest experiment file read: a design is a few lines, even a long list of values."""

MAX_POINTS_BYTES = 200_000_000
"""Largest points file read: a million points of a dozen parameters fit in it."""

#: Above this many design points the cross-field rules are checked on the extreme values
#: of each pair of varied parameters instead of on every point (see _check_combinations).
_POINTS_CHECKED_ONE_BY_ONE = 2_000

_SORTED_JSON = json.JSONEncoder(sort_keys=True)  # what json.dumps(..., sort_keys=True) uses
#: The settings each sampling method takes besides its ranges, and those it requires.
_METHOD_SETTINGS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "latin_hypercube": (frozenset({"n"}), frozenset({"n"})),
    "uniform": (frozenset({"n"}), frozenset({"n"})),
    "morris": (frozenset({"trajectories", "levels"}), frozenset({"trajectories"})),
    "sobol": (frozenset({"n", "second_order"}), frozenset({"n"})),
}
_SAMPLE_METHODS = tuple(_METHOD_SETTINGS)
#: Grid levels of a Morris design unless the file says otherwise (SALib's default).
MORRIS_LEVELS = 4
#: Designs whose points may coincide: their runs' ids include the point.
_POINTS_MAY_REPEAT = ("morris", "sobol", "points")
_PARAMETERS = Params.describe()

EXPERIMENT_FILE = FileSchema(
    "Experiment file",
    "A sweep's design: which parameters vary and how, which are fixed, how many "
    "replicates each point gets, the master seed and the analysis that reads the runs "
    "(``python -m sim sweep FILE``).",
    (Section("experiment", "The experiment itself.", required=True, keys=(
        name_key("Names the results directory and the figures' titles."),
        DESCRIPTION,
        Key("analysis", str, "The analysis that draws the figures (docs/OUTPUTS.md lists "
            "what each needs of its design).", default="none",
            choices=lambda: tuple(registry.ANALYSES)),
        Key("master_seed", int, "Every run's seed derives from it and the replicate.",
            low=0),
        Key("replicates", int, "Runs per design point, with seeds shared across points "
            "(common random numbers).", default=1, low=1),
        Key("series", bool, "Keep each run's per-quarter series (series.parquet).",
            default=False),
        Key("max_runs", int, "Most runs the design may make (default "
            f"{DEFAULT_MAX_RUNS:,}; --max-runs wins).", default=None, low=1),
        Key("profile", str, "A parameter profile replacing the defaults "
            "(e.g. `calibrated`).", default=None),
        Key("posterior", str, "A posterior sample: each replicate draws its calibrated "
            "parameters from it.", default=None),
        Key("figure_prefix", str, "Replaces the analysis's name at the front of the "
            "figure files, so two experiments of one analysis publish side by side.",
            default="", plain_name=True))),
     Section("fixed", "Parameters held at one value (any model parameter).",
             entries="parameter = value"),
     Section("grid", "Every combination of listed values.",
             entries="parameter = [values] or { from, to, num }"),
     Section("sample", "Points drawn in ranges: Latin hypercube, uniform, Morris "
             "trajectories or Saltelli's scheme over a Sobol' sequence.", keys=(
        Key("method", str, "The sampler.", default="latin_hypercube",
            choices=lambda: _SAMPLE_METHODS),
        Key("n", int, "Points (latin_hypercube, uniform) or base sample, a power of 2 "
            "(sobol).", default=None, low=1),
        Key("trajectories", int, "Morris trajectories.", default=None, low=2),
        Key("levels", int, "Morris grid levels, even.", default=MORRIS_LEVELS, low=2),
        Key("second_order", bool, "Sobol': second-order indices too.", default=False),
        Key("ranges", dict, "parameter = [low, high], real-valued parameters only.",
            default=None))),
     Section("points", "Explicit points from any other tool, run exactly as listed.",
             keys=(Key("file", str, "A CSV file, relative to the experiment file, whose "
                       "header names parameters and whose rows are the points."),))),
    rules=("Exactly one of [grid], [sample] or [points].",
           "A parameter is fixed or varied, not both.",
           "Each [sample] method takes only its own settings (n: latin_hypercube, "
           "uniform, sobol; trajectories and levels: morris; second_order: sobol).",
           "Every design point must be a valid model input, cross-field rules included.",
           "The analysis's needs of its design are met (docs/OUTPUTS.md)."))
"""The experiment file, declared once: checked by :func:`parse`, documented by
:meth:`~sim.experiment.spec.FileSchema.markdown`."""
_HEAD = EXPERIMENT_FILE.section("experiment")
_SAMPLE = {key.name: key for key in EXPERIMENT_FILE.section("sample").keys}
_RANGE = {key.name: key for key in (Key("from", float, "first value"),
                                    Key("to", float, "last value"),
                                    Key("num", int, "how many values", low=1))}



@dataclass(frozen=True)
class RunSpec:
    """One run of an experiment: a design point, a replicate and its seed."""

    run_id: str
    point: int
    replicate: int
    seed: int
    parameters: dict[str, Any] = field(hash=False)
    series: bool


@dataclass(frozen=True)
class Experiment:
    """A validated experiment."""

    name: str
    description: str
    analysis: str
    master_seed: int
    replicates: int
    series: bool
    fixed: dict[str, Any]
    grid: dict[str, list[float]]
    sample: dict[str, Any]
    """The sampled or listed design: its ``method`` (latin_hypercube, uniform, morris,
    sobol, or points for a ``[points]`` file), its settings and ``ranges`` (for points,
    each column's lowest and highest value), and for points the file's ``sha256``,
    ``columns`` and ``rows``. Empty for a grid."""
    source: str
    max_runs: int = DEFAULT_MAX_RUNS  # a guard on the size, not part of the identity
    points_file: str = ""
    """The points file as the experiment file names it (a points design only); where it
    lies is not part of the identity, its content is."""
    points_bytes: bytes = field(default=b"", repr=False)
    """The points file's bytes as read, copied into the results directory."""
    figure_prefix: str = ""
    """Names the figure files in place of the analysis's name (``[experiment]
    figure_prefix``; see :func:`sim.experiment.registry.file_stem`), so that two
    experiments of one analysis publish side by side. Empty: the analysis's names."""
    posterior: Posterior | None = field(default=None, repr=False)
    """The posterior sample each replicate draws its constants from (``[experiment]
    posterior``), or None: every replicate runs on the same constants."""

    @property
    def varied(self) -> list[str]:
        """Names of the parameters the design varies, in file order."""
        return list(self.grid) if self.grid else list(self.sample["ranges"])

    @property
    def method(self) -> str:
        """How the points are made: grid, latin_hypercube, uniform, morris, sobol or
        points."""
        return self.sample["method"] if self.sample else "grid"

    @property
    def point_count(self) -> int:
        """Number of design points, counted without building them."""
        if self.grid:
            return math.prod(len(values) for values in self.grid.values())
        return sampled_point_count(self.sample)

    @property
    def run_count(self) -> int:
        """Number of runs (points x replicates), counted without building them."""
        return self.point_count * self.replicates

    @property
    def fingerprint(self) -> str:
        """Identity of the experiment: a hash of its validated content (comments and
        layout of the file do not count)."""
        canonical = json.dumps(self.canonical(), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def canonical(self) -> dict[str, Any]:
        canonical = {"name": self.name, "analysis": self.analysis,
                     "master_seed": self.master_seed, "replicates": self.replicates,
                     "series": self.series, "fixed": self.fixed, "grid": self.grid,
                     "sample": self.sample}
        if self.figure_prefix:  # only when set: older experiments keep their fingerprint
            canonical["figure_prefix"] = self.figure_prefix
        if self.posterior is not None:
            canonical["posterior"] = [self.posterior.name, self.posterior.sha256]
        return canonical

    def design_record(self) -> dict[str, Any]:
        """The design as a results directory's manifest records it: its method, the
        varied parameters in order, the number of points and the method's settings (a
        sample's ``ranges`` as ``[low, high]`` in the parameters' order; a points file's
        name and SHA-256)."""
        record: dict[str, Any] = {"method": self.method, "parameters": self.varied,
                                  "points": self.point_count}
        if self.method == "points":
            return record | {"file": self.points_file, "sha256": self.sample["sha256"]}
        if self.sample:
            settings = _METHOD_SETTINGS[self.method][0]
            record |= {key: self.sample[key] for key in sorted(settings)}
            record["ranges"] = [self.sample["ranges"][name] for name in self.varied]
        return record

    def points(self) -> list[dict[str, Any]]:
        """The design points: each a dict of the varied parameters' values."""
        if self.grid:
            names = list(self.grid)
            return [dict(zip(names, values, strict=True))
                    for values in itertools.product(*self.grid.values())]
        return _sample_points(self.sample, self.master_seed)

    def runs(self) -> list[RunSpec]:
        """Every run of the experiment, in design order (built on the first call: the
        storage, the executor and the command line all ask for them)."""
        return list(self._runs)

    def posterior_draws(self) -> list[dict[str, float]]:
        """Each replicate's constants drawn from the posterior (without those the
        design fixes or varies, which win), or one empty dict per replicate without a
        posterior. Replicate ``r`` has the same draw at every point: the points it is
        compared over share its constants as they share its seed."""
        if self.posterior is None:
            return [{} for _ in range(self.replicates)]
        own = set(self.fixed) | set(self.varied)
        return [{k: v for k, v in draw.items() if k not in own}
                for draw in self.posterior.draw(self.master_seed, self.replicates)]

    @functools.cached_property
    def _runs(self) -> tuple[RunSpec, ...]:
        seeds = replicate_seeds(self.master_seed, self.replicates)
        draws = self.posterior_draws()
        with_point = self.method in _POINTS_MAY_REPEAT
        specs = []
        for point, values in enumerate(self.points()):
            parameters = {**self.fixed, **values}
            # the text json.dumps({"parameters": ..., ["point": p,] "replicate": r,
            # "seed": s}, sort_keys=True) gives, with the parameters encoded once per point
            # (per run when each replicate draws its own constants)
            point_key = f', "point": {point}' if with_point else ""
            head = '{"parameters": ' + _SORTED_JSON.encode(parameters) + point_key
            for replicate, seed in enumerate(seeds):
                run_parameters, run_head = parameters, head
                if draws[replicate]:
                    run_parameters = {**draws[replicate], **parameters}
                    run_head = ('{"parameters": ' + _SORTED_JSON.encode(run_parameters)
                                + point_key)
                identity = f'{run_head}, "replicate": {replicate}, "seed": {seed}}}'
                run_id = hashlib.sha256(identity.encode()).hexdigest()[:16]
                specs.append(RunSpec(run_id, point, replicate, seed, run_parameters,
                                     self.series))
        return tuple(specs)


def replicate_seeds(master_seed: int, replicates: int) -> list[int]:
    """Seed of each replicate: independent streams spawned from the master seed."""
    children = np.random.SeedSequence(master_seed).spawn(replicates)
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]


ANALYSES: tuple[str, ...] = tuple(registry.REGISTRY)
"""The analyses an experiment may name (``[experiment] analysis``), from
:data:`sim.experiment.registry.REGISTRY`."""


def sampled_point_count(sample: dict[str, Any]) -> int:
    """Number of points of a sampled or listed design (:attr:`Experiment.sample`),
    counted without sampling: Morris trajectories x (D + 1), Sobol n x (2D + 2) with
    second order else n x (D + 2) (D parameters), the rows of a points file, else n."""
    method, dimensions = sample["method"], len(sample["ranges"])
    if method == "morris":
        return sample["trajectories"] * (dimensions + 1)
    if method == "sobol":
        return sample["n"] * (2 * dimensions + 2 if sample["second_order"]
                              else dimensions + 2)
    if method == "points":
        return len(sample["rows"])
    return sample["n"]


def load(path: str | Path, max_runs: int | None = None) -> Experiment:
    """Read and validate an experiment file.

    ``max_runs``, when given, replaces the file's ``max_runs`` (and the default
    :data:`DEFAULT_MAX_RUNS`) as the most runs the design may make. A ``[points] file``
    is read relative to the experiment file's folder.
    """
    path = Path(path)
    text, document = read_document(path, "experiment file", MAX_FILE_BYTES)
    return parse(document, text, str(path), max_runs=max_runs, base=path.parent)


def toml_text(document: dict[str, Any]) -> str:
    """An experiment document (as :func:`parse` takes it) as TOML text that reads back
    to the same document: what a results directory keeps as its ``experiment.toml`` when
    the experiment was made from a dict, not a file."""
    lines: list[str] = []

    def value(item: Any) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, int | float):
            return repr(item) if not isinstance(item, float) or math.isfinite(item) else (
                "nan" if math.isnan(item) else ("inf" if item > 0 else "-inf"))
        if isinstance(item, str):
            return json.dumps(item)  # a TOML basic string for every text a JSON one is
        if isinstance(item, list | tuple):
            return "[" + ", ".join(value(v) for v in item) + "]"
        if isinstance(item, dict):
            return "{ " + ", ".join(f"{json.dumps(str(k))} = {value(v)}"
                                    for k, v in item.items()) + " }"
        raise ExperimentError(f"cannot write {item!r} as TOML")

    def table(name: str, body: dict[str, Any]) -> None:
        nested = {k: v for k, v in body.items() if isinstance(v, dict)}
        lines.append(f"[{name}]")
        lines.extend(f"{json.dumps(str(k))} = {value(v)}" for k, v in body.items()
                     if not isinstance(v, dict))
        for key, inner in nested.items():
            # [grid] values like { from, to, num } stay inline; [sample.ranges] is a table
            if name == "grid":
                lines.append(f"{json.dumps(str(key))} = {value(inner)}")
            else:
                table(f"{name}.{key}", inner)

    # keys outside any table first: after a [table] header they would belong to it
    lines.extend(f"{json.dumps(str(name))} = {value(body)}"
                 for name, body in document.items() if not isinstance(body, dict))
    for name, body in document.items():
        if isinstance(body, dict):
            table(name, body)
    return "\n".join(lines) + "\n"


def parse(document: dict[str, Any], source: str = "", where: str = "experiment", *,
          max_runs: int | None = None, base: str | Path | None = None,
          points_file: str | Path | None = None) -> Experiment:
    """Validate a parsed experiment document (``max_runs``: see :func:`load`).

    A ``[points] file`` is read relative to ``base`` (default: the current folder), or
    from ``points_file`` when given, whatever the document names (a results directory
    reads its own copy so)."""
    EXPERIMENT_FILE.check_tables(document, where)
    head = _HEAD.read(document, where)
    name, analysis, master_seed = head["name"], head["analysis"], head["master_seed"]
    replicates, series, file_limit = head["replicates"], head["series"], head["max_runs"]
    if max_runs is not None and max_runs < 1:
        raise ExperimentError(f"--max-runs must be >= 1, got {max_runs}")

    fixed = EXPERIMENT_FILE.section("fixed").table(document, where)
    for key, value in fixed.items():
        _parameter_value(key, value, f"{where}: [fixed]")

    designs = [key for key in ("grid", "sample", "points") if key in document]
    if len(designs) != 1:
        raise ExperimentError(f"{where}: give exactly one of [grid], [sample] or [points]")
    listed: _PointsFile | None = None
    if designs == ["sample"]:
        sample = _sample(document["sample"], where)
        points = sampled_point_count(sample)
        shape = _sample_shape(sample, points)
    elif designs == ["points"]:
        listed = _read_points(document["points"], where,
                              Path(base) if base is not None else Path.cwd(),
                              Path(points_file) if points_file is not None else None)
        points, shape = len(listed.lines), f"{len(listed.lines):,} listed points"
        sample = {}
    else:
        sample = {}
        lengths = _grid_lengths(document["grid"], where)
        points = math.prod(lengths.values())
        shape = f"{' x '.join(f'{n:,}' for n in lengths.values())} grid points"
    # counted, not built: refusing a huge design must cost nothing
    if max_runs is not None:
        limit, source_of_limit = max_runs, "--max-runs"
    elif file_limit is not None:
        limit, source_of_limit = file_limit, "[experiment] max_runs"
    else:
        limit, source_of_limit = DEFAULT_MAX_RUNS, "the default limit"
    runs = points * replicates
    if runs > limit:
        raise ExperimentError(
            f"{where}: the design makes {runs:,} runs ({shape} x {replicates:,} "
            f"replicate{'s' if replicates > 1 else ''}), more than {source_of_limit} of "
            f"{limit:,}; shrink it, or allow "
            "it with [experiment] max_runs = N or --max-runs N")
    grid = _grid(document["grid"], where) if designs == ["grid"] else {}
    if listed is not None:  # counted above; the values are converted and checked now
        sample = listed.sample(where)
    varied = list(grid) if grid else list(sample["ranges"])
    overlap = sorted(set(varied) & set(fixed))
    if overlap:
        raise ExperimentError(f"{where}: {overlap[0]} is both fixed and varied")
    figure_prefix, profile = head["figure_prefix"], head["profile"]
    if profile is not None:
        try:
            values = load_profile(profile)
        except ParameterError as error:
            raise ExperimentError(f"{where}: [experiment] {error}") from None
        # the profile replaces the defaults; [fixed] and the varied parameters win
        fixed = {**{k: v for k, v in values.items() if k not in varied}, **fixed}
    posterior_name = head["posterior"]
    posterior = None
    if posterior_name is not None:
        try:
            posterior = load_posterior(posterior_name)
        except ParameterError as error:
            raise ExperimentError(f"{where}: [experiment] {error}") from None

    experiment = Experiment(name=name, description=head["description"],
                            analysis=analysis, master_seed=master_seed, replicates=replicates,
                            series=series, fixed=dict(fixed), grid=grid, sample=sample,
                            source=source or toml_text(document), max_runs=limit,
                            points_file=listed.name if listed else "",
                            points_bytes=listed.raw if listed else b"",
                            figure_prefix=figure_prefix, posterior=posterior)
    _check_combinations(experiment, where)
    for requirement in registry.analysis(analysis).requirements:
        problem = requirement.check(experiment)
        if problem is not None:
            raise ExperimentError(f"{where}: the {analysis} analysis {problem}")
    return experiment


def _check_combinations(experiment: Experiment, where: str) -> None:
    """Every design point must be a valid model input, cross-field rules included.

    Each value was checked on its own already. A small design is checked point by point.
    Building a million points one by one would take minutes, so a larger one is checked
    on every combination of the lowest and highest values of each pair of varied
    parameters: the cross-field rules of :class:`Params` order two parameters
    (``tie_floor < tie_initial``), so they hold at every point if they hold there. The
    points of a points file are checked one by one whatever their number (a million
    take minutes): their extremes need not meet in any listed point.
    """
    if experiment.method == "points":
        columns = experiment.sample["columns"]
        for number, row in enumerate(experiment.sample["rows"], start=1):
            try:
                Params(**{**experiment.fixed, **dict(zip(columns, row, strict=True))})
            except ParameterError as error:
                raise ExperimentError(f"{where}: point {number} of the points file "
                                      f"{experiment.points_file}: {error}") from None
        return
    if experiment.point_count <= _POINTS_CHECKED_ONE_BY_ONE:
        points = experiment.points()
    else:
        extremes = {name: (min(values), max(values)) for name, values in
                    (experiment.grid or experiment.sample["ranges"]).items()}
        lowest = {name: low for name, (low, _) in extremes.items()}
        points = [lowest]
        for first, second in itertools.combinations(extremes, 2):
            for a, b in itertools.product(extremes[first], extremes[second]):
                points.append({**lowest, first: a, second: b})
        if len(extremes) == 1:
            (name, (low, high)), = extremes.items()
            points.append({name: high})
    for point in points:
        try:
            Params(**{**experiment.fixed, **point})
        except ParameterError as error:
            raise ExperimentError(f"{where}: {error}") from None


def _grid_lengths(table: Any, where: str) -> dict[str, int]:
    """How many values each grid parameter takes, checking the grid's shape (not yet
    its values): a ``{from, to, num}`` range is counted, not expanded."""
    if not isinstance(table, dict) or not table:
        raise ExperimentError(f"{where}: [grid] must name at least one parameter")
    lengths = {}
    for key, spec in table.items():
        if isinstance(spec, dict):
            inside = f"{where}: [grid] {key}"
            refuse_unknown(spec, set(_RANGE), inside)
            _RANGE["from"].read(spec, inside)
            _RANGE["to"].read(spec, inside)
            lengths[key] = _RANGE["num"].read(spec, inside)
        elif isinstance(spec, list) and spec:
            lengths[key] = len(spec)
        else:
            raise ExperimentError(f"{where}: [grid] {key} must be a non-empty list of "
                                  "values or {from, to, num}")
    return lengths


def _grid(table: dict[str, Any], where: str) -> dict[str, list[float]]:
    """The grid's values, checked; its shape was checked by :func:`_grid_lengths`."""
    grid = {}
    for key, spec in table.items():
        if isinstance(spec, dict):
            values = [round(float(v), 10)
                      for v in np.linspace(float(spec["from"]), float(spec["to"]),
                                           spec["num"])]
        else:
            values = spec
        kind = _parameter_kind(key, f"{where}: [grid]")
        for value in values:  # check first: converting "a" or 2019.5 must not pass
            _parameter_value(key, value, f"{where}: [grid]")
        values = [kind(v) for v in values]
        if len(set(values)) != len(values):
            raise ExperimentError(f"{where}: [grid] {key} repeats a value; each design "
                                  "point must be distinct")
        grid[key] = values
    return grid


def _sample(table: Any, where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ExperimentError(f"{where}: [sample] must be a table")
    inside = f"{where}: [sample]"
    refuse_unknown(table, set(_SAMPLE), inside)
    method = _SAMPLE["method"].read(table, inside)
    allowed, required = _METHOD_SETTINGS[method]
    for key in sorted(set(table) - allowed - {"method", "ranges"}):
        users = ", ".join(name for name, (keys, _) in _METHOD_SETTINGS.items()
                          if key in keys)
        raise ExperimentError(f"{where}: [sample] {key} is not used by method = "
                              f"{method!r} (only by {users}); remove it")
    for key in sorted(required - set(table)):
        raise ExperimentError(f"{where}: [sample] method = {method!r} needs {key}")
    settings: dict[str, Any] = {}
    if "n" in allowed:
        n = _SAMPLE["n"].read(table, inside)  # no upper bound: the design's size is capped
        if method == "sobol" and (n < 2 or n & (n - 1)):
            raise ExperimentError(
                f"{where}: [sample] n must be a power of 2 (2, 4, 8, 16, ...) for method = "
                f"'sobol': SALib's Sobol' sequence keeps its balance only then, got {n}")
        settings["n"] = n
    if method == "morris":
        # two trajectories at least: the spread of the elementary effects needs two
        trajectories = _SAMPLE["trajectories"].read(table, inside)
        levels = _SAMPLE["levels"].read(table, inside)
        if levels % 2:
            raise ExperimentError(f"{where}: [sample] levels must be an even number >= 2 "
                                  f"(SALib's Morris grid needs an even number), got {levels}")
        settings |= {"trajectories": trajectories, "levels": levels}
    if method == "sobol":
        settings["second_order"] = _SAMPLE["second_order"].read(table, inside)
    ranges = table.get("ranges")
    if not isinstance(ranges, dict) or not ranges:
        raise ExperimentError(f"{where}: [sample.ranges] must name at least one parameter")
    clean = {}
    for key, bounds in ranges.items():
        kind = _parameter_kind(key, f"{where}: [sample.ranges]")
        if kind is not float:
            raise ExperimentError(f"{where}: [sample.ranges] {key} is not a real-valued "
                                  "parameter and cannot be sampled")
        ok = (isinstance(bounds, list) and len(bounds) == 2
              and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
              and bounds[0] < bounds[1])
        if not ok:
            raise ExperimentError(f"{where}: [sample.ranges] {key} must be [low, high] "
                                  f"with low < high, got {bounds!r}")
        for bound in bounds:
            _parameter_value(key, float(bound), f"{where}: [sample.ranges]")
        clean[key] = [float(b) for b in bounds]
    if settings.get("second_order") and len(clean) < 2:
        raise ExperimentError(f"{where}: [sample] second_order = true needs at least two "
                              "parameters in [sample.ranges]")
    # key order as before for the older methods: a sample's dict is part of the identity
    return {"method": method, **settings, "ranges": clean}


def _sample_shape(sample: dict[str, Any], points: int) -> str:
    """The sampled design's size in words, for the message refusing a design too large."""
    dimensions = len(sample["ranges"])
    if sample["method"] == "morris":
        return (f"{sample['trajectories']:,} Morris trajectories x ({dimensions} parameters "
                f"+ 1) = {points:,} points")
    if sample["method"] == "sobol":
        factor = (f"2 x {dimensions} parameters + 2" if sample["second_order"]
                  else f"{dimensions} parameters + 2")
        return f"Sobol base sample {sample['n']:,} x ({factor}) = {points:,} points"
    return f"{points:,} sampled points"


def _sample_points(sample: dict[str, Any], master_seed: int) -> list[dict[str, Any]]:
    from scipy.stats import qmc

    if sample["method"] == "points":  # listed, not sampled: exactly as the file gives them
        return [dict(zip(sample["columns"], row, strict=True)) for row in sample["rows"]]
    names = list(sample["ranges"])
    rng = np.random.default_rng(np.random.SeedSequence(master_seed, spawn_key=(2**31,)))
    low = np.array([sample["ranges"][n][0] for n in names])
    high = np.array([sample["ranges"][n][1] for n in names])
    if sample["method"] in ("morris", "sobol"):
        values = _salib_points(sample, names, low, high, rng)
    else:
        if sample["method"] == "latin_hypercube":
            unit = qmc.LatinHypercube(d=len(names), rng=rng).random(sample["n"])
        else:
            unit = rng.random((sample["n"], len(names)))
        values = qmc.scale(unit, low, high) if len(names) else unit
    # tolist(): Python floats, rounded exactly as before (numpy's rounding differs in
    # the last digit, and a point's values make its runs' ids)
    return [{name: round(v, 12) for name, v in zip(names, row, strict=True)}
            for row in values.tolist()]


def _salib_points(sample: dict[str, Any], names: list[str], low: np.ndarray,
                  high: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The points of a Morris or Sobol design, in SALib's order (the order its analysis
    reads the outputs in), scaled to the ranges; SALib draws from ``rng``."""
    problem = {"num_vars": len(names), "names": names,
               "bounds": [[float(a), float(b)] for a, b in zip(low, high, strict=True)]}
    if sample["method"] == "morris":
        from SALib.sample import morris

        return morris.sample(problem, sample["trajectories"], num_levels=sample["levels"],
                             seed=rng)
    from SALib.sample import sobol

    return sobol.sample(problem, sample["n"], calc_second_order=sample["second_order"],
                        seed=rng)


@dataclass(frozen=True)
class _PointsFile:
    """A points file read and split into cells, its values not yet converted."""

    name: str
    """The file as the experiment file names it."""
    path: Path
    raw: bytes
    columns: list[str]
    lines: list[tuple[int, list[str]]]
    """Each point: the line it starts on, and its cells."""

    def sample(self, where: str) -> dict[str, Any]:
        """The design (see :attr:`Experiment.sample`), every value converted and checked
        on its own."""
        kinds = [_PARAMETERS[name]["kind"] for name in self.columns]
        rows = []
        for line, cells in self.lines:
            rows.append([_cell_value(name, kind, cell.strip(),
                                     f"{where}: points file {self.path} line {line}")
                         for name, kind, cell in zip(self.columns, kinds, cells,
                                                     strict=True)])
        ranges = {name: [min(column), max(column)]
                  for name, column in zip(self.columns, zip(*rows, strict=True),
                                          strict=True)}
        return {"method": "points", "sha256": hashlib.sha256(self.raw).hexdigest(),
                "columns": list(self.columns), "rows": rows, "ranges": ranges}


def _read_points(table: Any, where: str, base: Path, override: Path | None) -> _PointsFile:
    """Read a ``[points]`` table's file: its header and its rows, split into cells; the
    header's names are checked, the values are not converted yet."""
    if not isinstance(table, dict):
        raise ExperimentError(f"{where}: [points] must be a table with file = \"NAME.csv\"")
    name = EXPERIMENT_FILE.section("points").read({"points": table}, where)["file"]
    path = override if override is not None else base / name
    if not path.is_file():
        raise ExperimentError(f"{where}: [points] file {name!r} not found ({path}; the "
                              "path is relative to the experiment file)")
    size = path.stat().st_size
    if size > MAX_POINTS_BYTES:
        raise ExperimentError(f"{where}: points file {path}: {size:,} bytes is too large "
                              f"(at most {MAX_POINTS_BYTES:,})")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")  # a spreadsheet's byte-order mark is not a name
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise ExperimentError(f"{where}: points file {path}: not UTF-8 text (byte "
                              f"0x{raw[error.start]:02x} on line {line}); save the file "
                              "as UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):  # blank lines separate nothing
                rows.append((reader.line_num, cells))
    except csv.Error as error:
        raise ExperimentError(f"{where}: points file {path}: not a CSV table (line "
                              f"{reader.line_num}: {error})") from None
    if not rows:
        raise ExperimentError(f"{where}: points file {path} is empty (expected a header "
                              "of parameter names, then one row per point)")
    columns = [cell.strip() for cell in rows[0][1]]
    here = f"{where}: points file {path}"
    for number, column in enumerate(columns, start=1):
        if not column:
            raise ExperimentError(f"{here}: column {number} of the header has no name "
                                  "(every column is a parameter)")
        try:
            check_names([column])
        except ParameterError as error:
            raise ExperimentError(f"{here}: column {column!r} is not a model parameter: "
                                  f"{error} (python -m sim params lists them)") from None
    repeated = [column for column in columns if columns.count(column) > 1]
    if repeated:
        raise ExperimentError(f"{here}: the header names column {repeated[0]!r} twice")
    if len(rows) == 1:
        raise ExperimentError(f"{here} has a header but no points (expected one row per "
                              "point after it)")
    for line, cells in rows[1:]:
        if len(cells) != len(columns):
            missing = "missing" if len(cells) < len(columns) else "extra"
            raise ExperimentError(f"{here} line {line}: {len(cells)} value"
                                  f"{'' if len(cells) == 1 else 's'} for the "
                                  f"{len(columns)} columns of the header ({missing} "
                                  "values)")
    return _PointsFile(name, path, raw, columns, rows[1:])


def _cell_value(name: str, kind: type, cell: str, where: str) -> Any:
    """The value of one cell of a points file, of the parameter's kind, checked."""
    if not cell:
        raise ExperimentError(f"{where}: no value for {name}")
    if kind is bool:
        flags = {"true": True, "1": True, "false": False, "0": False}
        if cell.lower() not in flags:
            raise ExperimentError(f"{where}: {name} must be true or false, got {cell!r}")
        value: Any = flags[cell.lower()]
    else:
        try:
            number = float(cell)
        except ValueError:
            raise ExperimentError(f"{where}: {name} must be a number, got {cell!r}") from None
        if math.isnan(number):
            raise ExperimentError(f"{where}: {name} is NaN, not a value; give every point "
                                  "a number")
        value = number
        if kind is int:
            if not number.is_integer():
                raise ExperimentError(f"{where}: {name} must be a whole number, got "
                                      f"{cell!r}")
            value = int(number)
    try:
        check_value(name, value)
    except ParameterError as error:
        raise ExperimentError(f"{where}: {error}") from None
    return value


def _parameter_kind(key: str, where: str) -> type:
    if key not in _PARAMETERS:
        try:
            check_names([key])  # the library's message, with its "did you mean"
        except ParameterError as error:
            raise ExperimentError(f"{where}: {error}") from None
    return _PARAMETERS[key]["kind"]


def _parameter_value(key: str, value: Any, where: str) -> None:
    _parameter_kind(key, where)
    try:
        check_value(key, value)
    except ParameterError as error:
        raise ExperimentError(f"{where}: {error}") from None
