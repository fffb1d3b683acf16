"""A run's uncoupled twin and its paired synergy.

The twin of a run is the same run with coupling 0 from 2018Q1 (and ``coupling_after`` 0
when a schedule is set), everything else equal: the same seed, hence the same state
entering 2018Q1 (the spin-up is uncoupled) and the same random stream until coupling
first changes a draw. The paired synergy is the run's total innovations over its
twin's, minus one (:func:`sim.metrics.synergy`): what coupling added, with the
variation between seeds removed.

Only a run whose last four quarters are high in both capability and cooperation needs
it (:func:`sim.scenarios.classify`), so the twin is not run up front.
:meth:`UncoupledTwin.before_first_step` keeps the run's state entering 2018Q1 as a
pickle when the model is built (:meth:`sim.model.ClusterModel.branch` works only before
the first step); the twin is built from it and stepped to the run's quarter only when
the paired synergy is asked for, and kept, so a later question costs only the quarters
added since. Every run with the same spin-up starts 2018 in the same state, so a copy
made by ``branch()`` shares its original's start and builds its own twin from it with
its own inputs, and a sweep's run at coupling 0 can serve as the twin of the runs that
share its spin-up (:meth:`UncoupledTwin.share`).
"""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any, Protocol

from sim import metrics
from sim.params import Params

__all__ = ["PairedRun", "UncoupledTwin", "is_uncoupled", "paired_synergy", "synergy_of",
           "twin_params", "uncoupled_inputs"]


class PairedRun(Protocol):
    """What pairing reads of a run and its twin (:class:`sim.model.ClusterModel` is one;
    named here so that this module, which the model imports, does not import it back)."""

    params: Params
    totals: dict[str, Any]
    uncoupled_twin: UncoupledTwin | None

    @property
    def quarter(self) -> str: ...

    @property
    def quarter_number(self) -> int: ...

    def step(self) -> None: ...

    def branch(self, **inputs: Any) -> PairedRun: ...


def uncoupled_inputs(params: Params) -> dict[str, Any]:
    """The inputs that turn a run into its twin: coupling 0, and ``coupling_after`` 0
    when a schedule is set (None stays None: no switch)."""
    return {"coupling": 0.0,
            "coupling_after": None if params.coupling_after is None else 0.0}


def twin_params(params: Params) -> Params:
    """The inputs of the twin of a run with ``params``."""
    return dataclasses.replace(params, **uncoupled_inputs(params))


def is_uncoupled(params: Params) -> bool:
    """Whether a run with ``params`` is its own twin (coupling 0 throughout)."""
    return params.coupling == 0.0 and params.coupling_after in (None, 0.0)


def paired_synergy(innovations: int, twin_innovations: int) -> float:
    """:func:`sim.metrics.synergy` of a run's total innovations over its twin's.

    Where the twin made no innovation at all the ratio is undefined but its sign is
    not, and the sign is what the scenario reads: the twin's count is then taken as one
    innovation in the denominator only, giving ``innovations`` (0.0 if the run made
    none either). So the value always has the sign of ``innovations -
    twin_innovations``, and is finite (JSON-safe) and never NaN."""
    if twin_innovations <= 0:
        return float(max(innovations, 0))
    return metrics.synergy(innovations, twin_innovations)


class UncoupledTwin:
    """The uncoupled twin of one run, built only when first needed.

    Holds the run's state entering 2018Q1 until the twin is built from it; then the
    twin (:attr:`model`), which :meth:`at` steps along with the run on demand.
    """

    def __init__(self, start: bytes) -> None:
        """``start``: the pickled run before its first step."""
        self._start: bytes | None = start
        #: The twin, None until the paired synergy was first asked for.
        self.model: PairedRun | None = None

    @classmethod
    def before_first_step(cls, run: PairedRun) -> UncoupledTwin | None:
        """Keep ``run``'s state entering 2018Q1 (call before its first step, outside
        Mesa's step: the copy must be a model Mesa can step); None for a run that is
        its own twin, which needs no copy."""
        if is_uncoupled(run.params):
            return None
        # a pickle costs a few per cent of a run; building and running the twin now
        # would double every run's cost
        return cls(pickle.dumps(run, protocol=pickle.HIGHEST_PROTOCOL))

    def share(self, twin: PairedRun) -> None:
        """Use ``twin`` instead of building one: a model with the twin's inputs
        (:func:`twin_params`) made from the same state entering 2018Q1, such as the run
        at coupling 0 of the same sweep group, not past the quarter it will be asked at."""
        self.model = twin
        self._start = None

    def at(self, run: PairedRun) -> PairedRun:
        """The twin, built if need be and stepped to ``run``'s quarter."""
        if self.model is not None and self.model.quarter_number > run.quarter_number:
            raise RuntimeError(f"the twin has run to {self.model.quarter}, past the run's "
                               f"{run.quarter}")
        if self.model is None:
            if self._start is None:
                raise RuntimeError("the twin's starting state is gone")
            start = pickle.loads(self._start)
            # every input of the run, not the start's (a branch() copy shares its
            # original's start); branch() checks that only inputs acting from 2018Q1
            # differ
            self.model = start.branch(**twin_params(run.params).as_dict())
            self._start = None  # the twin now carries the state; free the copy
        while self.model.quarter_number < run.quarter_number:
            self.model.step()
        return self.model


def synergy_of(run: PairedRun) -> float:
    """The paired synergy of ``run`` over the quarters it has run: 0.0 for a run that
    is its own twin (coupling 0 throughout), else its innovations since 2018Q1 over its
    twin's to the same quarter, minus one (:func:`paired_synergy`)."""
    if is_uncoupled(run.params):
        return 0.0
    if run.uncoupled_twin is None:
        raise RuntimeError("the run kept no state entering 2018Q1, so its uncoupled twin "
                           "cannot be built; build it as a ClusterModel and step it")
    twin = run.uncoupled_twin.at(run)
    return paired_synergy(run.totals["innovations"], twin.totals["innovations"])
