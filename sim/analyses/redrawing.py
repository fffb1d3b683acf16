"""Figures redrawn from their CSV files alone, without the runs: the committed
``figures/*.csv`` rebuild the published figures.

A figure's table comes from ``NAME.csv`` (:func:`sim.analyses.read_table`); its context
(experiment name, horizon, number of runs, thresholds) from the experiment file that
made it, and, for the capability threshold the model derives at run time, from the
threshold-sensitivity data. Data that cannot come from their experiment are refused.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.analyses import catalogue
from sim.analyses.context import FigureContext, Span, horizon, span
from sim.analyses.drawing import figure_from_table
from sim.analyses.labels import THRESHOLDS, thresholds
from sim.analyses.schema import read_table
from sim.analyses.tables import with_inputs
from sim.experiment import registry
from sim.experiment.design import Experiment, load
from sim.experiment.style import save_figure

__all__ = ["read_contexts", "redraw"]


def read_contexts(figures_dir: str | Path,
                  experiments_dir: str | Path) -> dict[str, FigureContext]:
    """The context of every figure the experiment files (``*.toml``) in
    ``experiments_dir`` draw, by figure name, with the figures' data in ``figures_dir``.

    Each experiment file gives its figures' experiment name, horizon, number of runs and
    the thresholds it sets (the :class:`sim.params.Params` defaults otherwise). The data
    give the capability threshold, which the model derives at run time from the scale
    unless it is set: the phase-diagram figure takes its thresholds from the baseline
    rows (factor 1.0) of ``threshold_sensitivity.csv``, and the other experiments take
    the capability threshold found there when they run at the same scale (it is unknown
    for them otherwise, and their threshold line is left out).

    Raises ``ValueError`` naming the file at fault when a file is missing or malformed,
    when two experiments draw the same figure, or when a figure's data do not come from
    its experiment (another number of runs, run ids the experiment does not make).
    """
    return {stem: context
            for _name, stem, _table, context, _extra, _experiment in _load(figures_dir,
                                                                           experiments_dir)}


def redraw(figures_dir: str | Path, out_dir: str | Path,
           experiments_dir: str | Path) -> list[Path]:
    """Draw figures again from their data alone, without the runs.

    For every figure the experiment files in ``experiments_dir`` draw, its table
    ``figures_dir/NAME.csv`` (:func:`sim.analyses.read_table`) and its context
    (:func:`read_contexts`) give ``out_dir/NAME.png``, ``NAME.svg`` and ``NAME.csv``,
    exactly as :func:`sim.analyses.draw` writes them from the runs. Its companion
    tables (:data:`sim.experiment.registry.COMPANIONS`) are read from ``figures_dir`` too
    and written again next to it; a companion not found there is left out of the figure
    (figures published before the companion existed are redrawn as they were). With
    ``figures`` and ``experiments/publication`` this rebuilds the published figures.

    Every input is read and checked before anything is written. Returns the paths
    written. Raises ``ValueError`` naming the file at fault (see :func:`read_table` and
    :func:`read_contexts`).
    """
    loaded = _load(figures_dir, experiments_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, stem, table, context, companions, experiment in loaded:
        written += save_figure(figure_from_table(name, table, context, companions), table,
                               out, stem, {_stem(extra, experiment): companion
                                           for extra, companion in companions.items()})
    return written


def _load(figures_dir: str | Path, experiments_dir: str | Path,
          ) -> list[tuple[str, str, pd.DataFrame, FigureContext, dict[str, pd.DataFrame],
                          Experiment]]:
    """Every figure the experiment files draw: its name, file name, table (read from
    ``figures_dir``), context, the companion tables found (by table name) and its
    experiment, checked against each other."""
    figures_dir, experiments_dir = Path(figures_dir), Path(experiments_dir)
    experiments = _experiment_files(experiments_dir)
    owners: dict[str, Path] = {}
    for path, experiment in experiments:
        for name in registry.analysis(experiment.analysis).figure_names:
            stem = _stem(name, experiment)
            if stem in owners:
                raise ValueError(f"{owners[stem]} and {path} both draw the {stem} figure; "
                                 f"keep one of them in {experiments_dir}, or give one a "
                                 "[experiment] figure_prefix")
            owners[stem] = path
    if not owners:
        raise ValueError(f"the experiment files in {experiments_dir} draw no figure "
                         "(every analysis is 'none')")
    tables: dict[str, pd.DataFrame] = {}
    companions: dict[str, dict[str, pd.DataFrame]] = {}
    for _path, experiment in experiments:
        for name in registry.analysis(experiment.analysis).figure_names:
            stem = _stem(name, experiment)
            tables[stem] = read_table(name, figures_dir / f"{stem}.csv")
            companions[stem] = {
                extra: read_table(extra, figures_dir / f"{_stem(extra, experiment)}.csv")
                for extra in registry.owner(name)[1].companions
                if (figures_dir / f"{_stem(extra, experiment)}.csv").exists()}
    baseline = _baseline(experiments, tables)
    loaded = []
    for path, experiment in experiments:
        specs = pd.DataFrame([spec.parameters for spec in experiment.runs()])
        if experiment.analysis == "phase_diagram":
            base = tables[_stem("threshold_sensitivity", experiment)]
            base = base[base["factor"] == 1.0]
            spans = {name: span(base.loc[base["threshold"] == name, "threshold_value"])
                     for name in THRESHOLDS}
        else:
            spans = _experiment_thresholds(specs, baseline)
        context = FigureContext(experiment=experiment.name, horizon=horizon(specs),
                                runs=len(specs), thresholds=spans)
        for name in registry.analysis(experiment.analysis).figure_names:
            stem = _stem(name, experiment)
            _check_origin(name, tables[stem], experiment, figures_dir / f"{stem}.csv", path)
            for extra, extra_table in companions[stem].items():
                _check_origin(extra, extra_table, experiment,
                              figures_dir / f"{_stem(extra, experiment)}.csv", path)
            loaded.append((name, stem, tables[stem], context, companions[stem],
                           experiment))
    return loaded


def _stem(name: str, experiment: Experiment) -> str:
    """The file name of an experiment's table ``name`` (its figure_prefix applied)."""
    return registry.file_stem(name, experiment.analysis, experiment.figure_prefix)


