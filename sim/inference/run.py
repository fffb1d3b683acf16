"""Run a calibration: ABC-SMC (pyabc) on any executor, stored and resumable.

Layout of a calibration directory::

    DIR/manifest.json      calibration identity, code identity, seeds, status, progress
    DIR/calibration.toml   the calibration file as run
    DIR/abc.db             pyabc's history (SQLite): every generation, once complete
    DIR/posterior.csv      the last generation's particles and weights
    DIR/generations.csv    tolerance, evaluations, acceptance rate, ESS by generation
    DIR/predictive.csv     posterior predictive draws: each draw's simulated targets
    DIR/profile.toml       the calibrated parameter set (posterior medians), with provenance
    DIR/profile.posterior.csv  its posterior sample (particles and weights), from which
                           experiments draw each replicate's constants

pyabc writes a generation to its database only once it is complete, so a calibration
killed at any moment resumes from its last complete generation; candidates are seeded
from (master seed, generation, index) alone (:mod:`sim.inference.sampler`), so the
resumed run ends where an uninterrupted one would.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import platform
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.inference.problem import Calibration, TargetDistance
from sim.inference.sampler import SeededBatchSampler, candidate_seed
from sim.sweep.design import ExperimentError
from sim.sweep.identity import code_identity, code_version, short
from sim.sweep.lock import DirectoryLock

MANIFEST = "manifest.json"
DATABASE = "abc.db"
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
    import pyabc

    from sim.inference.proposal import IndependentTProposal  # imports pyabc

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lock = DirectoryLock(out, calibration.name)
    lock.acquire()
    try:
        manifest = _open(calibration, out)
        database = f"sqlite:///{(out / DATABASE).resolve()}"
        with executor, _quiet_pyabc():
            sampler = SeededBatchSampler(executor, calibration.master_seed)
            np.random.seed(calibration.master_seed % 2**32)  # pyabc's own draws, if any
            abc = pyabc.ABCSMC(
                calibration.simulate_logits, _prior(calibration),
                TargetDistance(calibration.fitted),
                population_size=calibration.population_size, sampler=sampler,
                transitions=IndependentTProposal())
            done = _generations_done(out)
            if done == 0:
                _remove_database(out)
                abc.new(database, calibration.observed())
            else:
                abc.load(database, 1)
            remaining = calibration.generations - done
            if remaining > 0:
                _write_manifest(out, calibration, manifest, status="running")
                history = abc.run(minimum_epsilon=calibration.min_epsilon,
                                  max_nr_populations=remaining)
            else:
                history = abc.history
            _write_generations(history, out)
            posterior = _write_posterior(history, calibration, out)
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
        if stored.get("source_sha256") != code_identity()["source_sha256"]:
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
        "method": "ABC-SMC (pyabc) on the parameters' logits, independent t proposal, "
                  "seeded batch sampler",
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
    """Complete generations stored in the database (0 if none or no database)."""
    path = out / DATABASE
    if not path.exists():
        return 0
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(path)) as connection:
            row = connection.execute("SELECT MAX(t) FROM populations").fetchone()
    except sqlite3.Error:
        return 0
    return 0 if row is None or row[0] is None else int(row[0]) + 1


def _remove_database(out: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            (out / f"{DATABASE}{suffix}").unlink()


# --- what a finished calibration writes -------------------------------------------------------
def _prior(calibration: Calibration) -> Any:
    """Each parameter's uniform prior, on the logit scale the sampler works on (the
    standard logistic distribution; :class:`~sim.inference.problem.Prior`)."""
    import pyabc

    return pyabc.Distribution(**{p.name: pyabc.RV("logistic", 0.0, 1.0)
                                 for p in calibration.priors})


def _write_generations(history: Any, out: Path) -> None:
    populations = history.get_all_populations()
    populations = populations[populations["t"] >= 0]
    rows = []
    for record in populations.itertuples():
        _, weights = history.get_distribution(t=int(record.t))
        rows.append({"generation": int(record.t), "epsilon": float(record.epsilon),
                     "evaluations": int(record.samples),
                     "acceptance_rate": float(history.get_nr_particles_per_population()
                                              [int(record.t)] / record.samples),
                     "effective_sample_size": _ess(weights)})
    _atomic_csv(pd.DataFrame(rows), out / GENERATIONS)


def _write_posterior(history: Any, calibration: Calibration, out: Path) -> pd.DataFrame:
    particles, weights = history.get_distribution(t=history.max_t)
    names = [p.name for p in calibration.priors]
    posterior = particles[names].reset_index(drop=True).astype(float)
    for prior in calibration.priors:  # from the sampler's logits to the parameters' values
        posterior[prior.name] = posterior[prior.name].map(prior.value)
    posterior["weight"] = np.asarray(weights, dtype=float)
    # a canonical order, so the file does not depend on how pyabc stored the particles
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


def _ess(weights: np.ndarray) -> float:
    weights = np.asarray(weights, dtype=float)
    return float(weights.sum() ** 2 / (weights ** 2).sum())


@contextlib.contextmanager
def _quiet_pyabc() -> Iterator[None]:
    """pyabc logs every generation at INFO on its own loggers; the command prints its own
    progress."""
    loggers = [logging.getLogger(name) for name in ("ABC", "Epsilon", "Distance",
                                                    "Acceptor", "Sampler", "History",
                                                    "Transition", "Population")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


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
