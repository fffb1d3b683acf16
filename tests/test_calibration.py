"""Calibration (sim.inference): the file, the distance, running on any executor, resuming,
recovering known parameters, and the command line."""

from __future__ import annotations

import csv
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiment.design import ExperimentError
from sim.inference.problem import TargetDistance, load
from sim.inference.run import calibrate
from sim.sweep.execute import DaskExecutor, InProcessExecutor
from sim.targets import load_targets
from tests.conftest import invoke

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ROOT / "data" / "targets.csv"


def calibration_file(tmp_path: Path, *, generations: int = 2, population: int = 6,
                     targets: Path = TARGETS, extra: str = "", name: str = "tiny") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f"""
[calibration]
name = "{name}"
master_seed = 11
population_size = {population}
generations = {generations}
predictive_draws = 4
targets = "{targets}"

[fixed]
scale = 0.05
until_year = 2020
spin_up_years = 7
observed_start = true

[priors]
entry_rate = {{ low = 0.0, high = 0.06 }}
startup_cash = {{ low = 1.0, high = 8.0 }}
{extra}
""", encoding="utf-8")
    return path


# --- the file ----------
@pytest.mark.parametrize(("change", "message"), [
    ("[calibration]\nname = 'x'\n", "missing key 'master_seed'"),
    ("[priors]\nentry_rte = { low = 0.0, high = 0.1 }\n", "did you mean 'entry_rate'"),
    ("[priors]\nsearch_candidates = { low = 1, high = 5 }\n", "not a real-valued"),
    ("[priors]\nentry_rate = { low = 0.1, high = 0.0 }\n", "needs low < high"),
    ("[priors]\nentry_rate = { low = 0.0, high = 2.0 }\n", "entry_rate"),
    ("[bogus]\n", "unknown top-level table 'bogus'"),
])
def test_a_bad_calibration_file_is_one_line(tmp_path: Path, change: str, message: str) -> None:
    good = calibration_file(tmp_path).read_text()
    table = change.split("]")[0] + "]"
    if table in good and table != "[calibration]":
        text = good.replace(good[good.index(table):].split("\n\n")[0], change.strip())
    elif table == "[calibration]":
        text = change
    else:
        text = good + "\n" + change
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExperimentError, match=message) as caught:
        load(path)
    assert "\n" not in str(caught.value)


def test_a_missing_or_malformed_targets_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ExperimentError, match="targets") as caught:
        load(calibration_file(tmp_path, targets=tmp_path / "absent.csv"))
    assert "\n" not in str(caught.value)
    broken = tmp_path / "broken.csv"
    broken.write_text(TARGETS.read_text(encoding="utf-8").replace(",1259,", ",many,", 1),
                      encoding="utf-8")
    with pytest.raises(ExperimentError, match="broken.csv") as caught:
        load(calibration_file(tmp_path, targets=broken))
    assert "\n" not in str(caught.value)


