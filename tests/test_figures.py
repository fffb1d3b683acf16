"""Figures of stored results (sim.analyses): files, table contents, determinism, errors,
and figures redrawn from their CSV files.

Small in-process sweeps (scale 0.05, to 2020) build one results directory per analysis
once for the module; hand-made runs tables check the numbers against known answers.
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import math
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from matplotlib import font_manager
from scipy import stats

from sim import analyses
from sim.experiment import registry
from sim.params import Params
from sim.scenarios import SCENARIOS, STAGNATION, classify
from sim.sweep import InProcessExecutor, load, read_results, run_sweep

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "figures"
PUBLICATION = ROOT / "experiments" / "publication"

_HEAD = """[experiment]
name = "{name}"
analysis = "{analysis}"
master_seed = 7
replicates = {replicates}
series = {series}

[fixed]
scale = 0.05
until_year = 2020
{fixed}
[grid]
"""
#: The model takes the coupling schedule of the hysteresis analysis (coupling_after).
HAS_SCHEDULES = "coupling_after" in {f.name for f in dataclasses.fields(Params)}

# key (the experiment file's name; files are read in name order): analysis, replicates,
# series, extra [fixed] lines, grid
_DESIGNS = {
    "phase": ("phase_diagram", 2, "false", "",
              "coupling = [0.0, 0.5]\ncapability = [0.2, 0.8]\n"),
    "response": ("coupling_response", 3, "false", "",
                 "coupling = [0.0, 0.5, 1.0]\ncapability = [0.2, 0.8]\n"),
    "switch": ("hysteresis", 2, "false", "switch_year = 2019\n",
               "capability = [0.5]\ncoupling = [0.1, 0.9]\ncoupling_after = [0.1, 0.9]\n"),
    "trajectories": ("trajectories", 2, "true", "",
                     "coupling = [0.0, 0.6]\ncapability = [0.1, 0.9]\n"),
}
_FIGURES = {"phase": ("phase_diagram", "threshold_sensitivity"),
            "response": ("coupling_response",), "switch": ("hysteresis",),
            "trajectories": ("trajectories",)}
if not HAS_SCHEDULES:  # the hysteresis experiment names parameters the model lacks
    del _DESIGNS["switch"], _FIGURES["switch"]
_NAMES = [name for names in _FIGURES.values() for name in names]


def _files(names) -> list[str]:
    """The files draw() writes for the named figures, in order: each figure's PNG, SVG
    and CSV, then its companion tables' CSV."""
    return [file for name in names
            for file in ([f"{name}.{ext}" for ext in ("png", "svg", "csv")]
                         + [f"{extra}.csv" for extra in registry.COMPANIONS.get(name, ())])]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, Path]:
    """One small results directory per analysis."""
    root = tmp_path_factory.mktemp("results")
    directories = {}
    for key, (analysis, replicates, series, fixed, grid) in _DESIGNS.items():
        toml = root / f"{key}.toml"
        toml.write_text(_HEAD.format(name=key, analysis=analysis, replicates=replicates,
                                     series=series, fixed=fixed) + grid)
        directories[key] = root / key
        run_sweep(load(toml), directories[key], InProcessExecutor(), progress=False)
    return directories


@pytest.fixture(scope="module")
def drawn(results, tmp_path_factory) -> dict[str, tuple[Path, list[Path]]]:
    """The figures of each results directory: output folder and paths returned."""
    root = tmp_path_factory.mktemp("figures")
    return {key: (root / key, analyses.draw(directory, root / key))
            for key, directory in results.items()}


def _csv(drawn, key: str, name: str) -> pd.DataFrame:
    return pd.read_csv(drawn[key][0] / f"{name}.csv")


