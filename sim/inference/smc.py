"""Adaptive ABC-SMC with MCMC moves (Del Moral, Doucet & Jasra 2012), seeded so that the
posterior is a function of the master seed alone.

Why not importance sampling. An ABC-SMC of the population Monte Carlo kind (Beaumont et
al. 2009; pyabc's) proposes each generation's candidates from a distribution fitted to
the previous one and weights every accepted candidate by prior over proposal density.
On this model's ten-parameter calibration those weights were uneven whatever the
proposal: the last generation's effective sample size was 14 of 200 particles with a
Gaussian kernel per particle and 44 with one heavy-tailed t fitted to the population,
because in a ten-dimensional space a proposal matches the prior's shape in no more than a
few directions. The sampler here never weights by densities. Each generation

1. sets its tolerance to the distance below which a share :data:`KEEP` of the living
   particles lie (the adaptive rule of Del Moral et al., Section 3: the tolerance falls
   as fast as the population can follow, and the effective sample size at the cut is
   that share of the particles);
2. resamples the living particles to a full population (systematic resampling); and
3. moves every particle with an ABC-MCMC kernel (Marjoram et al. 2003) that leaves the
   ABC posterior at the new tolerance invariant: a Gaussian random walk on the logits,
   scaled 2.38^2/d times the living particles' covariance (Roberts, Gelman & Gilks 1997),
   accepted if the prior ratio allows it and the new run lies within the tolerance. The
   number of moves follows Drovandi & Pettitt (2011): the first move's acceptance rate
   ``p`` sets it to ``log(UNMOVED) / log(1 - p)``, so that a particle is left where it was
   with probability :data:`UNMOVED`, within [1, :data:`MAX_MOVES`].

The particles of the last generation are equally weighted; how far they are from
independent draws is measured by how many are distinct and by the moves' acceptance
rate, both written to ``generations.csv``.

Seeds. Every random number comes from a seed derived from ``(master seed, generation,
index)`` (:func:`candidate_seed`) or ``(master seed, generation, move)``, never from the
order in which the executor returns runs, so the same calibration on one process or on
many workers, interrupted or not, ends with the same particles.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

#: Share of the living particles a generation keeps within its tolerance: the effective
#: sample size at each cut, as a share of the population (the tolerance schedule of
#: pyabc's and Beaumont et al.'s median rule; a sampler setting, not a model assumption).
KEEP = 0.5
#: Chance a particle may keep of never moving in a generation, which sets the number of
#: MCMC moves (Drovandi & Pettitt 2011 use 0.01 with cheap models; a sampler setting).
UNMOVED = 0.25
#: Most MCMC moves per particle per generation: the bound on a generation's cost (at the
#: acceptance rate of 0.12 this calibration's moves reach, 10 moves leave 28% unmoved).
MAX_MOVES = 10
#: Random-walk scale on the population covariance, 2.38^2 / d (Roberts, Gelman & Gilks 1997).
STEP = 2.38 ** 2
#: Spawn-key tags, so these seeds never coincide with the sweep engine's or each other's.
_STREAM = 0xABC
_RESAMPLE = 0xABD
_WALK = 0xABE


class Executor(Protocol):
    """What the sampler needs of an executor (sim.sweep.execute's executors)."""

    def map_unordered(self, task: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        ...


class Problem(Protocol):
    """What the sampler needs of a calibration (:class:`~sim.inference.problem.Calibration`
    is one): its seed, population size, number of parameters, and the distance of one
    run at given logits (seeded from numpy's global generator, which the sampler seeds)."""

    master_seed: int
    population_size: int

    @property
    def dimensions(self) -> int:
        ...

    def distance(self, logits: Sequence[float]) -> float:
        ...


def candidate_seed(master_seed: int, generation: int, index: int) -> int:
    """The seed of run ``index`` of ``generation``: a pure function of the three."""
    sequence = np.random.SeedSequence(master_seed,
                                      spawn_key=(_STREAM, generation + 1, index))
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


def _generator(master_seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(master_seed, spawn_key=key))


@dataclass(frozen=True)
class Population:
    """One generation: the particles' logits (one row each, the priors' order), each
    particle's distance, and how the generation was made."""

    generation: int
    epsilon: float
    logits: np.ndarray
    distances: np.ndarray
    evaluations: int           # model runs this generation made
    alive: int                 # particles within the tolerance before resampling
    move_acceptance: float     # share of the MCMC moves accepted (nan in generation 0)
    moves: int = 0             # MCMC moves per particle

    @property
    def distinct(self) -> int:
        """Distinct particles (a particle no move has reached stays a copy)."""
        return len(np.unique(self.logits, axis=0))

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready record (floats round-trip exactly through Python's json)."""
        return {"generation": self.generation, "epsilon": self.epsilon,
                "logits": self.logits.tolist(), "distances": self.distances.tolist(),
                "evaluations": self.evaluations, "alive": self.alive,
                "move_acceptance": self.move_acceptance, "moves": self.moves}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Population:
        return cls(generation=int(record["generation"]), epsilon=float(record["epsilon"]),
                   logits=np.asarray(record["logits"], dtype=float),
                   distances=np.asarray(record["distances"], dtype=float),
                   evaluations=int(record["evaluations"]), alive=int(record["alive"]),
                   move_acceptance=float(record["move_acceptance"]),
                   moves=int(record["moves"]))


@dataclass(frozen=True)
class Trial:
    """One model run to evaluate: the logits to run at and the run's seed."""

    index: int
    seed: int
    logits: tuple[float, ...]
    problem: Problem


def evaluate_trial(trial: Trial) -> tuple[int, float]:
    """Run one trial (in whatever process runs it); its index and distance."""
    np.random.seed(trial.seed)
    return trial.index, float(trial.problem.distance(trial.logits))


def log_prior(logits: np.ndarray) -> np.ndarray:
    """Log density of the priors on the logit scale: independent standard logistics,
    the image of each parameter's uniform prior (:class:`~sim.inference.problem.Prior`)."""
    return -np.sum(np.abs(logits) + 2.0 * np.log1p(np.exp(-np.abs(logits))), axis=-1)


def first_generation(calibration: Problem, executor: Executor) -> Population:
    """Generation 0: the population drawn from the prior, every particle alive."""
    size, dims = calibration.population_size, calibration.dimensions
    logits = np.array([_generator(calibration.master_seed, _WALK, 0, k).logistic(size=dims)
                       for k in range(size)])
    distances = _distances(calibration, executor, 0, np.arange(size), logits)
    return Population(generation=0, epsilon=math.inf, logits=logits, distances=distances,
                      evaluations=size, alive=size, move_acceptance=math.nan)


def next_generation(calibration: Problem, previous: Population,
                    executor: Executor) -> Population:
    """Cut the tolerance to keep :data:`KEEP` of the particles, resample them to a full
    population and move each (see the module docstring)."""
    size, dims = calibration.population_size, calibration.dimensions
    generation = previous.generation + 1
    epsilon = float(np.sort(previous.distances)[math.ceil(KEEP * size) - 1])
    alive = np.flatnonzero(previous.distances <= epsilon)
    chosen = alive[_systematic(len(alive), size,
                               _generator(calibration.master_seed, _RESAMPLE, generation))]
    logits = previous.logits[chosen].copy()
    distances = previous.distances[chosen].copy()
    spread = np.atleast_2d(np.cov(previous.logits[alive], rowvar=False))
    root = np.linalg.cholesky(spread * STEP / dims + np.eye(dims) * 1e-9)
    evaluations = accepted = 0
    moves = move = 1
    while move <= moves:
        walk = _generator(calibration.master_seed, _WALK, generation, move)
        proposals = logits + walk.standard_normal((size, dims)) @ root.T
        # the prior ratio is decided before running, so a refused proposal costs no run
        admitted = np.log(walk.random(size)) < log_prior(proposals) - log_prior(logits)
        indices = np.flatnonzero(admitted)
        trial_distances = _distances(calibration, executor, generation,
                                     (move - 1) * size + indices, proposals[indices])
        evaluations += len(indices)
        within = trial_distances <= epsilon
        logits[indices[within]] = proposals[indices[within]]
        distances[indices[within]] = trial_distances[within]
        accepted += int(within.sum())
        if move == 1:
            moves = moves_needed(accepted / size)
        move += 1
    return Population(generation=generation, epsilon=epsilon, logits=logits,
                      distances=distances, evaluations=evaluations, alive=len(alive),
                      move_acceptance=accepted / (moves * size), moves=moves)


def moves_needed(acceptance: float) -> int:
    """MCMC moves that leave a particle unmoved with probability :data:`UNMOVED` at
    ``acceptance`` per move, within [1, :data:`MAX_MOVES`]."""
    if acceptance >= 1.0:
        return 1
    if acceptance <= 0.0:
        return MAX_MOVES
    return int(min(MAX_MOVES, max(1, math.ceil(math.log(UNMOVED) / math.log1p(-acceptance)))))


def _distances(calibration: Problem, executor: Executor, generation: int,
               indices: np.ndarray, logits: np.ndarray) -> np.ndarray:
    if len(indices) == 0:
        return np.zeros(0)
    trials = [Trial(int(index), candidate_seed(calibration.master_seed, generation, int(index)),
                    tuple(float(v) for v in row), calibration)
              for index, row in zip(indices, logits, strict=True)]
    results = dict(executor.map_unordered(evaluate_trial, trials))
    return np.array([results[trial.index] for trial in trials], dtype=float)


def _systematic(count: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Systematic resampling of ``count`` equally weighted particles to ``size``: each is
    copied ``size / count`` times, rounded up or down (Kitagawa 1996)."""
    positions = (rng.random() + np.arange(size)) / size
    return np.minimum((positions * count).astype(int), count - 1)