def _experiment_files(directory: Path) -> list[tuple[Path, Experiment]]:
    if not directory.is_dir():
        raise ValueError(f"{directory}: no such folder of experiment files (give "
                         "--experiments DIR: experiments/publication in a checkout or "
                         "source archive of the project)")
    paths = sorted(directory.glob("*.toml"))
    if not paths:
        raise ValueError(f"no experiment files (*.toml) in {directory}")
    return [(path, load(path)) for path in paths]  # ExperimentError names the file


def _baseline(experiments: list[tuple[Path, Experiment]],
              tables: dict[str, pd.DataFrame]) -> tuple[float, float] | None:
    """(scale, capability threshold) read from the threshold-sensitivity data, when its
    experiment runs at one scale and leaves the threshold to the model's 2018 baseline;
    None otherwise."""
    for _path, experiment in experiments:
        if experiment.analysis != "phase_diagram":
            continue
        specs = pd.DataFrame([spec.parameters for spec in experiment.runs()])
        scales = with_inputs(specs, ("scale",))["scale"].astype(float).unique()
        if "capability_threshold" in specs.columns or len(scales) != 1:
            return None
        table = tables[_stem("threshold_sensitivity", experiment)]
        values = table.loc[(table["threshold"] == "capability_threshold")
                           & (table["factor"] == 1.0), "threshold_value"].unique()
        return (float(scales[0]), float(values[0])) if len(values) == 1 else None
    return None


def _experiment_thresholds(specs: pd.DataFrame,
                           baseline: tuple[float, float] | None) -> dict[str, Span | None]:
    """Each threshold's span over an experiment's runs (one row of parameters per run):
    the value set, else the default, else (capability) the baseline at the run's scale."""
    limits = thresholds(specs)
    if baseline is not None:
        scale = with_inputs(specs, ("scale",))["scale"].astype(float)
        unset = limits["capability_threshold"].isna() & (scale == baseline[0])
        limits.loc[unset, "capability_threshold"] = baseline[1]
    return {name: span(limits[name]) for name in THRESHOLDS}


def _check_origin(name: str, table: pd.DataFrame, experiment: Experiment, csv: Path,
                  source: Path) -> None:
    """Refuse data that cannot come from the experiment: a figure redrawn with another
    experiment's name, horizon and run count would be mislabelled."""
    runs = len(experiment.runs())
    count = catalogue.table(name).runs
    if count is not None:
        counts = count(table)
    else:  # the table names its runs
        unknown = sorted(set(table["run_id"]) - {spec.run_id for spec in experiment.runs()})
        if unknown:
            raise ValueError(f"{csv}: run(s) {', '.join(unknown)} are not runs of the "
                             f"experiment {source}; the data come from another experiment")
        return
    if len(counts) != 1 or int(counts[0]) != runs:
        found = "-".join(str(int(c)) for c in sorted(counts))
        raise ValueError(f"{csv}: {found} runs, but the experiment {source} makes {runs}; "
                         "the data come from another experiment")



