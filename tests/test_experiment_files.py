"""Experiment files: every mistake is one line on stderr and exit code 2, found before
any run and before the results directory is touched; a sampled design is deterministic.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import invoke, snapshot

from sim.sweep import InProcessExecutor, load, run_sweep

ROOT = Path(__file__).resolve().parents[1]

HEAD = """\
[experiment]
name = "bad"
master_seed = 3
replicates = 2
"""
FIXED = """\
[fixed]
scale = 0.05
until_year = 2018
"""
GRID = """\
[grid]
coupling = [0.0, 0.5]
"""
SAMPLE = """\
[sample]
method = "latin_hypercube"
n = 3

[sample.ranges]
coupling = [0.0, 0.5]
"""

# name: (file text, words the one-line error must contain)
BAD_FILES: dict[str, tuple[str | None, list[str]]] = {
    "missing file": (None, ["not found", "absent.toml"]),
    "malformed TOML": (HEAD + "replicates = = 3\n" + GRID, ["not valid TOML"]),
    "missing [experiment]": (FIXED + GRID, ["missing [experiment]"]),
    "unknown top-level key": (HEAD + FIXED + GRID + "[grids]\ncoupling = [0.1]\n",
                              ["unknown top-level table", "'grids'"]),
    "unknown key in [experiment]": (HEAD + "seed = 4\n" + FIXED + GRID,
                                    ["[experiment]", "unknown key", "'seed'"]),
    "unknown parameter in [fixed]": (HEAD + FIXED + "couplin = 0.2\n" + GRID,
                                     ["[fixed]", "unknown", "'couplin'"]),
    "unknown parameter in [grid]": (HEAD + FIXED + GRID + "capabilty = [0.1, 0.2]\n",
                                    ["[grid]", "unknown", "'capabilty'"]),
    "replicates is a string": (HEAD.replace("replicates = 2", 'replicates = "3"') + FIXED
                               + GRID, ["replicates", "int", "'3'"]),
    "master_seed is a float": (HEAD.replace("master_seed = 3", "master_seed = 1.5") + FIXED
                               + GRID, ["master_seed", "int", "1.5"]),
    "series is a string": (HEAD + 'series = "yes"\n' + FIXED + GRID,
                           ["series", "bool", "'yes'"]),
    "coupling out of range in grid": (HEAD + FIXED + "[grid]\ncoupling = [0.5, 1.5]\n",
                                      ["coupling", "1.5", "[0.0, 1.0]"]),
    "scale zero in fixed": (HEAD + FIXED.replace("scale = 0.05", "scale = 0") + GRID,
                            ["scale", "(0.0, 10.0]", "got 0"]),
    "replicates zero": (HEAD.replace("replicates = 2", "replicates = 0") + FIXED + GRID,
                        ["replicates", "got 0"]),
    "master_seed negative": (HEAD.replace("master_seed = 3", "master_seed = -1") + FIXED
                             + GRID, ["master_seed", ">= 0", "-1"]),
    "grid num zero": (HEAD + FIXED + "[grid]\ncoupling = {from = 0.0, to = 1.0, num = 0}\n",
                      ["coupling", "num", ">= 1", "got 0"]),
    "grid and sample": (HEAD + FIXED + GRID + SAMPLE,
                        ["exactly one of [grid], [sample] or [points]"]),
    "neither grid nor sample": (HEAD + FIXED, ["exactly one of [grid], [sample] or [points]"]),
    "fixed and varied": (HEAD + FIXED + "coupling = 0.2\n" + GRID,
                         ["coupling", "both fixed and varied"]),
    "bad sample method": (HEAD + FIXED + SAMPLE.replace("latin_hypercube", "halton"),
                          ["method", "'halton'", "latin_hypercube", "morris", "sobol"]),
    "sample range reversed": (HEAD + FIXED + SAMPLE.replace("[0.0, 0.5]", "[1, 0]"),
                              ["coupling", "low < high", "[1, 0]"]),
    "tie_floor above tie_initial": (HEAD + FIXED + "tie_floor = 0.5\n" + GRID,
                                    ["tie_floor", "tie_initial"]),
}






@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results directory of a finished good sweep (experiments/smoke.toml)."""
    out = tmp_path_factory.mktemp("smoke") / "results"
    runs = run_sweep(load(ROOT / "experiments" / "smoke.toml"), out, InProcessExecutor(),
                     progress=False)
    assert len(runs) == 8
    time.sleep(0.01)  # so that any later rewrite would show in the mtimes
    return out


def bad_file(tmp_path: Path, case: str) -> Path:
    text, _ = BAD_FILES[case]
    path = tmp_path / ("absent.toml" if text is None else "bad.toml")
    if text is not None:
        path.write_text(text, encoding="utf-8")
    return path


