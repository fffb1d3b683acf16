"""What a finished calibration says: posterior, validation table, figures.

Tables first (each figure is drawn from its table, and the tables are what
``python -m sim reproduce`` compares), then the figures:

* ``calibration_posterior``: each calibrated parameter's prior range, posterior median
  and 90% interval (weighted quantiles of the last generation), and the sampler's
  record: generations, runs, final tolerance, effective sample size at the last cut, the
  last generation's distinct particles and its moves' acceptance rate;
* ``calibration_targets``: every target, fitted or held out, with the observation, its
  stated range and the posterior predictive median and 90% band; ``inside`` says
  whether the observation lies in the band. A target the model misses is reported as a
  miss, not dropped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.experiment.design import ExperimentError
from sim.inference.problem import Calibration, load
from sim.inference.run import (
    GENERATIONS,
    MANIFEST,
    POSTERIOR,
    PREDICTIVE,
    SCREENING,
    weighted_quantile,
)

#: The figures a calibration directory draws, each with the table it is drawn from (the
#: screening's only where the directory holds one).
FIGURES: tuple[str, ...] = ("calibration_screening", "calibration_posterior",
                            "calibration_targets")
BAND = (0.05, 0.95)
IDENTIFIED = 0.5
"""A parameter counts as identified by the targets when its posterior's 90% interval is
at most this share of its prior's width (its contraction)."""
_SIG_DIGITS = 10
# every float reads back as written, so that a redrawn CSV is byte-identical
_EXACT_FLOATS: dict[str, Any] = (
    {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"})


def is_calibration(directory: str | Path) -> bool:
    """Whether ``directory`` holds a calibration (rather than a sweep)."""
    path = Path(directory) / MANIFEST
    try:
        return "calibration" in json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def read_calibration(directory: str | Path) -> tuple[Calibration, pd.DataFrame,
                                                      pd.DataFrame, pd.DataFrame]:
    """The calibration file as run and its posterior, generations and predictive draws."""
    directory = Path(directory)
    missing = [name for name in (POSTERIOR, GENERATIONS, PREDICTIVE)
               if not (directory / name).exists()]
    if missing:
        raise ExperimentError(f"{directory} is not a finished calibration (no "
                              f"{', '.join(missing)}): run python -m sim calibrate again")
    calibration = load(directory / "calibration.toml")
    try:
        tables = [pd.read_csv(directory / name)
                  for name in (POSTERIOR, GENERATIONS, PREDICTIVE)]
    except (OSError, ValueError) as error:
        raise ExperimentError(f"{directory}: a calibration table cannot be read "
                              f"({error.__class__.__name__}): run python -m sim calibrate "
                              "again into a new directory") from None
    return calibration, *tables


def posterior_table(calibration: Calibration, posterior: pd.DataFrame,
                    generations: pd.DataFrame) -> pd.DataFrame:
    """One row per calibrated parameter: prior range, posterior median, 90% interval,
    its contraction (the interval's width over the prior's) and whether that makes it
    identified (:data:`IDENTIFIED`); the sampler's record alongside (generations, runs,
    final tolerance, effective sample size at the last cut, distinct particles, moves'
    acceptance rate)."""
    weights = posterior["weight"].to_numpy(float)
    last = generations.iloc[-1]
    rows = []
    for prior in calibration.priors:
        values = posterior[prior.name].to_numpy(float)
        q05 = weighted_quantile(values, weights, BAND[0])
        q95 = weighted_quantile(values, weights, BAND[1])
        contraction = (q95 - q05) / (prior.high - prior.low)
        rows.append({
            "parameter": prior.name, "prior_low": prior.low, "prior_high": prior.high,
            "median": weighted_quantile(values, weights, 0.5), "q05": q05, "q95": q95,
            "contraction": contraction, "identified": bool(contraction <= IDENTIFIED),
            "generations": len(generations), "epsilon": float(last["epsilon"]),
            "evaluations": int(generations["evaluations"].sum()),
            # the final particles are equally weighted; the effective sample size at
            # the last cut is the number alive there (Del Moral et al. 2012)
            "effective_sample_size": float(last["alive"]),
            "distinct": int(last["distinct"]),
            "move_acceptance": float(last["move_acceptance"]),
        })
    return _tidy(pd.DataFrame(rows))


def targets_table(calibration: Calibration, predictive: pd.DataFrame) -> pd.DataFrame:
    """One row per target: observation, stated range, the posterior predictive median and
    90% band of its simulated value, and whether the observation lies in the band."""
    rows = []
    for target in calibration.targets:
        simulated = (predictive[target.id].to_numpy(float) if target.id in predictive
                     else np.array([]))
        simulated = simulated[np.isfinite(simulated)]
        if len(simulated):
            q05, q50, q95 = np.quantile(simulated, [BAND[0], 0.5, BAND[1]])
            inside = bool(q05 <= target.value <= q95)
        else:
            q05 = q50 = q95 = float("nan")
            inside = False
        rows.append({"target": target.id, "cluster": target.cluster, "year": target.year,
                     "output": target.model_output.text, "role": target.role,
                     "observed": target.value, "low": target.low, "high": target.high,
                     "predictive_q05": q05, "predictive_median": q50,
                     "predictive_q95": q95, "inside": inside})
    return _tidy(pd.DataFrame(rows))


def draw_calibration(directory: str | Path, out_dir: str | Path) -> list[Path]:
    """Tables and figures of a finished calibration, written to ``out_dir``."""
    calibration, posterior, generations, predictive = read_calibration(directory)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    from sim.experiment.style import save_figure

    tables = {"calibration_posterior": posterior_table(calibration, posterior, generations),
              "calibration_targets": targets_table(calibration, predictive)}
    figures = {"calibration_posterior": _draw_posterior(tables["calibration_posterior"],
                                                        posterior, calibration),
               "calibration_targets": _draw_targets(tables["calibration_targets"],
                                                    calibration)}
    screening = Path(directory) / SCREENING
    if screening.exists():
        tables["calibration_screening"] = _tidy(pd.read_csv(screening))
        figures["calibration_screening"] = _draw_screening(
            tables["calibration_screening"], calibration)
    paths = []
    for name in FIGURES:
        if name in figures:
            paths += save_figure(figures[name], tables[name], out, name)
    return paths


#: What :func:`redraw_calibration` says of the posterior figure, which its table cannot
#: redraw.
POSTERIOR_NOT_REDRAWN = (
    "calibration_posterior is not redrawn from its CSV: it draws every particle of the "
    "posterior, which only the calibration's results directory holds (python -m sim "
    "figures RESULTS_DIR redraws it there)")


def redraw_calibration(figures_dir: str | Path, out_dir: str | Path,
                       calibration_file: str | Path) -> tuple[list[Path], list[str]]:
    """Redraw a calibration's figures from their CSV files in ``figures_dir`` (the
    screening and the predictive check; the posterior figure needs the particles, see
    :data:`POSTERIOR_NOT_REDRAWN`). Returns the paths written and what was not redrawn,
    in words. Raises :class:`~sim.experiment.design.ExperimentError` naming a file that is
    missing or unreadable."""
    from sim.experiment.style import save_figure

    calibration = load(calibration_file)
    figures_dir, out = Path(figures_dir), Path(out_dir)
    drawers = {"calibration_screening": _draw_screening,
               "calibration_targets": _draw_targets}
    paths: list[Path] = []
    skipped = [POSTERIOR_NOT_REDRAWN]
    for name in FIGURES:
        if name not in drawers:
            continue
        path = figures_dir / f"{name}.csv"
        if not path.is_file():
            if name == "calibration_screening":  # a calibration without a screening
                continue
            raise ExperimentError(f"{path}: no such file (the data of the {name} figure)")
        try:
            table = pd.read_csv(path, **_EXACT_FLOATS)
        except (OSError, ValueError, UnicodeDecodeError) as error:
            raise ExperimentError(f"{path}: not a readable CSV table "
                                  f"({' '.join(str(error).split())})") from None
        out.mkdir(parents=True, exist_ok=True)
        paths += save_figure(drawers[name](table, calibration), table, out, name)
    return paths, skipped


# --- figures ------------------------------------------------------------------------------
def _draw_screening(table: pd.DataFrame, calibration: Calibration) -> Figure:
    outputs = list(dict.fromkeys(table["output"]))
    figure = Figure(figsize=(4.0 * len(outputs), 3.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(outputs)))
    calibrated = {p.name for p in calibration.priors}
    for ax, output in zip(axes, outputs, strict=True):
        part = table[table["output"] == output].iloc[::-1]
        colours = ["#D55E00" if name in calibrated else "#999999"
                   for name in part["parameter"]]
        ax.barh(part["parameter"], part["mu_star"], xerr=part["mu_star_conf"],
                color=colours, error_kw={"elinewidth": 0.8, "capsize": 2})
        ax.set_title("distance to the targets" if output == "distance" else output,
                     fontsize=9)
        ax.set_xlabel("mu* (mean |elementary effect|)")
    runs = int(table["runs"].iloc[0])
    figure.suptitle(f"Morris screening for {calibration.name}: {runs} runs; calibrated "
                    "parameters in orange, bars with 95% bootstrap intervals", fontsize=10)
    return figure


def _draw_posterior(table: pd.DataFrame, posterior: pd.DataFrame,
                    calibration: Calibration) -> Figure:
    n = len(table)
    columns = min(n, 3)
    rows = -(-n // columns)
    figure = Figure(figsize=(3.4 * columns, 2.6 * rows + 0.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns)).ravel()
    weights = posterior["weight"].to_numpy(float)
    for ax, row in zip(axes, table.itertuples(), strict=False):
        values = posterior[row.parameter].to_numpy(float)
        ax.hist(values, bins=20, range=(row.prior_low, row.prior_high), weights=weights,
                density=True, color="#56B4E9", edgecolor="white")
        ax.axhline(1.0 / (row.prior_high - row.prior_low), color="#000000", lw=1,
                   ls="--", label="prior")
        ax.axvline(row.median, color="#D55E00", lw=1.5, label="median")
        ax.axvspan(row.q05, row.q95, color="#D55E00", alpha=0.12, label="90% interval")
        ax.set_xlabel(row.parameter)
        ax.set_ylabel("density")
    for ax in axes[n:]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8, frameon=False)
    last = table.iloc[0]
    figure.suptitle(f"Posterior of {calibration.name}: {int(last['generations'])} "
                    f"generations, {int(last['evaluations']):,} runs, final tolerance "
                    f"{last['epsilon']:.3g}, {int(last['distinct'])} of "
                    f"{calibration.population_size} particles distinct", fontsize=10)
    return figure


def _draw_targets(table: pd.DataFrame, calibration: Calibration) -> Figure:
    outputs = list(dict.fromkeys(table["output"]))
    columns = min(len(outputs), 2)
    rows = -(-len(outputs) // columns)
    figure = Figure(figsize=(5.2 * columns, 3.2 * rows + 0.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns)).ravel()
    for ax, output in zip(axes, outputs, strict=False):
        part = table[table["output"] == output].sort_values("year")
        if len(part) > 1:
            ax.fill_between(part["year"], part["predictive_q05"], part["predictive_q95"],
                            color="#56B4E9", alpha=0.35, lw=0, label="simulated 90% band")
            ax.plot(part["year"], part["predictive_median"], color="#0072B2", lw=1.2,
                    label="simulated median")
        else:  # one year: the band as a bar beside the observation
            ax.bar(part["year"] + 0.3, part["predictive_q95"] - part["predictive_q05"],
                   bottom=part["predictive_q05"], width=0.3, color="#56B4E9", alpha=0.6,
                   label="simulated 90% band")
            ax.plot(part["year"] + 0.3, part["predictive_median"], "_", color="#0072B2",
                    ms=14, mew=2, label="simulated median")
            year = int(part["year"].iloc[0])
            ax.set_xlim(year - 1, year + 1.3)
            ax.set_xticks([year])
        for role, marker, face in (("calibrate", "o", "#000000"),
                                   ("validate", "s", "white")):
            chosen = part[part["role"] == role]
            if chosen.empty:
                continue
            ax.errorbar(chosen["year"], chosen["observed"],
                        yerr=[chosen["observed"] - chosen["low"],
                              chosen["high"] - chosen["observed"]],
                        fmt=marker, mfc=face, mec="#000000", ecolor="#000000", ms=6,
                        capsize=3, label=("observed, fitted" if role == "calibrate"
                                          else "observed, held out"))
        missed = part[~part["inside"]]
        if not missed.empty:
            ax.plot(missed["year"], missed["observed"], "x", color="#D55E00", ms=10,
                    mew=2, label="outside the band")
        ax.set_title(output, fontsize=10)
        ax.set_xlabel("year")
    for ax in axes[len(outputs):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8, frameon=False)
    inside = int(table["inside"].sum())
    held = table[table["role"] == "validate"]
    figure.suptitle(f"Posterior predictive check of {calibration.name}: {inside} of "
                    f"{len(table)} observations inside the 90% band "
                    f"({int(held['inside'].sum())} of {len(held)} held out)", fontsize=10)
    return figure


def _tidy(table: pd.DataFrame) -> pd.DataFrame:
    """Round real numbers to ``_SIG_DIGITS`` significant digits, so the tables compare
    across platforms."""
    def rounded(value: Any) -> Any:
        if isinstance(value, float) and np.isfinite(value) and value != 0.0:
            return float(f"{value:.{_SIG_DIGITS}g}")
        return value
    return table.apply(lambda column: column.map(rounded) if column.dtype == float
                       else column)
