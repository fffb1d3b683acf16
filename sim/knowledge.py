"""Knowledge profiles, cognitive distance and the odds of recombinant innovation.

A profile is a vector of shares over the technology domains (non-negative, summing to
one). All functions work on whole arrays so the model can evaluate every project of a
quarter at once.
"""

from __future__ import annotations

import numpy as np


def draw_profiles(rng: np.random.Generator, centres: np.ndarray,
                  concentration: float) -> np.ndarray:
    """One profile per row of ``centres``, drawn from a Dirichlet around that row.

    Higher ``concentration`` keeps the draws closer to their centres. (Gamma draws
    normalised per row: a Dirichlet with a different centre on each row.)
    """
    alpha = concentration * np.atleast_2d(np.asarray(centres, dtype=float)) + 1e-3
    draws = rng.standard_gamma(alpha)
    totals = row_sums(draws)[:, None]
    empty = totals[:, 0] == 0.0
    if empty.any():
        # At tiny concentrations every gamma draw of a row can underflow to 0: give such
        # a row all its knowledge in its centre's largest domain.
        draws[empty, np.argmax(alpha[empty], axis=1)] = 1.0
        totals[empty] = 1.0
    return draws / totals


def cognitive_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 - cosine similarity, row by row; in [0, 1] for non-negative profiles."""
    dot = np.einsum("ij,ij->i", a, b)
    norms = np.sqrt(np.einsum("ij,ij->i", a, a) * np.einsum("ij,ij->i", b, b))
    return (1.0 - dot / np.maximum(norms, 1e-12)).clip(0.0, 1.0)


def reach(mean_absorptive: np.ndarray, reach_min: float, reach_gain: float) -> np.ndarray:
    """Reach A: the cognitive distance beyond which partners no longer understand
    each other; it grows with the partners' absorptive capacity."""
    return reach_min + reach_gain * mean_absorptive


def success_probability(distance: np.ndarray, reach_a: np.ndarray,
                        productivity: np.ndarray, scale: float, cap: float) -> np.ndarray:
    """Nooteboom's inverted U: novelty x understandability.

    ``p = min(cap, scale * productivity * d * max(0, A - d))``. Novelty grows with the
    distance ``d``; understandability ``A - d`` shrinks with it. The optimum ``A/2``
    moves out with capability, and a larger ``A`` raises the odds at *every* distance
    (a normalised form ``x (1 - x)`` with ``x = d/A`` would wrongly make capable
    partners worse at close range).
    """
    odds = scale * productivity * distance * np.maximum(0.0, reach_a - distance)
    return np.minimum(odds, cap)


def normalise(profiles: np.ndarray) -> np.ndarray:
    """Clip negatives and rescale rows to sum to one, in place."""
    np.clip(profiles, 0.0, None, out=profiles)
    profiles /= np.maximum(row_sums(profiles), 1e-12)[:, None]
    return profiles


def row_sums(profiles: np.ndarray) -> np.ndarray:
    """Each row's sum: the numbers of ``profiles.sum(axis=1)``, faster.

    Numpy adds a row of fewer than eight entries one after the other, but calls its
    loop once per row; adding column by column gives the same sums in a few whole-array
    operations. Wider rows numpy sums pairwise, so they are left to numpy."""
    if profiles.shape[1] >= 8:
        return profiles.sum(axis=1)
    total = profiles[:, 0].copy()
    for column in range(1, profiles.shape[1]):
        total += profiles[:, column]
    return total
