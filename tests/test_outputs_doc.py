"""docs/OUTPUTS.md and the Parquet column metadata: every column a real run produces has
a description, unit and type, in one place (sim/sweep/columns.py), and the committed
document is what that place generates.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.experiment.columns import (
    DESCRIPTION_KEY,
    FILES,
    MANIFEST,
    SERIES_UNITS,
    SUMMARY,
    TYPES,
    UNIT_KEY,
    annotate,
    columns,
    series_columns,
    undescribed,
)
from sim.experiment.design import RunSpec
from sim.experiment.outputs import markdown
from sim.observation import SCHEMA
from sim.sweep import InProcessExecutor, load, run_sweep
from sim.sweep.tasks import run_task

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "OUTPUTS.md"
REGENERATE = "python -m sim.experiment.outputs > docs/OUTPUTS.md"


@pytest.fixture(scope="module")
def tiny_run() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs row and series of one real run: scale 0.05, until 2019, series on, with
    a fixed and a varied parameter as a sweep would store them."""
    spec = RunSpec("0123456789abcdef", 0, 0, 11,
                   {"scale": 0.05, "until_year": 2019, "coupling": 0.3, "lock_in": False},
                   True)
    result = run_task(spec)
    return pd.DataFrame([result.row]), result.series


def arrow_type(kind: pa.DataType) -> str:
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "string"
    if pa.types.is_boolean(kind):
        return "bool"
    return str(kind).replace("double", "float64")


# --- the committed document -------------------------------------------------------------------
def test_committed_document_is_the_generated_one() -> None:
    assert DOC.read_text(encoding="utf-8") == markdown(), (
        f"docs/OUTPUTS.md is out of date: regenerate it with `{REGENERATE}`")


