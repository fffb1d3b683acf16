"""The dashboard in-process: its pictures, its layout, its inputs, and the Solara page
rendered without a browser (Step advances the model; Reset rebuilds it from the
inputs). The real-browser test is tests/test_browser.py."""

from __future__ import annotations

import io
import stat
import tarfile
from pathlib import Path

import numpy as np
import pytest

solara = pytest.importorskip("solara")
v = pytest.importorskip("ipyvuetify")
widgets = pytest.importorskip("ipywidgets")

from matplotlib.text import Text  # noqa: E402

from sim.calibration import CLUSTER_NAMES  # noqa: E402
from sim.dashboard import assets  # noqa: E402
from sim.dashboard.__main__ import serve_command  # noqa: E402
from sim.dashboard.app import (  # noqa: E402
    COSTS,
    MODEL_PARAMS,
    PROGRAMMES,
    DashboardModel,
    Page,
    _inputs_line,
    dashboard,
    initial_model,
)
from sim.dashboard.layout import CLUSTER_CENTRES, node_positions  # noqa: E402
from sim.dashboard.plots import (  # noqa: E402
    NETWORK_MIN_WEIGHT,
    RENDER_DPI,
    capability_figure,
    cluster_series,
    indices_figure,
    moves_figure,
    network_figure,
    scenario_figure,
)
from sim.model import ClusterModel  # noqa: E402
from sim.params import PROGRAMME_NAMES, ParameterError, Params  # noqa: E402
from sim.population import AGENCY, INSTITUTE, UNIVERSITY, VENTURE  # noqa: E402
from sim.scenarios import SCENARIOS  # noqa: E402


# --- layout ------------------------------------------------------------------------------
def test_positions_are_fixed_and_inside_their_cluster_and_ring() -> None:
    model = ClusterModel(scale=0.1, coupling=0.5, rng=3)
    pop = model.population
    rows = np.flatnonzero(pop.active())
    before = node_positions(pop, rows)
    cluster_before = pop.cluster[rows].copy()
    for _ in range(6):
        model.step()
    kept = pop.active()[rows] & (pop.cluster[rows] == cluster_before)  # not relocated
    assert kept.sum() > 0.5 * len(rows)
    np.testing.assert_array_equal(node_positions(pop, rows[kept]), before[kept])

    rows = np.flatnonzero(pop.active())
    xy = node_positions(pop, rows)
    offset = xy - CLUSTER_CENTRES[pop.cluster[rows]]
    radius = np.hypot(offset[:, 0], offset[:, 1])
    assert np.all(radius <= 1.0 + 1e-12)
    assert np.all(xy[pop.cluster[rows] == 0, 0] < 0) and np.all(xy[pop.cluster[rows] == 1, 0] > 0)
    kind = pop.kind[rows]
    assert radius[kind == INSTITUTE].max() <= radius[kind == VENTURE].min()
    assert radius[kind == UNIVERSITY].max() <= radius[kind == VENTURE].min()


def test_positions_spread_over_the_ring() -> None:
    model = ClusterModel(scale=1.0, rng=0, until_year=2018)
    pop = model.population
    ventures = np.flatnonzero((pop.kind == VENTURE) & (pop.cluster == 0))
    angle = np.arctan2(*(node_positions(pop, ventures) - CLUSTER_CENTRES[0]).T[::-1])
    counts, _ = np.histogram(angle, bins=8, range=(-np.pi, np.pi))
    assert counts.min() > 0.7 * counts.mean()  # no empty or crowded sector


# --- pictures ----------------------------------------------------------------------------
FIGURES = (network_figure, indices_figure, scenario_figure, capability_figure, moves_figure)


def test_drawing_does_not_change_the_run() -> None:
    drawn = ClusterModel(scale=0.1, coupling=0.4, rng=5)
    plain = ClusterModel(scale=0.1, coupling=0.4, rng=5)
    for _ in range(6):
        drawn.step()
        plain.step()
        for draw in FIGURES:
            draw(drawn)
    assert drawn.history == plain.history


