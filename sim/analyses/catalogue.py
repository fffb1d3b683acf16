"""The functions behind each registered analysis: its tables and its drawers.

:mod:`sim.experiment.registry` declares the analyses and names the module of this package
that computes and draws each one; this module imports that module when a table or a
figure is asked for, so the contract never imports the analyses.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

from sim.analyses.tables import Table
from sim.experiment.registry import Analysis, figure_names, owner

__all__ = ["drawer", "table"]


def table(name: str) -> Table:
    """The :class:`sim.analyses.tables.Table` of a figure or companion table, from its
    analysis's module. Raises ``ValueError`` for an unknown name."""
    entry, _figure = owner(name)
    return _module(entry).TABLES[name]


def drawer(name: str) -> Callable[..., Any]:
    """The function that draws a figure from its table, context and companion tables.
    Raises ``ValueError`` for a name that is not a figure."""
    entry, figure = owner(name)
    if figure.name != name:
        raise ValueError(f"{name!r} is a table drawn into the {figure.name} figure, not a "
                         f"figure (expected one of {', '.join(figure_names())})")
    return _module(entry).DRAWERS[name]


def _module(entry: Analysis) -> ModuleType:
    # imported on first use: drawing one figure loads its own analysis only
    return importlib.import_module(str(entry.module))  # set: the entry owns a figure
