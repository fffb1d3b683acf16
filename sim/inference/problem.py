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
:class:`~sim.experiment.design.ExperimentError` line. The distance is computed on the targets
whose role is ``calibrate``; the others (``validate``) are simulated alongside, so the
accepted particles give their posterior predictive without being fitted to them.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.experiment.spec import (
    DESCRIPTION,
    ExperimentError,
    FileSchema,
    Key,
    Section,
    name_key,
    read_document,
)
from sim.inference.smc import KEEP, MAX_MOVES, UNMOVED
from sim.params import START_YEAR, ParameterError, Params, check_value
from sim.targets import DEFAULT_PATH, Target, TargetsError, load_targets, simulated_values

_PARAMETERS = Params.describe()
#: Largest calibration file read: a calibration is a few dozen lines.
MAX_FILE_BYTES = 1_000_000
_PRIOR = "parameter = { low = ..., high = ... } (real-valued parameters only)"

CALIBRATION_FILE = FileSchema(
    "Calibration file",
    "An ABC-SMC calibration: the parameters fitted, their uniform priors, the sampler's "
    "sizes and the targets (``python -m sim calibrate FILE``).",
    (Section("calibration", "The calibration itself.", required=True, keys=(
        name_key("Names the results directory and the profile written."),
        DESCRIPTION,
        Key("master_seed", int, "Seeds the sampler and every run.", low=0,
            high=2**63 - 1),
        Key("population_size", int, "Accepted particles per generation.", low=2,
            high=100_000),
        Key("generations", int, "ABC-SMC generations (populations).", low=1, high=100),
        Key("min_epsilon", float, "Stop early once the tolerance falls below this.",
            default=0.0, low=0.0, high=math.inf),
        Key("targets", str, "The targets file; default the package's data/targets.csv, a "
            "relative path is read from the calibration file's folder.", default=""),
        Key("predictive_draws", int, "Posterior draws re-run for the predictive figure.",
            default=100, low=1, high=100_000))),
     Section("fixed", "Parameters held at one value (as in sweeps).",
             entries="parameter = value"),
     Section("priors", "Uniform priors on the calibrated parameters.", entries=_PRIOR,
             required=True),
     Section("screening", "The Morris screening that chose the calibrated parameters.",
             keys=(Key("trajectories", int, "Morris trajectories.", low=2, high=10_000),
                   Key("levels", int, "Morris grid levels, even.", default=4, low=2,
                       high=100),
                   Key("ranges", dict, f"Two or more candidates: {_PRIOR}.")))),
    rules=("A parameter is fixed or calibrated (or screened), not both.",
           "The model is valid at both ends of every prior.",
           "At least one target with role 'calibrate' and a model output up to "
           "until_year; every target's years within the runs' history."))
"""The calibration file, declared once: checked by :func:`parse`, documented by
:meth:`~sim.experiment.spec.FileSchema.markdown`."""


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
    source, document = read_document(path, "calibration file", MAX_FILE_BYTES)
    return parse(document, source, str(path), base=path.parent)


def parse(document: dict[str, Any], source: str = "", where: str = "calibration", *,
          base: Path | None = None) -> Calibration:
    """Validate a parsed calibration document (``base``: the folder a relative targets
    path is read from)."""
    CALIBRATION_FILE.check_tables(document, where)
    head = CALIBRATION_FILE.section("calibration").read(document, where)
    # as written (for the manifest and the profile), and where it is read from: the
    # repository's data/targets.csv by default, a relative path beside this file
    targets_file = head["targets"]
    targets_path = (DEFAULT_PATH if not targets_file
                    else Path(targets_file) if base is None or Path(targets_file).is_absolute()
                    else base / targets_file)
    targets_file = targets_file or "data/targets.csv"

    fixed = CALIBRATION_FILE.section("fixed").table(document, where)
    for key, value in fixed.items():
        _checked(key, value, f"{where}: [fixed]")

    table = CALIBRATION_FILE.section("priors").table(document, where)
    if not table:
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
        screening = _screening(document, fixed, where)
    return Calibration(name=head["name"], description=head["description"],
                       master_seed=head["master_seed"],
                       population_size=head["population_size"],
                       generations=head["generations"], min_epsilon=head["min_epsilon"],
                       targets_file=targets_file, predictive_draws=head["predictive_draws"],
                       fixed=dict(fixed), priors=tuple(priors), targets=usable,
                       source=source, screening=screening)


def _screening(document: dict[str, Any], fixed: dict[str, Any], where: str) -> Screening:
    section = CALIBRATION_FILE.section("screening")
    keys = section.read(document, where)
    trajectories, levels = keys["trajectories"], keys["levels"]
    table, where = section.table(document, where), f"{where}: [screening]"
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
