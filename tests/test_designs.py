"""Sensitivity and listed designs: Morris and Sobol samples (SALib) and points files.

* Each design makes the runs SALib prescribes (Morris: trajectories x (D + 1) points;
  Sobol: n x (2D + 2) with second order, else n x (D + 2)), times the replicates, with
  paired seeds, counted before anything is built so the run limit applies.
* Sampling is deterministic from the master seed; the older designs keep their points,
  fingerprints and run ids, so their results directories still resume.
* A points design runs exactly the listed points; its file's content is part of the
  experiment, and a malformed file is one line and exit code 2 before anything is
  touched.
* Executors agree, and a sweep killed with ``kill -9`` resumes to the uninterrupted
  tables (``slow``).

Runs are tiny (scale 0.05, one spin-up year, to 2018).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import invoke, snapshot
from processes import (
    Processes,
    part_files,
    processes_fixture,  # noqa: F401 - the fixture 'processes'
    stored_in_parts,
    subprocess_env,
    sweep_command,
    wait_for,
)

import sim.sweep
from sim.experiment import design as design_module
from sim.experiment.design import DEFAULT_MAX_RUNS, parse
from sim.sweep import (
    DaskExecutor,
    ExperimentError,
    InProcessExecutor,
    ResultStore,
    load,
    run_sweep,
)

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 240  # seconds: no subprocess of these tests may take longer
TINY = "scale = 0.05\nspin_up_years = 1\nuntil_year = 2018\n"


def experiment_text(design: str, *, name: str = "designs", replicates: int = 2,
                    master_seed: int = 11, analysis: str = "none", fixed: str = TINY) -> str:
    return (f'[experiment]\nname = "{name}"\nanalysis = "{analysis}"\n'
            f"master_seed = {master_seed}\nreplicates = {replicates}\n\n"
            f"[fixed]\n{fixed}\n{design}")


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def morris(trajectories: int = 3, levels: int = 4,
           ranges: str = "coupling = [0.0, 1.0]\ncapability = [0.2, 0.8]\n") -> str:
    return (f'[sample]\nmethod = "morris"\ntrajectories = {trajectories}\nlevels = {levels}\n'
            f"[sample.ranges]\n{ranges}")


def sobol(n: int = 4, second_order: bool = False,
          ranges: str = "coupling = [0.0, 1.0]\ncapability = [0.2, 0.8]\n") -> str:
    return (f'[sample]\nmethod = "sobol"\nn = {n}\nsecond_order = '
            f"{str(second_order).lower()}\n[sample.ranges]\n{ranges}")


def one_line(code: int, out: str, err: str, *words: str) -> None:
    assert code == 2, (code, out, err)
    assert out == "" and "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), repr(err)
    assert lines[0].startswith("python -m sim sweep: error: "), lines[0]
    for word in words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"


def sweep(capsys: pytest.CaptureFixture[str], path: Path, out: Path) -> tuple[int, str, str]:
    return invoke(capsys, ["sweep", str(path), "--out", str(out), "--workers", "1",
                           "--quiet"])


RANGES_OF = {"coupling": (0.0, 1.0), "capability": (0.2, 0.8), "tie_decay": (0.05, 0.2)}


def ranges_text(dimensions: int) -> str:
    names = list(RANGES_OF)[:dimensions]
    return "".join(f"{n} = [{RANGES_OF[n][0]}, {RANGES_OF[n][1]}]\n" for n in names)


def salib_problem(dimensions: int) -> dict:
    names = list(RANGES_OF)[:dimensions]
    return {"num_vars": dimensions, "names": names,
            "bounds": [list(RANGES_OF[n]) for n in names]}


# --- 1. sizes: what SALib prescribes, counted before anything is built -------------------------
@pytest.mark.parametrize("dimensions", [1, 2, 3])
@pytest.mark.parametrize("trajectories", [2, 5])
def test_morris_makes_trajectories_times_d_plus_1_points(dimensions: int, trajectories: int,
                                                         tmp_path: Path) -> None:
    from SALib.sample import morris as salib_morris

    experiment = load(write(tmp_path / "m.toml", experiment_text(
        morris(trajectories, ranges=ranges_text(dimensions)), replicates=3)))
    points = trajectories * (dimensions + 1)
    assert experiment.point_count == points
    assert experiment.run_count == len(experiment.runs()) == points * 3
    prescribed = salib_morris.sample(salib_problem(dimensions), trajectories, num_levels=4)
    assert len(experiment.points()) == len(prescribed) == points


@pytest.mark.parametrize("dimensions", [2, 3])
@pytest.mark.parametrize("second_order", [True, False])
@pytest.mark.parametrize("n", [2, 8])
def test_sobol_makes_what_saltelli_prescribes(dimensions: int, second_order: bool, n: int,
                                              tmp_path: Path) -> None:
    from SALib.sample import sobol as salib_sobol

    experiment = load(write(tmp_path / "s.toml", experiment_text(
        sobol(n, second_order, ranges=ranges_text(dimensions)), replicates=2)))
    points = n * (2 * dimensions + 2 if second_order else dimensions + 2)
    assert experiment.point_count == points
    assert experiment.run_count == len(experiment.runs()) == points * 2
    prescribed = salib_sobol.sample(salib_problem(dimensions), n,
                                    calc_second_order=second_order, seed=1)
    assert len(experiment.points()) == len(prescribed) == points


def test_sobol_points_are_saltellis_matrices(tmp_path: Path) -> None:
    """Each block of a Sobol design is A, then A with one column of B at a time, then B:
    the order SALib's analysis reads the outputs in."""
    experiment = load(write(tmp_path / "s.toml", experiment_text(
        sobol(4, False, ranges=ranges_text(3)))))
    values = np.array([list(point.values()) for point in experiment.points()])
    for block in values.reshape(4, 5, 3):
        a, b = block[0], block[-1]
        for i in range(3):
            expected = a.copy()
            expected[i] = b[i]
            np.testing.assert_array_equal(block[1 + i], expected)


