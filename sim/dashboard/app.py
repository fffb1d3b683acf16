"""The interactive dashboard: Mesa's SolaraViz over a :class:`~sim.model.ClusterModel`.

Start it with ``make dashboard`` (or ``python -m sim.dashboard``): it serves on
http://127.0.0.1:8765 with Solara's front-end files from a local cache, so it works
with no internet. In a notebook, ``dashboard(model)`` shows the same page inline.

The sidebar holds Mesa's controls (Reset, Play/Pause, Step) and the model's inputs
(coupling, each cluster's capability, scale, seed, the three policies, the budgeted
programmes' annual budgets with their start year and their share for Daedeok, and the
four costs of coupling); Reset builds a new model from them. The main panel shows, each
quarter, the run's status and scenario, the scenario it is heading for on the 2x2
chart, the collaboration network, the indices over time, each cluster's capability
stock with what coupling costs, and the moves between and into the clusters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.calibration import CLUSTER_NAMES
from sim.dashboard.plots import (
    RENDER_DPI,
    capability_figure,
    indices_figure,
    moves_figure,
    network_figure,
    scenario_figure,
)
from sim.model import ClusterModel, Seed
from sim.params import PROGRAMME_NAMES, START_YEAR, Params

#: Scale the dashboard opens at: a quarter of the 2018 populations (about 650 agents),
#: so each quarter is simulated and drawn well within a second.
DEFAULT_SCALE = 0.25
DEFAULT_SEED = 1
MAX_SEED = 999

_DESCRIBED = Params.describe()


class DashboardModel(ClusterModel):
    """A :class:`~sim.model.ClusterModel` built from the dashboard's inputs, the seed
    ``rng`` among them, with one start year and one share for Daedeok for every funded
    programme (:func:`programme_inputs`).

    SolaraViz's Reset also passes ``scenario``, an empty experimental
    :class:`mesa.experimental.scenarios.Scenario`; this model's inputs are its
    :class:`~sim.params.Params`, so it is accepted and set aside."""

    def __init__(self, *, rng: Seed = DEFAULT_SEED, scenario: Any = None,
                 programme_start: int | None = None,
                 programme_share_daedeok: float | None = None,
                 **parameters: Any) -> None:
        super().__init__(rng=rng, **programme_inputs(parameters, programme_start,
                                                     programme_share_daedeok))


def programme_inputs(parameters: dict[str, Any], start: int | None,
                     share_daedeok: float | None) -> dict[str, Any]:
    """``parameters`` with the dashboard's one start year and one share for Daedeok
    given to every funded programme (``NAME_budget`` above 0). Floor space goes only
    where a cluster can use it: to Daedeok only if it has a capacity limit."""
    inputs = dict(parameters)
    for name in PROGRAMME_NAMES:
        if inputs.get(f"{name}_budget", 0.0) <= 0:
            continue
        if start is not None:
            inputs[f"{name}_start"] = start
        limited = inputs.get("capacity_daedeok", _DESCRIBED["capacity_daedeok"]["default"])
        if share_daedeok is not None and (name != "floor_space" or limited is not None):
            inputs[f"{name}_share_daedeok"] = share_daedeok
    return inputs


def _slider(name: str, label: str, step: float, value: float | None = None) -> dict[str, Any]:
    """A float slider over a parameter's valid range, starting at its default."""
    spec = _DESCRIBED[name]
    default = spec["default"] if value is None else value
    return {"type": "SliderFloat", "label": label, "value": default,
            "min": spec["low"], "max": spec["high"], "step": step}


def _switch(name: str, label: str) -> dict[str, Any]:
    return {"type": "Checkbox", "label": label, "value": _DESCRIBED[name]["default"]}


#: The three policies (the source paper's strategic directions): parameter, label.
POLICIES: dict[str, str] = {"shared_vision": "shared vision",
                            "cooperation_programme": "cooperation programme",
                            "open_innovation": "open innovation"}
#: The budgeted programmes (docs/ODD.md, 7.20): name, label.
PROGRAMMES: dict[str, str] = {"cooperation": "projects across",
                              "incubation": "incubation", "spin_off": "spin-off grants",
                              "training": "training places",
                              "floor_space": "floor space (Pangyo)"}
