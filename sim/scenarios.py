"""The 2030 scenario and the Orton & Weick coupling type of a run, from its emergent
indices (never from its inputs).

Thresholds come from :class:`sim.params.Params`; docs/ODD.md justifies them.
"""

from __future__ import annotations

ISOLATED_EXCELLENCE = "Isolated excellence"
LOOSELY_COUPLED_SYNERGY = "Loosely coupled synergy"
STAGNATION = "Stagnation"
HOLLOW_NETWORKING = "Hollow networking"

SCENARIOS: tuple[str, ...] = (LOOSELY_COUPLED_SYNERGY, ISOLATED_EXCELLENCE,
                              HOLLOW_NETWORKING, STAGNATION)
"""The four scenarios of the source paper's 2x2 plan (capability x cooperation)."""

COUPLING_TYPES: tuple[str, ...] = ("loosely coupled", "tightly coupled", "decoupled",
                                   "non-coupled")


def classify(capability_index: float, cooperation_index: float, *,
             capability_threshold: float, cooperation_threshold: float) -> str:
    """Scenario of a run: capability high when its index is at or above the threshold;
    cooperation high likewise."""
    high_capability = capability_index >= capability_threshold
    high_cooperation = cooperation_index >= cooperation_threshold
    if high_capability:
        return LOOSELY_COUPLED_SYNERGY if high_cooperation else ISOLATED_EXCELLENCE
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