@pytest.mark.parametrize(("design", "words"), [
    (sobol(2**20, True, ranges_text(3)), ["8,388,608 points x 2 replicates", "Sobol base sample",
                                          "2 x 3 parameters + 2", "16,777,216 runs"]),
    (morris(10**6, ranges=ranges_text(3)), ["Morris trajectories", "(3 parameters + 1)",
                                            "8,000,000 runs"]),
])
def test_the_run_limit_applies_before_anything_is_sampled(design: str, words: list[str],
                                                          tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    path = write(tmp_path / "huge.toml", experiment_text(design))
    out = tmp_path / "out"
    code, stdout, err = sweep(capsys, path, out)
    one_line(code, stdout, err, *words, f"{DEFAULT_MAX_RUNS:,}", "max_runs = N")
    assert not out.exists()


# --- 2. settings checked like every other key ---------------------------------------------------
BAD_SETTINGS = {
    "sobol n not a power of 2": (sobol(6), ["n must be a power of 2", "got 6", "sobol"]),
    "sobol n of 1": (sobol(1), ["power of 2", "got 1"]),
    "sobol second_order not a flag": (sobol(4).replace("false", '"no"'),
                                      ["second_order must be bool", "'no'"]),
    "sobol second order of one parameter": (sobol(4, True, ranges_text(1)),
                                            ["second_order = true needs at least two"]),
    "sobol trajectories": (sobol(4).replace("n = 4", "n = 4\ntrajectories = 3"),
                           ["trajectories is not used by method = 'sobol'", "morris"]),
    "morris with n": (morris().replace("levels = 4", "levels = 4\nn = 10"),
                      ["n is not used by method = 'morris'", "remove it"]),
    "morris without trajectories": (morris().replace("trajectories = 3\n", ""),
                                    ["method = 'morris' needs trajectories"]),
    "morris one trajectory": (morris(1), ["trajectories must be >= 2", "got 1"]),
    "morris odd levels": (morris(levels=3), ["levels must be an even number", "got 3"]),
    "morris levels a float": (morris().replace("levels = 4", "levels = 4.5"),
                              ["levels must be int", "4.5"]),
    "uniform second_order": (sobol(4).replace('"sobol"', '"uniform"'),
                             ["second_order is not used by method = 'uniform'"]),
    "unknown sample key": (morris().replace("levels = 4", "levels = 4\nseed = 3"),
                           ["unknown key 'seed'"]),
    "range of an integer parameter": (morris(ranges="until_year = [2018, 2020]\n"),
                                      ["until_year is not a real-valued parameter"]),
    "range out of bounds": (sobol(4, ranges="coupling = [0.0, 1.5]\n"),
                            ["coupling must be in [0.0, 1.0]", "1.5"]),
    "NaN bound": (sobol(4, ranges="coupling = [nan, 0.5]\n"), ["coupling", "[low, high]"]),
}


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished results directory, which no refused file may touch."""
    base = tmp_path_factory.mktemp("finished")
    path = write(base / "grid.toml", experiment_text("[grid]\ncoupling = [0.0, 0.5]\n",
                                                     name="finished", replicates=1))
    run_sweep(load(path), base / "results", InProcessExecutor(), progress=False)
    return base / "results"


@pytest.mark.parametrize("case", list(BAD_SETTINGS))
def test_a_bad_setting_is_one_line_and_touches_nothing(case: str, tmp_path: Path,
                                                       finished: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    text, words = BAD_SETTINGS[case]
    before = snapshot(finished)
    code, stdout, err = sweep(capsys, write(tmp_path / "bad.toml", experiment_text(text)),
                              finished)
    one_line(code, stdout, err, *words)
    assert snapshot(finished) == before


# --- 3. deterministic, paired, and the older designs unchanged ---------------------------------
def test_sampling_is_deterministic_from_the_master_seed(tmp_path: Path) -> None:
    for design in (morris(4, ranges=ranges_text(3)), sobol(8, True, ranges_text(3))):
        first = load(write(tmp_path / "a.toml", experiment_text(design)))
        again = load(write(tmp_path / "b.toml", experiment_text(design)))
        other = load(write(tmp_path / "c.toml", experiment_text(design, master_seed=12)))
        assert first.points() == again.points() != other.points()
        assert [s.run_id for s in first.runs()] == [s.run_id for s in again.runs()]
        assert first.fingerprint == again.fingerprint != other.fingerprint
        for name, (low, high) in RANGES_OF.items():
            values = [point[name] for point in first.points()]
            assert low <= min(values) and max(values) <= high


def test_replicate_r_of_every_point_has_the_same_seed(tmp_path: Path) -> None:
    experiment = load(write(tmp_path / "m.toml", experiment_text(morris(), replicates=3)))
    seeds = design_module.replicate_seeds(experiment.master_seed, 3)
    for spec in experiment.runs():
        assert spec.seed == seeds[spec.replicate]


def test_coinciding_morris_points_get_runs_of_their_own(tmp_path: Path) -> None:
    """Morris trajectories meet on the grid (one parameter, four levels, ten
    trajectories: twenty points on four values); each point still has its own runs."""
    experiment = load(write(tmp_path / "m.toml", experiment_text(
        morris(10, ranges="coupling = [0.0, 1.0]\n"))))
    points = experiment.points()
    assert len(points) == 20 and len({p["coupling"] for p in points}) <= 4
    runs = experiment.runs()
    assert len({spec.run_id for spec in runs}) == len(runs) == 40
    for spec in runs:  # the point is part of the identity of these designs
        text = json.dumps({"parameters": spec.parameters, "point": spec.point,
                           "replicate": spec.replicate, "seed": spec.seed}, sort_keys=True)
        assert spec.run_id == hashlib.sha256(text.encode()).hexdigest()[:16]


# Fingerprints and run ids of the older designs, as the code before Morris, Sobol and
# points designs made them: results directories are matched by both.
OLDER = {
    "grid": ({"grid": {"coupling": [0.0, 0.5], "capability": [0.3, 0.7]}}, 5,
             "1e6782c3637022981670ed658daeddb32eb83fbcccd285a4eb5a1ac241fed219",
             ["f145ecea72a0ab91", "03d3ce7db942064d", "44f8f62ca6e37e8d", "e9bd0c9ac69fa167",
              "19bec6fc34ecd2ce", "5dc607287d7dccf8", "accf81ed2350a571", "92dd91666fac4990"]),
    "latin_hypercube": (
        {"sample": {"method": "latin_hypercube", "n": 3,
                    "ranges": {"coupling": [0.1, 0.9], "capability": [0.2, 0.6]}}}, 21,
        "f33cdec565c34743a4e376a5e8adc3be175b47285522f7d480458b77e6d3c9b0",
        ["2abe2d735648d3e1", "51ecdc1ccd6dba71", "5c9ce468237eaa29", "38bd3e04f0faee83",
         "0e661cbbb005443d", "7f7bfa65263e7723"]),
    "uniform": (
        {"sample": {"method": "uniform", "n": 3, "ranges": {"tie_decay": [0.01, 0.3]}}}, 22,
        "754335291f4236b81626c90b374b0db2903d4532e8d9f66e0a87a9f08b8ec36d",
        ["46c836349bb447f4", "918d2e0e4f266b69", "7de122b641e25369", "f2e2f1983640c746",
         "602d5fafc35252e8", "1e0e570d575b2dde"]),
}


@pytest.mark.parametrize("method", list(OLDER))
def test_older_designs_keep_their_fingerprints_and_run_ids(method: str) -> None:
    design, seed, fingerprint, run_ids = OLDER[method]
    experiment = parse({"experiment": {"name": f"old_{method}".replace("latin_hypercube",
                                                                       "lhs"),
                                       "master_seed": seed, "replicates": 2},
                        "fixed": {"scale": 0.05, "until_year": 2019}, **design})
    assert experiment.fingerprint == fingerprint
    assert [spec.run_id for spec in experiment.runs()] == run_ids


def test_a_directory_of_an_older_sweep_resumes(tmp_path: Path) -> None:
    """A manifest written before designs were recorded: the sweep resumes without
    running anything again, and records the design."""
    path = write(tmp_path / "lhs.toml", experiment_text(
        '[sample]\nmethod = "latin_hypercube"\nn = 3\n[sample.ranges]\n'
        "coupling = [0.1, 0.9]\n", name="older"))
    experiment = load(path)
    out = tmp_path / "results"
    first = run_sweep(experiment, out, InProcessExecutor(), progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["design"] == {"method": "latin_hypercube", "parameters": ["coupling"],
                                  "points": 3, "n": 3, "ranges": [[0.1, 0.9]]}
    del manifest["design"]
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")

    class Nothing(InProcessExecutor):
        def map_unordered(self, task, items):
            assert list(items) == [], "a complete directory must run nothing"
            return iter(())

    again = run_sweep(load(path), out, Nothing(), progress=False)
    pd.testing.assert_frame_equal(again, first)
    assert json.loads((out / "manifest.json").read_text())["design"]["method"] == \
        "latin_hypercube"


# --- 4. points files ----------------------------------------------------------------------------
POINTS = "coupling,capability,lock_in\n0.0,0.5,true\n0.25,0.3,false\n0.25,0.3,false\n"


def points_experiment(folder: Path, csv: str | bytes = POINTS, *, name: str = "listed",
                      file: str = "points.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write(folder / file, csv)
    return write(folder / "listed.toml", experiment_text(f'[points]\nfile = "{file}"\n',
                                                         name=name))


def test_a_points_design_runs_exactly_the_listed_points(tmp_path: Path) -> None:
    experiment = load(points_experiment(tmp_path / "exp"))
    listed = [{"coupling": 0.0, "capability": 0.5, "lock_in": True},
              {"coupling": 0.25, "capability": 0.3, "lock_in": False},
              {"coupling": 0.25, "capability": 0.3, "lock_in": False}]
    assert experiment.points() == listed
    assert experiment.varied == ["coupling", "capability", "lock_in"]
    out = tmp_path / "results"
    runs = run_sweep(experiment, out, InProcessExecutor(), progress=False)
    assert len(runs) == 6 and runs["run_id"].is_unique
    stored = runs.sort_values(["point", "replicate"])
    for column in ("coupling", "capability", "lock_in"):
        assert stored[column].tolist() == [p[column] for p in listed for _ in range(2)]
    seeds = stored.groupby("replicate")["seed"].nunique()
    assert (seeds == 1).all()  # replicate r of every point: one seed
    assert (out / "points.csv").read_text() == POINTS
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["design"] == {
        "method": "points", "parameters": ["coupling", "capability", "lock_in"],
        "points": 3, "file": "points.csv",
        "sha256": hashlib.sha256(POINTS.encode()).hexdigest()}


def test_the_points_files_content_is_the_experiment(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    first = load(points_experiment(tmp_path / "a"))
    moved = load(points_experiment(tmp_path / "b", file="elsewhere.csv"))
    assert moved.fingerprint == first.fingerprint  # where it lies does not count
    reformatted = load(points_experiment(tmp_path / "c", POINTS.replace("0.0,", "0,")))
    assert reformatted.points() == first.points()
    assert reformatted.fingerprint != first.fingerprint  # its bytes do (SHA-256)

    path = points_experiment(tmp_path / "d")
    out = tmp_path / "results"
    run_sweep(load(path), out, InProcessExecutor(), progress=False)
    before = snapshot(out)
    write(path.parent / "points.csv", POINTS.replace("0.3", "0.35"))
    code, stdout, err = sweep(capsys, path, out)
    one_line(code, stdout, err, "holds results of a different experiment")
    assert snapshot(out) == before


def test_a_points_directory_without_manifest_is_rebuilt_from_its_copy(tmp_path: Path) -> None:
    path = points_experiment(tmp_path / "exp")
    out = tmp_path / "results"
    first = run_sweep(load(path), out, InProcessExecutor(), progress=False)
    (out / "manifest.json").unlink()
    assert ResultStore(out, load(path)).open() == set(first["run_id"])
    # the directory's copy of the points file decides, not the file it was made from
    write(path.parent / "points.csv", POINTS.replace("0.3", "0.35"))
    (out / "manifest.json").unlink()
    with pytest.raises(ExperimentError, match="different experiment"):
        ResultStore(out, load(path)).open()


BAD_POINTS: dict[str, tuple[str | bytes | None, list[str]]] = {
    "missing file": (None, ["[points] file 'points.csv' not found",
                            "relative to the experiment file"]),
    "empty": ("", ["is empty", "header of parameter names"]),
    "blank lines only": ("\n\n  \n", ["is empty"]),
    "header only": ("coupling,capability\n", ["has a header but no points"]),
    "missing column in a row": ("coupling,capability\n0.1,0.2\n0.3\n",
                                ["line 3", "1 value for the 2 columns", "missing"]),
    "extra value in a row": ("coupling\n0.1,0.2\n", ["line 2", "2 values", "extra"]),
    "unnamed column": ("coupling,,capability\n0.1,0.2,0.3\n",
                       ["column 2 of the header has no name"]),
    "unknown parameter": ("coupling,capabilty\n0.1,0.2\n",
                          ["column 'capabilty' is not a model parameter",
                           "did you mean 'capability'"]),
    "repeated column": ("coupling,coupling\n0.1,0.2\n", ["names column 'coupling' twice"]),
    "out of range": ("coupling,capability\n0.1,0.2\n1.5,0.2\n",
                     ["line 3", "coupling must be in [0.0, 1.0]", "1.5"]),
    "NaN": ("coupling,capability\n0.1,nan\n", ["line 2", "capability is NaN"]),
    "empty cell": ("coupling,capability\n0.1,\n", ["line 2", "no value for capability"]),
    "not a number": ("coupling\nhalf\n", ["coupling must be a number", "'half'"]),
    "infinite": ("coupling\ninf\n", ["coupling must be finite"]),
    "fractional year": ("until_year\n2018.5\n", ["until_year must be a whole number"]),
    "bad flag": ("lock_in\nyes\n", ["lock_in must be true or false", "'yes'"]),
    "non-UTF-8": (b"coupling\n0.1\n0.\xe92\n",
                  ["not UTF-8 text", "0xe9", "line 3"]),
    "fixed and listed": ("scale\n0.1\n", ["scale is both fixed and varied"]),
    "cross-field rule": ("tie_floor,tie_initial\n0.1,0.3\n0.4,0.3\n",
                         ["point 2 of the points file", "tie_floor must be below"]),
}


@pytest.mark.parametrize("case", list(BAD_POINTS))
def test_a_malformed_points_file_is_one_line_and_touches_nothing(
        case: str, tmp_path: Path, finished: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    content, words = BAD_POINTS[case]
    path = points_experiment(tmp_path / "exp", content if content is not None else "")
    if content is None:
        (path.parent / "points.csv").unlink()
    before = snapshot(finished)
    code, stdout, err = sweep(capsys, path, finished)
    one_line(code, stdout, err, *words)
    assert snapshot(finished) == before
    new = tmp_path / "new"
    code, stdout, err = sweep(capsys, path, new)
    one_line(code, stdout, err, *words)
    assert not new.exists()


def test_a_spreadsheets_byte_order_mark_is_not_part_of_a_name(tmp_path: Path) -> None:
    experiment = load(points_experiment(tmp_path / "exp", "\ufeffcoupling\n0.1\n"))
    assert experiment.points() == [{"coupling": 0.1}]


@pytest.mark.parametrize(("table", "words"), [
    ('[points]\nfile = 3\n', ["file must be str"]),
    ('[points]\nfile = "p.csv"\nsep = ";"\n', ["[points]", "unknown key 'sep'"]),
    ("[points]\n", ["missing key 'file'"]),
    ('[points]\nfile = "p.csv"\n[grid]\ncoupling = [0.1]\n',
     ["exactly one of [grid], [sample] or [points]"]),
])
def test_a_bad_points_table_is_one_line(table: str, words: list[str], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "p.csv", "coupling\n0.1\n")
    path = write(tmp_path / "e.toml", experiment_text(table))
    code, stdout, err = sweep(capsys, path, tmp_path / "out")
    one_line(code, stdout, err, *words)
    assert not (tmp_path / "out").exists()


def test_the_sensitivity_analysis_needs_a_morris_or_sobol_design(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "points.csv", "coupling\n0.1\n")
    for design, got in (("[grid]\ncoupling = [0.1, 0.2]\n", "a [grid]"),
                        ("[sample]\nn = 4\n[sample.ranges]\ncoupling = [0.0, 1.0]\n",
                         "method = 'latin_hypercube'"),
                        ('[points]\nfile = "points.csv"\n', "a [points] file")):
        path = write(tmp_path / "e.toml", experiment_text(design, analysis="sensitivity"))
        code, stdout, err = sweep(capsys, path, tmp_path / "out")
        one_line(code, stdout, err, "the sensitivity analysis needs a [sample] with "
                 "method = 'morris' or 'sobol'", got)
    for design in (morris(), sobol()):
        load(write(tmp_path / "ok.toml", experiment_text(design, analysis="sensitivity")))


# --- 5. executors agree, and a killed sweep resumes ---------------------------------------------
@pytest.fixture(scope="module")
def morris_reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A small Morris design (3 trajectories x 3 points x 2 replicates) swept in order."""
    base = tmp_path_factory.mktemp("morris_reference")
    path = write(base / "m.toml", experiment_text(morris(), name="morris_small",
                                                  analysis="sensitivity"))
    return path, run_sweep(load(path), base / "results", InProcessExecutor(),
                           progress=False)


def test_a_shuffled_executor_gives_the_same_tables(morris_reference, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.analyses.sensitivity import sensitivity_table

    monkeypatch.setattr(sim.sweep, "FLUSH_EVERY_RUNS", 4)  # several parts to consolidate
    path, reference = morris_reference
    experiment = load(path)
    shuffled = run_sweep(experiment, tmp_path / "shuffled",
                         InProcessExecutor(shuffle_seed=5), progress=False)
    pd.testing.assert_frame_equal(shuffled, reference)
    design = experiment.design_record()
    pd.testing.assert_frame_equal(sensitivity_table(shuffled, design),
                                  sensitivity_table(reference, design))


@pytest.mark.slow
def test_dask_gives_the_same_tables(morris_reference, tmp_path: Path) -> None:
    path, reference = morris_reference
    dask = run_sweep(load(path), tmp_path / "dask", DaskExecutor(workers=2), progress=False)
    pd.testing.assert_frame_equal(dask, reference)


@pytest.mark.slow
def test_kill_9_then_resume_equals_an_uninterrupted_sobol_sweep(
        tmp_path: Path, processes: Processes) -> None:
    """A Sobol design of 160 runs, killed once its first batch is stored: the same
    command runs the rest, and the tables equal the uninterrupted sweep's."""
    text = experiment_text(sobol(8, True, ranges_text(3)), name="killed", replicates=2,
                           fixed="scale = 0.05\nuntil_year = 2019\n")
    reference_path = write(tmp_path / "reference.toml", text)
    reference = run_sweep(load(reference_path), tmp_path / "reference",
                          InProcessExecutor(), progress=False)
    assert len(reference) == 8 * 8 * 2

    path = write(tmp_path / "killed.toml", text)
    out = tmp_path / "out"
    command = sweep_command(path, out, "--workers", "1", "--quiet")
    process = processes.start(command, "sweep")
    wait_for(lambda: bool(part_files(out)), 120, "the first part", alive=process)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    assert not (out / "runs.parquet").exists(), "the sweep ended before it was killed"
    stored = stored_in_parts(out)
    assert 0 < len(stored) < len(reference)

    done = subprocess.run(command, cwd=ROOT, env=subprocess_env(), capture_output=True,
                          text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), reference)
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


def test_a_design_record_lists_each_method_s_settings(tmp_path: Path) -> None:
    cases = {
        "morris": (morris(), {"trajectories": 3, "levels": 4}),
        "sobol": (sobol(4, True), {"n": 4, "second_order": True}),
    }
    for method, (design, settings) in cases.items():
        experiment = load(write(tmp_path / f"{method}.toml", experiment_text(design)))
        record = experiment.design_record()
        assert record == {"method": method, "parameters": ["coupling", "capability"],
                          "points": experiment.point_count, **settings,
                          "ranges": [[0.0, 1.0], [0.2, 0.8]]}
    grid = load(write(tmp_path / "g.toml", experiment_text("[grid]\ncoupling = [0.1]\n")))
    assert grid.design_record() == {"method": "grid", "parameters": ["coupling"],
                                    "points": 1}
