"""The tables' CSV files checked and read back: every column, of the kind drawing needs.

A table's columns and their kinds are declared by its analysis module
(:class:`sim.analyses.tables.Table`), found through :mod:`sim.experiment.registry`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analyses import catalogue

#: The column a table drawn from partial results carries (see
#: :func:`sim.analyses.drawing.draw`); any table may have it.
PARTIAL_COLUMN = "partial"

__all__ = ["KINDS", "PARTIAL_COLUMN", "check_table", "read_table"]

#: Each kind of column: its name in words and the test of a column's values.
KINDS: dict[str, tuple[str, Callable[[pd.Series], bool]]] = {
    "number": ("numbers", lambda v: pd.api.types.is_numeric_dtype(v)
               and not pd.api.types.is_bool_dtype(v)),
    "integer": ("whole numbers", lambda v: pd.api.types.is_integer_dtype(v)
                and not pd.api.types.is_bool_dtype(v)),
    "text": ("text", lambda v: bool(v.map(lambda x: isinstance(x, str)).all())),
    "flag": ("True or False", pd.api.types.is_bool_dtype),
}

# Every float must read back as the value written, so that a redrawn CSV is
# byte-identical to the one read: pandas 3 parses so by default, pandas 2 when asked.
_EXACT_FLOATS: dict[str, Any] = (
    {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"})


def check_table(name: str, table: pd.DataFrame) -> None:
    """Raise ``ValueError`` unless ``table`` has the columns, types and labels of the
    figure or companion table ``name`` (the message names the first problem)."""
    spec = catalogue.table(name)
    kinds = dict(spec.columns)
    if PARTIAL_COLUMN in table.columns:  # drawn from partial results, and saying so
        kinds[PARTIAL_COLUMN] = "text"
    missing = [c for c in kinds if c not in table.columns]
    unexpected = [str(c) for c in table.columns if c not in kinds]
    if missing or unexpected:
        problems = ([f"lacks column(s) {', '.join(missing)}"] if missing else []) + (
            [f"has unexpected column(s) {', '.join(unexpected)}"] if unexpected else [])
        raise ValueError(f"the {name} table {' and '.join(problems)}")
    if table.empty:
        raise ValueError(f"the {name} table has no rows")
    for column, kind in kinds.items():
        words, accepts = KINDS[kind]
        if not accepts(table[column]):
            raise ValueError(f"column {column!r} of the {name} table should hold {words}")
    inputs = [c for c in ("coupling", "capability", "coupling_after") if c in kinds]
    if table[inputs].isna().any().any():
        raise ValueError(f"the {name} table has rows without {' or '.join(inputs)}")
    if spec.check is not None:
        spec.check(name, table)


def read_table(figure: str, path: str | Path) -> pd.DataFrame:
    """Read a figure's CSV, as :func:`sim.analyses.draw` wrote it, with the column types
    drawing needs.

    ``figure`` names a figure or a companion table
    (:data:`sim.experiment.registry.COMPANIONS`). Raises ``ValueError`` naming the file
    when it is missing or unreadable, or when its columns or values are not those of the
    figure's table.
    """
    path = Path(path)
    kinds = catalogue.table(figure).columns
    if not path.is_file():
        raise ValueError(f"{path}: no such file (the data of the {figure} figure)")
    text = {column: str for column, kind in kinds.items() if kind == "text"}
    text[PARTIAL_COLUMN] = str
    try:
        table = pd.read_csv(path, dtype=text, **_EXACT_FLOATS)
    except (ValueError, OSError, UnicodeDecodeError) as error:
        detail = " ".join(str(error).split())  # pandas' messages may span lines
        raise ValueError(f"{path}: not a readable CSV table ({detail})") from None
    try:
        check_table(figure, table)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    return table