def assert_one_line_error(code: int, stdout: str, err: str, words: list[str]) -> None:
    assert code == 2, err
    assert stdout == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].strip(), repr(err)
    assert err.endswith("\n")
    assert lines[0].startswith("python -m sim sweep: error: ")
    for word in words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_experiment_file(case: str, tmp_path: Path, smoke_results: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    path = bad_file(tmp_path, case)
    before = snapshot(smoke_results)
    code, stdout, err = invoke(capsys, ["sweep", str(path), "--out", str(smoke_results),
                                        "--workers", "1", "--quiet"])
    assert_one_line_error(code, stdout, err, BAD_FILES[case][1])
    assert snapshot(smoke_results) == before


@pytest.mark.parametrize("case", ["missing file", "tie_floor above tie_initial"])
def test_bad_experiment_file_leaves_no_new_directory(case: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "never"
    code, stdout, err = invoke(capsys, ["sweep", str(bad_file(tmp_path, case)), "--out",
                                        str(out), "--workers", "1", "--quiet"])
    assert_one_line_error(code, stdout, err, BAD_FILES[case][1])
    assert not out.exists()


def test_bad_experiment_file_from_the_entry_point(tmp_path: Path, smoke_results: Path) -> None:
    path = bad_file(tmp_path, "malformed TOML")
    before = snapshot(smoke_results)
    done = subprocess.run([sys.executable, "-m", "sim", "sweep", str(path), "--out",
                           str(smoke_results), "--quiet"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert_one_line_error(done.returncode, done.stdout, done.stderr, ["not valid TOML"])
    assert snapshot(smoke_results) == before


# --- grid values: checked before conversion, no repeats --------------------------------------
@pytest.mark.parametrize("values", ['["a", 0.5]', "[[0.1], 0.5]"], ids=["string", "list"])
def test_grid_value_of_wrong_type(values: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(HEAD + FIXED + f"[grid]\ncoupling = {values}\n")
    code, stdout, err = invoke(capsys, ["sweep", str(path), "--out", str(tmp_path / "o"),
                                        "--workers", "1", "--quiet"])
    assert_one_line_error(code, stdout, err, ["coupling"])


@pytest.mark.parametrize("grid", ["until_year = [2019.5]", "coupling = [true, 0.5]"],
                         ids=["fractional-year", "bool-coupling"])
def test_grid_value_not_silently_converted(grid: str, tmp_path: Path) -> None:
    from sim.sweep import ExperimentError

    path = tmp_path / "bad.toml"
    path.write_text(HEAD + "[fixed]\nscale = 0.05\n" + f"[grid]\n{grid}\n")
    with pytest.raises(ExperimentError):
        load(path)


def test_repeated_grid_value_is_refused_or_completes(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "repeat.toml"
    path.write_text(HEAD + FIXED + "[grid]\ncoupling = [0.5, 0.5]\n")
    out = tmp_path / "out"
    code, _, err = invoke(capsys, ["sweep", str(path), "--out", str(out), "--workers", "1",
                                   "--quiet"])
    if code == 2:  # refused as a mistake: fine
        assert len(err.splitlines()) == 1
        return
    assert code == 0, err
    meta = json.loads((out / "manifest.json").read_text())
    assert meta["status"] == "complete", meta


# --- 6. a sampled design ------------------------------------------------------------------
SAMPLED = """\
[experiment]
name = "sampled"
master_seed = {seed}
replicates = 3

[fixed]
scale = 0.05
until_year = 2018

[sample]
method = "{method}"
n = 5

[sample.ranges]
coupling = [0.1, 0.9]
capability = [0.2, 0.6]
"""
RANGES = {"coupling": (0.1, 0.9), "capability": (0.2, 0.6)}


def sampled(tmp_path: Path, seed: int = 21, method: str = "latin_hypercube",
            name: str = "sampled.toml") -> Path:
    path = tmp_path / name
    path.write_text(SAMPLED.format(seed=seed, method=method))
    return path


def test_sampled_design(tmp_path: Path) -> None:
    path = sampled(tmp_path)
    experiment = load(path)
    points = experiment.points()
    assert len(points) == 5
    assert experiment.varied == ["coupling", "capability"]
    for name, (low, high) in RANGES.items():
        values = np.array([p[name] for p in points])
        assert ((values >= low) & (values <= high)).all(), values
        # Latin hypercube: one point in each fifth of every range
        strata = np.floor((values - low) / (high - low) * 5).astype(int)
        assert sorted(strata) == [0, 1, 2, 3, 4], values
    assert len({tuple(p.values()) for p in points}) == 5

    runs = experiment.runs()
    assert len(runs) == 5 * 3
    assert len({spec.run_id for spec in runs}) == 15
    assert sorted((s.point, s.replicate) for s in runs) == [(p, r) for p in range(5)
                                                           for r in range(3)]
    for spec in runs:
        assert spec.parameters == {"scale": 0.05, "until_year": 2018, **points[spec.point]}

    # the same points on every load, from any copy of the file
    assert load(path).points() == points
    assert load(sampled(tmp_path, name="copy.toml")).points() == points
    assert [s.run_id for s in load(path).runs()] == [s.run_id for s in runs]
    assert load(path).fingerprint == experiment.fingerprint
    # ... and other points for another master seed or method
    assert load(sampled(tmp_path, seed=22, name="other.toml")).points() != points
    uniform = load(sampled(tmp_path, method="uniform", name="uniform.toml")).points()
    assert len(uniform) == 5 and uniform != points


def test_sampled_design_sweeps(tmp_path: Path) -> None:
    experiment = load(sampled(tmp_path))
    runs = run_sweep(experiment, tmp_path / "out", InProcessExecutor(), progress=False)
    assert len(runs) == 15 and runs["run_id"].is_unique
    design = pd.DataFrame(experiment.points())
    stored = runs.drop_duplicates("point").set_index("point")[list(RANGES)]
    pd.testing.assert_frame_equal(stored.reset_index(drop=True), design,
                                  check_dtype=False)


@pytest.mark.parametrize(("table", "typo", "meant"), [
    ("fixed", "couplng", "coupling"), ("grid", "capabilty", "capability")])
def test_a_misspelled_parameter_gets_a_did_you_mean(table: str, typo: str, meant: str,
                                                    tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    value = "0.2" if table == "fixed" else "[0.1, 0.2]"
    path.write_text(f'[experiment]\nname = "typo"\nanalysis = "none"\nmaster_seed = 1\n'
                    f"[{table}]\n{typo} = {value}\n"
                    + ("[grid]\ncoupling = [0.1]\n" if table == "fixed" else ""),
                    encoding="utf-8")
    with pytest.raises(Exception, match=f"did you mean '{meant}'") as caught:
        load(path)
    assert "\n" not in str(caught.value)
