"""The files a sweep writes: parts and tables of runs, each written atomically and
stamped with the code that made its runs.

Every file appears by an atomic rename (written to a temporary file in the same folder,
flushed to disk, renamed), so a sweep killed at any moment leaves only complete files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.experiment import columns as column_docs
from sim.experiment import identity
from sim.experiment.results import CODE_KEY, HISTORY_KEY, Code

__all__ = ["KEYS", "codes_of_runs", "part_name", "write_bytes", "write_parquet", "write_text"]

KEYS = ("run_id", "point", "replicate", "seed")
"""The columns that identify a run in every runs table."""


def codes_of_runs(run_ids: Any, codes: dict[str, Code]) -> list[tuple[Code, list[str]]]:
    """The runs of a table grouped by the code that made them, codes in order of first
    appearance."""
    groups: dict[str | None, tuple[Code, list[str]]] = {}
    for run_id in run_ids:
        code = codes.get(run_id)
        groups.setdefault(identity.code_key(code), (code, []))[1].append(run_id)
    return list(groups.values())


def write_parquet(frame: pd.DataFrame, path: Path, kind: str,
                   identity: list[tuple[Code, list[str]]]) -> None:
    """Write one table atomically, with its column descriptions and the identity of the
    code that made its runs (``kind`` is 'runs' or 'series')."""
    table = column_docs.annotate(pa.Table.from_pandas(frame, preserve_index=False), kind)
    metadata = dict(table.schema.metadata or {})
    if len(identity) == 1:
        code, run_ids = identity[0]
        if code is not None:
            metadata[CODE_KEY] = json.dumps(code).encode()
        history = [{"code": code, "runs": len(run_ids)}]
    else:  # several codes: which run is whose, so that a later split keeps it
        history = [{"code": code, "runs": len(run_ids), "run_ids": run_ids}
                   for code, run_ids in identity]
    metadata[HISTORY_KEY] = json.dumps(history).encode()
    table = table.replace_schema_metadata(metadata)
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    pq.write_table(table, tmp)
    _fsync_replace(tmp, path)


def part_name() -> str:
    """A new part's name: the time it was written, then a random suffix."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    tmp.write_bytes(data)
    _fsync_replace(tmp, path)


def _fsync_replace(tmp: Path, path: Path) -> None:
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