# --- files --------------------------------------------------------------------------------
@pytest.mark.parametrize("key", list(_FIGURES))
def test_every_figure_is_written_as_png_svg_csv(drawn, key):
    out, paths = drawn[key]
    expected = [out / name for name in _files(_FIGURES[key])]
    assert paths == expected
    for path in expected:
        assert path.is_file() and path.stat().st_size > 0, path
    assert expected[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in expected[1].read_bytes()[:2000]


@pytest.mark.slow
def test_drawing_twice_gives_identical_csv_and_svg(results, drawn, tmp_path):
    for key, directory in results.items():
        again = analyses.draw(directory, tmp_path / key)
        for first, second in zip(drawn[key][1], again, strict=True):
            if first.suffix in (".csv", ".svg"):
                assert first.read_bytes() == second.read_bytes(), first.name


def _panels(layout_noise: float):
    """A figure laid out like the hysteresis figure (subfigures of grids of panels under
    a title), whose layout engine, after it runs, moves every subfigure and panel by
    ``layout_noise`` of its position: the size of the last-bit differences the
    constraint solver gives from one drawing to the next."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 5), layout="constrained")
    for row, subfigure in enumerate(figure.subfigures(2, 1)):
        for column, axes in enumerate(subfigure.subplots(1, 3)):
            axes.plot([0, 1, 2], [row, column, row + column], marker="o")
            axes.set_title(f"panel {row}.{column}")
        subfigure.suptitle(f"row {row}")
    figure.suptitle("panels")
    engine = figure.get_layout_engine()
    solve = engine.execute

    def execute(fig):
        solve(fig)
        for subfigure in fig.subfigs:
            box = subfigure.bbox_relative
            box.set_points(box.get_points() * (1.0 + layout_noise))
        for axes in fig.axes:
            box = axes.get_position(original=True)
            axes.set_position(box.from_extents(*(box.get_points() * (1.0 + layout_noise))
                                               .ravel()), which="both")

    engine.execute = execute
    return figure


def test_a_layout_solved_with_other_last_bits_saves_the_same_svg(tmp_path, monkeypatch):
    """The constraint solver behind matplotlib's layout can end a few units in the last
    place apart from one drawing to the next, and the SVG names each clip path by a hash
    of its exact box: the SVG is written from the layout snapped to a grid."""
    from sim.experiment import style

    table = pd.DataFrame({"x": [1]})
    svg = {noise: style.save_figure(_panels(noise), table, tmp_path / str(noise),
                                    "panels")[1].read_bytes()
           for noise in (0.0, 4e-16, -3e-16)}
    assert svg[0.0] == svg[4e-16] == svg[-3e-16]
    # the noise is enough to change the file when nothing snaps the layout
    monkeypatch.setattr(style, "snap_layout", lambda figure: None)
    unsnapped = [style.save_figure(_panels(noise), table, tmp_path / f"raw{noise}",
                                   "panels")[1].read_bytes() for noise in (0.0, 4e-16)]
    assert unsnapped[0] != unsnapped[1]


def test_snapping_moves_panels_by_less_than_the_grid():
    from sim.experiment import style

    def boxes(figure):
        """Every subfigure's and panel's box, as fresh arrays."""
        return [box.get_points().copy() for box in (
            [subfigure.bbox_relative for subfigure in figure.subfigs]
            + [axes.get_position(original=True) for axes in figure.axes])]

    figure = _panels(0.0)
    figure.draw_without_rendering()  # runs the layout engine
    figure.set_layout_engine("none")
    before = boxes(figure)
    style.snap_layout(figure)
    after = boxes(figure)
    assert len(after) == 2 + 6
    for old, new in zip(before, after, strict=True):
        assert abs(new - old).max() <= style.LAYOUT_GRID / 2 + 1e-15
        steps = new / style.LAYOUT_GRID
        assert abs(steps - steps.round()).max() < 1e-6
    assert any(abs(new - old).max() > 0 for old, new in zip(before, after, strict=True))


# --- phase diagram and thresholds -------------------------------------------------------
def test_phase_diagram_table_has_one_row_per_cell(drawn, results):
    table = _csv(drawn, "phase", "phase_diagram")
    runs = pd.read_parquet(results["phase"] / "runs.parquet")
    assert list(table.columns) == (
        ["coupling", "capability", "n"]
        + [f"share_{s.lower().replace(' ', '_')}" for s in SCENARIOS]
        + ["majority", "certainty", "mean_capability_index", "mean_cooperation_index",
           "mean_distinctiveness"])
    cells = runs[["coupling", "capability"]].drop_duplicates()
    assert len(table) == len(cells) == 4
    assert not table.duplicated(["coupling", "capability"]).any()
    assert table["n"].sum() == len(runs)
    shares = table[[c for c in table.columns if c.startswith("share_")]]
    assert (shares.sum(axis=1) - 1.0).abs().max() < 1e-9
    for row, share in zip(table.itertuples(), shares.itertuples(index=False), strict=True):
        majority_share = getattr(row, f"share_{row.majority.lower().replace(' ', '_')}")
        assert majority_share == max(share) == row.certainty


def test_threshold_table_covers_three_thresholds_three_factors_every_cell(drawn):
    table = _csv(drawn, "phase", "threshold_sensitivity")
    cells = _csv(drawn, "phase", "phase_diagram")
    assert len(table) == 3 * 3 * len(cells)
    assert sorted(table["threshold"].unique()) == sorted(analyses.THRESHOLDS)
    assert sorted(table["factor"].unique()) == [0.75, 1.0, 1.25]
    assert not table.loc[table["factor"] == 1.0, "changed"].any()
    # the baseline reproduces the stored scenarios' majority
    base = table[(table["threshold"] == "capability_threshold") & (table["factor"] == 1.0)]
    assert list(base["majority"]) == list(cells["majority"])


# --- coupling response ----------------------------------------------------------------------
def test_coupling_response_table(drawn):
    table = _csv(drawn, "response", "coupling_response")
    assert len(table) == 2 * 3 and (table["n"] == 3).all()
    assert (table.loc[table["coupling"] == 0.0, "synergy_mean"] == 0.0).all()
    for measure in ("synergy", "cooperation_index", "distinctiveness"):
        assert (table[f"{measure}_low"] <= table[f"{measure}_mean"]).all()
        assert (table[f"{measure}_mean"] <= table[f"{measure}_high"]).all()


def test_coupling_response_needs_coupling_zero(tmp_path):
    runs = _hand_runs([(c, 0.5, r, 100) for c in (0.5, 1.0) for r in (0, 1)])
    _write(tmp_path / "res", "coupling_response", runs)
    with pytest.raises(ValueError, match="coupling 0"):
        analyses.draw(tmp_path / "res", tmp_path / "out", allow_partial=True)


# --- trajectories ----------------------------------------------------------------------------
def test_trajectories_show_one_run_per_scenario_reached(drawn, results):
    table = _csv(drawn, "trajectories", "trajectories")
    runs = pd.read_parquet(results["trajectories"] / "runs.parquet")
    assert list(table.columns[:5]) == ["run_id", "scenario", "coupling", "capability",
                                       "quarter"]
    per_scenario = table.groupby("scenario")["run_id"].nunique()
    assert set(per_scenario.index) == set(runs["scenario"])
    assert (per_scenario == 1).all()
    assert table.groupby("run_id")["quarter"].apply(list).map(
        lambda q: q[0] == "2018Q1" and q[-1] == "2020Q4" and len(q) == 12).all()
    for row in table.drop_duplicates("run_id").itertuples():
        assert runs.set_index("run_id").loc[row.run_id, "scenario"] == row.scenario


def test_trajectories_need_series(tmp_path):
    _write(tmp_path / "res", "trajectories", _hand_runs([(0.0, 0.5, 0, 100)]))
    with pytest.raises(ValueError, match="series = true"):
        analyses.draw(tmp_path / "res", tmp_path / "out", allow_partial=True)


def test_representative_run_is_nearest_the_median_ties_to_smallest_id():
    runs = pd.DataFrame({
        "run_id": ["b", "a", "c", "d", "e"],
        "scenario": [STAGNATION] * 5,
        "capability_index": [0.10, 0.10, 0.05, 0.15, 0.20],
        "cooperation_index": [0.02, 0.02, 0.00, 0.04, 0.09],
    })
    chosen = analyses.representative_runs(runs)
    assert list(chosen["run_id"]) == ["a"]  # a and b sit on the median; a < b


# --- redrawn from the CSV files ----------------------------------------------------------------
@pytest.fixture(scope="module")
def gathered(drawn, tmp_path_factory) -> Path:
    """The CSV files draw() wrote for the small results, in one folder (as in figures/)."""
    folder = tmp_path_factory.mktemp("data")
    for _out, paths in drawn.values():
        for path in paths:
            if path.suffix == ".csv":
                shutil.copyfile(path, folder / path.name)
    return folder


@pytest.fixture(scope="module")
def redrawn(results, gathered, tmp_path_factory) -> tuple[Path, list[Path]]:
    """Every figure of the small results redrawn from its CSV and the experiment files
    (written next to the results directories by the ``results`` fixture)."""
    out = tmp_path_factory.mktemp("redrawn")
    return out, analyses.redraw(gathered, out, results["phase"].parent)


def test_redraw_writes_every_figure(redrawn):
    out, paths = redrawn
    assert sorted(p.name for p in paths) == sorted(_files(_NAMES))
    assert all(p.parent == out and p.stat().st_size > 0 for p in paths)


@pytest.mark.parametrize("name", _NAMES)
def test_redraw_from_csv_gives_the_files_draw_wrote(drawn, redrawn, name):
    """The CSV files hold everything the figure draws: same SVG (and PNG, CSV) bytes."""
    key = next(k for k, names in _FIGURES.items() if name in names)
    for file in _files([name]):
        original = (drawn[key][0] / file).read_bytes()
        assert (redrawn[0] / file).read_bytes() == original, file


def test_phase_diagram_states_what_its_inputs_explain(drawn, gathered, results):
    """The emergence table is drawn into the phase diagram, and read back from its CSV."""
    table = _csv(drawn, "phase", "phase_diagram_emergence")
    runs = pd.read_parquet(results["phase"] / "runs.parquet")
    assert list(table.columns) == ["quantity", "index", "value", "n", "description"]
    rules = table[table["index"] == "scenario"]
    assert (rules["n"] == len(runs)).all()
    accuracy = rules.set_index("quantity")["value"]
    assert 0.0 <= accuracy["fixed_rule_accuracy"] <= accuracy["best_rule_accuracy"] <= 1.0
    context = analyses.read_contexts(gathered, results["phase"].parent)["phase_diagram"]
    cells = analyses.read_table("phase_diagram", gathered / "phase_diagram.csv")
    explained = analyses.read_table("phase_diagram_emergence",
                                    gathered / "phase_diagram_emergence.csv")
    svgs = set()
    for companions in ({}, {"phase_diagram_emergence": explained}):
        buffer = io.BytesIO()
        with matplotlib.rc_context({"svg.hashsalt": "test", "svg.fonttype": "none"}):
            analyses.figure_from_table("phase_diagram", cells, context, companions).savefig(
                buffer, format="svg", metadata={"Date": None})
        svgs.add(buffer.getvalue())
    assert len(svgs) == 2
    assert b"best input-only quadrant rule" in max(svgs, key=len)
    with pytest.raises(ValueError, match="no companion table 'phase_diagram_emergence'"):
        analyses.figure_from_table(
            "threshold_sensitivity",
            analyses.read_table("threshold_sensitivity", gathered / "threshold_sensitivity.csv"),
            context, {"phase_diagram_emergence": explained})


@pytest.mark.skipif(not HAS_SCHEDULES, reason="sim.params.Params has no coupling_after "
                    "field yet: no hysteresis sweep")
def test_hysteresis_sweep_draws_its_table(drawn, results):
    table = _csv(drawn, "switch", "hysteresis")
    runs = pd.read_parquet(results["switch"] / "runs.parquet")
    assert len(table) == 4 and table["n"].sum() == len(runs) == 8
    assert sorted(table["path"]) == ["constant", "constant", "lowered", "raised"]
    assert (table.loc[table["path"] != "constant", "pairs"] == 2).all()


def test_contexts_come_from_the_experiment_files(gathered, results):
    contexts = analyses.read_contexts(gathered, results["phase"].parent)
    assert list(contexts) == _NAMES  # experiment files by name, figures in drawing order
    baseline = contexts["phase_diagram"].thresholds["capability_threshold"]
    assert contexts["coupling_response"] == analyses.FigureContext(
        experiment="response", horizon="2020", runs=2 * 3 * 3,
        thresholds={"capability_threshold": baseline,  # same scale as the phase diagram
                    "cooperation_threshold": (0.1, 0.1),
                    "distinctiveness_threshold": (0.5, 0.5)})


def test_context_is_drawn(gathered, results):
    """Another run count or threshold in the context gives another figure."""
    context = analyses.read_contexts(gathered, results["phase"].parent)["trajectories"]
    table = analyses.read_table("trajectories", gathered / "trajectories.csv")
    variants = [context, dataclasses.replace(context, runs=99),
                dataclasses.replace(context, thresholds={
                    **context.thresholds, "cooperation_threshold": (0.2, 0.2)})]
    svgs = set()
    for variant in variants:
        buffer = io.BytesIO()
        with matplotlib.rc_context({"svg.hashsalt": "test"}):  # ids fixed: bytes comparable
            analyses.figure_from_table("trajectories", table, variant).savefig(
                buffer, format="svg", metadata={"Date": None})
        svgs.add(buffer.getvalue())
    assert len(svgs) == len(variants)


def test_phase_diagram_context_comes_from_the_threshold_table(gathered, results):
    contexts = analyses.read_contexts(gathered, results["phase"].parent)
    runs = pd.read_parquet(results["phase"] / "runs.parquet")
    phase = contexts["phase_diagram"]
    assert phase.experiment == "phase" and phase.horizon == "2020" and phase.runs == len(runs)
    stored = runs["capability_threshold"].iloc[0]
    assert (runs["capability_threshold"] == stored).all()
    assert phase.thresholds["capability_threshold"] == pytest.approx((stored, stored),
                                                                     rel=1e-11)
    # the trajectories run at the phase diagram's scale: its baseline is theirs
    assert contexts["trajectories"].thresholds["capability_threshold"] == (
        phase.thresholds["capability_threshold"])
    assert contexts["trajectories"].runs == 8
    assert contexts["threshold_sensitivity"] == phase


# --- redrawing: bad input ------------------------------------------------------------------------
def _copy(folder: Path, to: Path) -> Path:
    shutil.copytree(folder, to)
    return to


def test_missing_csv_is_named(gathered, results, tmp_path):
    data = _copy(gathered, tmp_path / "data")
    (data / "trajectories.csv").unlink()
    with pytest.raises(ValueError, match=re.escape(str(data / "trajectories.csv"))):
        analyses.redraw(data, tmp_path / "out", results["phase"].parent)
    assert not (tmp_path / "out").exists()  # everything is checked before writing


@pytest.mark.parametrize(("change", "expected"), [
    (lambda t: t.drop(columns="certainty"), "lacks column(s) certainty"),
    (lambda t: t.assign(extra=1), "unexpected column(s) extra"),
    (lambda t: t.assign(n="ten"), "'n'"),
    (lambda t: t.assign(n=t["n"] + 0.5), "'n'"),
    (lambda t: t.assign(majority="Boom"), "'Boom'"),
    (lambda t: t.iloc[:0], "no rows"),
])
def test_wrong_columns_are_named_with_the_file(gathered, results, tmp_path, change,
                                               expected):
    data = _copy(gathered, tmp_path / "data")
    path = data / "phase_diagram.csv"
    change(pd.read_csv(path)).to_csv(path, index=False)
    with pytest.raises(ValueError) as error:
        analyses.redraw(data, tmp_path / "out", results["phase"].parent)
    assert str(path) in str(error.value) and expected in str(error.value)
    with pytest.raises(ValueError, match=re.escape(expected)):
        analyses.read_table("phase_diagram", path)
    assert not (tmp_path / "out").exists()


def test_unreadable_csv_is_named(tmp_path):
    path = tmp_path / "coupling_response.csv"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=re.escape(str(path))):
        analyses.read_table("coupling_response", path)
    path.write_bytes(b"\xff\xfe\x00garbage\n\x00\x01")
    with pytest.raises(ValueError, match=re.escape(str(path))):
        analyses.read_table("coupling_response", path)


def test_threshold_table_without_a_factor_is_refused(gathered, tmp_path):
    table = analyses.read_table("threshold_sensitivity",
                                gathered / "threshold_sensitivity.csv")
    with pytest.raises(ValueError, match="factor 1.25"):
        analyses.figure_from_table("threshold_sensitivity", table[table["factor"] != 1.25])


def test_data_of_another_experiment_are_refused(gathered, results, tmp_path):
    experiments = _copy(results["phase"].parent, tmp_path / "experiments")
    path = experiments / "phase.toml"
    path.write_text(path.read_text().replace("replicates = 2", "replicates = 3"))
    with pytest.raises(ValueError, match=r"phase_diagram\.csv: 8 runs, but the experiment "):
        analyses.read_contexts(gathered, experiments)
    path = experiments / "trajectories.toml"
    path.write_text(path.read_text().replace("master_seed = 7", "master_seed = 8"))
    (experiments / "phase.toml").unlink()
    (experiments / "response.toml").unlink()
    with pytest.raises(ValueError, match=r"trajectories\.csv: run\(s\) .* not runs of"):
        analyses.read_contexts(gathered, experiments)


def test_experiment_folder_problems_are_named(gathered, results, tmp_path):
    with pytest.raises(ValueError, match="no such folder"):
        analyses.redraw(gathered, tmp_path / "out", tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no experiment files"):
        analyses.redraw(gathered, tmp_path / "out", tmp_path / "empty")
    twice = _copy(results["phase"].parent, tmp_path / "twice")
    shutil.copyfile(twice / "phase.toml", twice / "phase_again.toml")
    with pytest.raises(ValueError, match="both draw the phase_diagram figure"):
        analyses.redraw(gathered, tmp_path / "out", twice)
    assert not (tmp_path / "out").exists()


def test_unknown_figure_is_refused(gathered):
    table = pd.read_csv(gathered / "phase_diagram.csv")
    with pytest.raises(ValueError, match="unknown figure 'phase'"):
        analyses.figure_from_table("phase", table)
    with pytest.raises(ValueError, match="unknown figure"):
        analyses.read_table("phase", gathered / "phase_diagram.csv")


def test_a_companion_table_is_not_a_figure(gathered):
    table = analyses.read_table("phase_diagram_emergence",
                                gathered / "phase_diagram_emergence.csv")
    with pytest.raises(ValueError, match="drawn into the phase_diagram figure, not a figure"):
        analyses.figure_from_table("phase_diagram_emergence", table)


# --- the registry ------------------------------------------------------------------------
def test_each_analysis_module_makes_what_the_registry_declares():
    """An analysis's module computes exactly the tables of its figures and companions,
    and draws exactly its figures; every column has a kind the schema knows."""
    from sim.analyses.schema import KINDS

    for entry in registry.REGISTRY.values():
        if not entry.figures:
            assert entry.module is None, entry.name
            continue
        module = importlib.import_module(entry.module)
        companions = [extra for figure in entry.figures for extra in figure.companions]
        assert list(module.TABLES) == [*entry.figure_names, *companions], entry.name
        assert list(module.DRAWERS) == list(entry.figure_names), entry.name
        for name, table in module.TABLES.items():
            assert set(table.columns.values()) <= set(KINDS), name
    names = registry.table_names()
    assert len(names) == len(set(names))  # a table name belongs to one analysis
    for name in analyses.__all__:  # every public name loads
        assert getattr(analyses, name) is not None, name


def test_the_registry_and_the_style_are_light():
    """The design validator reads the registry and the dashboard the style: neither
    loads the analyses (drawing, tables) or the sweep."""
    code = ("import sys, sim.experiment.registry, sim.experiment.style; "
            "print(sorted(m for m in sys.modules if m.startswith('sim.analyses') "
            "or m.startswith('sim.sweep')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"
    code = "import sys, sim.experiment.registry; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    assert done.stdout.strip() == "False"


def test_default_context_uses_the_parameter_defaults():
    context = analyses.FigureContext()
    assert context.horizon == str(Params().until_year) and context.runs is None
    assert context.threshold("cooperation_threshold") == (Params().cooperation_threshold,) * 2
    default = Params().capability_threshold  # None: derived by the model at run time
    assert context.threshold("capability_threshold") == (
        None if default is None else (default, default))


# --- the published figures ---------------------------------------------------------------------
def _publication_figures(source: Path = PUBLICATION) -> dict[Path, tuple[str, ...]]:
    """The figure files each experiment file in ``source`` draws, its figure_prefix
    applied (read without validating it: the model may not take its parameters yet)."""
    figures = {}
    for path in sorted(source.glob("*.toml")):
        head = tomllib.loads(path.read_text())["experiment"]
        analysis = head.get("analysis", "none")
        figures[path] = tuple(registry.file_stem(name, analysis, head.get("figure_prefix", ""))
                              for name in registry.ANALYSES[analysis])
    return figures


def _unpublished(source: Path = PUBLICATION) -> list[str]:
    return [path.name for path, names in _publication_figures(source).items()
            if not all((PUBLISHED / f"{name}.csv").exists() for name in names)]


def _published_experiments(folder: Path,
                           source: Path = PUBLICATION) -> tuple[Path, list[str]]:
    """A copy of the experiment files in ``source`` whose figures are committed, and
    those figures. A file whose figures are not published yet is left out (see
    test_every_publication_experiment_is_published)."""
    folder.mkdir()
    names = []
    unpublished = _unpublished(source)
    for path, drawn in _publication_figures(source).items():
        if path.name not in unpublished:
            shutil.copyfile(path, folder / path.name)
            listed = tomllib.loads(path.read_text()).get("points", {}).get("file")
            if listed:  # a [points] file travels with its experiment file
                shutil.copyfile(path.parent / listed, folder / listed)
            names += drawn
    return folder, names


def test_every_publication_experiment_is_published():
    missing = _unpublished()
    if missing:
        pytest.skip(f"figures of {', '.join(missing)} are not in figures/ yet: run make "
                    "publish (python -m sim reproduce --update) to publish them")


def test_published_figures_pair_with_their_experiments(tmp_path):
    experiments, names = _published_experiments(tmp_path / "experiments")
    contexts = analyses.read_contexts(PUBLISHED, experiments)
    assert sorted(contexts) == sorted(names)
    assert {"phase_diagram", "threshold_sensitivity", "coupling_response",
            "trajectories"} <= set(names)
    owners = {name: path for path, drawn in _publication_figures().items()
              for name in drawn}
    for name, context in contexts.items():
        experiment = load(owners[name])
        assert context.experiment == experiment.name
        assert context.runs == len(experiment.runs())
    phase = pd.read_csv(PUBLISHED / "phase_diagram.csv")
    assert contexts["phase_diagram"].runs == phase["n"].sum()


def test_published_figures_refuse_the_quick_experiments(tmp_path):
    quick, _names = _published_experiments(tmp_path / "quick", ROOT / "experiments" / "quick")
    with pytest.raises(ValueError, match="come from another experiment"):
        analyses.read_contexts(PUBLISHED, quick)


def _stem_files(folder: Path) -> list[str]:
    """The files the experiment files in ``folder`` draw, their figure_prefix applied: each
    figure's PNG, SVG and CSV, then its companion tables' CSV."""
    files = []
    for path in sorted(folder.glob("*.toml")):
        head = tomllib.loads(path.read_text())["experiment"]
        analysis, prefix = head.get("analysis", "none"), head.get("figure_prefix", "")
        for name in registry.ANALYSES[analysis]:
            stem = registry.file_stem(name, analysis, prefix)
            files += [f"{stem}.{ext}" for ext in ("png", "svg", "csv")]
            files += [f"{registry.file_stem(extra, analysis, prefix)}.csv"
                      for extra in registry.COMPANIONS.get(name, ())]
    return files


@pytest.mark.slow
def test_published_figures_redraw_from_their_csv(tmp_path):
    """The committed CSV files rebuild every published figure; with the matplotlib
    version that drew them, byte for byte."""
    experiments, names = _published_experiments(tmp_path / "experiments")
    out = tmp_path / "redrawn"
    paths = analyses.redraw(PUBLISHED, out, experiments)
    # a companion table is redrawn when it is published (figures drawn before it existed
    # are redrawn without it)
    expected = [file for file in _stem_files(experiments) if file.endswith((".png", ".svg"))
                or (PUBLISHED / file).exists()]
    assert sorted(p.name for p in paths) == sorted(expected)
    for file in expected:
        if file.endswith(".csv"):
            assert (out / file).read_bytes() == (PUBLISHED / file).read_bytes(), file
    committed = (PUBLISHED / "phase_diagram.svg").read_text()[:2000]
    version = re.search(r"Matplotlib v([^,<]+)", committed).group(1)
    if version != matplotlib.__version__:
        pytest.skip(f"the published SVG files were drawn by matplotlib {version}, this is "
                    f"{matplotlib.__version__}: their bytes may differ")
    for name in names:
        assert (out / f"{name}.svg").read_bytes() == (
            PUBLISHED / f"{name}.svg").read_bytes(), name


# --- hand-made results: known answers ---------------------------------------------------------
def test_known_majority_certainty_and_threshold_changes(tmp_path):
    """Also: a grid with a single capability value still draws."""
    cells = [
        # (coupling, capability, capability_index, cooperation_index)
        (0.0, 0.2, 0.10, 0.00), (0.0, 0.2, 0.12, 0.05), (0.0, 0.2, 0.12, 0.20),
        (0.5, 0.2, 0.30, 0.20), (0.5, 0.2, 0.10, 0.20),  # tie: first in SCENARIOS order
        (1.0, 0.2, 0.17, 0.30), (1.0, 0.2, 0.17, 0.30),  # 0.17: high only at -25 %
    ]
    runs = _hand_runs([(c, k, r, 100) for r, (c, k, _, _) in enumerate(cells)])
    runs["capability_index"] = [c[2] for c in cells]
    runs["cooperation_index"] = [c[3] for c in cells]
    runs["capability_threshold"] = 0.2  # the stored threshold is the one used
    runs["paired_synergy"] = 0.1  # known for every run: coupling pays
    runs["scenario"] = [classify(a, b, 0.1, capability_threshold=0.2, cooperation_threshold=0.1)
                        for a, b in zip(runs["capability_index"], runs["cooperation_index"],
                                        strict=True)]
    _write(tmp_path / "res", "phase_diagram", runs)
    paths = analyses.draw(tmp_path / "res", tmp_path / "out", allow_partial=True)
    assert [p.name for p in paths] == _files(("phase_diagram", "threshold_sensitivity"))
    assert all(p.stat().st_size > 0 for p in paths)
    table = pd.read_csv(tmp_path / "out" / "phase_diagram.csv").set_index(
        ["coupling", "capability"])
    stagnant = table.loc[(0.0, 0.2)]
    assert stagnant["n"] == 3 and stagnant["majority"] == STAGNATION
    assert stagnant["certainty"] == pytest.approx(2 / 3)
    assert stagnant["share_stagnation"] == pytest.approx(2 / 3)
    assert stagnant["share_hollow_networking"] == pytest.approx(1 / 3)
    assert stagnant["mean_capability_index"] == pytest.approx(0.34 / 3)
    tie = table.loc[(0.5, 0.2)]
    assert tie["majority"] == SCENARIOS[0] and tie["certainty"] == 0.5
    assert len(table) == 3

    moved = pd.read_csv(tmp_path / "out" / "threshold_sensitivity.csv")
    capability = moved[(moved["threshold"] == "capability_threshold")
                       & (moved["coupling"] == 1.0)]
    by_factor = capability.set_index("factor")
    assert by_factor.loc[1.0, "majority"] == "Hollow networking"
    assert by_factor.loc[0.75, "majority"] == "Loosely coupled synergy"
    assert bool(by_factor.loc[0.75, "changed"]) and not by_factor.loc[1.25, "changed"]
    assert by_factor.loc[0.75, "threshold_value"] == pytest.approx(0.15)
    distinct = moved[moved["threshold"] == "distinctiveness_threshold"]
    assert set(distinct["classification"]) == {"coupling type"}


def test_known_synergy_and_t_interval(tmp_path):
    runs = _hand_runs([(0.0, 0.8, 0, 100), (0.0, 0.8, 1, 200),
                       (0.5, 0.8, 0, 120), (0.5, 0.8, 1, 260),
                       (0.0, 0.2, 0, 50), (0.5, 0.2, 0, 40)])  # one replicate: no band
    _write(tmp_path / "res", "coupling_response", runs)
    stored = read_results(tmp_path / "res")[1]
    table = analyses.coupling_response_table(stored).set_index(["capability", "coupling"])
    high = table.loc[(0.8, 0.5)]
    half = stats.t.ppf(0.975, 1) * pd.Series([0.2, 0.3]).std() / math.sqrt(2)
    assert high["n"] == 2 and high["synergy_mean"] == pytest.approx(0.25)
    assert high["synergy_low"] == pytest.approx(0.25 - half)
    assert high["synergy_high"] == pytest.approx(0.25 + half)
    low = table.loc[(0.2, 0.5)]
    assert low["synergy_mean"] == low["synergy_low"] == low["synergy_high"] == -0.2
    assert table.loc[(0.8, 0.0), "synergy_mean"] == 0.0


def test_thresholds_default_to_params_when_not_stored():
    runs = _hand_runs([(0.0, 0.5, 0, 100)]).drop(columns="capability_threshold")
    default = Params().capability_threshold
    if default is None:  # derived by the model at run time: cannot be recovered here
        with pytest.raises(ValueError, match="capability_threshold"):
            analyses.threshold_table(runs)
    else:
        table = analyses.threshold_table(runs)
        base = table[(table["threshold"] == "capability_threshold") & (table["factor"] == 1)]
        assert base["threshold_value"].iloc[0] == pytest.approx(default)
    cooperation = analyses.threshold_table(_hand_runs([(0.0, 0.5, 0, 100)]))
    cooperation = cooperation[(cooperation["threshold"] == "cooperation_threshold")
                              & (cooperation["factor"] == 1.25)]
    assert cooperation["threshold_value"].iloc[0] == pytest.approx(
        1.25 * Params().cooperation_threshold)


def test_analysis_none_draws_nothing(tmp_path):
    _write(tmp_path / "res", "none", _hand_runs([(0.0, 0.5, 0, 100)]))
    assert analyses.draw(tmp_path / "res", tmp_path / "out", allow_partial=True) == []
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# --- helpers -----------------------------------------------------------------------------------
def _hand_runs(rows: list[tuple[float, float, int, int]]) -> pd.DataFrame:
    """A runs table in the stored layout: (coupling, capability, replicate,
    innovations_total) per run; indices put every run in Stagnation unless changed."""
    frame = pd.DataFrame(rows, columns=["coupling", "capability", "replicate",
                                        "innovations_total"])
    frame.insert(0, "run_id", [f"run{i:03d}" for i in range(len(frame))])
    frame.insert(1, "point", frame.groupby(["coupling", "capability"]).ngroup())
    frame.insert(3, "seed", 1000 + frame["replicate"])
    frame["scale"] = 0.05
    frame["until_year"] = 2020
    frame["scenario"] = STAGNATION
    frame["coupling_type"] = "decoupled"
    frame["capability_index"] = 0.1
    frame["cooperation_index"] = 0.0
    frame["distinctiveness"] = 0.9
    frame["innovations_inter"] = 0
    frame["capability_threshold"] = 0.22  # the model stores the threshold in force
    return frame


def _write(directory: Path, analysis: str, runs: pd.DataFrame) -> None:
    """A results directory as sim.sweep.storage writes it (manifest and runs table),
    but of hand-made runs no experiment file designs: drawn with ``allow_partial``."""
    directory.mkdir(parents=True)
    manifest = {"experiment": {"name": "hand-made", "fingerprint": "0" * 64,
                               "analysis": analysis, "file": "experiment.toml"},
                "status": "complete", "runs_total": len(runs), "runs_stored": len(runs)}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    runs.to_parquet(directory / "runs.parquet", index=False)


def test_figures_use_matplotlib_fonts_whatever_the_font_cache_lists_first():
    # a font cache that lists another copy of DejaVu Sans first (as one written by another
    # installation can) must not change the figures' glyphs
    manager = font_manager.fontManager
    shipped = Path(matplotlib.get_data_path(), "fonts", "ttf").resolve()

    def is_shipped(entry) -> bool:
        return Path(entry.fname).resolve().parent == shipped

    if not any(entry.name == "DejaVu Sans" and not is_shipped(entry)
               for entry in manager.ttflist):
        pytest.skip("no other copy of DejaVu Sans on this machine")
    original = manager.ttflist
    manager.ttflist = sorted(original, key=is_shipped)  # matplotlib's own copies last
    manager._findfont_cached.cache_clear()
    try:
        sans = font_manager.FontProperties(family="DejaVu Sans")
        assert Path(manager.findfont(sans)).resolve().parent != shipped  # the trap is set
        analyses.figure_from_table("phase_diagram",
                                   pd.read_csv(PUBLISHED / "phase_diagram.csv"))
        assert Path(manager.findfont(sans)).resolve().parent == shipped
    finally:
        manager.ttflist = original
        manager._findfont_cached.cache_clear()


# --- two experiments of one analysis ------------------------------------------------------
def test_figure_prefix_names_the_files_so_two_experiments_publish_side_by_side(tmp_path):
    """Two coupling-response experiments, one with a figure_prefix: their figures do not
    overwrite each other, and both redraw from the CSV files to the same bytes."""
    grid = "coupling = [0.0, 0.5]\ncapability = [0.5]\n"
    experiments = tmp_path / "experiments"
    experiments.mkdir()
    drawn = tmp_path / "figures"
    for name, prefix in (("coupling_response", ""), ("response_low", "response_low")):
        head = _HEAD.format(name=name, analysis="coupling_response", replicates=2,
                            series="false", fixed="")
        if prefix:  # and another seed: other runs
            head = head.replace("[fixed]", f'figure_prefix = "{prefix}"\n\n[fixed]').replace(
                "master_seed = 7", "master_seed = 8")
        toml = experiments / f"{name}.toml"
        toml.write_text(head + grid)
        run_sweep(load(toml), tmp_path / name, InProcessExecutor(), progress=False)
        manifest = json.loads((tmp_path / name / "manifest.json").read_text())
        assert manifest["experiment"].get("figure_prefix", "") == prefix
        analyses.draw(tmp_path / name, drawn)
    names = sorted(p.name for p in drawn.iterdir())
    assert names == sorted(f"{stem}.{ext}" for stem in ("coupling_response", "response_low")
                           for ext in ("png", "svg", "csv"))
    assert (drawn / "coupling_response.csv").read_bytes() != (
        drawn / "response_low.csv").read_bytes()  # the two experiments' own runs
    redrawn = tmp_path / "redrawn"
    analyses.redraw(drawn, redrawn, experiments)
    for path in drawn.iterdir():
        if path.suffix != ".png":
            assert (redrawn / path.name).read_bytes() == path.read_bytes(), path.name
    # without the prefix the two would draw the same files: refused, naming the cure
    (experiments / "response_low.toml").write_text(
        (experiments / "response_low.toml").read_text().replace(
            'figure_prefix = "response_low"\n', ""))
    with pytest.raises(ValueError, match="both draw the coupling_response figure.*"
                                         "figure_prefix"):
        analyses.redraw(drawn, tmp_path / "again", experiments)


def test_file_stem_puts_the_prefix_in_place_of_the_analysis_name():
    assert registry.file_stem("policy", "policy", "") == "policy"
    assert registry.file_stem("policy", "policy", "policy_dose") == "policy_dose"
    assert registry.file_stem("policy_transitions", "policy", "policy_dose") == (
        "policy_dose_transitions")
    assert registry.file_stem("threshold_sensitivity", "phase_diagram", "smoke") == (
        "smoke_threshold_sensitivity")
    assert registry.file_stem("policyx", "policy", "p") == "p_policyx"


@pytest.mark.parametrize("prefix", ["../x", "a/b", "", " x"])
def test_figure_prefix_must_be_a_plain_name(tmp_path, prefix):
    toml = tmp_path / "e.toml"
    toml.write_text(_HEAD.format(name="e", analysis="coupling_response", replicates=1,
                                 series="false", fixed="").replace(
        "[fixed]", f'figure_prefix = "{prefix}"\n\n[fixed]')
        + "coupling = [0.0, 0.5]\n")
    if prefix == "":  # empty: the analysis's own names
        assert load(toml).figure_prefix == ""
        return
    from sim.experiment.design import ExperimentError
    with pytest.raises(ExperimentError, match="figure_prefix must be a plain name"):
        load(toml)