def test_network_figure_draws_every_agent_strong_ties_and_all_crossing_ones() -> None:
    model = ClusterModel(scale=0.1, coupling=0.6, rng=2)
    for _ in range(4):
        model.step()
    figure = network_figure(model)
    ax = figure.axes[0]
    intra, inter = ax.collections[:2]
    a, b = model.ties.ends
    weights = model.ties.weights
    crossing = model.population.cluster[a] != model.population.cluster[b]
    strong = ~crossing & (weights >= NETWORK_MIN_WEIGHT)
    assert len(inter.get_segments()) == crossing.sum() > 0
    assert len(intra.get_segments()) == strong.sum() > 0
    assert strong.sum() < (~crossing).sum()  # weak ties within are left out
    # stronger ties are drawn thicker and more opaque, the strongest last (on top)
    widths = inter.get_linewidths()
    assert np.all(np.diff(widths) >= 0) and widths[-1] > widths[0]
    alphas = inter.get_edgecolors()[:, 3]
    assert np.all(np.diff(alphas) >= 0)
    np.testing.assert_allclose(sorted(widths), sorted(0.3 + 2.2 * weights[crossing]))
    points = sum(len(c.get_offsets()) for c in ax.collections[2:])
    pop = model.population
    assert points == int(pop.active().sum())
    assert not np.any((pop.kind == AGENCY) & pop.active())  # agencies are never nodes
    assert "2018Q4" in ax.get_title()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"tie across ({int(crossing.sum())})" in legend
    assert any(f"({int(strong.sum())} of {int((~crossing).sum())})" in t for t in legend)


def test_pictures_before_the_first_step() -> None:
    model = ClusterModel(scale=0.1, rng=1)
    assert model.current_scenario() is None
    assert "no quarter simulated yet" in scenario_figure(model).axes[0].get_title()
    assert all(not ax.lines for ax in indices_figure(model).axes[:1])
    assert all(not ax.lines for ax in capability_figure(model).axes)
    assert all(not ax.lines or not len(ax.lines[0].get_xdata())
               for ax in moves_figure(model).axes)
    assert "before the first quarter" in network_figure(model).axes[0].get_title()


def test_current_scenario_is_the_final_year_rule() -> None:
    model = ClusterModel(scale=0.1, coupling=0.3, capability=0.7, rng=1, until_year=2020)
    model.run_model()
    assert model.current_scenario() == model.summary()["scenario"]
    figure = scenario_figure(model)
    assert figure.axes[0].get_title() == f"2020Q4: {model.summary()['scenario']}"


def test_indices_figure_plots_one_point_per_quarter() -> None:
    model = ClusterModel(scale=0.1, rng=1)
    for _ in range(5):
        model.step()
    innovations = indices_figure(model).axes[0].lines[0]
    assert list(innovations.get_ydata()) == [r["innovations"] for r in model.history]


def test_capability_figure_draws_one_line_per_cluster_from_the_history() -> None:
    model = ClusterModel(scale=0.1, coupling=0.5, rng=1)
    for _ in range(6):
        model.step()
    stock, coordination, crowded, drained = capability_figure(model).axes
    assert [line.get_label() for line in stock.lines] == list(CLUSTER_NAMES)
    for c, (line, name) in enumerate(zip(stock.lines, CLUSTER_NAMES, strict=True)):
        expected = [r[f"capability_stock_{name.lower()}"] for r in model.history]
        assert list(line.get_ydata()) == expected
        np.testing.assert_array_equal(cluster_series(model.history, "capability_stock")[:, c],
                                      expected)
    assert list(coordination.lines[0].get_ydata()) == [
        r["coordination_loss"] for r in model.history]
    assert list(crowded.lines[0].get_ydata()) == [r["crowded_out"] for r in model.history]
    assert list(crowded.lines[1].get_ydata()) == [
        r["crowded_out_home"] for r in model.history]
    assert list(drained.lines[0].get_ydata()) == [r["talent_drained"] for r in model.history]
    assert "(off)" not in drained.get_title()


def test_capability_figure_marks_costs_switched_off() -> None:
    model = ClusterModel(scale=0.05, coupling=0.5, rng=1, brain_drain=False,
                         coordination_cost=False)
    for _ in range(3):
        model.step()
    _, coordination, crowded, drained = capability_figure(model).axes
    assert coordination.get_title().endswith("(off)")
    assert drained.get_title().endswith("(off)")
    assert not crowded.get_title().endswith("(off)")
    assert set(drained.lines[0].get_ydata()) == {0.0}
    assert set(coordination.lines[0].get_ydata()) == {0.0}


