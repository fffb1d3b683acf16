"""A pyabc sampler whose result depends on the master seed alone.

pyabc's parallel samplers accept particles in the order they happen to finish, so the
same analysis run twice, or on another number of workers, gives another posterior.
:class:`SeededBatchSampler` makes the candidates of generation ``t`` a fixed sequence:
candidate ``k`` draws its parameters and runs its model from a seed derived from
``(master_seed, t, k)`` alone. Candidates are evaluated in batches on any executor (in
this process, a local Dask cluster or a remote one), and the first ``n`` accepted *in
candidate order* form the population. Batch size, worker count and finishing order
change only how many extra candidates are evaluated, never which particles are kept,
nor the evaluation count recorded (the index of the ``n``-th accepted candidate + 1).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import cloudpickle
import numpy as np
from pyabc.sampler import Sampler

#: Spawn-key tag, so these seeds never coincide with the sweep engine's.
_STREAM = 0xABC


class Executor(Protocol):
    """What the sampler needs of an executor (sim.sweep.execute's executors)."""

    def map_unordered(self, task: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        ...


@dataclass(frozen=True)
class Candidate:
    """One candidate particle to evaluate: its position in the generation and seed."""

    index: int
    seed: int
    simulate_one: bytes  # pyabc's closure, pickled once per batch by the sampler


def candidate_seed(master_seed: int, generation: int, index: int) -> int:
    """The seed of candidate ``index`` of ``generation``: a pure function of the three.
    (pyabc numbers its preliminary sample, which sets the first tolerance, -1.)"""
    sequence = np.random.SeedSequence(master_seed,
                                      spawn_key=(_STREAM, generation + 1, index))
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


def evaluate_candidate(candidate: Candidate) -> tuple[int, Any]:
    """Draw and simulate one candidate (in whatever process runs it). pyabc's priors,
    transitions and the model draw from numpy's and Python's global generators, so both
    are seeded from the candidate's seed first."""
    np.random.seed(candidate.seed)
    random.seed(candidate.seed)
    simulate_one = cloudpickle.loads(candidate.simulate_one)
    return candidate.index, simulate_one()


class SeededBatchSampler(Sampler):
    """Deterministic batch sampling for pyabc's ABC-SMC.

    Args:
        executor: runs the candidates (an entered ``InProcessExecutor`` or
            ``DaskExecutor``); results may come back in any order.
        master_seed: the analysis's master seed.
        min_batch: fewest candidates evaluated at once (more when the acceptance rate
            so far says more are needed).
    """

    def __init__(self, executor: Executor, master_seed: int, min_batch: int = 8) -> None:
        super().__init__()
        self.executor = executor
        self.master_seed = master_seed
        self.min_batch = min_batch

    def sample_until_n_accepted(self, n: int, simulate_one: Callable, t: int, *,
                                max_eval: float = np.inf, all_accepted: bool = False,
                                ana_vars: Any = None) -> Any:
        payload = cloudpickle.dumps(simulate_one)
        sample = self._create_empty_sample()
        accepted = evaluated = 0
        next_index = 0
        while accepted < n and next_index < max_eval:
            size = self._batch_size(n - accepted, accepted, evaluated, all_accepted)
            if max_eval < np.inf:
                size = min(size, int(max_eval) - next_index)
            batch = [Candidate(k, candidate_seed(self.master_seed, t, k), payload)
                     for k in range(next_index, next_index + size)]
            results = dict(self.executor.map_unordered(evaluate_candidate, batch))
            for k in range(next_index, next_index + size):
                particle = results[k]
                sample.append(particle)
                evaluated = k + 1
                if particle.accepted:
                    accepted += 1
                    if accepted == n:
                        break
            next_index += size
        self.nr_evaluations_ = evaluated
        if accepted < n:
            sample.ok = False
        return sample

    def _batch_size(self, missing: int, accepted: int, evaluated: int,
                    all_accepted: bool) -> int:
        if all_accepted:
            return missing
        rate = accepted / evaluated if evaluated else 0.0
        # enough for the missing particles at the rate seen so far, with a margin
        wanted = math.ceil(1.2 * missing / rate) if rate > 0 else 2 * missing
        return max(self.min_batch, wanted)