def test_the_cli_refuses_a_bad_file_with_exit_2(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(b"\xff\xfe not text")
    code, _, err = invoke(capsys, ["calibrate", str(path), "--workers", "1",
                                   "--out", str(tmp_path / "out")])
    assert code == 2
    assert err.count("\n") == 1 and "not UTF-8" in err
    assert not (tmp_path / "out").exists()


def test_fitted_and_held_out_targets_follow_their_roles(tmp_path: Path) -> None:
    calibration = load(calibration_file(tmp_path))
    assert calibration.fitted and calibration.held_out
    assert {t.role for t in calibration.fitted} == {"calibrate"}
    assert {t.role for t in calibration.held_out} == {"validate"}
    assert all(t.year <= 2020 for t in calibration.targets)


# --- the distance ----------
def test_distance_is_the_rms_of_errors_in_half_ranges() -> None:
    targets = [t for t in load_targets(TARGETS) if t.role == "calibrate"][:2]
    distance = TargetDistance(tuple(targets))
    observed = {t.id: t.value for t in targets}
    half = [(t.high - t.low) / 2 for t in targets]
    simulated = {targets[0].id: targets[0].value + half[0],       # one half-range off
                 targets[1].id: targets[1].value - 3 * half[1]}   # three off
    assert distance(simulated, observed) == pytest.approx(math.sqrt((1 + 9) / 2))
    assert distance(observed, observed) == 0.0
    assert distance({targets[0].id: 1.0}, observed) == math.inf  # a target not produced


# --- running and resuming ----------
OUTPUTS = ("posterior.csv", "generations.csv", "predictive.csv")


@pytest.mark.slow
def test_same_master_seed_same_posterior_in_process_and_on_two_workers(tmp_path: Path) -> None:
    calibration = load(calibration_file(tmp_path))
    calibrate(calibration, tmp_path / "one", InProcessExecutor(), progress=False)
    calibrate(calibration, tmp_path / "two", DaskExecutor(workers=2), progress=False)
    for name in OUTPUTS:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    profile = (tmp_path / "one" / "profile.toml").read_text()
    assert "[parameters]" in profile and "entry_rate = " in profile


def _generations(directory: Path) -> int:
    return len(list((directory / "populations").glob("*.json")))


@pytest.mark.slow
def test_kill_9_then_rerun_ends_where_an_uninterrupted_run_ends(tmp_path: Path) -> None:
    path = calibration_file(tmp_path, generations=4, population=8)
    calibrate(load(path), tmp_path / "whole", InProcessExecutor(), progress=False)

    out = tmp_path / "killed"
    command = [sys.executable, "-m", "sim", "calibrate", str(path), "--workers", "1",
               "--quiet", "--out", str(out)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while _generations(out) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert process.poll() is None, "the calibration ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert 2 <= _generations(out) < 4
    rerun = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()


def test_a_directory_of_another_calibration_is_refused(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text('{"calibration": {"name": "other", '
                                       '"fingerprint": "0"}}')
    code, _, err = invoke(capsys, ["calibrate", str(calibration_file(tmp_path)),
                                   "--workers", "1", "--out", str(out)])
    assert code == 2 and err.count("\n") == 1 and "another calibration" in err


# --- recovering known parameters ----------
@pytest.mark.slow
def test_the_pipeline_recovers_known_parameters_from_synthetic_targets(tmp_path: Path) -> None:
    """Simulate at known values, turn the outputs into targets, calibrate on them: the
    truth lies inside the 90% posterior interval."""
    from sim.inference.report import posterior_table

    truth = {"entry_rate": 0.04, "startup_cash": 3.0}
    template = load(calibration_file(tmp_path, name="template"))
    np.random.seed(123)
    simulated = template.simulate(truth)
    synthetic = tmp_path / "synthetic.csv"
    with TARGETS.open(encoding="utf-8") as source, synthetic.open("w", encoding="utf-8",
                                                                   newline="") as sink:
        reader = csv.DictReader(source)
        writer = csv.DictWriter(sink, reader.fieldnames)
        writer.writeheader()
        for row in reader:
            # every target the run produced, fitted: enough information for two
            # parameters (the real file fits only two targets)
            if row["id"] in simulated and row["role"] in ("calibrate", "validate"):
                value = simulated[row["id"]]
                spread = max(abs(value) * 0.1, 0.01)
                row.update(value=repr(value), low=repr(value - spread),
                           high=repr(value + spread), role="calibrate")
                writer.writerow(row)
    calibration = load(calibration_file(tmp_path, targets=synthetic, generations=4,
                                        population=40, name="synthetic"))
    assert len(calibration.fitted) >= 4
    out = calibrate(calibration, tmp_path / "out", DaskExecutor(workers=2), progress=False)
    table = posterior_table(calibration, pd.read_csv(out / "posterior.csv"),
                            pd.read_csv(out / "generations.csv")).set_index("parameter")
    for name, value in truth.items():
        assert table.at[name, "q05"] <= value <= table.at[name, "q95"], table
