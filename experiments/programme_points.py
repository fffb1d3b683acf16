"""Write the points files of the programme experiments (the ``programmes`` analysis):
every programme mix at every annual budget, and the point without programmes, at every
state. The files are committed; a test checks that this script still writes them.

    python experiments/programme_points.py

A mix splits its budget evenly between its programmes, so every mix of one budget costs
the same: the comparison is at equal money.
"""

from __future__ import annotations

import itertools
from pathlib import Path

HERE = Path(__file__).resolve().parent

PROGRAMMES = ("cooperation", "incubation", "spin_off", "training", "floor_space")

MIXES: tuple[tuple[str, ...], ...] = (
    ("cooperation",),                              # direction 2
    ("incubation",),                               # direction 3, its two instruments
    ("spin_off",),
    ("training",),                                 # capability investment
    ("floor_space",),                              # the next valley (Pangyo)
    ("incubation", "spin_off"),                    # direction 3
    ("cooperation", "incubation", "spin_off"),     # directions 2 and 3
    PROGRAMMES,                                    # everything, evenly
)
"""The programme mixes compared, each funded with the whole budget split evenly."""

SETTINGS = {
    # KRW billion a year: about a third of, one and a half times, and six times Daedeok's
    # own special-zone budget (data/README.md)
    "publication/programmes_points.csv": {
        "budgets": (10.0, 50.0, 200.0), "coupling": (0.2, 0.7), "capability": (0.5,),
        "mixes": MIXES},
    "quick/programmes_points.csv": {
        "budgets": (50.0,), "coupling": (0.5,), "capability": (0.5,),
        "mixes": tuple((name,) for name in PROGRAMMES)},
}


def rows(budgets: tuple[float, ...], coupling: tuple[float, ...],
         capability: tuple[float, ...], mixes: tuple[tuple[str, ...], ...]
         ) -> list[dict[str, float]]:
    """Every state's point without programmes, then each mix at each budget."""
    points = []
    for state_coupling, state_capability in itertools.product(coupling, capability):
        state = {"coupling": state_coupling, "capability": state_capability}
        points.append({**state, **{f"{name}_budget": 0.0 for name in PROGRAMMES}})
        for budget, mix in itertools.product(budgets, mixes):
            share = budget / len(mix)
            points.append({**state, **{f"{name}_budget": share if name in mix else 0.0
                                       for name in PROGRAMMES}})
    return points


def text(points: list[dict[str, float]]) -> str:
    """The CSV of ``points``, numbers written as Python writes them."""
    columns = list(points[0])
    lines = [",".join(columns)]
    lines += [",".join(repr(point[c]) for c in columns) for point in points]
    return "\n".join(lines) + "\n"


def main() -> None:
    for name, setting in SETTINGS.items():
        (HERE / name).write_text(text(rows(**setting)), encoding="utf-8")


if __name__ == "__main__":
    main()
