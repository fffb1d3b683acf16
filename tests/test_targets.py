"""The observed targets: the committed file, the loader's checks, the simulated values."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from sim import observation
from sim.model import ClusterModel
from sim.targets import (
    COLUMNS,
    DEFAULT_PATH,
    QUANTITIES,
    SUMMARY_FIELDS,
    Target,
    TargetsError,
    deviations,
    load_targets,
    parse_model_output,
    simulated_values,
)

GOOD_ROW = {
    "id": "pangyo_test", "quantity": "firms in a test cluster", "cluster": "Pangyo",
    "year": "2019", "value": "1259", "low": "1196", "high": "1322", "unit": "firms",
    "source": "Gyeonggi-do, a survey, 2020-09-02", "url": "https://example.org/survey",
    "model_output": "ventures_pangyo@q4", "role": "calibrate", "note": "a test row",
}


def write(path: Path, rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


# --- the committed file ----------------------------------------------------------------------
def test_committed_file_loads() -> None:
    targets = load_targets()
    assert DEFAULT_PATH.name == "targets.csv"
    assert len(targets) >= 20
    roles = {t.role for t in targets}
    assert {"calibrate", "validate"} <= roles
    assert {t.cluster for t in targets} <= {"Daedeok", "Pangyo", "both"}


def test_every_row_cites_a_source_and_an_address_or_a_reason() -> None:
    for target in load_targets():
        assert target.source.strip(), target.id
        assert target.url.startswith(("http://", "https://")) or \
            "no url" in target.note.lower(), target.id


def test_fitted_rows_have_a_model_output_and_context_rows_say_why_not() -> None:
    for target in load_targets():
        if target.role in ("calibrate", "validate"):
            assert target.model_output is not None, target.id
        if target.model_output is None:
            assert target.note, target.id


# --- malformed files -------------------------------------------------------------------------
def _bad_rows(change: dict[str, str]) -> list[dict[str, str]]:
    return [dict(GOOD_ROW, id="first_row"), dict(GOOD_ROW, **change)]


@pytest.mark.parametrize("change, words", [
    ({"value": "many"}, "value 'many' is not a number"),
    ({"low": "1300"}, "low <= value <= high"),
    ({"high": "1000"}, "low <= value <= high"),
    ({"value": "nan"}, "finite"),
    ({"role": "fit"}, "unknown role 'fit'"),
    ({"model_output": "ventures_seoul@q4"}, "unknown quantity 'ventures_seoul'"),
    ({"model_output": "ventures_pangyo@median"}, "unknown aggregation 'median'"),
    ({"model_output": "ventures_pangyo@cagr:1980"}, "outside 1990-2035"),
    ({"model_output": "summary:happiness"}, "unknown summary field"),
    ({"id": "first_row"}, "duplicate id 'first_row'"),
    ({"year": "1850"}, "outside 1990-2035"),
    ({"year": "2019.5"}, "is not an integer"),
    ({"source": ""}, "empty source"),
    ({"source": "   "}, "empty source"),
    ({"unit": "widgets"}, "unknown unit 'widgets'"),
    ({"cluster": "Seoul"}, "unknown cluster 'Seoul'"),
    ({"id": "Bad Id"}, "not a slug"),
    ({"url": ""}, "empty url"),
    ({"url": "www.example.org"}, "not an http(s) address"),
    ({"model_output": ""}, "needs a model_output"),
    ({"model_output": "ventures_pangyo@cagr:2018", "unit": "firms"}, "needs unit '1/year'"),
])
def test_a_bad_row_names_file_row_and_problem(tmp_path: Path, change: dict[str, str],
                                             words: str) -> None:
    path = write(tmp_path / "targets.csv", _bad_rows(change))
    with pytest.raises(TargetsError) as caught:
        load_targets(path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    assert "row 2 (line 3)" in message
    assert words in message


def test_a_missing_column_names_the_header(tmp_path: Path) -> None:
    columns = tuple(c for c in COLUMNS if c != "unit")
    path = write(tmp_path / "targets.csv", [GOOD_ROW], columns)
    with pytest.raises(TargetsError, match=r"line 1 \(header\): missing column\(s\): unit"):
        load_targets(path)


def test_a_short_row_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "targets.csv"
    path.write_text(",".join(COLUMNS) + "\nonly,three,fields\n", encoding="utf-8")
    with pytest.raises(TargetsError, match=r"row 1 \(line 2\): expected 13 fields, found 3"):
        load_targets(path)


def test_targets_error_is_a_value_error_and_a_good_file_loads(tmp_path: Path) -> None:
    assert issubclass(TargetsError, ValueError)
    rows = [GOOD_ROW, dict(GOOD_ROW, id="no_output", model_output="", role="context",
                           url="", note="No URL: a test. No model output yet.")]
    targets = load_targets(write(tmp_path / "targets.csv", rows))
    assert [t.id for t in targets] == ["pangyo_test", "no_output"]
    assert targets[0].model_output is not None and targets[1].model_output is None
    assert targets[0].line == 2 and targets[0].value == 1259.0


# --- the registry and the arithmetic ---------------------------------------------------------
def test_every_recorded_series_is_a_known_quantity() -> None:
    assert set(observation.columns()) <= set(QUANTITIES)


def test_aggregations_on_a_synthetic_run() -> None:
    records = []
    for number in range(12):  # 2018Q1 .. 2020Q4
        year, quarter = 2018 + number // 4, number % 4 + 1
        records.append({"quarter": f"{year}Q{quarter}", "ventures_daedeok": 100 * (year - 2017),
                        "ventures_pangyo": 50, "births_daedeok": quarter,
                        "births_pangyo": 0, "density": 0.5})
    table = {r["quarter"]: r for r in records}

    def value(text: str, year: int) -> float | None:
        return parse_model_output(text, year).evaluate(table, row_year=year, scale=0.5)

    assert value("ventures_daedeok@q4", 2019) == 400.0       # 200 / scale
    assert value("births_daedeok@sum", 2018) == 20.0         # (1+2+3+4) / scale
    assert value("births_daedeok@mean:2020", 2030) == 5.0
    assert value("density@mean", 2019) == 0.5                # not a count: no scaling
    assert value("ventures_daedeok@ratio:2018", 2020) == 3.0
    assert value("ventures_daedeok@cagr:2018-2020", 2012) == pytest.approx(math.sqrt(3) - 1)
    assert value("ventures_total@q4", 2018) == 300.0
    assert value("ventures_daedeok@q4", 2021) is None       # beyond the run


# --- simulated values of a tiny run ----------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_run() -> ClusterModel:
    model = ClusterModel(rng=0, scale=0.05, until_year=2020)
    model.run_model()
    return model


def test_simulated_values_for_a_tiny_run(tiny_run: ClusterModel) -> None:
    targets = load_targets()
    values = simulated_values(tiny_run, targets)
    by_id = {t.id: t for t in targets}
    for ident in ("pangyo_firms_2014", "pangyo_firms_2019", "pangyo_firms_all_2020",
                  "daedeok_ric_founded_2018", "daedeok_lifecycle_startup_2020",
                  "pangyo_it_share_2019"):
        assert ident in values, ident
        assert math.isfinite(values[ident])
    assert "pangyo_firms_all_2021" not in values            # 2021 is beyond the run
    assert "pangyo_firms_tv1_2020" not in values            # no model output
    assert all(by_id[i].model_output is not None for i in values)
    frame = tiny_run.datacollector.get_model_vars_dataframe()
    assert values["pangyo_firms_2019"] == frame["ventures_pangyo"].iloc[7] / 0.05
    dev = deviations(targets, values)
    assert set(dev) == set(values)


def test_series_alone_give_the_same_values(tiny_run: ClusterModel) -> None:
    targets = load_targets()
    frame = tiny_run.datacollector.get_model_vars_dataframe()
    from_model = simulated_values(tiny_run, targets)
    # the series from 2018 alone give every value but those of the spin-up's years
    by_id = {t.id: t for t in targets}
    from_2018 = {k: v for k, v in from_model.items()
                 if min(by_id[k].model_output.years(by_id[k].year)) >= 2018}
    assert simulated_values(frame, targets, scale=0.05) == from_2018
    assert simulated_values(tiny_run.history, targets, scale=0.05) == from_2018
    records = tiny_run.spin_up_history + tiny_run.history
    assert simulated_values(records, targets, scale=0.05) == from_model
    with pytest.raises(ValueError, match="scale"):
        simulated_values(frame, targets)


def test_summary_outputs_are_read_at_the_horizon(tiny_run: ClusterModel) -> None:
    summary = tiny_run.summary()
    assert set(SUMMARY_FIELDS) <= set(summary)
    fields = dict(GOOD_ROW, model_output="summary:ventures_pangyo", role="context")
    at_horizon = Target(**_target_fields(fields, 2020))
    earlier = Target(**{**_target_fields(fields, 2019), "id": "pangyo_test_2019"})
    values = simulated_values(tiny_run, [at_horizon, earlier])
    assert values == {"pangyo_test": summary["ventures_pangyo"] / 0.05}


def _target_fields(row: dict[str, str], year: int) -> dict[str, object]:
    return {
        "id": row["id"], "quantity": row["quantity"], "cluster": row["cluster"], "year": year,
        "value": 1.0, "low": 0.0, "high": 2.0, "unit": row["unit"], "source": row["source"],
        "url": row["url"], "model_output": parse_model_output(row["model_output"], year),
        "role": row["role"], "note": row["note"],
    }
