"""The package works installed: a wheel built from the checkout, installed into a fresh
virtual environment and used from another folder runs the model, reads the sourced
targets, redraws a published figure from its CSV and reproduces an experiment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_in_the_wheel_configuration():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    found = {".".join(path.parent.relative_to(ROOT).parts)
             for path in (ROOT / "sim").rglob("*.py") if "__pycache__" not in path.parts}
    found |= {"sim.profiles", "sim.data"}  # package data: profiles, the sourced data
    assert listed == found


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a fresh virtual environment holding the wheel (its dependencies
    are this environment's, added to its path)."""
    base = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                            str(ROOT), "-w", str(base / "dist")],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    wheel = next((base / "dist").glob("cluster_coupling_sim-*.whl"))
    environment = base / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig."
                                "get_paths()['purelib'])"], capture_output=True, text=True,
                               check=True).stdout.strip())
    # the dependencies of this environment, but not its editable install of the checkout:
    # a folder listed in a .pth file does not have its own .pth files read
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "-q",
                           str(wheel)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return python


def run(python: Path, cwd: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONNOUSERSITE": "1"}
    environment.pop("PYTHONPATH", None)
    return subprocess.run([str(python), *arguments], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env=environment)


@pytest.mark.slow
def test_the_installed_package_is_the_tool(installed: Path, tmp_path: Path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = run(installed, elsewhere, "-c", "import sim; print(sim.__file__)")
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(installed.parents[1]), where.stdout
    # the same code as the checkout: a Dask worker installed from the wheel is accepted
    source = run(installed, elsewhere, "-c", "from sim.experiment.identity import "
                 "source_sha256; print(source_sha256())")
    from sim.experiment.identity import source_sha256
    assert source.stdout.strip() == source_sha256()

    model = run(installed, elsewhere, "-m", "sim", "run", "--scale", "0.05", "--until",
                "2018", "--json")
    assert model.returncode == 0, model.stderr
    assert '"scenario"' in model.stdout

    targets = run(installed, elsewhere, "-c", "from sim.targets import load_targets; "
                  "print(len(load_targets()))")
    assert targets.returncode == 0, targets.stderr
    assert int(targets.stdout) > 50

    # a published figure redrawn from its CSV, the experiment files pointed at
    experiments = tmp_path / "experiments"
    experiments.mkdir()
    shutil.copy(ROOT / "experiments" / "publication" / "coupling_response.toml", experiments)
    redrawn = run(installed, elsewhere, "-m", "sim", "figures", "--from-csv",
                  str(ROOT / "figures"), "--out", str(tmp_path / "redrawn"),
                  "--experiments", str(experiments))
    assert redrawn.returncode == 0, redrawn.stderr
    assert ((tmp_path / "redrawn" / "coupling_response.csv").read_bytes()
            == (ROOT / "figures" / "coupling_response.csv").read_bytes())

    # an experiment reproduced against its committed data
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    shutil.copy(ROOT / "tests" / "data" / "reproduce" / "experiments" / "tiny.toml", tiny)
    reproduced = run(installed, elsewhere, "-m", "sim", "reproduce", "--experiments",
                     str(tiny), "--figures", str(ROOT / "tests" / "data" / "reproduce" /
                                                 "figures"),
                     "--results", str(tmp_path / "results"), "--workers", "1", "--quiet")
    assert reproduced.returncode == 0, reproduced.stdout + reproduced.stderr
    assert "PASS" in reproduced.stdout and "FAIL" not in reproduced.stdout

    # without the experiment files, one line says where to point
    lost = run(installed, elsewhere, "-m", "sim", "reproduce", "--workers", "1")
    assert lost.returncode == 2
    assert "point --experiments at a folder" in lost.stderr