def test_moves_figure_counts_relocations_by_direction_and_entries_and_exits() -> None:
    # the cooperation programme at full coupling makes relocations frequent
    model = ClusterModel(scale=0.1, coupling=1.0, rng=2, cooperation_programme=True,
                         relocation_rate=0.5, until_year=2020)
    model.run_model()
    relocations, *panels = moves_figure(model).axes
    assert len(panels) == len(CLUSTER_NAMES)
    assert [line.get_label() for line in relocations.lines] == [
        f"to {name}" for name in CLUSTER_NAMES]
    arrivals = cluster_series(model.history, "relocations_to")
    for c, line in enumerate(relocations.lines):
        np.testing.assert_array_equal(line.get_ydata(), np.cumsum(arrivals[:, c]))
    assert arrivals.sum() == model.totals["relocations"] > 0
    for ax, name in zip(panels, CLUSTER_NAMES, strict=True):
        entries, exits = ax.lines
        assert entries.get_ydata()[-1] == sum(r[f"entries_{name.lower()}"]
                                              for r in model.history)
        assert exits.get_ydata()[-1] == sum(r[f"exits_{name.lower()}"]
                                            for r in model.history)
        assert name in ax.get_title()


def _smallest_text_px(figure) -> tuple[float, str]:
    """The smallest font size of any visible text in ``figure`` once drawn at the
    dashboard's resolution, in pixels, and that text."""
    figure.savefig(io.BytesIO(), format="png", dpi=RENDER_DPI)  # lays out tick labels
    texts = [t for t in figure.findobj(Text) if t.get_visible() and t.get_text().strip()]
    # tick labels outside the axes' view are not drawn
    smallest = min(texts, key=lambda t: t.get_fontsize())
    return smallest.get_fontsize() * RENDER_DPI / 72, smallest.get_text()


@pytest.mark.parametrize("draw", FIGURES, ids=[f.__name__ for f in FIGURES])
def test_every_text_is_at_least_10_px_at_the_rendered_size(draw) -> None:
    model = ClusterModel(scale=0.1, coupling=0.4, rng=1, until_year=2019)
    model.run_model()
    figure = draw(model)
    size, text = _smallest_text_px(figure)
    assert size >= 10, f"{text!r} is {size:.1f} px"
    ticks = [label for ax in figure.axes for label in
             (*ax.get_xticklabels(), *ax.get_yticklabels()) if label.get_text()]
    assert all(label.get_fontsize() * RENDER_DPI / 72 >= 10 for label in ticks)
    assert figure.get_figwidth() * RENDER_DPI <= 473  # the dashboard's cell: no shrinking


# --- inputs ------------------------------------------------------------------------------
def test_inputs_are_model_parameters_with_valid_ranges() -> None:
    described = Params.describe()
    for name, spec in MODEL_PARAMS.items():
        # the seed, and one start year and one share for every funded programme
        assert name in described or name in DASHBOARD_INPUTS, name
        if spec["type"].startswith("Slider"):
            assert spec["min"] <= spec["value"] <= spec["max"]
    assert {"coupling", "capability_daedeok", "capability_pangyo", "scale", "rng",
            "shared_vision", "cooperation_programme", "open_innovation",
            "coordination_cost", "limited_attention", "brain_drain", "lock_in"} <= set(
        MODEL_PARAMS)
    for name in COSTS:  # the four costs of coupling: switches, on by default as in Params
        assert MODEL_PARAMS[name]["type"] == "Checkbox"
        assert MODEL_PARAMS[name]["value"] is described[name]["default"] is True
    model = initial_model()
    assert model.params.scale == MODEL_PARAMS["scale"]["value"]
    assert model.seed == MODEL_PARAMS["rng"]["value"]


DASHBOARD_INPUTS = ("rng", "programme_start", "programme_share_daedeok")


def test_programme_sliders_reach_the_model_with_their_start_and_share() -> None:
    assert tuple(PROGRAMMES) == PROGRAMME_NAMES
    inputs = {name: spec["value"] for name, spec in MODEL_PARAMS.items()}
    model = DashboardModel(**{**inputs, "scale": 0.05, "training_budget": 20.0,
                              "floor_space_budget": 10.0, "programme_start": 2019,
                              "programme_share_daedeok": 0.8})
    assert model.params.training_budget == 20.0
    assert model.params.training_start == 2019
    assert model.params.training_share_daedeok == 0.8
    # Daedeok has no capacity limit: its floor space would buy nothing, so none goes there
    assert model.params.floor_space_share_daedeok == 0.0
    assert model.params.floor_space_start == 2019
    # unfunded programmes keep their own inputs
    assert model.params.cooperation_start == Params.describe()["cooperation_start"]["default"]
    assert "training places 20 bn/yr from 2019" in _inputs_line(model)


@pytest.mark.parametrize("seed", [-3, True])
def test_bad_seed_is_refused_by_name(seed: object) -> None:
    with pytest.raises(ParameterError, match="the seed"):
        DashboardModel(rng=seed, scale=0.05)


