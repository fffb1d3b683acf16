"""Every notebook in notebooks/ runs top to bottom without an error.

The notebooks are executed with nbclient in a kernel named ``python3`` that runs this
interpreter (the venv's): a kernelspec pointing at ``sys.executable`` is registered in
a temporary directory put first on ``JUPYTER_PATH``, so a user- or system-wide
``python3`` kernel of another Python cannot take its place.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds per cell


@pytest.fixture(scope="module")
def venv_kernel(tmp_path_factory: pytest.TempPathFactory):
    """Register a ``python3`` kernelspec for this interpreter and put it first."""
    from ipykernel.kernelspec import install

    prefix = tmp_path_factory.mktemp("jupyter")
    install(kernel_name="python3", prefix=str(prefix))  # argv[0] is sys.executable
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
        yield "python3"


def execute(nb, kernel_name: str):
    client = nbclient.NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name=kernel_name, allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}})  # cwd: notebooks/
    return client.execute()


@pytest.mark.slow
def test_kernel_runs_this_interpreter(venv_kernel: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import os, sys; print(sys.executable); print(sys.prefix); print(os.getcwd())")]
    execute(nb, venv_kernel)
    executable, prefix, cwd = nb.cells[0].outputs[0]["text"].splitlines()
    assert executable == sys.executable  # not resolved: the venv's python is a symlink
    assert prefix == sys.prefix
    assert Path(cwd).resolve() == NOTEBOOKS_DIR


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, f"no notebooks in {NOTEBOOKS_DIR}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path, venv_kernel: str) -> None:
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    execute(nb, venv_kernel)  # raises CellExecutionError on the first failing cell
    print(f"{path.name}: {time.perf_counter() - started:.1f} s")
