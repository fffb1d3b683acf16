"""Run a calibration: adaptive ABC-SMC (:mod:`sim.inference.smc`) on any executor,
stored and resumable.

Layout of a calibration directory::

    DIR/manifest.json      calibration identity, code identity, seeds, status, progress
    DIR/calibration.toml   the calibration file as run
    DIR/populations/NNN.json  every complete generation: particles, distances, tolerance
    DIR/posterior.csv      the last generation's particles and weights
    DIR/generations.csv    by generation: tolerance, runs, particles alive at the cut (the
                           effective sample size there), moves accepted, distinct particles
    DIR/predictive.csv     posterior predictive draws: each draw's simulated targets
    DIR/profile.toml       the calibrated parameter set (posterior medians), with provenance
    DIR/profile.posterior.csv  its posterior sample (particles and weights), from which
                           experiments draw each replicate's constants

A generation is written (atomically) only once it is complete, so a calibration killed
at any moment resumes from its last complete generation; every random number is seeded
from (master seed, generation, index) alone (:mod:`sim.inference.smc`), so the resumed
run ends where an uninterrupted one would.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiment.design import ExperimentError
from sim.experiment.identity import code_identity, code_key, code_version, short
from sim.experiment.lock import DirectoryLock
from sim.inference.problem import Calibration
from sim.inference.smc import (
    KEEP,
    MAX_MOVES,
    UNMOVED,
    Population,
    candidate_seed,
    first_generation,
    next_generation,
)

MANIFEST = "manifest.json"
POPULATIONS = "populations"
POSTERIOR = "posterior.csv"
GENERATIONS = "generations.csv"
PREDICTIVE = "predictive.csv"
PROFILE = "profile.toml"
PROFILE_POSTERIOR = "profile.posterior.csv"
#: Fixed inputs that size a calibration's runs rather than define the model: left out of
#: the profile it writes.
_RUN_SIZE = frozenset({"scale", "until_year"})
SCREENING = "screening.csv"
#: Generation number given to the posterior predictive draws' seeds (never an ABC one).
_PREDICTIVE_STREAM = 10_000


def calibrate(calibration: Calibration, out: str | Path, executor: Any, *,
              progress: bool = True) -> Path:
    """Run (or resume) ``calibration`` into ``out`` on ``executor`` (not yet entered);
    return the directory. Refuses a directory holding another calibration, or one made
    by other code."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lock = DirectoryLock(out, calibration.name)
    lock.acquire()
    try:
        manifest = _open(calibration, out)
        populations = _stored_populations(out)
        with executor:
            if len(populations) < calibration.generations:
                _write_manifest(out, calibration, manifest, status="running")
            while len(populations) < calibration.generations and not _tolerance_reached(
                    calibration, populations):
                population = (next_generation(calibration, populations[-1], executor)
                              if populations else first_generation(calibration, executor))
                _store_population(out, population)
                populations.append(population)
                if progress:
                    _report(population, calibration)
            _write_generations(populations, out)
            posterior = _write_posterior(populations[-1], calibration, out)
            _write_predictive(calibration, posterior, executor, out)
        _write_profile(calibration, posterior, out)
        _write_manifest(out, calibration, manifest, status="complete")
    except BaseException:
        if (out / MANIFEST).exists():
            with contextlib.suppress(Exception):
                _write_manifest(out, calibration, _read_manifest(out), status="interrupted")
        raise
    finally:
        lock.release()
    return out


def _tolerance_reached(calibration: Calibration, populations: list[Population]) -> bool:
    return bool(populations) and populations[-1].epsilon <= calibration.min_epsilon


def _report(population: Population, calibration: Calibration) -> None:
    print(f"generation {population.generation}: tolerance {population.epsilon:.4g}, "
          f"{population.evaluations} runs, {population.alive} of "
          f"{calibration.population_size} alive at the cut, {population.moves} moves "
          f"(accepted {population.move_acceptance:.2f}), {population.distinct} distinct",
          file=sys.stderr, flush=True)


def screen_into(calibration: Calibration, out: str | Path, executor: Any) -> Path:
    """Run the calibration file's Morris screening (on ``executor``, not yet entered)
    and write ``out/screening.csv``; return its path."""
    from sim.inference.screening import screen

    if calibration.screening is None:
        raise ExperimentError(f"calibration {calibration.name!r} has no [screening] table")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lock = DirectoryLock(out, calibration.name)
    lock.acquire()
    try:
        with executor:
            table = screen(calibration, {p.name: (p.low, p.high)
                                         for p in calibration.screening.ranges},
                           calibration.screening.trajectories,
                           calibration.screening.levels, executor)
        _atomic_csv(table, out / SCREENING)
    finally:
        lock.release()
    return out / SCREENING