#: The budget sliders' top: about the whole special-zone programme of 2026 (data/README.md).
PROGRAMME_BUDGET_MAX = 200.0
#: The four costs of coupling, each a submodule that can be switched off: parameter,
#: label.
COSTS: dict[str, str] = {"coordination_cost": "coordination over distance",
                         "limited_attention": "limited attention",
                         "brain_drain": "brain drain to Pangyo",
                         "lock_in": "lock-in of old ties"}

#: The inputs in the sidebar. Ranges and defaults come from :class:`sim.params.Params`;
#: one capability slider per cluster (``capability_daedeok``, ``capability_pangyo``).
MODEL_PARAMS: dict[str, dict[str, Any]] = {
    "coupling": _slider("coupling", "coupling (inter-cluster tie strength)", 0.05),
    **{f"capability_{name.lower()}": _slider(f"capability_{name.lower()}",
                                             f"capability of {name}", 0.05,
                                             _DESCRIBED["capability"]["default"])
       for name in CLUSTER_NAMES},
    "scale": {"type": "SliderFloat", "label": "scale (share of 2018 populations)",
              "value": DEFAULT_SCALE, "min": 0.05, "max": 1.0, "step": 0.05},
    # a slider, not a text field: no input can be invalid (any seed: DashboardModel(rng=...))
    "rng": {"type": "SliderInt", "label": "seed", "value": DEFAULT_SEED, "min": 0,
             "max": MAX_SEED, "step": 1},
    "shared_vision": _switch("shared_vision", "policy 1: shared vision (coupling ramps up)"),
    "cooperation_programme": _switch("cooperation_programme",
                                     "policy 2: wide-area cooperation programme"),
    "open_innovation": _switch("open_innovation", "policy 3: open innovation"),
    **{f"{name}_budget": {"type": "SliderFloat",
                          "label": f"{label}: KRW bn a year",
                          "value": 0.0, "min": 0.0, "max": PROGRAMME_BUDGET_MAX, "step": 5.0}
       for name, label in PROGRAMMES.items()},
    "programme_start": {"type": "SliderInt", "label": "programmes start in",
                        "value": _DESCRIBED["cooperation_start"]["default"],
                        "min": START_YEAR, "max": _DESCRIBED["until_year"]["default"],
                        "step": 1},
    "programme_share_daedeok": {"type": "SliderFloat",
                                "label": "programmes: share spent in Daedeok",
                                "value": 0.5, "min": 0.0, "max": 1.0, "step": 0.1},
    # whom the training places go to (targeting)
    "training_start_ups_only": _switch("training_start_ups_only",
                                       "training places: start-ups only"),
    "training_most_capable_first": _switch("training_most_capable_first",
                                           "training places: most capable first"),
    **{name: _switch(name, f"cost: {label}") for name, label in COSTS.items()},
}


def initial_model() -> DashboardModel:
    """A model built from the inputs' starting values."""
    return DashboardModel(**{name: spec["value"] for name, spec in MODEL_PARAMS.items()})


# --- components: each takes the model and redraws after every step --------------------
# Reading Mesa's update counter subscribes a component to SolaraViz's redraw signal,
# which Step, Play and Reset raise.
@solara.component
def Status(model: ClusterModel) -> None:
    """Quarter, step counter and the scenario of the last four quarters."""
    update_counter.get()
    scenario = model.current_scenario()
    with solara.Column(gap="4px", style={"padding": "8px 8px 0 8px"}):
        solara.Text(f"Quarter {model.quarter if model.steps else '(none yet)'} - "
                    f"step {model.steps} of {model.params.steps}", classes=["step-counter"])
        solara.Text(f"Scenario: {scenario or 'not yet known'}", classes=["scenario-label"],
                    style={"font-weight": "bold", "font-size": "1.2em"})
        if model.history:
            last = model.history[-1]
            synergy = model.paired_synergy()
            solara.Text(
                f"capability index {last['capability_index']:.3f} "
                f"(high from {model.capability_threshold:.3f}); cooperation index "
                f"{last['cooperation_index']:.3f} (high from "
                f"{model.params.cooperation_threshold:.2f}); distinctiveness "
                f"{last['distinctiveness']:.2f}"
                + ("" if synergy is None else
                   f"; paired synergy {synergy:+.1%} (synergy only if positive)"),
                style={"font-size": "0.85em"})
        solara.Text(_inputs_line(model), classes=["run-inputs"],
                    style={"font-size": "0.85em", "color": "#555"})
        if not model.running:
            solara.Text(f"The run has reached {model.quarter}: press Reset to start again.")


