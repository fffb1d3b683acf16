"""A calibration experiment: which parameters, which priors, against which targets.

A calibration file (TOML) reads::

    [calibration]
    name = "calibration"              # plain name: letters, digits, - _ .
    description = "..."
    master_seed = 2040
    population_size = 200             # accepted particles per generation
    generations = 6                   # ABC-SMC generations (populations)
    min_epsilon = 0.0                 # stop early once the tolerance falls below this
    targets = "targets.csv"           # optional: default the repository's data/targets.csv;
                                      # a relative path is read from this file's folder
    predictive_draws = 100            # posterior draws re-run for the predictive figure

    [fixed]                           # parameters held at a value (as in sweeps)
    scale = 0.25
    until_year = 2023

    [priors]                          # uniform priors on real-valued parameters
    entry_rate = { low = 0.0, high = 0.06 }

    [screening]                       # optional: the Morris screening that chose them
    trajectories = 10
    levels = 4
    ranges = { entry_rate = { low = 0.0, high = 0.06 }, startup_cash = { ... } }

Everything is checked here, before any run, and a problem is one
:class:`~sim.sweep.design.ExperimentError` line. The distance is computed on the targets
whose role is ``calibrate``; the others (``validate``) are simulated alongside, so the
accepted particles give their posterior predictive without being fitted to them.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.inference.smc import KEEP, MAX_MOVES, UNMOVED
from sim.params import START_YEAR, ParameterError, Params, check_value
from sim.sweep.design import ExperimentError, check_name
from sim.targets import DEFAULT_PATH, Target, TargetsError, load_targets, simulated_values

_TOP_KEYS = {"calibration", "fixed", "priors", "screening"}
_SCREENING_KEYS = {"trajectories", "levels", "ranges"}
_CALIBRATION_KEYS = {"name", "description", "master_seed", "population_size",
                     "generations", "min_epsilon", "targets", "predictive_draws"}
_PARAMETERS = Params.describe()


@dataclass(frozen=True)
class Prior:
    """A uniform prior on one real-valued parameter.

    The sampler works on the parameter's logit, ``z = logit((value - low) / (high -
    low))``, whose prior is the standard logistic distribution (the image of the
    uniform): the same posterior, but the perturbation kernels never leak over the
    prior's edges, which would give particles near an edge outsized importance weights
    and let a few of them carry a generation.
    """

    name: str
    low: float
    high: float

    def value(self, logit: float) -> float:
        """The parameter's value at ``logit`` on the sampler's scale."""
        return self.low + (self.high - self.low) * float(_expit(logit))


@dataclass(frozen=True)
class Screening:
    """The Morris screening of candidate parameters (see :mod:`sim.inference.screening`)."""

    trajectories: int
    levels: int
    ranges: tuple[Prior, ...]


@dataclass(frozen=True)
class Calibration:
    """A validated calibration experiment."""

    name: str
    description: str
    master_seed: int
    population_size: int
    generations: int
    min_epsilon: float
    targets_file: str
    predictive_draws: int
    fixed: dict[str, Any]
    priors: tuple[Prior, ...]
    targets: tuple[Target, ...]
    source: str
    screening: Screening | None = None

    @property
    def fitted(self) -> tuple[Target, ...]:
        """The targets the distance is computed on (role ``calibrate``)."""
        return tuple(t for t in self.targets if t.role == "calibrate")

    @property
    def held_out(self) -> tuple[Target, ...]:
        """The targets kept for validation (role ``validate``)."""
        return tuple(t for t in self.targets if t.role == "validate")

    @property
    def fingerprint(self) -> str:
        """Identity of the calibration: its validated content and its targets' values."""
        canonical = {
            "name": self.name, "master_seed": self.master_seed,
            "population_size": self.population_size, "generations": self.generations,
            "min_epsilon": self.min_epsilon, "fixed": self.fixed,
            "predictive_draws": self.predictive_draws,
            "priors": [[p.name, p.low, p.high] for p in self.priors],
            "sampled_on": "logit",
            "sampler": {"kind": "adaptive ABC-SMC, MCMC moves", "keep": KEEP,
                        "unmoved": UNMOVED, "max_moves": MAX_MOVES},
            "targets": [[t.id, t.year, t.value, t.low, t.high, t.role,
                         t.model_output.text] for t in self.targets],
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()

    def observed(self) -> dict[str, float]:
        """The observed summary statistics, by target id."""
        return {t.id: float(t.value) for t in self.targets}

    @property
    def dimensions(self) -> int:
        """Number of calibrated parameters."""
        return len(self.priors)

    def distance(self, logits: Sequence[float]) -> float:
        """The distance (:class:`TargetDistance`) of one run at the parameters whose logits
        the sampler proposes, in the priors' order."""
        names = [prior.name for prior in self.priors]
        simulated = self.simulate_logits(dict(zip(names, logits, strict=True)))
        return TargetDistance(self.fitted)(simulated, self.observed())

    def simulate_logits(self, logits: dict[str, float]) -> dict[str, float]:
        """:meth:`simulate` at the parameters whose logits the sampler proposes."""
        return self.simulate({p.name: p.value(logits[p.name]) for p in self.priors})

    def simulate(self, parameters: dict[str, float]) -> dict[str, float]:
        """One model run at ``parameters`` (plus the fixed ones) to the horizon; its
        simulated value of every target. The run's seed is drawn from numpy's global
        generator, which the sampler seeds per candidate."""
        from sim.model import ClusterModel

        seed = int(np.random.randint(0, 2**31 - 1))
        values = {name: float(value) for name, value in parameters.items()}
        model = ClusterModel(rng=seed, **self.fixed, **values)
        model.run_model()
        return simulated_values(model, self.targets)


class TargetDistance:
    """Root mean square of the fitted targets' standardised errors.

    Each error is divided by the target's stated half-range ``(high - low) / 2``, so a
    run that lands on every observation's edge has distance 1. A target the run could
    not produce counts as infinitely far.
    """

    def __init__(self, targets: tuple[Target, ...]) -> None:
        self.ids = [t.id for t in targets]
        self.scales = {t.id: max((t.high - t.low) / 2.0, 1e-12) for t in targets}

    def __call__(self, simulated: dict[str, float], observed: dict[str, float]) -> float:
        total = 0.0
        for target in self.ids:
            value = simulated.get(target)
            if value is None or not math.isfinite(value):
                return math.inf
            total += ((value - observed[target]) / self.scales[target]) ** 2
        return math.sqrt(total / len(self.ids))


def _expit(logit: float) -> float:
    """The logistic function, without overflow at either end."""
    if logit >= 0:
        return 1.0 / (1.0 + math.exp(-logit))
    tail = math.exp(logit)
    return tail / (1.0 + tail)


def load(path: str | Path) -> Calibration:
    """Read and validate a calibration file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ExperimentError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ExperimentError(f"{path} is not UTF-8 text (byte {error.start})") from None
    try:
        document = tomllib.loads(source)
    except tomllib.TOMLDecodeError as error:
        raise ExperimentError(f"{path}: not valid TOML: {error}") from None
    return parse(document, source, str(path), base=path.parent)


def parse(document: dict[str, Any], source: str = "", where: str = "calibration", *,
          base: Path | None = None) -> Calibration:
    """Validate a parsed calibration document (``base``: the folder a relative targets
    path is read from)."""
    _only(document, _TOP_KEYS, where, "top-level table")
    head = document.get("calibration")
    if not isinstance(head, dict):
        raise ExperimentError(f"{where}: missing [calibration] table")
    _only(head, _CALIBRATION_KEYS, f"{where}: [calibration]", "key")
    name = _typed(head, "name", str, where)
    check_name(name, where)
    master_seed = _bounded(head, "master_seed", int, where, 0, 2**63 - 1)
    population_size = _bounded(head, "population_size", int, where, 2, 100_000)
    generations = _bounded(head, "generations", int, where, 1, 100)
    min_epsilon = _bounded(head, "min_epsilon", float, where, 0.0, math.inf, default=0.0)
    predictive_draws = _bounded(head, "predictive_draws", int, where, 1, 100_000,
                                default=100)
    # as written (for the manifest and the profile), and where it is read from: the
    # repository's data/targets.csv by default, a relative path beside this file
    targets_file = _typed(head, "targets", str, where, default="")
    targets_path = (DEFAULT_PATH if not targets_file
                    else Path(targets_file) if base is None or Path(targets_file).is_absolute()
                    else base / targets_file)
    targets_file = targets_file or "data/targets.csv"

    fixed = document.get("fixed", {})
    if not isinstance(fixed, dict):
        raise ExperimentError(f"{where}: [fixed] must be a table of parameter = value")
    for key, value in fixed.items():
        _checked(key, value, f"{where}: [fixed]")

    table = document.get("priors")
    if not isinstance(table, dict) or not table:
        raise ExperimentError(f"{where}: [priors] must list at least one parameter")
    priors = []
    for key, spec in table.items():
        priors.append(_prior(key, spec, f"{where}: [priors]"))
        if key in fixed:
            raise ExperimentError(f"{where}: {key} is both fixed and calibrated")
    try:
        Params(**fixed, **{p.name: p.low for p in priors})
        Params(**fixed, **{p.name: p.high for p in priors})
    except ParameterError as error:
        raise ExperimentError(f"{where}: {error}") from None

    try:
        targets = tuple(load_targets(targets_path))
    except TargetsError as error:
        raise ExperimentError(str(error)) from None
    except OSError as error:
        raise ExperimentError(f"{where}: cannot read the targets file {targets_path}: "
                              f"{error.strerror or error}") from None
    horizon = fixed.get("until_year", Params().until_year)
    usable = tuple(t for t in targets if t.role in ("calibrate", "validate")
                   and t.model_output and t.year <= horizon)
    # years before 2018 are read from the spin-up's records: the runs must reach them
    history_from = START_YEAR - fixed.get("spin_up_years", Params().spin_up_years)
    unreachable = [t.id for t in usable
                   if min(t.model_output.years(t.year)) < history_from]
    if unreachable:
        raise ExperimentError(
            f"{where}: target {unreachable[0]} needs a year before {history_from}, where "
            f"the runs' history starts: raise spin_up_years in [fixed] or change its role")
    if not any(t.role == "calibrate" for t in usable):
        raise ExperimentError(f"{where}: no target with role 'calibrate' and a model output "
                              f"up to until_year {horizon} in {targets_file}")
    screening = None
    if "screening" in document:
        screening = _screening(document["screening"], fixed, f"{where}: [screening]")
    return Calibration(name=name, description=_typed(head, "description", str, where,
                                                     default=""),
                       master_seed=master_seed, population_size=population_size,
                       generations=generations, min_epsilon=min_epsilon,
                       targets_file=targets_file, predictive_draws=predictive_draws,
                       fixed=dict(fixed), priors=tuple(priors), targets=usable,
                       source=source, screening=screening)


def _screening(table: Any, fixed: dict[str, Any], where: str) -> Screening:
    if not isinstance(table, dict):
        raise ExperimentError(f"{where} must be a table")
    _only(table, _SCREENING_KEYS, where, "key")
    trajectories = _bounded(table, "trajectories", int, where, 2, 10_000)
    levels = _bounded(table, "levels", int, where, 2, 100, default=4)
    if levels % 2:
        raise ExperimentError(f"{where}: levels must be even (Morris), got {levels}")
    ranges = table.get("ranges")
    if not isinstance(ranges, dict) or len(ranges) < 2:
        raise ExperimentError(f"{where}: ranges must list at least two parameters")
    candidates = []
    for key, spec in ranges.items():
        if key in fixed:
            raise ExperimentError(f"{where}: {key} is both fixed and screened")
        candidates.append(_prior(key, spec, f"{where} ranges"))
    return Screening(trajectories, levels, tuple(candidates))


def _prior(key: str, spec: Any, where: str) -> Prior:
    meta = _PARAMETERS.get(key)
    if meta is None:
        try:
            check_value(key, None)
        except ParameterError as error:
            raise ExperimentError(f"{where}: {error}") from None
    if meta["kind"] is not float:
        raise ExperimentError(f"{where}: {key} is not a real-valued parameter "
                              f"({meta['kind'].__name__}); only real ones get priors")
    if not isinstance(spec, dict) or set(spec) != {"low", "high"}:
        raise ExperimentError(f"{where}: {key} must be {{ low = ..., high = ... }}")
    low, high = spec["low"], spec["high"]
    for bound in (low, high):
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            raise ExperimentError(f"{where}: {key} bounds must be numbers, got {bound!r}")
        _checked(key, float(bound), where)
    if not low < high:
        raise ExperimentError(f"{where}: {key} needs low < high, got {low} and {high}")
    return Prior(key, float(low), float(high))


def _checked(key: str, value: Any, where: str) -> None:
    try:
        check_value(key, value)
    except ParameterError as error:
        raise ExperimentError(f"{where}: {error}") from None


def _only(table: dict[str, Any], allowed: set[str], where: str, what: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ExperimentError(f"{where}: unknown {what} {unknown[0]!r} (allowed: "
                              f"{', '.join(sorted(allowed))})")


def _typed(table: dict[str, Any], key: str, kind: type, where: str,
           default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise ExperimentError(f"{where}: needs {key}")
        return default
    value = table[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ExperimentError(f"{where}: {key} must be {kind.__name__}, got {value!r}")
    return value


def _bounded(table: dict[str, Any], key: str, kind: type, where: str, low: float,
             high: float, default: Any = ...) -> Any:
    value = _typed(table, key, kind, where, default)
    if not low <= value <= high:
        raise ExperimentError(f"{where}: {key} must be in [{low}, {high}], got {value}")
    return value
