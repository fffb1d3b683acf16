"""Experiment designs: read a TOML file, validate all of it, expand it into runs.

An experiment file says which parameters vary (a grid or a sample), which are fixed,
how many replicates each point gets and the master seed. Every problem (missing or
malformed file, unknown key, wrong type, value out of range) is found here, before any
run, and reported as one :class:`ExperimentError` line.

Seeds: replicate ``r`` of every point gets the same seed, derived from the master seed
and ``r`` alone (numpy ``SeedSequence``). Runs that differ only in coupling are thus
paired (common random numbers, for synergy), and no seed depends on the order in which
runs are made or finish.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.params import START_YEAR, ParameterError, Params, check_value

ANALYSES = ("phase_diagram", "coupling_response", "trajectories", "hysteresis", "none")
_EXPERIMENT_KEYS = {"name", "description", "analysis", "master_seed", "replicates", "series"}
_TOP_KEYS = {"experiment", "fixed", "grid", "sample"}
_SAMPLE_KEYS = {"method", "n", "ranges"}
_SAMPLE_METHODS = ("latin_hypercube", "uniform")
_PARAMETERS = Params.describe()


class ExperimentError(ValueError):
    """A problem with an experiment file, in one line."""


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
    source: str

    @property
    def varied(self) -> list[str]:
        """Names of the parameters the design varies, in file order."""
        return list(self.grid) if self.grid else list(self.sample["ranges"])

    @property
    def fingerprint(self) -> str:
        """Identity of the experiment: a hash of its validated content (comments and
        layout of the file do not count)."""
        canonical = json.dumps(self.canonical(), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def canonical(self) -> dict[str, Any]:
        return {"name": self.name, "analysis": self.analysis,
                "master_seed": self.master_seed, "replicates": self.replicates,
                "series": self.series, "fixed": self.fixed, "grid": self.grid,
                "sample": self.sample}

    def points(self) -> list[dict[str, Any]]:
        """The design points: each a dict of the varied parameters' values."""
        if self.grid:
            names = list(self.grid)
            return [dict(zip(names, values, strict=True))
                    for values in itertools.product(*self.grid.values())]
        return _sample_points(self.sample, self.master_seed)

    def runs(self) -> list[RunSpec]:
        """Every run of the experiment, in design order."""
        seeds = replicate_seeds(self.master_seed, self.replicates)
        specs = []
        for point, values in enumerate(self.points()):
            parameters = {**self.fixed, **values}
            for replicate, seed in enumerate(seeds):
                identity = json.dumps({"parameters": parameters, "replicate": replicate,
                                       "seed": seed}, sort_keys=True)
                run_id = hashlib.sha256(identity.encode()).hexdigest()[:16]
                specs.append(RunSpec(run_id, point, replicate, seed, parameters,
                                     self.series))
        return specs


def replicate_seeds(master_seed: int, replicates: int) -> list[int]:
    """Seed of each replicate: independent streams spawned from the master seed."""
    children = np.random.SeedSequence(master_seed).spawn(replicates)
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]


