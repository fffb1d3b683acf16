"""Policy programmes with budgets: what a ministry funds, when, where, and what each won
buys (docs/ODD.md, section 7.20).

A programme has a start year, a number of years, an annual budget in KRW billion (at
the clusters' full size) and a share of it spent in Daedeok (the rest in Pangyo). Its
money buys units of one instrument at a sourced unit cost (``data/programme_costs.csv``):
brokered inter-cluster projects, incubation of a start-up, spin-off grants, training
places, square metres of floor space. The dose follows from budget / unit cost; the
agents who deliver a unit (an agency brokering, a research institute spinning off, a
firm trained) decide how many units are taken up, and money not taken up stays in the
programme's purse, so a programme ends when its money is spent, not on a date.

Everything here is bookkeeping: which agents a unit reaches is each agent kind's rule
(:mod:`sim.agents`). A model at ``scale`` s stands for a share s of the clusters, so
its programmes hold a share s of the money, and buy a share s of the units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim.calibration import CLUSTER_NAMES
from sim.params import PROGRAMME_NAMES, QUARTERS_PER_YEAR, START_YEAR, Params

__all__ = ["PROGRAMMES", "Programme", "ProgrammeBook", "programme_named"]

#: Slack on "can the purse pay for one more unit": a sum of quarterly grants may fall
#: a last binary digit short of the product it stands for.
_SLACK = 1e-9


@dataclass(frozen=True)
class Programme:
    """One kind of programme: its name (the prefix of its inputs, ``NAME_budget``,
    ``NAME_start``, ``NAME_years``, ``NAME_share_daedeok``), the instrument one unit
    is, the input holding the unit cost (KRW million per unit) and the source paper's
    strategic direction it serves."""

    name: str
    instrument: str
    unit_cost: str
    direction: str

    @property
    def inputs(self) -> tuple[str, str, str, str]:
        """Its four inputs: budget, start year, years, share spent in Daedeok."""
        return (f"{self.name}_budget", f"{self.name}_start", f"{self.name}_years",
                f"{self.name}_share_daedeok")

    def budget(self, params: Params) -> float:
        """Annual budget, KRW billion at full size."""
        return getattr(params, f"{self.name}_budget")

    def start(self, params: Params) -> int:
        """First year in which the programme spends."""
        return getattr(params, f"{self.name}_start")

    def years(self, params: Params) -> int:
        """Years of annual budget the programme is given."""
        return getattr(params, f"{self.name}_years")

    def shares(self, params: Params) -> tuple[float, float]:
        """Share of the money spent in each cluster (Daedeok, Pangyo)."""
        daedeok = getattr(params, f"{self.name}_share_daedeok")
        return daedeok, 1.0 - daedeok

    def cost(self, params: Params) -> float:
        """KRW million per unit."""
        return getattr(params, self.unit_cost)

    def units_per_year(self, params: Params) -> float:
        """Units the annual budget buys at full size, both clusters together."""
        return self.budget(params) * 1000.0 / self.cost(params)


PROGRAMMES: tuple[Programme, ...] = (
    Programme("cooperation", "brokered inter-cluster joint project", "match_cost",
              "2: wide-area cooperation"),
    Programme("incubation", "incubation of a start-up", "incubation_cost",
              "3: open innovation"),
    Programme("spin_off", "grant founding a research spin-off", "spin_off_grant",
              "3: open innovation"),
    Programme("training", "training place (one agent trained for a quarter)",
              "training_cost", "capability investment"),
    Programme("floor_space", "square metre of floor space for ventures",
              "floor_space_cost", "the next valley"),
)
"""Every programme, in the order the quarter spends on them."""

if tuple(programme.name for programme in PROGRAMMES) != PROGRAMME_NAMES:
    raise RuntimeError("sim.programmes.PROGRAMMES must name the programmes of "
                       "sim.params.PROGRAMME_NAMES, in that order")


def programme_named(name: str) -> Programme:
    """The programme called ``name``."""
    for programme in PROGRAMMES:
        if programme.name == name:
            return programme
    raise KeyError(f"no programme {name!r}; known: "
                   f"{', '.join(p.name for p in PROGRAMMES)}")


@dataclass
class ProgrammeBook:
    """The programmes' purses in one run: per programme and cluster, the money granted
    so far (KRW million, at the model's scale) and the money spent, and the floor space
    bought by year. Starts empty; :meth:`open_quarter` grants each quarter's money,
    :meth:`offer` says how many units the purse can pay for, :meth:`pay` spends."""

    granted: dict[str, np.ndarray] = field(default_factory=lambda: _purses())
    spent: dict[str, np.ndarray] = field(default_factory=lambda: _purses())
    spent_this_quarter: np.ndarray = field(
        default_factory=lambda: np.zeros(len(CLUSTER_NAMES)))
    #: square metres bought, by the quarter they were paid in, per cluster
    floor_bought: list[tuple[int, np.ndarray]] = field(default_factory=list)

    def open_quarter(self, params: Params, quarter: int) -> None:
        """Grant each running programme a quarter of its annual budget, until the sum
        granted reaches budget x years; nothing before 2018Q1 (``quarter`` 1) or
        before a programme's start year."""
        self.spent_this_quarter = np.zeros(len(CLUSTER_NAMES))
        if quarter <= 0:
            return
        year = START_YEAR + (quarter - 1) // QUARTERS_PER_YEAR
        for programme in PROGRAMMES:
            annual = programme.budget(params)
            if annual == 0.0 or year < programme.start(params):
                continue
            shares = np.array(programme.shares(params))
            money = annual * 1000.0 * params.scale * shares  # KRW million a year
            envelope = money * programme.years(params)
            granted = self.granted[programme.name]
            granted += np.minimum(money / QUARTERS_PER_YEAR, envelope - granted)

    def purse(self, name: str, cluster: int) -> float:
        """Money granted to programme ``name`` in ``cluster`` and not yet spent."""
        return float(self.granted[name][cluster] - self.spent[name][cluster])

    def offer(self, params: Params, name: str, cluster: int) -> int:
        """Whole units programme ``name`` can pay for in ``cluster`` now."""
        cost = programme_named(name).cost(params)
        return max(0, math.floor(self.purse(name, cluster) / cost + _SLACK))

    def pay(self, params: Params, name: str, cluster: int, units: int) -> None:
        """Spend on ``units`` units of programme ``name`` in ``cluster`` (at most what
        :meth:`offer` allowed)."""
        if units == 0:
            return
        if units > self.offer(params, name, cluster):
            raise ValueError(f"{name} in {CLUSTER_NAMES[cluster]} cannot pay for {units} "
                             f"units (offered {self.offer(params, name, cluster)})")
        cost = units * programme_named(name).cost(params)
        self.spent[name][cluster] += cost
        self.spent_this_quarter[cluster] += cost

    def buy_floor_space(self, params: Params, quarter: int) -> None:
        """Spend the floor-space purses on whole square metres (building never lacks
        takers)."""
        bought = np.zeros(len(CLUSTER_NAMES))
        for cluster in range(len(CLUSTER_NAMES)):
            units = self.offer(params, "floor_space", cluster)
            self.pay(params, "floor_space", cluster, units)
            bought[cluster] = units
        if bought.any():
            self.floor_bought.append((quarter, bought))

    def floor_space_open(self, params: Params, quarter: int) -> np.ndarray:
        """Square metres per cluster (at the model's scale) bought at least
        ``floor_space_lag_years`` before ``quarter``: built and open to tenants."""
        lag = params.floor_space_lag_years * QUARTERS_PER_YEAR
        open_now = np.zeros(len(CLUSTER_NAMES))
        for paid, bought in self.floor_bought:
            if quarter - paid >= lag:
                open_now += bought
        return open_now

    def total_spent(self, params: Params) -> float:
        """Money spent so far by every programme, KRW billion at full size."""
        return sum(float(s.sum()) for s in self.spent.values()) / (1000.0 * params.scale)


def _purses() -> dict[str, np.ndarray]:
    return {programme.name: np.zeros(len(CLUSTER_NAMES)) for programme in PROGRAMMES}
