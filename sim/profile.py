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
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from sim.params import ParameterError, check_value

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
    for name, value in values.items():
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