def load(path: str | Path) -> Experiment:
    """Read and validate an experiment file."""
    path = Path(path)
    if not path.is_file():
        raise ExperimentError(f"experiment file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ExperimentError(f"{path}: not valid TOML: {error}") from None
    return parse(document, text, str(path))


def parse(document: dict[str, Any], source: str = "", where: str = "experiment") -> Experiment:
    """Validate a parsed experiment document."""
    _no_unknown(document, _TOP_KEYS, where)
    head = document.get("experiment")
    if not isinstance(head, dict):
        raise ExperimentError(f"{where}: missing [experiment] table")
    _no_unknown(head, _EXPERIMENT_KEYS, f"{where}: [experiment]")
    name = _typed(head, "name", str, where, required=True)
    if not name.strip():
        raise ExperimentError(f"{where}: [experiment] name must not be empty")
    analysis = _typed(head, "analysis", str, where, default="none")
    if analysis not in ANALYSES:
        raise ExperimentError(f"{where}: [experiment] analysis must be one of "
                              f"{', '.join(ANALYSES)}, got {analysis!r}")
    master_seed = _typed(head, "master_seed", int, where, required=True)
    if master_seed < 0:
        raise ExperimentError(f"{where}: master_seed must be >= 0, got {master_seed}")
    replicates = _typed(head, "replicates", int, where, default=1)
    if not 1 <= replicates <= 100_000:
        raise ExperimentError(f"{where}: replicates must be in [1, 100000], got {replicates}")
    series = _typed(head, "series", bool, where, default=False)

    fixed = document.get("fixed", {})
    if not isinstance(fixed, dict):
        raise ExperimentError(f"{where}: [fixed] must be a table of parameter = value")
    for key, value in fixed.items():
        _parameter_value(key, value, f"{where}: [fixed]")

    has_grid, has_sample = "grid" in document, "sample" in document
    if has_grid == has_sample:
        raise ExperimentError(f"{where}: give exactly one of [grid] or [sample]")
    grid = _grid(document["grid"], where) if has_grid else {}
    sample = _sample(document["sample"], where) if has_sample else {}
    varied = list(grid) if grid else list(sample["ranges"])
    overlap = sorted(set(varied) & set(fixed))
    if overlap:
        raise ExperimentError(f"{where}: {overlap[0]} is both fixed and varied")

    experiment = Experiment(name=name, description=_typed(head, "description", str, where,
                                                          default=""),
                            analysis=analysis, master_seed=master_seed, replicates=replicates,
                            series=series, fixed=dict(fixed), grid=grid, sample=sample,
                            source=source)
    # every combination must be a valid model input (cross-field rules included)
    for point in experiment.points():
        try:
            Params(**{**fixed, **point})
        except ParameterError as error:
            raise ExperimentError(f"{where}: {error}") from None
    if analysis == "hysteresis":
        _check_hysteresis(experiment, where)
    return experiment


def _check_hysteresis(experiment: Experiment, where: str) -> None:
    """The hysteresis analysis compares, at each final coupling, the paths that reached
    it from elsewhere with the constant path, run by run: it needs both couplings in a
    grid, every final coupling among the starting ones, one switch year inside the
    horizon and replicates to pair."""
    what = f"{where}: the hysteresis analysis"
    if not experiment.grid:
        raise ExperimentError(f"{what} needs a [grid] (paths are paired across grid "
                              "points), not a [sample]")
    missing = [name for name in ("coupling", "coupling_after") if name not in experiment.grid]
    if missing:
        raise ExperimentError(f"{what} needs {' and '.join(missing)} in the [grid] (the "
                              "coupling before and from switch_year on)")
    before, after = experiment.grid["coupling"], experiment.grid["coupling_after"]
    unmatched = [value for value in after if value not in before]
    if unmatched:
        raise ExperimentError(f"{what} compares each path with the constant one, but "
                              f"coupling_after {unmatched[0]:g} is not in the coupling grid")
    if len(set(before) | set(after)) < 2:
        raise ExperimentError(f"{what} needs at least two coupling levels, so that some "
                              "path switches")
    if "switch_year" in experiment.grid:
        raise ExperimentError(f"{what} compares paths switched in one year: fix "
                              "switch_year instead of varying it")
    defaults = Params()
    switch = experiment.fixed.get("switch_year", defaults.switch_year)
    until = experiment.fixed.get("until_year", defaults.until_year)
    if not START_YEAR < switch <= until:
        raise ExperimentError(f"{what} needs the switch inside the simulated years: "
                              f"switch_year {switch} must be in ({START_YEAR}, {until}] "
                              f"(until_year {until})")
    if experiment.replicates < 2:
        raise ExperimentError(f"{what} needs replicates >= 2 for its paired "
                              f"t-intervals, got {experiment.replicates}")


def _grid(table: Any, where: str) -> dict[str, list[float]]:
    if not isinstance(table, dict) or not table:
        raise ExperimentError(f"{where}: [grid] must name at least one parameter")
    grid = {}
    for key, spec in table.items():
        if isinstance(spec, dict):
            _no_unknown(spec, {"from", "to", "num"}, f"{where}: [grid] {key}")
            start = _typed(spec, "from", float, f"{where}: [grid] {key}", required=True)
            stop = _typed(spec, "to", float, f"{where}: [grid] {key}", required=True)
            num = _typed(spec, "num", int, f"{where}: [grid] {key}", required=True)
            if num < 1:
                raise ExperimentError(f"{where}: [grid] {key}.num must be >= 1, got {num}")
            values = [round(float(v), 10) for v in np.linspace(start, stop, num)]
        elif isinstance(spec, list) and spec:
            values = spec
        else:
            raise ExperimentError(f"{where}: [grid] {key} must be a non-empty list of "
                                  "values or {{from, to, num}}")
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
    _no_unknown(table, _SAMPLE_KEYS, f"{where}: [sample]")
    method = _typed(table, "method", str, where, default="latin_hypercube")
    if method not in _SAMPLE_METHODS:
        raise ExperimentError(f"{where}: [sample] method must be one of "
                              f"{', '.join(_SAMPLE_METHODS)}, got {method!r}")
    n = _typed(table, "n", int, f"{where}: [sample]", required=True)
    if not 1 <= n <= 1_000_000:
        raise ExperimentError(f"{where}: [sample] n must be in [1, 1000000], got {n}")
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
    return {"method": method, "n": n, "ranges": clean}


def _sample_points(sample: dict[str, Any], master_seed: int) -> list[dict[str, Any]]:
    from scipy.stats import qmc

    names = list(sample["ranges"])
    rng = np.random.default_rng(np.random.SeedSequence(master_seed, spawn_key=(2**31,)))
    if sample["method"] == "latin_hypercube":
        unit = qmc.LatinHypercube(d=len(names), rng=rng).random(sample["n"])
    else:
        unit = rng.random((sample["n"], len(names)))
    low = np.array([sample["ranges"][n][0] for n in names])
    high = np.array([sample["ranges"][n][1] for n in names])
    values = qmc.scale(unit, low, high) if len(names) else unit
    return [{name: round(float(v), 12) for name, v in zip(names, row, strict=True)}
            for row in values]


def _no_unknown(table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ExperimentError(f"{where}: unknown key {unknown[0]!r} (allowed: "
                              f"{', '.join(sorted(allowed))})")


def _typed(table: dict[str, Any], key: str, kind: type, where: str, *,
           required: bool = False, default: Any = None) -> Any:
    if key not in table:
        if required:
            raise ExperimentError(f"{where}: missing key {key!r}")
        return default
    value = table[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ExperimentError(f"{where}: {key} must be {kind.__name__}, got {value!r}")
    return value


def _parameter_kind(key: str, where: str) -> type:
    if key not in _PARAMETERS:
        raise ExperimentError(f"{where}: unknown model parameter {key!r}")
    return _PARAMETERS[key]["kind"]


def _parameter_value(key: str, value: Any, where: str) -> None:
    _parameter_kind(key, where)
    try:
        check_value(key, value)
    except ParameterError as error:
        raise ExperimentError(f"{where}: {error}") from None
