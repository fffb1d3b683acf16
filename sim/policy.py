"""The inputs in force in one quarter: coupling, capability investment and the source
paper's three strategic directions (docs/ODD.md, sections 7.1 and 9).

Before 2018Q1 (the spin-up) the clusters run uncoupled and without policies: the
historical regime from which the 2018 state emerges. From 2018Q1 the parameters apply,
with coupling and investment switching at ``switch_year`` when a schedule is set, and
coupling climbing the shared vision's staircase when that direction is on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.params import QUARTERS_PER_YEAR, START_YEAR, Params


@dataclass(frozen=True)
class Regime:
    """What holds in one quarter.

    ``investment`` is the share of every agent's gap to full absorptive capacity that
    public investment closes this quarter; the factors are 1 when their policy is off."""

    coupling: float
    investment: float
    shared_vision: bool
    programme_factor: float
    open_innovation: bool
    open_innovation_factor: float
    scale_up_threshold: float

    @classmethod
    def historical(cls, params: Params) -> Regime:
        """The spin-up before 2018: no coupling, no investment, no policy."""
        return cls(coupling=0.0, investment=0.0, shared_vision=False, programme_factor=1.0,
                   open_innovation=False, open_innovation_factor=1.0,
                   scale_up_threshold=params.scale_up_threshold)

    @classmethod
    def in_quarter(cls, params: Params, quarter: int) -> Regime:
        """The regime of quarter ``quarter`` (1 = 2018Q1; 0 and below: the spin-up)."""
        if quarter <= 0:
            return cls.historical(params)
        year = START_YEAR + (quarter - 1) // QUARTERS_PER_YEAR
        annual = params.investment_in(year)
        open_innovation = params.open_innovation
        return cls(
            coupling=coupling_in_quarter(params, quarter),
            investment=1.0 - (1.0 - annual) ** (1.0 / QUARTERS_PER_YEAR),
            shared_vision=params.shared_vision,
            programme_factor=(params.programme_boost if params.cooperation_programme
                              else 1.0),
            open_innovation=open_innovation,
            open_innovation_factor=(params.open_innovation_boost if open_innovation
                                    else 1.0),
            scale_up_threshold=params.scale_up_threshold * (
                params.nurturing_threshold_factor if open_innovation else 1.0),
        )


def coupling_in_quarter(params: Params, quarter: int) -> float:
    """Coupling in force in quarter ``quarter`` (1 = 2018Q1): the scheduled target, or
    under the shared vision a staircase rising to it over the ramp."""
    if quarter <= 0:
        return 0.0
    year = START_YEAR + (quarter - 1) // QUARTERS_PER_YEAR
    target = params.coupling_in(year)
    if not params.shared_vision:
        return target
    ramp = params.vision_ramp_years * QUARTERS_PER_YEAR
    stage = min(params.vision_stages,
                math.floor((quarter - 1) * params.vision_stages / ramp) + 1)
    return target * stage / params.vision_stages