def test_no_input_can_be_invalid() -> None:
    # every input is a bounded slider or a switch: Reset can always build a model
    for name, spec in MODEL_PARAMS.items():
        assert spec["type"] in ("SliderFloat", "SliderInt", "Checkbox"), name
    lowest = {n: s["min"] if "min" in s else False for n, s in MODEL_PARAMS.items()}
    highest = {n: s["max"] if "max" in s else True for n, s in MODEL_PARAMS.items()}
    for corner in (lowest, highest):
        DashboardModel(**{**corner, "scale": 0.05}).step()


@pytest.mark.parametrize("cost", list(COSTS))
def test_each_cost_switch_reaches_the_model(cost: str) -> None:
    inputs = {name: spec["value"] for name, spec in MODEL_PARAMS.items()}
    model = DashboardModel(**{**inputs, cost: False, "scale": 0.05})
    assert getattr(model.params, cost) is False
    assert all(getattr(model.params, other) is True for other in COSTS if other != cost)
    assert model.params.cluster_capability(0) == inputs["capability_daedeok"]


def test_dashboard_model_equals_cluster_model_with_that_seed() -> None:
    shown = DashboardModel(rng=4, scale=0.05, coupling=0.5)
    plain = ClusterModel(rng=4, scale=0.05, coupling=0.5)
    shown.run_model()
    plain.run_model()
    assert shown.summary() == plain.summary()


def test_dashboard_refuses_a_model_reset_cannot_rebuild() -> None:
    with pytest.raises(TypeError, match="DashboardModel"):
        dashboard(ClusterModel(scale=0.05))


# --- the page, rendered in-process -------------------------------------------------------
@pytest.fixture
def page():
    """The served page inside an app layout (which shows the sidebar's controls)."""

    @solara.component
    def App():
        with solara.AppLayout():
            Page()

    box, rendered = solara.render(App(), handle_error=False)
    yield rendered
    rendered.close()


def _text(rendered, css_class: str) -> str:
    found = rendered.find(v.Html, class_=css_class)
    found.assert_single()
    return found.widget.children[0]


def _png(rendered, css_class: str) -> bytes:
    found = rendered.find(v.Html, class_=css_class).find(widgets.Image)
    found.assert_single()
    return bytes(found.widget.value)


def _button(rendered, label: str):
    found = rendered.find(v.Btn, children=[label])
    found.assert_single()
    return found.widget


VIEWS = ("network-view", "indices-view", "scenario-chart", "capability-view", "moves-view")


def test_page_renders_controls_pictures_and_status(page) -> None:
    for label in ("Reset", "Step"):
        _button(page, label)
    assert _text(page, "step-counter").endswith("step 0 of 52")
    assert _text(page, "scenario-label") == "Scenario: not yet known"
    assert _text(page, "run-inputs") == (
        "This run: coupling 0.20; capability Daedeok 0.50, Pangyo 0.50; scale 0.25; "
        "seed 1; policies: none; programmes: none; costs off: none")
    for view in VIEWS:
        assert _png(page, view).startswith(b"\x89PNG")


def test_step_advances_the_model_and_redraws(page) -> None:
    network_before = _png(page, "network-view")
    step = _button(page, "Step")
    for quarter in ("2018Q1", "2018Q2", "2018Q3"):
        step.click()
        assert _text(page, "step-counter").startswith(f"Quarter {quarter}")
    assert _text(page, "step-counter").endswith("step 3 of 52")
    scenario = _text(page, "scenario-label").removeprefix("Scenario: ")
    assert scenario in SCENARIOS
    assert _png(page, "network-view") != network_before


def test_cost_switches_reach_the_model_on_reset(page) -> None:
    for name in ("brain_drain", "lock_in"):
        switch = page.find(v.Checkbox, label=MODEL_PARAMS[name]["label"])
        switch.assert_single()
        assert switch.widget.v_model is True
        switch.widget.v_model = False
    capability_before = _png(page, "capability-view")
    _button(page, "Reset").click()
    assert _text(page, "run-inputs").endswith(
        "costs off: brain drain to Pangyo, lock-in of old ties")
    _button(page, "Step").click()
    assert _png(page, "capability-view") != capability_before


