"""The 2030 scenario and the Orton & Weick coupling type of a run, from its emergent
indices (never from its inputs).

Thresholds come from :class:`sim.params.Params`; docs/ODD.md justifies them. A run in
the high-capability, high-cooperation quadrant is called 'Loosely coupled synergy' only
if coupling earned it: its paired synergy (:func:`sim.metrics.synergy` of its total
innovations over those of its uncoupled twin, :mod:`sim.pairing`) must be positive.
Otherwise it is 'Coupled without synergy': capable and cooperating, yet no more
innovative than the same clusters kept apart.
"""

from __future__ import annotations

import math

ISOLATED_EXCELLENCE = "Isolated excellence"
LOOSELY_COUPLED_SYNERGY = "Loosely coupled synergy"
STAGNATION = "Stagnation"
HOLLOW_NETWORKING = "Hollow networking"
COUPLED_WITHOUT_SYNERGY = "Coupled without synergy"

SCENARIOS: tuple[str, ...] = (LOOSELY_COUPLED_SYNERGY, ISOLATED_EXCELLENCE,
                              HOLLOW_NETWORKING, STAGNATION, COUPLED_WITHOUT_SYNERGY)
"""The scenarios a run can end in: the four of the source paper's 2x2 plan (capability
x cooperation) first, in the paper's order, then 'Coupled without synergy', the part of
the paper's synergy quadrant where coupling did not pay (the paper assumes it always
does; the model lets it fail). Colours, letters and table columns follow this order."""

COUPLING_TYPES: tuple[str, ...] = ("loosely coupled", "tightly coupled", "decoupled",
                                   "non-coupled")


def needs_synergy(capability_index: float, cooperation_index: float, *,
                  capability_threshold: float, cooperation_threshold: float) -> bool:
    """Whether the indices fall in the high-capability, high-cooperation quadrant, the
    only one whose scenario depends on the paired synergy."""
    return (capability_index >= capability_threshold
            and cooperation_index >= cooperation_threshold)


def classify(capability_index: float, cooperation_index: float,
             paired_synergy: float | None, *, capability_threshold: float,
             cooperation_threshold: float) -> str:
    """Scenario of a run: capability high when its index is at or above the threshold;
    cooperation high likewise.

    High on both is 'Loosely coupled synergy' only when ``paired_synergy`` (the run's
    innovations over its uncoupled twin's, minus one) is positive: cooperation that
    yields no more innovation than the clusters apart is not synergy, however capable
    they are, so zero and negative synergy give 'Coupled without synergy'.
    ``paired_synergy`` may be None or NaN outside that quadrant only (it is not read
    there); inside it, a missing value raises ``ValueError``.
    """
    high_capability = capability_index >= capability_threshold
    high_cooperation = cooperation_index >= cooperation_threshold
    if high_capability and high_cooperation:
        if paired_synergy is None or math.isnan(paired_synergy):
            raise ValueError(
                f"a run with capability index {capability_index:.4g} and cooperation "
                f"index {cooperation_index:.4g} is high on both, and its scenario needs "
                "its paired synergy, which is missing")
        return LOOSELY_COUPLED_SYNERGY if paired_synergy > 0 else COUPLED_WITHOUT_SYNERGY
    if high_capability:
        return ISOLATED_EXCELLENCE
    return HOLLOW_NETWORKING if high_cooperation else STAGNATION


def coupling_type(cooperation_index: float, distinctiveness: float, *,
                  cooperation_threshold: float, distinctiveness_threshold: float) -> str:
    """Orton & Weick (1990): responsive and distinctive elements are loosely coupled;
    responsive without distinctiveness, tightly coupled; distinctive without
    responsiveness, decoupled; neither, non-coupled."""
    responsive = cooperation_index >= cooperation_threshold
    distinctive = distinctiveness >= distinctiveness_threshold
    if responsive:
        return "loosely coupled" if distinctive else "tightly coupled"
    return "decoupled" if distinctive else "non-coupled"