def _inputs_line(model: ClusterModel) -> str:
    """The inputs of the run shown (the sliders show theirs only while dragged)."""
    params = model.params
    capability = ", ".join(f"{name} {params.cluster_capability(c):.2f}"
                           for c, name in enumerate(CLUSTER_NAMES))
    policies = [label for name, label in POLICIES.items() if getattr(params, name)]
    costs_off = [label for name, label in COSTS.items() if not getattr(params, name)]
    funded = [f"{label} {getattr(params, f'{name}_budget'):g} bn/yr from "
              f"{getattr(params, f'{name}_start')}"
              + _targeting(params, name)
              for name, label in PROGRAMMES.items() if getattr(params, f"{name}_budget") > 0]
    return (f"This run: coupling {params.coupling:.2f}; capability {capability}; "
            f"scale {params.scale:.2f}; seed {model.seed}; policies: "
            f"{', '.join(policies) or 'none'}; programmes: {', '.join(funded) or 'none'}; "
            f"costs off: {', '.join(costs_off) or 'none'}")


def _targeting(params: Params, name: str) -> str:
    """Whom a programme's units go to, where the inputs say other than the default."""
    if name != "training":
        return ""
    chosen = [text for flag, text in (("training_start_ups_only", "start-ups only"),
                                      ("training_most_capable_first", "most capable first"))
              if getattr(params, flag)]
    return f" ({', '.join(chosen)})" if chosen else ""


def _figure_view(draw: Callable[[ClusterModel], Figure], css_class: str) -> Any:
    """A component showing ``draw(model)`` as a PNG, redrawn only when the model
    moved on (a new quarter or a new model)."""

    @solara.component
    def FigureView(model: ClusterModel) -> None:
        update_counter.get()
        figure = solara.use_memo(lambda: draw(model), dependencies=[model, model.steps])
        with solara.Div(classes=[css_class]):
            solara.FigureMatplotlib(figure, format="png", dpi=RENDER_DPI,
                                    dependencies=[model, model.steps])

    FigureView.__name__ = f"{draw.__name__}_view"
    return FigureView


NetworkView = _figure_view(network_figure, "network-view")
IndicesView = _figure_view(indices_figure, "indices-view")
ScenarioChart = _figure_view(scenario_figure, "scenario-chart")
CapabilityView = _figure_view(capability_figure, "capability-view")
MovesView = _figure_view(moves_figure, "moves-view")


@solara.component
def Overview(model: ClusterModel) -> None:
    """The run's status above the 2x2 scenario chart."""
    with solara.Column(gap="0px"):
        Status(model)
        ScenarioChart(model)


#: Laid out by SolaraViz two to a row: the overview and the network, the indices and
#: capability with the costs of coupling, then the moves.
COMPONENTS = [(Overview, 0), (NetworkView, 0), (IndicesView, 0), (CapabilityView, 0),
              (MovesView, 0)]


def dashboard(model: DashboardModel | None = None) -> Any:
    """The dashboard as a Solara element; in a notebook, the cell's last line shows it.

    ``model`` is the model shown first (default: one from the inputs' starting
    values); Reset replaces it with a new :class:`DashboardModel` built from the
    inputs."""
    if model is not None and not isinstance(model, DashboardModel):
        raise TypeError("dashboard() takes a DashboardModel (a ClusterModel whose Reset "
                        f"can rebuild it from the inputs), got {type(model).__name__}")
    return SolaraViz(model if model is not None else initial_model(), components=COMPONENTS,
                     model_params=MODEL_PARAMS,
                     name="Daedeok and Pangyo: two clusters, loosely coupled?")


@solara.component
def Page() -> None:
    """The page ``solara run`` serves: a fresh model for every browser session."""
    model = solara.use_memo(initial_model, dependencies=[])
    dashboard(model)