def test_reset_rebuilds_the_model_from_the_inputs(page) -> None:
    _button(page, "Step").click()
    coupling = page.find(v.Slider, label=MODEL_PARAMS["coupling"]["label"])
    coupling.assert_single()
    coupling.widget.v_model = 0.0
    programme = page.find(v.Checkbox, label=MODEL_PARAMS["cooperation_programme"]["label"])
    programme.assert_single()
    programme.widget.v_model = True
    _button(page, "Reset").click()
    assert _text(page, "step-counter").endswith("step 0 of 52")
    assert _text(page, "run-inputs").startswith("This run: coupling 0.00;")
    assert _text(page, "run-inputs").endswith(
        "policies: cooperation programme; programmes: none; costs off: none")
    for _ in range(4):
        _button(page, "Step").click()
    # with coupling 0 nothing crosses: the cooperation index is exactly zero
    status = page.find(v.Html, tag="span").widgets
    assert any("cooperation index 0.000 " in str(w.children) for w in status)


def test_the_seed_slider_reaches_the_model_on_reset(page) -> None:
    # the slider is the model's own keyword, rng: Reset must hand it to the model, not
    # to Mesa's scenario
    seed = page.find(v.Slider, label=MODEL_PARAMS["rng"]["label"])
    seed.assert_single()
    seed.widget.v_model = 7
    _button(page, "Reset").click()
    assert "; seed 7;" in _text(page, "run-inputs")


# --- offline assets and launcher ---------------------------------------------------------
def test_required_assets_include_the_page_shell_and_the_grid() -> None:
    packages = assets.required_packages()
    names = {package.rsplit("@", 1)[0] for package in packages}
    assert {"@widgetti/solara-vuetify-app", "@widgetti/vue-grid-layout", "requirejs",
            "font-awesome"} <= names
    assert all("@" in package[1:] for package in packages)  # every one pinned


def _fake_npm(tmp_path: Path, fail: bool = False) -> str:
    """An ``npm`` that 'packs' each requested package as a tarball of package.json."""
    script = tmp_path / "npm"
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import io, sys, tarfile\n"
        f"if {fail!r}:\n    print('npm error 404 Not Found', file=sys.stderr); sys.exit(1)\n"
        "args = sys.argv[1:]\n"
        "dest = args[args.index('--pack-destination') + 1]\n"
        "for package in [a for a in args if '@' in a[1:]]:\n"
        "    name = package.replace('@', '').replace('/', '-') + '.tgz'\n"
        "    with tarfile.open(f'{dest}/{name}', 'w:gz') as tar:\n"
        "        body = ('{\"name\": \"%s\"}' % package).encode()\n"
        "        info = tarfile.TarInfo('package/package.json'); info.size = len(body)\n"
        "        tar.addfile(info, io.BytesIO(body))\n"
        "    print(name)\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_cache_assets_unpacks_each_package_where_solara_looks(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fetched = assets.cache_assets(cache, npm=_fake_npm(tmp_path))
    assert fetched == assets.required_packages()
    for package in fetched:
        assert (cache / package / "package.json").is_file()
    assert assets.missing_packages(cache) == []
    assert assets.cache_assets(cache, npm="no-such-npm") == []  # complete: npm not needed
    assert not list(cache.glob(".fetch-*"))  # scratch space removed


def test_cache_assets_failure_is_one_message_and_leaves_no_package(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(RuntimeError, match="npm pack failed .*404 Not Found"):
        assets.cache_assets(cache, npm=_fake_npm(tmp_path, fail=True))
    assert assets.missing_packages(cache) == assets.required_packages()
    with pytest.raises(RuntimeError, match="'no-such-npm' not found"):
        assets.cache_assets(cache, npm="no-such-npm")


def test_unpacking_refuses_paths_outside_the_package(tmp_path: Path) -> None:
    evil = tmp_path / "evil.tgz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("../../outside.txt")
        tar.addfile(info)
    with tarfile.open(evil) as tar, pytest.raises(tarfile.OutsideDestinationError):
        tar.extractall(tmp_path / "x", filter="data")  # the filter cache_assets uses


def test_launcher_serves_offline_on_loopback(tmp_path: Path) -> None:
    env = assets.offline_environment(tmp_path)
    assert env["SOLARA_ASSETS_PROXY_CACHE_DIR"] == str(tmp_path)
    assert env["SOLARA_ASSETS_CDN"].startswith("http://127.0.0.1:")
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false"
    command = serve_command("127.0.0.1", 8765)
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert "sim.dashboard.app" in command and "--production" in command


def test_env_prints_the_offline_settings_for_a_complete_cache(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    assets.cache_assets(cache, npm=_fake_npm(tmp_path))
    assert assets.main(["--cache", str(cache), "--env"]) == 0
    out, err = capsys.readouterr()
    settings = dict(line.split("=", 1) for line in out.splitlines())
    assert settings == assets.offline_environment(cache.resolve())
    assert "all in" in err
