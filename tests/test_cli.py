"""The command line, ``python -m sim``: output format, determinism and user errors.

Runs in-process through ``sim.cli.main`` (tiny models: scale 0.05, two years), plus one
subprocess test of the module entry point.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import invoke

from sim.params import Params
from sim.scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--scale", "0.05", "--until", "2019"]
SUMMARY_KEYS = {"scenario", "coupling_type", "paired_synergy", "capability_index",
                "cooperation_index", "distinctiveness", "innovations_total",
                "innovations_inter", "ventures_alive", "scale_ups", "seed", "parameters"}


def _reject_constant(name: str):
    raise ValueError(f"not strict JSON: {name}")




def run_json(capsys, *args: str) -> dict:
    code, out, err = invoke(capsys, ["run", *SMALL, *args, "--json"])
    assert code == 0, err
    assert err == ""
    # exactly one JSON object, strict JSON (no NaN/Infinity), on one line
    assert out.endswith("\n") and out.count("\n") == 1, out
    data = json.loads(out, parse_constant=_reject_constant)
    assert isinstance(data, dict)
    return data


# --- run --json ----------------------------------------------------------------------------
def test_run_json_has_the_summary_and_the_parameters(capsys):
    data = run_json(capsys, "--coupling", "0.35", "--capability", "0.6", "--seed", "5")
    assert SUMMARY_KEYS <= data.keys()
    assert data["scenario"] in SCENARIOS
    assert isinstance(data["coupling_type"], str) and data["coupling_type"]
    assert data["seed"] == 5
    for key in ("capability_index", "cooperation_index", "distinctiveness"):
        assert isinstance(data[key], float) and data[key] >= 0, key
    for key in ("innovations_total", "innovations_inter", "ventures_alive", "scale_ups"):
        assert isinstance(data[key], int) and data[key] >= 0, key
    assert data["innovations_inter"] <= data["innovations_total"]
    assert 0.0 <= data["cooperation_index"] <= 1.0

    parameters = data["parameters"]
    assert parameters.keys() == {f.name for f in dataclasses.fields(Params)}
    assert parameters["coupling"] == 0.35
    assert parameters["capability"] == 0.6
    assert parameters["scale"] == 0.05
    assert parameters["until_year"] == 2019
    # everything not given keeps its default
    assert parameters["learning_rate"] == Params().learning_rate
    assert parameters["capability_daedeok"] is None
    assert Params(**parameters) == Params(coupling=0.35, capability=0.6, scale=0.05,
                                          until_year=2019)


def test_zero_coupling_has_no_inter_cluster_innovation(capsys):
    for seed in ("1", "2"):
        data = run_json(capsys, "--coupling", "0", "--seed", seed)
        assert data["parameters"]["coupling"] == 0.0
        assert data["innovations_inter"] == 0
        assert data["cooperation_index"] == 0.0
        assert data["innovations_total"] > 0  # the runs are not empty


def test_same_arguments_give_identical_output(capsys):
    argv = ["run", *SMALL, "--coupling", "0.3", "--seed", "11", "--json"]
    first = invoke(capsys, argv)
    second = invoke(capsys, argv)
    assert first[0] == 0
    assert first == second


def test_same_arguments_give_identical_readable_output(capsys):
    argv = ["run", *SMALL, "--seed", "4"]
    assert invoke(capsys, argv) == invoke(capsys, argv)


def test_different_seed_gives_different_output(capsys):
    one = run_json(capsys, "--coupling", "0.3", "--seed", "1")
    two = run_json(capsys, "--coupling", "0.3", "--seed", "2")
    assert (one["seed"], two["seed"]) == (1, 2)
    assert one["parameters"] == two["parameters"]
    del one["seed"], two["seed"]
    assert one != two


def test_policy_flags_are_echoed(capsys):
    data = run_json(capsys, "--shared-vision", "--cooperation-programme",
                    "--open-innovation", "--capability-daedeok", "0.8",
                    "--capability-pangyo", "0.3")
    parameters = data["parameters"]
    assert parameters["shared_vision"] is True
    assert parameters["cooperation_programme"] is True
    assert parameters["open_innovation"] is True
    assert parameters["capability_daedeok"] == 0.8
    assert parameters["capability_pangyo"] == 0.3
    default = run_json(capsys)["parameters"]
    assert default["shared_vision"] is default["open_innovation"] is False


# --- --set ------------------------------------------------------------------------------------
def test_programme_flag_sets_budget_and_start_and_reports_the_money(capsys):
    data = run_json(capsys, "--programme", "training=2.8@2018", "--programme",
                    "cooperation=0")
    assert data["parameters"]["training_budget"] == 2.8
    assert data["parameters"]["training_start"] == 2018
    assert data["parameters"]["cooperation_budget"] == 0.0
    assert data["programme_spent"] > 0


def test_set_is_honoured(capsys):
    data = run_json(capsys, "--set", "learning_rate=0.1")
    assert data["parameters"]["learning_rate"] == 0.1
    baseline = run_json(capsys)
    assert baseline["parameters"]["learning_rate"] == Params().learning_rate


def test_set_coerces_types_and_repeats(capsys):
    data = run_json(capsys, "--set", "search_candidates=3", "--set", "shared_vision=yes",
                    "--set", "tie_decay = 0.2", "--set", "incubation_quarters=6.0")
    parameters = data["parameters"]
    assert parameters["search_candidates"] == 3
    assert parameters["shared_vision"] is True
    assert parameters["tie_decay"] == 0.2
    assert parameters["incubation_quarters"] == 6
    assert isinstance(parameters["incubation_quarters"], int)


def test_set_overrides_the_option(capsys):
    data = run_json(capsys, "--coupling", "0.3", "--set", "coupling=0.4")
    assert data["parameters"]["coupling"] == 0.4


# --- human-readable ----------------------------------------------------------------------------
def test_readable_output_names_scenario_and_capability_index(capsys):
    code, out, err = invoke(capsys, ["run", *SMALL, "--seed", "3", "--coupling", "0.25"])
    assert code == 0 and err == ""
    scenario = run_json(capsys, "--seed", "3", "--coupling", "0.25")["scenario"]
    assert scenario in out
    assert "capability index" in out
    assert "coupling 0.25" in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


# --- user errors: exit 2, one line on stderr, no traceback -------------------------------------
BAD = [
    (["run", *SMALL, "--coupling", "2"], "coupling"),
    (["run", *SMALL, "--coupling", "abc"], "coupling"),
    (["run", *SMALL, "--coupling", "nan"], "coupling"),
    (["run", *SMALL, "--capability", "-0.1"], "capability"),
    (["run", *SMALL, "--capability-pangyo", "1.5"], "capability_pangyo"),
    (["run", "--scale", "0", "--until", "2019"], "scale"),
    (["run", "--scale", "0.05", "--until", "1999"], "until"),
    (["run", "--scale", "0.05", "--until", "2019.5"], "until"),
    (["run", *SMALL, "--set", "nosuch=1"], "nosuch"),
    (["run", *SMALL, "--set", "coupling"], "coupling"),
    (["run", *SMALL, "--set", "=0.3"], "--set"),
    (["run", *SMALL, "--set", "shared_vision=maybe"], "shared_vision"),
    (["run", *SMALL, "--set", "coupling=high"], "coupling"),
    (["run", *SMALL, "--set", "search_candidates=2.5"], "search_candidates"),
    (["run", *SMALL, "--set", "tie_floor=0.5"], "tie_floor"),
    (["run", *SMALL, "--seed", "x"], "--seed"),
    (["run", *SMALL, "--programme", "trainig=5"], "trainig"),
    (["run", *SMALL, "--programme", "training=lots"], "training_budget"),
    (["run", *SMALL, "--programme", "training=5@2040"], "training_start"),
    (["run", *SMALL, "--programme", "training=-1"], "training_budget"),
    (["run", *SMALL, "--bogus"], "--bogus"),
    (["run", *SMALL, "extra"], "extra"),
    (["bogus"], "bogus"),
    ([], "command"),
    (["baseline", "--seeds", "0", "--scale", "0.05"], "--seeds"),
    (["baseline", "--seeds", "1", "--scale", "-1"], "scale"),
    (["figures"], "--from-csv"),
    (["figures", "results/x", "--from-csv", "figures", "--out", "o"], "not both"),
    (["figures", "--from-csv", "figures"], "--out"),
    (["figures", "results/x", "--experiments", "experiments/quick"], "--experiments"),
]


@pytest.mark.parametrize("argv, names", BAD, ids=[" ".join(a) or "(none)" for a, _ in BAD])
def test_bad_input_exits_2_with_one_line(capsys, argv, names):
    code, out, err = invoke(capsys, argv)
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and "Traceback" not in out
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "error" in lines[0]
    assert names in lines[0], lines[0]
    assert out == ""


def test_negative_seed_exits_2(capsys):
    code, out, err = invoke(capsys, ["run", *SMALL, "--seed", "-1"])
    assert code == 2
    assert len([line for line in err.splitlines() if line.strip()]) == 1
    assert "seed" in err


# --- figures --from-csv ------------------------------------------------------------------------
TINY = ROOT / "tests" / "data" / "reproduce"


@pytest.mark.slow
def test_figures_from_csv_redraws_them(capsys, tmp_path):
    code, out, err = invoke(capsys, ["figures", "--from-csv", str(TINY / "figures"),
                                     "--experiments", str(TINY / "experiments"),
                                     "--out", str(tmp_path / "out")])
    assert code == 0, err
    out_dir = tmp_path / "out"
    expected = [out_dir / f"phase_diagram.{ext}" for ext in ("png", "svg", "csv")]
    expected.append(out_dir / "phase_diagram_emergence.csv")  # the figure's companion
    expected += [out_dir / f"threshold_sensitivity.{ext}" for ext in ("png", "svg", "csv")]
    written = out.splitlines()
    assert written[:len(expected)] == [str(path) for path in expected]  # tiny.toml's first
    for path in expected:
        assert path.stat().st_size > 0
    # then the figures of the tiny experiments of the paper's questions; every table as
    # committed
    # (the calibration's screening and predictive check too; its posterior figure needs
    # the particles, and a note says so)
    tables = sorted(Path(path).name for path in written if path.endswith(".csv"))
    assert tables == sorted(path.name for path in (TINY / "figures").glob("*.csv")
                            if path.name != "calibration_posterior.csv")
    assert "note: calibration_posterior is not redrawn" in err
    for table in tables:
        assert (out_dir / table).read_bytes() == (TINY / "figures" / table).read_bytes()


@pytest.mark.parametrize("damage", ["missing", "columns"])
def test_figures_from_csv_names_the_bad_file(capsys, tmp_path, damage):
    data = tmp_path / "figures"
    shutil.copytree(TINY / "figures", data)
    bad = data / "threshold_sensitivity.csv"
    if damage == "missing":
        bad.unlink()
    else:
        bad.write_text(bad.read_text().replace("certainty", "sureness", 1))
    code, out, err = invoke(capsys, ["figures", "--from-csv", str(data), "--experiments",
                                     str(TINY / "experiments"), "--out", str(tmp_path / "o")])
    assert code == 2 and out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("python -m sim figures: error: ")
    assert str(bad) in lines[0]
    assert not (tmp_path / "o").exists()


def test_figures_of_results_that_cannot_support_their_analysis_exit_2(capsys, tmp_path):
    # a finished trajectories experiment stored without its quarterly series
    results = tmp_path / "results"
    results.mkdir()
    manifest = {"experiment": {"name": "no-series", "fingerprint": "0" * 64,
                               "analysis": "trajectories", "file": "experiment.toml"},
                "status": "complete", "runs_total": 0, "runs_stored": 0}
    (results / "manifest.json").write_text(json.dumps(manifest))
    pd.DataFrame({"run_id": ["r0"], "coupling": [0.0], "capability": [0.5],
                  "scenario": ["Stagnation"]}).to_parquet(results / "runs.parquet")
    # hand-made runs no experiment file designs: refused as not the whole design...
    code, out, err = invoke(capsys, ["figures", str(results), "--out", str(tmp_path / "o")])
    assert code == 2 and out == ""
    assert "is not the whole design" in err and len(err.strip().splitlines()) == 1, err
    # ...and with --allow-partial, refused by the analysis, in one line
    code, out, err = invoke(capsys, ["figures", str(results), "--out", str(tmp_path / "o"),
                                     "--allow-partial"])
    assert code == 2 and out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "series = true" in lines[0]


# --- params -------------------------------------------------------------------------------------
def test_params_lists_every_field(capsys):
    code, out, err = invoke(capsys, ["params"])
    assert code == 0 and err == ""
    lines = out.splitlines()
    listed = [line.split(" = ", 1)[0] for line in lines]
    assert listed == [f.name for f in dataclasses.fields(Params)]
    described = Params.describe()
    for line in lines:
        name, rest = line.split(" = ", 1)
        assert rest.startswith(repr(described[name]["default"])), line
        assert described[name]["help"] in line, line


def test_params_shows_open_lower_bounds(capsys):
    code, out, _ = invoke(capsys, ["params"])
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("scale = "))
    assert "(0.0, 10.0]" in line, line


# --- the module entry point -------------------------------------------------------------------
def test_module_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "sim", "run", "--scale", "0.05", "--until", "2019",
         "--coupling", "0", "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout, parse_constant=_reject_constant)
    assert SUMMARY_KEYS <= data.keys()
    assert data["parameters"]["coupling"] == 0.0
    assert data["parameters"]["scale"] == 0.05
    assert data["innovations_inter"] == 0


def test_version_is_the_packages(capsys):
    import tomllib
    from importlib.metadata import version

    import sim

    code, out, _ = invoke(capsys, ["--version"])
    assert code == 0 and out.strip() == f"python -m sim {sim.__version__}"
    assert version("cluster-coupling-sim") == sim.__version__  # one source
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]


def test_params_as_json_describe_every_field(capsys):
    code, out, _ = invoke(capsys, ["params", "--json"])
    assert code == 0
    described = json.loads(out)
    assert list(described) == [f.name for f in dataclasses.fields(Params)]
    assert described["coupling"] == {**Params.describe()["coupling"], "kind": "float"}
    assert described["coupling_after"]["optional"] is True