# --- the results directory --------------------------------------------------------------
def check_directory(calibration: Calibration, out: str | Path) -> None:
    """Refuse, before anything starts, a directory that holds another calibration, one
    made by other code, or anything else; an absent or empty one is fine."""
    out = Path(out)
    if out.is_dir():
        _check(calibration, out)


def _open(calibration: Calibration, out: Path) -> dict[str, Any]:
    manifest = _check(calibration, out)
    if manifest is not None:
        return manifest
    _atomic_text(out / "calibration.toml", calibration.source)
    manifest = {"created": _now()}
    _write_manifest(out, calibration, manifest, status="running")
    return _read_manifest(out)


def _check(calibration: Calibration, out: Path) -> dict[str, Any] | None:
    path = out / MANIFEST
    if path.exists():
        manifest = _read_manifest(out)
        if manifest.get("calibration", {}).get("fingerprint") != calibration.fingerprint:
            raise ExperimentError(f"{out} holds another calibration "
                                  f"({manifest.get('calibration', {}).get('name')!r}); "
                                  "choose another --out directory")
        stored = manifest.get("code", {})
        if code_key(stored) != code_key(code_identity()):
            raise ExperimentError(f"{out} was calibrated by other code ({short(stored)}; "
                                  f"this is {short(code_identity())}); choose another "
                                  "--out directory")
        return manifest
    if any(p.name not in (".lock", SCREENING) for p in out.iterdir()):
        raise ExperimentError(f"{out} is not empty and is not a calibration directory; "
                              "choose another --out directory")
    return None