def test_document_command_prints_the_document() -> None:
    done = subprocess.run([sys.executable, "-m", "sim.experiment.outputs"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout == markdown()


# --- every column of a real run is described --------------------------------------------------
@pytest.mark.parametrize("kind", ["runs", "series"])
def test_every_column_of_a_real_run_is_described(kind: str, tiny_run) -> None:
    table = tiny_run[0] if kind == "runs" else tiny_run[1]
    assert undescribed(kind, list(table.columns)) == [], (
        f"describe these {kind} columns in sim/sweep/columns.py, then `{REGENERATE}`")


@pytest.mark.parametrize("kind", ["runs", "series"])
def test_declared_types_are_the_stored_types(kind: str, tiny_run) -> None:
    table = pa.Table.from_pandas(tiny_run[0] if kind == "runs" else tiny_run[1],
                                 preserve_index=False)
    known = columns(kind)
    for field in table.schema:
        assert known[field.name].type == arrow_type(field.type), field


def test_no_description_outlives_its_column(tiny_run) -> None:
    """A summary field or series unit that the model no longer produces is an error too."""
    row, series = tiny_run
    assert set(SUMMARY) <= set(row.columns), set(SUMMARY) - set(row.columns)
    used = {f"{s.name}_<cluster>" if s.per_cluster else s.name for s in SCHEMA}
    assert used == set(SERIES_UNITS), used ^ set(SERIES_UNITS)
    assert set(series_columns()) == set(series.columns) - {"run_id", "quarter"}


def test_descriptions_reuse_the_schema() -> None:
    """The series' meaning is the schema's, not a second copy."""
    described = series_columns()
    for series in SCHEMA:
        for name in series.columns:
            assert series.description in described[name].description


@pytest.mark.parametrize("kind", ["runs", "series"])
def test_every_entry_is_complete(kind: str) -> None:
    for name, column in columns(kind).items():
        assert column.name == name and column.description.strip(), name
        assert column.type in TYPES, (name, column.type)
        assert "\n" not in column.description and "|" not in column.description, name


# --- annotate ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["runs", "series"])
def test_annotate_survives_a_parquet_file(kind: str, tiny_run, tmp_path: Path) -> None:
    frame = (tiny_run[0] if kind == "runs" else tiny_run[1]).assign(extra_column=1)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    annotated = annotate(table, kind)
    assert annotated.equals(table)  # the same data
    path = tmp_path / f"{kind}.parquet"
    pq.write_table(annotated, path)
    schema = pq.read_schema(path)
    known = columns(kind)
    for name in frame.columns:
        metadata = schema.field(name).metadata or {}
        if name == "extra_column":  # unknown: left as it is, never refused
            assert DESCRIPTION_KEY not in metadata
            continue
        assert metadata[DESCRIPTION_KEY].decode() == known[name].description
        assert metadata[UNIT_KEY].decode() == known[name].unit
    assert b"pandas" in schema.metadata  # the table's own metadata is kept
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame)


def test_annotate_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown table kind 'tables'"):
        annotate(pa.table({"a": [1]}), "tables")


# --- the manifest and the directory -----------------------------------------------------------
def flatten(document: dict[str, Any], prefix: str = "") -> set[str]:
    keys = set()
    for key, value in document.items():
        if isinstance(value, dict) and key not in ("packages", "environment"):
            keys |= flatten(value, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def test_every_manifest_field_and_file_is_described(tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text('[experiment]\nname = "tiny"\nmaster_seed = 1\nseries = true\n'
                    "[fixed]\nscale = 0.05\nuntil_year = 2018\n[grid]\ncoupling = [0.0]\n")
    out = tmp_path / "results"
    run_sweep(load(path), out, InProcessExecutor(), progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    fields = flatten(manifest)
    assert fields - set(MANIFEST) == set(), "describe these manifest fields in columns.py"
    assert manifest["status"] == "complete"
    for status in ("running", "interrupted", "complete", "incomplete"):
        assert f"'{status}'" in MANIFEST["status"]
    entries = {p.name + ("/" if p.is_dir() else "") for p in out.iterdir()}
    assert entries - set(FILES) == set(), "describe these files in columns.py"
    for table, kind in (("runs.parquet", "runs"), ("series.parquet", "series")):
        stored = pq.read_schema(out / table).names
        assert undescribed(kind, stored) == [], (table, undescribed(kind, stored))


# --- one declaration per series ---------------------------------------------------------------
ONE_MORE_SERIES = '''
import importlib, json, sys
import sim.observation as observation

observation.SCHEMA = (*observation.SCHEMA, observation.Series(
    "quarter_number", "the quarter's number, 1 for 2018Q1", lambda q: q.model.quarter_number,
    unit="quarters", kind="int64"))
import sim.model, sim.experiment.columns, sim.targets  # noqa: E401
for module in (sim.model, sim.experiment.columns, sim.targets):
    importlib.reload(module)
import pyarrow.parquet as pq
from sim.sweep import InProcessExecutor, load, run_sweep
from sim.experiment.outputs import markdown

model = sim.model.ClusterModel(rng=1, scale=0.05, until_year=2018)
model.run_model()
frame = model.datacollector.get_model_vars_dataframe()
run_sweep(load(sys.argv[1]), sys.argv[2], InProcessExecutor(), progress=False)
stored = pq.read_schema(f"{sys.argv[2]}/series.parquet")
print(json.dumps({
    "record": [r["quarter_number"] for r in model.history],
    "collector": frame["quarter_number"].tolist(),
    "parquet": stored.field("quarter_number").metadata[b"unit"].decode(),
    "outputs": "| `quarter_number` |" in markdown(),
    "target": "quarter_number" in sim.targets.QUANTITIES,
}))
'''


def test_a_series_declared_once_reaches_every_output(tmp_path: Path) -> None:
    experiment = tmp_path / "tiny.toml"
    experiment.write_text('[experiment]\nname = "tiny"\nmaster_seed = 1\nseries = true\n'
                          "[fixed]\nscale = 0.05\nuntil_year = 2018\n[grid]\n"
                          "coupling = [0.0]\n")
    script = tmp_path / "one_more.py"
    script.write_text(ONE_MORE_SERIES)
    done = subprocess.run([sys.executable, str(script), str(experiment),
                           str(tmp_path / "results")], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    reached = json.loads(done.stdout.strip().splitlines()[-1])
    assert reached == {"record": [1, 2, 3, 4], "collector": [1, 2, 3, 4],
                       "parquet": "quarters", "outputs": True, "target": True}


def test_the_summary_is_its_declaration() -> None:
    from sim import ClusterModel
    from sim.summary import FIELDS

    model = ClusterModel(rng=1, scale=0.05, until_year=2018)
    model.run_model()
    assert list(model.summary()) == [*(field.name for field in FIELDS), "quarter", "seed"]
