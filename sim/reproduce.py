"""Reproduce the published figures: re-run their experiments, redraw, compare the data.

The committed ``figures/NAME.csv`` files hold the numbers each published figure draws.
A reproduction regenerates them from fresh runs and compares table by table: text and
integer columns must match exactly, real-valued columns within a relative tolerance of
``RTOL`` (the runs are deterministic, so on the same platform they match exactly; the
tolerance absorbs last-digit differences between numerical libraries on other
platforms).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiment import registry
from sim.experiment.style import replace_atomically

RTOL = 1e-9
ATOL = 1e-12


@dataclass(frozen=True)
class Verdict:
    """Outcome of comparing one regenerated figure's data with the committed data."""

    figure: str
    passed: bool
    reason: str = ""

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'} {self.figure}" + (
            f": {self.reason}" if self.reason else "")


def compare_tables(regenerated: pd.DataFrame, committed: pd.DataFrame) -> str | None:
    """None when the tables agree, else the first difference, in words."""
    if list(regenerated.columns) != list(committed.columns):
        return (f"columns differ: {list(regenerated.columns)} vs "
                f"{list(committed.columns)}")
    if len(regenerated) != len(committed):
        return f"{len(regenerated)} rows regenerated, {len(committed)} committed"
    for column in committed.columns:
        new, old = regenerated[column], committed[column]
        real = pd.api.types.is_float_dtype(new) or pd.api.types.is_float_dtype(old)
        if real and pd.api.types.is_numeric_dtype(new) and pd.api.types.is_numeric_dtype(old):
            close = np.isclose(new.to_numpy(float), old.to_numpy(float), rtol=RTOL,
                               atol=ATOL, equal_nan=True)
            if not close.all():
                row = int(np.flatnonzero(~close)[0])
                return (f"column {column!r} row {row}: {new.iloc[row]!r} regenerated, "
                        f"{old.iloc[row]!r} committed")
        else:
            same = (new.astype(str).to_numpy() == old.astype(str).to_numpy())
            if not same.all():
                row = int(np.flatnonzero(~same)[0])
                return (f"column {column!r} row {row}: {new.iloc[row]!r} regenerated, "
                        f"{old.iloc[row]!r} committed")
    return None


def verdicts(drawn: list[Path], committed_dir: Path) -> list[Verdict]:
    """Compare every regenerated CSV in ``drawn`` with its namesake in ``committed_dir``."""
    results = []
    for path in sorted(p for p in drawn if p.suffix == ".csv"):
        committed = committed_dir / path.name
        if not committed.exists():
            results.append(Verdict(path.stem, False, f"no committed data {committed}"))
            continue
        try:
            old = pd.read_csv(committed)
        except (ValueError, OSError) as error:  # empty, not text, not a table, unreadable
            results.append(Verdict(path.stem, False, f"committed data {committed} is not a "
                                   f"readable CSV table ({_one_line(error)})"))
            continue
        difference = compare_tables(pd.read_csv(path), old)
        results.append(Verdict(path.stem, difference is None, difference or ""))
    return results


def _one_line(error: BaseException) -> str:
    """An error's message on one line (a parser's may span several)."""
    return " ".join(str(error).split()) or type(error).__name__


def check_figure_names(experiments: list[tuple[Path, str, str]]) -> None:
    """Refuse, before anything runs, experiments that would write files of one name: each
    is ``(file, analysis, figure_prefix)``; two of one analysis without a figure_prefix
    (or with the same one) would overwrite each other's figures. Raises ``ValueError``
    naming both files."""
    owners: dict[str, Path] = {}
    for path, analysis, prefix in experiments:
        entry = registry.analysis(analysis)
        names = [name for figure in entry.figures
                 for name in (figure.name, *figure.companions)]
        for name in names:
            stem = registry.file_stem(name, analysis, prefix)
            if stem in owners and owners[stem] != path:
                raise ValueError(f"{owners[stem]} and {path} both write {stem}: give one "
                                 "of them an [experiment] figure_prefix, or keep one of them "
                                 "in the folder")
            owners[stem] = path


def publish(drawn: list[Path], figures_dir: Path) -> None:
    """Copy regenerated figures (PNG, SVG, CSV) into the committed figures folder."""
    figures_dir.mkdir(parents=True, exist_ok=True)
    for path in drawn:  # a kill or a full disk leaves the committed file whole
        replace_atomically(figures_dir / path.name,
                           lambda tmp, source=path: shutil.copyfile(source, tmp))
