"""Named parameter profiles: sets of parameter values with their provenance.

A profile is a TOML file in ``sim/profiles/`` (shipped with the package)::

    [profile]
    name = "calibrated"
    calibration = "calibration"     # where the values come from
    master_seed = 2040

    [parameters]
    entry_rate = 0.0213

``python -m sim run --profile calibrated`` and an experiment's ``[experiment] profile =
"calibrated"`` start from these values instead of the defaults; anything set explicitly
(``--set``, ``[fixed]``, ``[grid]``) still wins. The calibrated profile is written by
``python -m sim calibrate`` (``DIR/profile.toml``) and published with the figures.
TOML has no null: an optional parameter is set to None by the string ``"none"``.

A profile may ship its **posterior sample** beside it, ``NAME.posterior.csv``: the
calibration's last generation, one column per calibrated parameter and a ``weight``
column. An experiment's ``[experiment] posterior = "calibrated"`` draws each replicate's
constants from it (:func:`draw_posterior`).
"""

from __future__ import annotations

import csv
import hashlib
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.params import ParameterError, Params, check_value

#: Spawn-key tag of the posterior draws, so they never share a stream with run seeds.
_POSTERIOR_STREAM = 0x9057

PROFILES = Path(__file__).resolve().parent / "profiles"


def available() -> list[str]:
    """Names of the shipped profiles."""
    return sorted(path.stem for path in PROFILES.glob("*.toml"))


def read_profile(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """A profile file's parameter values and its ``[profile]`` provenance, validated."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ParameterError(f"profile {path} cannot be read: {error}") from None
    values = document.get("parameters")
    if not isinstance(values, dict) or not values:
        raise ParameterError(f"profile {path} has no [parameters] table")
    described = Params.describe()
    for name, value in values.items():
        if value == "none" and described.get(name, {}).get("optional"):
            values[name] = value = None
        try:
            check_value(name, value)
        except ParameterError as error:
            raise ParameterError(f"profile {path}: {error}") from None
    provenance = document.get("profile", {})
    return dict(values), dict(provenance) if isinstance(provenance, dict) else {}


def load_profile(name: str) -> dict[str, Any]:
    """The parameter values of the shipped profile ``name``."""
    known = available()
    if name not in known:
        raise ParameterError(f"unknown profile {name!r} (known: {', '.join(known) or 'none'})")
    return read_profile(PROFILES / f"{name}.toml")[0]


def profile_values(name_or_path: str) -> dict[str, Any]:
    """The values of a shipped profile by name, or of a user's profile file by path (any
    name ending in ``.toml`` or holding a folder separator): what ``python -m sim run
    --profile`` takes. An experiment file names shipped profiles only, so that its
    results directory stays reproducible from what it keeps."""
    if name_or_path in available():
        return load_profile(name_or_path)
    path = Path(name_or_path)
    if name_or_path.endswith(".toml") or len(path.parts) > 1:
        if not path.is_file():
            raise ParameterError(f"profile file not found: {path}")
        return read_profile(path)[0]
    raise ParameterError(f"unknown profile {name_or_path!r} (known: "
                         f"{', '.join(available()) or 'none'}; or a profile file's path, "
                         "e.g. ./mine.toml)")


@dataclass(frozen=True)
class Posterior:
    """A profile's posterior sample: particles (one row each) and their weights."""

    name: str
    parameters: tuple[str, ...]
    particles: np.ndarray  # particles x parameters
    weights: np.ndarray  # summing to one
    sha256: str  # of the file as read: part of an experiment's identity

    def draw(self, master_seed: int, count: int) -> list[dict[str, float]]:
        """``count`` particles drawn with replacement by weight, from a stream of the
        master seed alone: draw ``r`` is replicate ``r``'s constants, whatever the
        executor, the workers or the order in which runs finish."""
        sequence = np.random.SeedSequence(master_seed, spawn_key=(_POSTERIOR_STREAM,))
        chosen = np.random.default_rng(sequence).choice(len(self.weights), size=count,
                                                        p=self.weights)
        return [dict(zip(self.parameters, self.particles[k].tolist(), strict=True))
                for k in chosen]


def posterior_path(name: str) -> Path:
    """Where the shipped profile ``name`` keeps its posterior sample."""
    return PROFILES / f"{name}.posterior.csv"


def load_posterior(name: str) -> Posterior:
    """The posterior sample shipped beside profile ``name``, validated: known parameter
    names, values in their ranges, finite non-negative weights with a positive sum."""
    path = posterior_path(name)
    if not path.is_file():
        have = sorted(p.name.removesuffix(".posterior.csv")
                      for p in PROFILES.glob("*.posterior.csv"))
        raise ParameterError(f"no posterior sample for profile {name!r} (profiles with "
                             f"one: {', '.join(have) or 'none'})")
    raw = path.read_bytes()
    rows = list(csv.DictReader(raw.decode("utf-8").splitlines()))
    if not rows or "weight" not in rows[0]:
        raise ParameterError(f"{path} needs a header with a weight column and particles")
    names = tuple(column for column in rows[0] if column != "weight")
    particles = np.array([[float(row[n]) for n in names] for row in rows])
    weights = np.array([float(row["weight"]) for row in rows])
    for column, name_ in enumerate(names):
        for value in (particles[:, column].min(), particles[:, column].max()):
            try:
                check_value(name_, float(value))
            except ParameterError as error:
                raise ParameterError(f"{path}: {error}") from None
    total = weights.sum()
    if not (np.isfinite(weights).all() and (weights >= 0).all() and math.isfinite(total)
            and total > 0):
        raise ParameterError(f"{path}: weights must be finite, non-negative, not all 0")
    return Posterior(name, names, particles, weights / total,
                     hashlib.sha256(raw).hexdigest())
