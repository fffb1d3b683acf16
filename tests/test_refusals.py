"""Impossible or unusable work is refused before any run, in one line, with nothing
written: designs too large to run, names that would leave results/, files that are not
UTF-8, designs their analysis cannot use; a damaged committed CSV is a FAIL verdict.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import invoke

from sim.experiment import design, registry
from sim.experiment.design import (
    DEFAULT_MAX_RUNS,
    ExperimentError,
    RunSpec,
    load,
)
from sim.experiment.registry import Requirement
from sim.sweep.estimate import SERIES_ROW_BYTES, estimate
from sim.sweep.tasks import run_task

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "reproduce"
QUICK = 5.0  # seconds: refusing must not depend on the design's size (loosely, on a busy machine)


def experiment_text(*, name: str = "case", head: str = "", fixed: str = "",
                    design: str = "[grid]\ncoupling = [0.0, 0.5]\n") -> str:
    quoted = json.dumps(name, ensure_ascii=False)  # a TOML basic string
    return (f"[experiment]\nname = {quoted}\nmaster_seed = 1\n{head}\n"
            f"[fixed]\nscale = 0.05\nuntil_year = 2018\n{fixed}\n{design}")


def write(tmp_path: Path, text: str | bytes, filename: str = "exp.toml") -> Path:
    path = tmp_path / filename
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def sweep(capsys: pytest.CaptureFixture[str], path: Path, *options: str
          ) -> tuple[int, str, str, float]:
    start = time.perf_counter()
    code, out, err = invoke(capsys, ["sweep", str(path), "--workers", "1", "--quiet",
                                     *options])
    return code, out, err, time.perf_counter() - start


def one_line(code: int, out: str, err: str, *words: str) -> str:
    assert code == 2, (code, out, err)
    assert out == "" and "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), repr(err)
    assert lines[0].startswith("python -m sim sweep: error: "), lines[0]
    for word in words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"
    return lines[0]


# --- 1. size: counted from the file, refused before anything is built -------------------------
HUGE = {
    "grid of 10^8 points": ("replicates = 1", "[grid]\ncoupling = {from = 0.0, to = 1.0, "
                            "num = 10000}\ncapability = {from = 0.0, to = 1.0, num = 10000}\n",
                            ["100,000,000 runs", "10,000 x 10,000 grid points"]),
    "10^8 runs (grid x replicates)": ("replicates = 100000",
                                      "[grid]\ncoupling = {from = 0.0, to = 1.0, num = 1000}\n",
                                      ["100,000,000 runs", "100,000 replicates"]),
    "sample of 10^8 points": ("replicates = 1", "[sample]\nn = 100000000\n"
                              "[sample.ranges]\ncoupling = [0.0, 1.0]\n",
                              ["100,000,000 runs", "100,000,000 sampled points"]),
    "sample of 10^6 points x 2 replicates": ("replicates = 2", "[sample]\nn = 1000000\n"
                                             "[sample.ranges]\ncoupling = [0.0, 1.0]\n",
                                             ["2,000,000 runs"]),
}


@pytest.mark.parametrize("case", list(HUGE))
def test_huge_design_is_refused_at_once(case: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    head, grid, words = HUGE[case]
    path = write(tmp_path, experiment_text(head=head, design=grid))
    out = tmp_path / "out"
    code, stdout, err, seconds = sweep(capsys, path, "--out", str(out))
    one_line(code, stdout, err, *words, f"{DEFAULT_MAX_RUNS:,}", "max_runs = N",
             "--max-runs N")
    assert not out.exists()
    assert seconds < QUICK


@pytest.mark.parametrize("case", list(HUGE))
def test_huge_design_costs_nothing_to_refuse(case: str, tmp_path: Path) -> None:
    head, grid, _ = HUGE[case]
    path = write(tmp_path, experiment_text(head=head, design=grid))
    start = time.perf_counter()
    with pytest.raises(ExperimentError, match="more than the default limit"):
        load(path)
    assert time.perf_counter() - start < 1.0


@pytest.mark.slow
def test_huge_design_from_the_entry_point(tmp_path: Path) -> None:
    head, grid, words = HUGE["grid of 10^8 points"]
    path = write(tmp_path, experiment_text(head=head, design=grid))
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "sim", "sweep", str(path), "--out", str(out),
                           "--workers", "1"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    one_line(done.returncode, done.stdout, done.stderr, *words)
    assert not out.exists()


def test_design_at_the_limit_is_accepted_without_being_built(tmp_path: Path) -> None:
    """A million sampled points is allowed, and validating it does not build them."""
    path = write(tmp_path, experiment_text(head="replicates = 1", design=(
        "[sample]\nn = 1000000\n[sample.ranges]\ncoupling = [0.0, 1.0]\n"
        "tie_floor = [0.0, 0.2]\n")))
    start = time.perf_counter()
    experiment = load(path)
    assert time.perf_counter() - start < QUICK
    assert experiment.run_count == DEFAULT_MAX_RUNS == experiment.point_count


def test_large_design_still_checks_cross_field_rules(tmp_path: Path) -> None:
    """Above the size checked point by point, the extremes still catch a point where
    tie_floor >= tie_initial."""
    grid = ("[grid]\ntie_floor = {from = 0.0, to = 0.35, num = 100}\n"
            "tie_initial = {from = 0.3, to = 0.9, num = 100}\n")
    path = write(tmp_path, experiment_text(head="replicates = 1", design=grid))
    with pytest.raises(ExperimentError, match="tie_floor must be below tie_initial"):
        load(path)
    fine = grid.replace("to = 0.35", "to = 0.25")
    assert load(write(tmp_path, experiment_text(head="replicates = 1", design=fine),
                      "fine.toml")).run_count == 10_000


def test_limit_in_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grid = "[grid]\ncoupling = [0.0, 0.5]\n"
    small = write(tmp_path, experiment_text(head="replicates = 2\nmax_runs = 3", design=grid))
    out = tmp_path / "out"
    code, stdout, err, _ = sweep(capsys, small, "--out", str(out))
    one_line(code, stdout, err, "4 runs", "[experiment] max_runs of 3")
    assert not out.exists()

    # a design above the default, allowed by its file: accepted, and still not built
    big = write(tmp_path, experiment_text(
        head="replicates = 1000\nmax_runs = 2_000_000",
        design="[grid]\ncoupling = {from = 0.0, to = 1.0, num = 1500}\n"), "big.toml")
    start = time.perf_counter()
    assert load(big).run_count == 1_500_000
    assert time.perf_counter() - start < QUICK


def test_limit_on_the_command_line_wins(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, experiment_text(head="replicates = 2\nmax_runs = 3"))
    out = tmp_path / "out"
    code, stdout, err, _ = sweep(capsys, path, "--out", str(out), "--max-runs", "4")
    assert code == 0, err
    assert "4 runs stored" in stdout
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    # and it may lower the limit too
    code, stdout, err, _ = sweep(capsys, path, "--out", str(tmp_path / "o2"),
                                 "--max-runs", "2")
    one_line(code, stdout, err, "4 runs", "--max-runs of 2")
    assert not (tmp_path / "o2").exists()


@pytest.mark.parametrize(("head", "option", "words"), [
    ("max_runs = 0", (), ["max_runs must be >= 1", "got 0"]),
    ('max_runs = "many"', (), ["max_runs must be int"]),
    ("", ("--max-runs", "0"), ["--max-runs must be >= 1"]),
])
def test_bad_limit(head: str, option: tuple[str, ...], words: list[str], tmp_path: Path,
                   capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, experiment_text(head=head))
    code, stdout, err, _ = sweep(capsys, path, "--out", str(tmp_path / "out"), *option)
    one_line(code, stdout, err, *words)
    assert not (tmp_path / "out").exists()


def test_limit_is_not_part_of_the_identity(tmp_path: Path) -> None:
    plain = load(write(tmp_path, experiment_text(), "a.toml"))
    raised = load(write(tmp_path, experiment_text(head="max_runs = 50"), "b.toml"))
    assert plain.fingerprint == raised.fingerprint
    assert (plain.max_runs, raised.max_runs) == (DEFAULT_MAX_RUNS, 50)


# --- the estimate printed at the start --------------------------------------------------------
def test_sweep_prints_its_estimate_on_its_first_line(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, experiment_text(head="replicates = 2\nseries = true"))
    code, _, err, _ = sweep(capsys, path, "--out", str(tmp_path / "out"))
    assert code == 0, err
    first = err.splitlines()[0]
    assert first.startswith("sweep case: 4 runs on in-process, results in "), first
    assert "estimate: ~" in first and "of one core" in first and "peak memory ~" in first
    assert "16 series rows" in first  # 4 runs x the 4 quarters of 2018


def test_estimate_is_near_a_measured_run() -> None:
    """Constants of the estimate within a factor of the measured costs of a tiny run:
    bytes per series row within 2x, seconds per run within 10x (a busy machine)."""
    spec = RunSpec("estimate", 0, 0, 1, {"scale": 0.05, "until_year": 2019}, True)
    start = time.perf_counter()
    result = run_task(spec)
    seconds = time.perf_counter() - start
    experiment = design.parse({"experiment": {"name": "e", "master_seed": 1, "series": True},
                               "fixed": {"scale": 0.05, "until_year": 2019},
                               "grid": {"coupling": [0.2]}})
    guess = estimate(experiment)
    assert guess.runs == 1 and guess.series_rows == len(result.series) == 8
    per_row = result.series.memory_usage(deep=True).sum() / len(result.series)
    assert SERIES_ROW_BYTES / 2 < per_row < SERIES_ROW_BYTES * 2, per_row
    assert guess.seconds_per_run / 10 < seconds < guess.seconds_per_run * 10, seconds


# --- 2. names: plain, so that results/NAME stays inside results/ ------------------------------
BAD_NAMES = ["../../x", "/abs/x", "a/b", "..", "", "x\n", ".", ".hidden", "a\\b", "a..b",
             "tab\tname", "caf\u00e9", "x" * 101]


@pytest.mark.parametrize("name", BAD_NAMES, ids=[repr(n)[:20] for n in BAD_NAMES])
def test_bad_name_is_one_line(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    if name.startswith("/"):  # an absolute name inside the test's folder, to look at
        name = str(tmp_path / "abs" / "x")
    path = write(tmp_path, experiment_text(name=name))
    code, stdout, err, _ = sweep(capsys, path)  # no --out: results/NAME
    one_line(code, stdout, err, "name must be a plain name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.toml", "work"]
    assert list(work.iterdir()) == []


def test_absolute_name_is_refused_by_load(tmp_path: Path) -> None:
    with pytest.raises(ExperimentError, match="plain name.*'/abs/x'"):
        load(write(tmp_path, experiment_text(name="/abs/x")))


@pytest.mark.parametrize("name", ["phase_diagram", "run-1.2", "A_b", "7", "x" * 100])
def test_plain_names_are_accepted(name: str, tmp_path: Path) -> None:
    assert load(write(tmp_path, experiment_text(name=name))).name == name


# --- 3. files that are not UTF-8 --------------------------------------------------------------
def test_non_utf8_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, experiment_text(name="caf\u00e9").encode("latin-1"))
    out = tmp_path / "out"
    code, stdout, err, _ = sweep(capsys, path, "--out", str(out))
    one_line(code, stdout, err, str(path), "not UTF-8", "0xe9", "line 2")
    assert not out.exists()


def test_oversized_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(design, "MAX_FILE_BYTES", 100)
    path = write(tmp_path, experiment_text())
    code, stdout, err, _ = sweep(capsys, path, "--out", str(tmp_path / "out"))
    one_line(code, stdout, err, "too large for an experiment file")


# --- 4. what each analysis needs, checked before any run --------------------------------------
UNUSABLE = {
    "trajectories without series": (
        'analysis = "trajectories"\nseries = false', "",
        "[grid]\ncoupling = [0.05, 0.6]\ncapability = [0.2, 0.8]\n",
        ["trajectories analysis", "series = true"]),
    "coupling_response without coupling 0": (
        'analysis = "coupling_response"', "", "[grid]\ncoupling = [0.5, 1.0]\n",
        ["coupling_response analysis", "coupling 0", "0.5, 1", "add 0"]),
    "coupling_response with sampled coupling": (
        'analysis = "coupling_response"', "",
        "[sample]\nn = 4\n[sample.ranges]\ncoupling = [0.0, 1.0]\n",
        ["coupling_response analysis", "[sample] never draws coupling 0"]),
    "coupling_response with coupling left at its default": (
        'analysis = "coupling_response"', "", "[grid]\ncapability = [0.2, 0.8]\n",
        ["coupling_response analysis", "coupling is 0.2 in every run"]),
    "coupling_break_even without the attention constants in the grid": (
        'analysis = "coupling_break_even"\nreplicates = 2', "",
        "[grid]\ncoupling = [0.0, 1.0]\nattention_venture = [2.0, 4.0]\n",
        ["coupling_break_even analysis", "put cross_attention_cost in the [grid]"]),
    "coupling_break_even with one replicate": (
        'analysis = "coupling_break_even"', "",
        "[grid]\ncoupling = [0.0, 1.0]\nattention_venture = [2.0, 4.0]\n"
        "cross_attention_cost = [1.0, 2.0]\n",
        ["coupling_break_even analysis", "replicates >= 2"]),
    "critical_mass without series": (
        'analysis = "critical_mass"\nreplicates = 2\nseries = false', "",
        "[grid]\nventures_pangyo_factor = [0.5, 2.0]\n",
        ["critical_mass analysis", "series = true"]),
    "critical_mass on one starting state": (
        'analysis = "critical_mass"\nreplicates = 2\nseries = true', "",
        "[grid]\nventures_pangyo_factor = [2.0]\n",
        ["critical_mass analysis", "vary them in a [grid]"]),
    "hysteresis on a sample": (
        'analysis = "hysteresis"\nreplicates = 2', "",
        "[sample]\nn = 4\n[sample.ranges]\ncoupling = [0.1, 0.9]\n",
        ["hysteresis analysis", "needs a [grid]"]),
}


@pytest.mark.parametrize("case", list(UNUSABLE))
def test_design_its_analysis_cannot_use_is_refused_before_any_run(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head, fixed, grid, words = UNUSABLE[case]
    path = write(tmp_path, experiment_text(head=head, fixed=fixed, design=grid))
    out = tmp_path / "out"
    code, stdout, err, _ = sweep(capsys, path, "--out", str(out))
    one_line(code, stdout, err, *words)
    assert not out.exists()


@pytest.mark.parametrize(("head", "fixed", "grid"), [
    ('analysis = "trajectories"\nseries = true', "", "[grid]\ncoupling = [0.05, 0.6]\n"),
    ('analysis = "coupling_response"', "", "[grid]\ncoupling = [0.0, 0.5]\n"),
    ('analysis = "coupling_response"', "coupling = 0.0\n", "[grid]\ncapability = [0.2, 0.8]\n"),
    ('analysis = "coupling_break_even"\nreplicates = 2', "",
     "[grid]\ncoupling = [0.0, 1.0]\nattention_venture = [2.0, 4.0]\n"
     "cross_attention_cost = [1.0, 2.0]\n"),
])
def test_design_meeting_its_analysis_needs_is_accepted(head: str, fixed: str, grid: str,
                                                       tmp_path: Path) -> None:
    load(write(tmp_path, experiment_text(head=head, fixed=fixed, design=grid)))


def test_every_analysis_has_one_entry_in_the_registry() -> None:
    assert design.ANALYSES == tuple(registry.REGISTRY) == tuple(registry.ANALYSES)


def test_the_validator_reads_the_registry(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """One list: a requirement added to the registry is checked, with its own words."""
    path = write(tmp_path, experiment_text(head='analysis = "phase_diagram"'))
    load(path)
    extra = Requirement("a blue moon", lambda experiment: "needs a blue moon, got none")
    entry = dataclasses.replace(registry.REGISTRY["phase_diagram"], requirements=(extra,))
    monkeypatch.setitem(registry.REGISTRY, "phase_diagram", entry)
    with pytest.raises(ExperimentError, match="the phase_diagram analysis needs a blue "
                                              "moon, got none"):
        load(path)


def test_the_figures_fail_where_the_validator_refuses() -> None:
    """What the registry asks for is what drawing needs: the refused designs' runs make
    the figures' tables fail, the accepted ones' do not."""
    from sim import analyses

    def runs(couplings: list[float], series: bool
             ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        results = [run_task(RunSpec(f"r{i}", i, 0, 5, {"scale": 0.05, "until_year": 2018,
                                                        "coupling": c}, series))
                   for i, c in enumerate(couplings)]
        table = pd.DataFrame([r.row for r in results])
        return table, (pd.concat([r.series for r in results]) if series else None)

    without_zero, _ = runs([0.5, 1.0], series=False)
    with pytest.raises(ValueError, match="coupling 0"):
        analyses.coupling_response_table(without_zero)
    with pytest.raises(ValueError, match="series = true"):
        analyses.trajectories_table(without_zero, None)
    with_zero, series = runs([0.0, 0.5], series=True)
    assert len(analyses.coupling_response_table(with_zero)) == 2
    assert len(analyses.trajectories_table(with_zero, series)) > 0


# --- 5. reproduce: a damaged committed CSV is a FAIL verdict naming it ------------------------
DAMAGE = {"empty": b"", "garbage": b"\x00\xff\xfe garbage \x89PNG\r\n\x1a\n",
          "a directory": None}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_committed_csv_is_a_fail_verdict(damage: str, tmp_path: Path) -> None:
    from sim.reproduce import verdicts

    committed = tmp_path / "figures"
    shutil.copytree(TINY / "figures", committed)
    bad = committed / "phase_diagram.csv"
    bad.unlink()
    if DAMAGE[damage] is None:
        bad.mkdir()
    else:
        bad.write_bytes(DAMAGE[damage])
    drawn = [TINY / "figures" / name for name in ("phase_diagram.csv",
                                                  "threshold_sensitivity.csv")]
    lines = {v.figure: v.line() for v in verdicts(drawn, committed)}
    assert lines["threshold_sensitivity"] == "PASS threshold_sensitivity"
    line = lines["phase_diagram"]
    assert line.startswith("FAIL phase_diagram: committed data "), line
    assert str(bad) in line and "not a readable CSV table" in line and "\n" not in line


@pytest.mark.slow
def test_reproduce_with_a_damaged_committed_csv(tmp_path: Path) -> None:
    committed = tmp_path / "figures"
    shutil.copytree(TINY / "figures", committed)
    (committed / "phase_diagram.csv").write_bytes(b"")
    (committed / "threshold_sensitivity.csv").write_bytes(DAMAGE["garbage"])
    done = subprocess.run(
        [sys.executable, "-m", "sim", "reproduce", "--experiments", str(TINY / "experiments"),
         "--figures", str(committed), "--results", str(tmp_path / "results"), "--workers",
         "1", "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    fails = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert len(fails) == 2, done.stdout
    for line, name in zip(sorted(fails), ("phase_diagram", "threshold_sensitivity"),
                          strict=True):
        assert line.startswith(f"FAIL {name}: committed data {committed / name}.csv "
                               "is not a readable CSV table"), line
    assert "PASS phase_diagram_emergence" in done.stdout


# --- the run list: built once, with unchanged run ids ------------------------------------
def test_run_ids_keep_their_definition(tmp_path: Path) -> None:
    """Each run id is the SHA-256 of its parameters, replicate and seed as sorted JSON,
    however the run list is built (results directories are resumed by these ids)."""
    import hashlib

    experiment = design.parse({
        "experiment": {"name": "ids", "master_seed": 9, "replicates": 3},
        "fixed": {"scale": 0.05, "until_year": 2019, "lock_in": False, "vision_stages": 3},
        "sample": {"n": 40, "ranges": {"coupling": [0.0, 1.0], "tie_decay": [0.01, 0.3]}}})
    runs = experiment.runs()
    assert len(runs) == 120
    for spec in runs:
        text = json.dumps({"parameters": spec.parameters, "replicate": spec.replicate,
                           "seed": spec.seed}, sort_keys=True)
        assert spec.run_id == hashlib.sha256(text.encode()).hexdigest()[:16]
    again = experiment.runs()
    assert again == runs and again is not runs  # built once, handed out as a new list