def _read_manifest(out: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ExperimentError(f"{out / MANIFEST} is damaged ({error.__class__.__name__}); "
                              "move the directory aside and calibrate again") from None
    if not isinstance(manifest, dict):
        raise ExperimentError(f"{out / MANIFEST} is damaged (not a JSON object); move the "
                              "directory aside and calibrate again")
    return manifest


def _write_manifest(out: Path, calibration: Calibration, previous: dict[str, Any], *,
                    status: str) -> None:
    from sim import __version__

    manifest = {
        "calibration": {"name": calibration.name, "fingerprint": calibration.fingerprint,
                        "file": "calibration.toml", "targets": calibration.targets_file},
        "master_seed": calibration.master_seed,
        "method": f"adaptive ABC-SMC with MCMC moves on the parameters' logits (keep "
                  f"{KEEP}, unmoved {UNMOVED}, at most {MAX_MOVES} moves)",
        "population_size": calibration.population_size,
        "generations": calibration.generations,
        "generations_done": _generations_done(out),
        "status": status,
        "code": code_identity(),
        "code_version": code_version(),
        "sim_version": __version__,
        "python": platform.python_version(),
        "created": previous.get("created", _now()),
        "updated": _now(),
    }
    _atomic_text(out / MANIFEST, json.dumps(manifest, indent=2) + "\n")


def _generations_done(out: Path) -> int:
    """Complete generations stored (0 if none)."""
    return len(list((out / POPULATIONS).glob("*.json")))


def _stored_populations(out: Path) -> list[Population]:
    """The generations a previous (interrupted) run of this calibration stored, in order."""
    populations = []
    for generation in range(_generations_done(out)):
        path = out / POPULATIONS / f"{generation:03d}.json"
        try:
            populations.append(Population.from_record(
                json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, KeyError) as error:
            raise ExperimentError(f"{path} is damaged ({error.__class__.__name__}); move "
                                  "the directory aside and calibrate again") from None
    return populations


def _store_population(out: Path, population: Population) -> None:
    (out / POPULATIONS).mkdir(exist_ok=True)
    _atomic_text(out / POPULATIONS / f"{population.generation:03d}.json",
                 json.dumps(population.to_record()) + "\n")


# --- what a finished calibration writes -------------------------------------------------------
def _write_generations(populations: list[Population], out: Path) -> None:
    rows = [{"generation": p.generation, "epsilon": p.epsilon, "evaluations": p.evaluations,
             "alive": p.alive, "moves": p.moves, "move_acceptance": p.move_acceptance,
             "distinct": p.distinct} for p in populations]
    _atomic_csv(pd.DataFrame(rows), out / GENERATIONS)


def _write_posterior(population: Population, calibration: Calibration,
                     out: Path) -> pd.DataFrame:
    names = [p.name for p in calibration.priors]
    posterior = pd.DataFrame(population.logits, columns=names)
    for prior in calibration.priors:  # from the sampler's logits to the parameters' values
        posterior[prior.name] = posterior[prior.name].map(prior.value)
    posterior["weight"] = 1.0 / len(posterior)
    # a canonical order, so the file does not depend on the particles' order
    posterior = posterior.sort_values(names, kind="stable").reset_index(drop=True)
    _atomic_csv(posterior, out / POSTERIOR)
    return posterior


def _write_predictive(calibration: Calibration, posterior: pd.DataFrame, executor: Any,
                      out: Path) -> None:
    """Re-run ``predictive_draws`` parameter sets drawn from the posterior (with fresh
    seeds) and store every draw's simulated targets."""
    draws = _posterior_draws(calibration, posterior)
    results = dict(executor.map_unordered(_predictive_run, draws))
    rows = [{"draw": k, **draws[k]["parameters"], **results[k]} for k in range(len(draws))]
    _atomic_csv(pd.DataFrame(rows), out / PREDICTIVE)


def _posterior_draws(calibration: Calibration, posterior: pd.DataFrame) -> list[dict[str, Any]]:
    rng = np.random.default_rng(candidate_seed(calibration.master_seed, _PREDICTIVE_STREAM, 0))
    weights = posterior["weight"].to_numpy()
    picks = rng.choice(len(posterior), size=calibration.predictive_draws,
                       p=weights / weights.sum())
    names = [p.name for p in calibration.priors]
    return [{"index": k, "calibration": calibration,
             "seed": candidate_seed(calibration.master_seed, _PREDICTIVE_STREAM, k + 1),
             "parameters": {name: float(posterior.at[int(row), name]) for name in names}}
            for k, row in enumerate(picks)]


def _predictive_run(draw: dict[str, Any]) -> tuple[int, dict[str, float]]:
    np.random.seed(draw["seed"])
    return draw["index"], draw["calibration"].simulate(draw["parameters"])


def _write_profile(calibration: Calibration, posterior: pd.DataFrame, out: Path) -> None:
    weights = posterior["weight"].to_numpy()
    lines = [
        "# The calibrated parameter set: posterior medians of an ABC-SMC calibration.",
        f"# calibration {calibration.name!r}, master seed {calibration.master_seed}, "
        f"fingerprint {calibration.fingerprint[:16]}",
        f"# code {code_version()}, source {code_identity()['source_sha256'][:16]}",
        f"# targets {calibration.targets_file}: "
        + ", ".join(t.id for t in calibration.fitted),
        "",
        "[profile]",
        'name = "calibrated"',
        f"calibration = {calibration.name!r}".replace("'", '"'),
        f"master_seed = {calibration.master_seed}",
        "",
        "[parameters]",
    ]
    for name, value in calibration.fixed.items():
        if name not in _RUN_SIZE:
            shown = str(value).lower() if isinstance(value, bool) else repr(value)
            lines.append(f"{name} = {shown}  # fixed in the calibration")
    for prior in calibration.priors:
        median = weighted_quantile(posterior[prior.name].to_numpy(), weights, 0.5)
        low = weighted_quantile(posterior[prior.name].to_numpy(), weights, 0.05)
        high = weighted_quantile(posterior[prior.name].to_numpy(), weights, 0.95)
        lines.append(f"{prior.name} = {median!r}  # 90% interval [{low:.6g}, {high:.6g}], "
                     f"prior [{prior.low:g}, {prior.high:g}]")
    _atomic_text(out / PROFILE, "\n".join(lines) + "\n")
    # the sample experiments draw each replicate's constants from (sim.profile.Posterior)
    names = [prior.name for prior in calibration.priors]
    _atomic_text(out / PROFILE_POSTERIOR,
                 posterior[[*names, "weight"]].to_csv(index=False, float_format="%.10g"))


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` under ``weights`` (the smallest value whose
    cumulative weight reaches ``q``)."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][min(np.searchsorted(cumulative, q), len(values) - 1)])


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _atomic_csv(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    frame.to_csv(tmp, index=False, float_format="%.12g")
    os.replace(tmp, path)
