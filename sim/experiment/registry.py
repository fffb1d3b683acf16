"""Every analysis, declared once: its figures, where they are computed and drawn, and what
it needs of its design.

An experiment file names one analysis (``[experiment] analysis``). Its entry here says

* which figures it draws, in order, and each figure's companion tables (tables of
  another shape drawn into the figure and written next to it);
* which module of :mod:`sim.analyses` computes those tables and draws those figures
  (named, not imported: :mod:`sim.analyses.catalogue` finds the functions, so this
  contract loads neither matplotlib nor the tables, and never imports the analyses);
* what it needs of its design, as :class:`Requirement` checks run by
  :func:`sim.experiment.design.parse` before any run (docs/OUTPUTS.md lists them).

The design validator, ``python -m sim figures`` (from results or from CSV files) and
``python -m sim reproduce`` all read this registry. A new analysis is a new module of
:mod:`sim.analyses` (its ``TABLES`` and ``DRAWERS``) and one :class:`Analysis` entry in
:data:`REGISTRY`.

The requirement checks see the experiment only through the attributes of
:class:`Design` (structural typing), so this module does not import
:mod:`sim.experiment.design`, which imports it to run them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sim.params import PROGRAMME_NAMES, START_YEAR, Params

__all__ = ["ANALYSES", "COMPANIONS", "POLICY_SWITCHES", "REGISTRY", "Analysis", "Design",
           "Figure", "Requirement", "analysis", "figure_names", "file_stem", "owner",
           "table_names"]


class Design(Protocol):
    """What a requirement check reads of an experiment
    (:class:`sim.experiment.design.Experiment` has it all)."""

    replicates: int
    series: bool
    fixed: Mapping[str, Any]
    grid: Mapping[str, Sequence[Any]]
    sample: Mapping[str, Any]


@dataclass(frozen=True)
class Requirement:
    """One thing an analysis needs of its design, checked before any run.

    ``needs`` says it in words (docs/OUTPUTS.md lists it); ``check`` returns None when
    the design meets it, else the rest of a one-line error that starts with "the
    ANALYSIS analysis ". The checks of one analysis run in order and stop at the first
    unmet one, so a check may assume the ones before it are met.
    """

    needs: str
    check: Callable[[Design], str | None]


@dataclass(frozen=True)
class Figure:
    """One figure an analysis draws, and the companion tables drawn into it."""

    name: str
    companions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Analysis:
    """One analysis: its name (as experiment files spell it), the module that computes
    and draws its figures (None when it draws none), its figures in drawing order and
    what it needs of its design, in the order checked."""

    name: str
    module: str | None
    figures: tuple[Figure, ...] = ()
    requirements: tuple[Requirement, ...] = ()

    def __post_init__(self) -> None:
        if self.figures and self.module is None:
            raise ValueError(f"the {self.name} analysis draws figures but names no module")

    @property
    def figure_names(self) -> tuple[str, ...]:
        """The names of the figures drawn, in order."""
        return tuple(figure.name for figure in self.figures)


# --- what the analyses need of their designs ------------------------------------------------
def _coupling_zero(design: Design) -> str | None:
    why = ("needs runs at coupling 0 (each run's synergy is relative to its paired run "
           "at coupling 0)")
    if "coupling" in design.grid:
        if 0.0 in design.grid["coupling"]:
            return None
        levels = ", ".join(f"{v:g}" for v in design.grid["coupling"])
        return f"{why}, but the coupling grid is {levels}: add 0 to it"
    if design.sample and "coupling" in design.sample["ranges"]:
        return (f"{why}, but a [sample] never draws coupling 0 exactly: vary coupling in "
                "a [grid] with 0")
    coupling = design.fixed.get("coupling", Params().coupling)
    if coupling == 0.0:
        return None
    return f"{why}, but coupling is {coupling:g} in every run: vary it in a [grid] with 0"


def _break_even_grid(design: Design) -> str | None:
    axes = ("attention_venture", "cross_attention_cost")
    short = [name for name in axes if len(design.grid.get(name, ())) < 2]
    if short:
        return (f"maps synergy over {' and '.join(axes)}: put "
                f"{' and '.join(short)} in the [grid] with two levels or more")
    return None


def _series(design: Design) -> str | None:
    if design.series:
        return None
    return ("draws per-quarter series and needs series = true in the [experiment] table "
            "(got series = false)")


def _states_grid(design: Design) -> str | None:
    if design.grid and any(len(levels) > 1 for levels in design.grid.values()):
        return None
    return ("compares starting states: vary them in a [grid] (e.g. "
            "ventures_pangyo_factor = [0.5, 1.0, 2.0])")


def _hysteresis_grid(design: Design) -> str | None:
    if not design.grid:
        return "needs a [grid] (paths are paired across grid points), not a [sample]"
    missing = [name for name in ("coupling", "coupling_after") if name not in design.grid]
    if missing:
        return (f"needs {' and '.join(missing)} in the [grid] (the coupling before and "
                "from switch_year on)")
    return None


def _hysteresis_levels(design: Design) -> str | None:
    before, after = design.grid["coupling"], design.grid["coupling_after"]
    unmatched = [value for value in after if value not in before]
    if unmatched:
        return (f"compares each path with the constant one, but coupling_after "
                f"{unmatched[0]:g} is not in the coupling grid")
    if len(set(before) | set(after)) < 2:
        return "needs at least two coupling levels, so that some path switches"
    return None


def _hysteresis_switch(design: Design) -> str | None:
    if "switch_year" in design.grid:
        return "compares paths switched in one year: fix switch_year instead of varying it"
    defaults = Params()
    switch = design.fixed.get("switch_year", defaults.switch_year)
    until = design.fixed.get("until_year", defaults.until_year)
    if not START_YEAR < switch <= until:
        return (f"needs the switch inside the simulated years: switch_year {switch} must "
                f"be in ({START_YEAR}, {until}] (until_year {until})")
    return None


def _paired_replicates(design: Design) -> str | None:
    if design.replicates >= 2:
        return None
    return f"needs replicates >= 2 for its paired t-intervals, got {design.replicates}"


#: The switches of the source paper's three strategic directions, in its order.
POLICY_SWITCHES: tuple[str, ...] = ("shared_vision", "cooperation_programme", "open_innovation")


def _policy_grid(design: Design) -> str | None:
    if not design.grid:
        return ("needs a [grid] crossing the switches with the points compared (each "
                "policy run is paired with its no-policy twin), not a [sample]")
    if not any(name in design.grid for name in POLICY_SWITCHES):
        return (f"needs at least one of {', '.join(POLICY_SWITCHES)} in the [grid] "
                "(e.g. shared_vision = [false, true])")
    return None


def _policy_none(design: Design) -> str | None:
    defaults = Params()
    for name in POLICY_SWITCHES:
        if name in design.grid:
            if False not in design.grid[name]:
                return (f"compares every combination with no policy, but the {name} grid "
                        "lacks false: add it")
        elif design.fixed.get(name, getattr(defaults, name)):
            return (f"compares every combination with no policy, but {name} is true in "
                    "every run: vary it in the [grid] with false, or leave it off")
    return None


def _coupling_levels(design: Design) -> str | None:
    listed = bool(design.sample) and design.sample.get("method") == "points"
    if listed and "coupling" in design.sample["columns"]:
        column = design.sample["columns"].index("coupling")
        levels = len({row[column] for row in design.sample["rows"]})
    elif design.grid and "coupling" in design.grid:
        levels = len(design.grid["coupling"])
    else:
        where = ("the [grid] lacks it" if design.grid else "the [points] file lacks it"
                 if listed else "not a [sample]")
        return ("needs coupling in a [grid] or a [points] file (the optimum is the best of "
                f"its levels), {where}")
    if levels < 3:
        return ("needs at least 3 coupling levels to tell an interior optimum from the "
                f"lowest and highest, got {levels}")
    return None


def _bootstrap_replicates(design: Design) -> str | None:
    if design.replicates >= 2:
        return None
    return f"needs replicates >= 2 for its bootstrap over replicates, got {design.replicates}"


def _discovery_sample(design: Design) -> str | None:
    if not design.sample:
        return ("needs a [sample] or a [points] file (PRIM looks for boxes in sampled "
                "ranges), not a [grid]")
    ranges = design.sample["ranges"]
    if "coupling" not in ranges:
        return ("needs coupling among the sampled or listed parameters (loose beats tight "
                "compares coupling bands)")
    if len(ranges) < 2:
        return ("needs a sampled parameter besides coupling (loose and tight points are "
                "compared with their neighbours in the other inputs)")
    return None


def _replicate_counts(design: Design) -> str | None:
    if design.replicates >= 3:
        return None
    return ("needs replicates >= 3 (the coefficient of variation at two counts at least), "
            f"got {design.replicates}")


def _sensitivity_sample(design: Design) -> str | None:
    method = design.sample.get("method") if design.sample else None
    if method in ("morris", "sobol"):
        return None
    got = ("a [grid]" if design.grid else "a [points] file" if method == "points"
           else f"[sample] method = {method!r}")
    return ("needs a [sample] with method = 'morris' or 'sobol' (its indices follow from "
            f"that sample's structure), got {got}")


# requirements several analyses share
_COUPLING_ZERO = Requirement(
    "runs at coupling 0: coupling in a [grid] that includes 0 (or fixed at 0)", _coupling_zero)
def _design_rows(design: Design) -> tuple[list[str], list[tuple[Any, ...]]] | None:
    """The varied inputs and the points of a [grid] or [points] design (None for a
    sampled one)."""
    if design.grid:
        names = list(design.grid)
        return names, list(itertools.product(*(design.grid[n] for n in names)))
    if design.sample and design.sample.get("method") == "points":
        return list(design.sample["columns"]), [tuple(r) for r in design.sample["rows"]]
    return None


_BUDGETS = tuple(f"{name}_budget" for name in PROGRAMME_NAMES)
# a programme's start year belongs to the programme: one run without programmes is the
# reference of every start year
_STARTS = tuple(f"{name}_start" for name in PROGRAMME_NAMES)


def _programme_points(design: Design) -> str | None:
    listed = _design_rows(design)
    if listed is None:
        return ("needs a [points] file or a [grid] listing the programmes' budgets, not a "
                "sampled design")
    names, rows = listed
    varied = [n for n in names if n in _BUDGETS]
    if not varied:
        return (f"needs at least one of {', '.join(_BUDGETS)} among the listed inputs "
                "(each programme's annual budget)")
    defaults = Params()
    fixed_budget = sum(float(design.fixed.get(n, getattr(defaults, n)))
                       for n in _BUDGETS if n not in names)
    if fixed_budget > 0:
        return ("pairs every programme with the run without programmes, but a budget is "
                "fixed above 0 in every run: list it with 0 or leave it at 0")
    budget_at = [names.index(n) for n in varied]
    state_at = [i for i, n in enumerate(names) if n not in (*_BUDGETS, *_STARTS)]
    states = {tuple(row[i] for i in state_at) for row in rows}
    reference = {tuple(row[i] for i in state_at) for row in rows
                 if all(float(row[i]) == 0.0 for i in budget_at)}
    missing = sorted(states - reference, key=str)
    if missing:
        where = ", ".join(f"{names[i]}={v}" for i, v in zip(state_at, missing[0],
                                                             strict=True)) or "its state"
        return (f"needs, for every state, the point with every budget at 0 (the reference "
                f"of its pairs); {where} has none")
    return None


def _every_mix_in_every_future(design: Design) -> str | None:
    names, rows = _design_rows(design)  # a [grid] or [points] design: checked before
    budget_at = [i for i, n in enumerate(names) if n in _BUDGETS]
    future_at = [i for i, n in enumerate(names) if n not in _BUDGETS]
    futures: dict[tuple[Any, ...], set[tuple[Any, ...]]] = {}
    for row in rows:
        futures.setdefault(tuple(row[i] for i in future_at), set()).add(
            tuple(float(row[i]) for i in budget_at))
    if len(futures) < 2:
        return ("needs at least 2 futures (points that differ in other inputs than the "
                f"budgets), got {len(futures)}")
    mixes = set().union(*futures.values())
    if len(mixes) < 2:
        return "needs at least one programme mix besides the run without programmes"
    short = next((f for f, m in futures.items() if m != mixes), None)
    if short is not None:
        where = ", ".join(f"{names[i]}={v}" for i, v in zip(future_at, short, strict=True))
        return f"compares the mixes within each future, but {where} lacks some of them"
    return None


def _start_years(design: Design) -> str | None:
    names, rows = _design_rows(design)  # a [grid] or [points] design: checked before
    starts = set()
    for row in rows:
        funded = [n[: -len("_budget")] for n, v in zip(names, row, strict=True)
                  if n in _BUDGETS and float(v) > 0]
        starts |= {row[names.index(f"{p}_start")] if f"{p}_start" in names
                   else design.fixed.get(f"{p}_start", getattr(Params(), f"{p}_start"))
                   for p in funded}
    if len(starts) >= 2:
        return None
    return ("needs programmes listed at 2 start years or more (NAME_start beside "
            f"NAME_budget), got {len(starts)}")


def _capability_levels(design: Design) -> str | None:
    names, rows = _design_rows(design)  # a [grid] or [points] design: checked before
    if "capability" not in names:
        return "needs capability among the listed inputs (a column of the phase diagram)"
    levels = len({row[names.index("capability")] for row in rows})
    if levels < 3:
        return ("needs at least 3 capability levels to locate the boundary between them, "
                f"got {levels}")
    return None


_PAIRED_REPLICATES = Requirement("replicates >= 2", _paired_replicates)
_PROGRAMME_POINTS = Requirement("a [points] file or [grid] listing programme budgets, with "
                                "the point without programmes for every state",
                                _programme_points)
_SERIES = Requirement("series = true in [experiment]", _series)


# --- the analyses -----------------------------------------------------------------------------
REGISTRY: dict[str, Analysis] = {entry.name: entry for entry in (
    Analysis(
        "phase_diagram", "sim.analyses.phase_diagram",
        figures=(Figure("phase_diagram", companions=("phase_diagram_emergence",)),
                 Figure("threshold_sensitivity"))),
    Analysis(
        "coupling_response", "sim.analyses.coupling_response",
        figures=(Figure("coupling_response"),),
        requirements=(_COUPLING_ZERO,)),
    Analysis(
        "coupling_break_even", "sim.analyses.coupling_break_even",
        figures=(Figure("coupling_break_even",
                        companions=("coupling_break_even_posterior",)),),
        requirements=(
            _COUPLING_ZERO,
            Requirement("a [grid] with attention_venture and cross_attention_cost, two "
                        "levels or more each", _break_even_grid),
            _PAIRED_REPLICATES)),
    Analysis(
        "trajectories", "sim.analyses.trajectories",
        figures=(Figure("trajectories"),),
        requirements=(_SERIES,)),
    Analysis(
        "critical_mass", "sim.analyses.critical_mass",
        figures=(Figure("critical_mass", companions=("critical_mass_convergence",)),),
        requirements=(
            _SERIES,
            Requirement("a [grid] of starting states", _states_grid),
            _PAIRED_REPLICATES)),
    Analysis(
        "hysteresis", "sim.analyses.hysteresis",
        figures=(Figure("hysteresis"),),
        requirements=(
            Requirement("a [grid] with both coupling and coupling_after", _hysteresis_grid),
            Requirement("every coupling_after level among the coupling levels, and at "
                        "least two levels", _hysteresis_levels),
            Requirement("one fixed switch_year inside the simulated years (after 2018, at "
                        "most until_year)", _hysteresis_switch),
            _PAIRED_REPLICATES)),
    Analysis(
        "policy", "sim.analyses.policy",
        figures=(Figure("policy", companions=("policy_transitions",)),),
        requirements=(
            Requirement("a [grid] with at least one of shared_vision, "
                        "cooperation_programme, open_innovation", _policy_grid),
            Requirement("the no-policy combination: false among each varied switch's "
                        "levels, no switch fixed true", _policy_none),
            _PAIRED_REPLICATES)),
    Analysis(
        "optimal_coupling", "sim.analyses.optimal_coupling",
        figures=(Figure("optimal_coupling", companions=("optimal_coupling_distribution",)),),
        requirements=(
            Requirement("coupling in the [grid] (or a [points] file) with at least 3 "
                        "levels", _coupling_levels),
            Requirement("replicates >= 2", _bootstrap_replicates))),
    Analysis(
        "discovery", "sim.analyses.discovery",
        figures=(Figure("discovery", companions=("discovery_trajectory",
                                                 "discovery_boxes")),),
        requirements=(
            Requirement("a [sample] (or a [points] file) that varies coupling and at least "
                        "one other parameter", _discovery_sample),)),
    Analysis(
        "replicates", "sim.analyses.replicates",
        figures=(Figure("replicates", companions=("replicates_needed",)),),
        requirements=(Requirement("replicates >= 3", _replicate_counts),)),
    Analysis(
        "sensitivity", "sim.analyses.sensitivity",
        figures=(Figure("sensitivity"),),
        requirements=(Requirement("a [sample] with method = 'morris' or 'sobol'",
                                  _sensitivity_sample),)),
    Analysis(
        "programmes", "sim.analyses.programmes",
        figures=(Figure("policy_cost_effectiveness"),),
        requirements=(_PROGRAMME_POINTS, _PAIRED_REPLICATES)),
    Analysis(
        "programme_timing", "sim.analyses.programme_timing",
        figures=(Figure("policy_timing"),),
        requirements=(
            _PROGRAMME_POINTS, _PAIRED_REPLICATES,
            Requirement("programmes at 2 start years or more", _start_years))),
    Analysis(
        "programme_boundary", "sim.analyses.programme_boundary",
        figures=(Figure("policy_boundary", companions=("policy_boundary_shares",)),),
        requirements=(
            _PROGRAMME_POINTS, _PAIRED_REPLICATES,
            Requirement("capability at 3 levels or more", _capability_levels))),
    Analysis(
        "robustness", "sim.analyses.robustness",
        figures=(Figure("policy_robustness", companions=("policy_robustness_boxes",)),),
        requirements=(
            Requirement("a [points] file or [grid] listing programme budgets, with the "
                        "point without programmes for every future", _programme_points),
            Requirement("every programme mix in every future, at least 2 futures",
                        _every_mix_in_every_future))),
    Analysis("none", None),
)}
"""The analyses, by name, in the order listed to users."""

#: The figures each analysis draws, in the order they are drawn (read from
#: :data:`REGISTRY`).
ANALYSES: dict[str, tuple[str, ...]] = {name: entry.figure_names
                                        for name, entry in REGISTRY.items()}
#: Tables a figure draws besides its own, written next to it as ``NAME.csv`` (read from
#: :data:`REGISTRY`).
COMPANIONS: dict[str, tuple[str, ...]] = {figure.name: figure.companions
                                          for entry in REGISTRY.values()
                                          for figure in entry.figures if figure.companions}


def analysis(name: str) -> Analysis:
    """The entry of one analysis. Raises ``ValueError`` for an unknown name."""
    if name not in REGISTRY:
        raise ValueError(f"unknown analysis {name!r} (expected one of "
                         f"{', '.join(REGISTRY)})")
    return REGISTRY[name]


def file_stem(name: str, analysis_name: str, prefix: str = "") -> str:
    """The file name (without extension) of table ``name`` of ``analysis_name`` when an
    experiment sets ``[experiment] figure_prefix``: the prefix in place of the analysis's
    name at the front (``policy_transitions`` of a ``policy_dose`` prefix is
    ``policy_dose_transitions``), or before the whole name when it does not start with
    it. Without a prefix, the name itself. Two experiments of one analysis so publish
    side by side."""
    if not prefix:
        return name
    if name == analysis_name or name.startswith(f"{analysis_name}_"):
        return prefix + name[len(analysis_name):]
    return f"{prefix}_{name}"


def figure_names() -> list[str]:
    """Every figure of every analysis, in registry order."""
    return [figure.name for entry in REGISTRY.values() for figure in entry.figures]


def table_names() -> list[str]:
    """Every table the analyses write: each figure's own, then the companion tables."""
    figures = [figure for entry in REGISTRY.values() for figure in entry.figures]
    return [figure.name for figure in figures] + [
        extra for figure in figures for extra in figure.companions]


def owner(name: str) -> tuple[Analysis, Figure]:
    """The analysis and figure a table belongs to: the figure of that name, or the
    figure that draws it as a companion. Raises ``ValueError`` for an unknown table."""
    for entry in REGISTRY.values():
        for figure in entry.figures:
            if name == figure.name or name in figure.companions:
                return entry, figure
    raise ValueError(f"unknown figure {name!r} (expected one of "
                     f"{', '.join(table_names())})")
