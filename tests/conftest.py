"""Shared fixtures: small models that build in milliseconds."""

from __future__ import annotations

import signal
import textwrap
from pathlib import Path

import pytest

from sim import ClusterModel, cli


def pytest_configure(config: pytest.Config) -> None:
    """A test run started in the background by a shell without job control inherits
    SIGINT ignored, and so would every process the tests start, which then could not
    be interrupted as a user interrupts them (the signal tests): restore the default.
    Runs in every pytest-xdist worker too."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


SMALL = 0.05
"""Scale of the test models: about 125 agents."""


@pytest.fixture
def small_model() -> ClusterModel:
    """A freshly built small model (not yet stepped)."""
    return ClusterModel(rng=7, scale=SMALL)


def invoke(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    capsys.readouterr()  # drop anything printed before
    try:
        code = cli.main(argv)
    except SystemExit as stop:  # argparse errors
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(directory: Path) -> dict[str, tuple[bool, int, int, bytes | None]]:
    """Every entry under ``directory``: kind, size, mtime (ns) and the bytes of files."""
    entries = {".": (True, 0, directory.stat().st_mtime_ns, None)}
    for path in sorted(directory.rglob("*")):
        info = path.stat()
        is_dir = path.is_dir()
        entries[str(path.relative_to(directory))] = (
            is_dir, 0 if is_dir else info.st_size, info.st_mtime_ns,
            None if is_dir else path.read_bytes())
    return entries


def write_experiment(path: Path, name: str = "small", analysis: str = "coupling_response",
                     prefix: str = "") -> Path:
    """Two couplings x two replicates at scale 0.05 to 2018: four quick runs."""
    extra = f'figure_prefix = "{prefix}"\n' if prefix else ""
    path.write_text(textwrap.dedent(f"""\
        [experiment]
        name = "{name}"
        analysis = "{analysis}"
        master_seed = 3
        replicates = 2
        """) + extra + textwrap.dedent("""\
        [fixed]
        scale = 0.05
        until_year = 2018
        [grid]
        coupling = [0.0, 0.5]
        capability = [0.5]
        """), encoding="utf-8")
    return path
