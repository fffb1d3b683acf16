"""The documentation site builds, offline and without a warning, and the README stays
a first page.

The build is ``make docs``'s: ``mkdocs build --strict`` with the repository's
mkdocs.yml, whose hook generates the reference pages from the code (the command line,
the parameters, the experiment-file schema and one API page per module), so a changed
option, parameter or docstring that breaks a page fails here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README_MAX_LINES = 250


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
         str(ROOT / "mkdocs.yml"), "--site-dir", str(out)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    warnings = [line for line in log.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert not warnings, "\n".join(warnings)
    return out


@pytest.mark.slow
def test_the_site_builds_strictly_with_every_generated_page(site):
    for page in ("index.html", "reference/cli.html", "reference/parameters.html",
                 "reference/experiment-files.html", "reference/api.html", "OUTPUTS.html",
                 "ODD.html", "TRACE.html"):
        assert (site / page).is_file(), page
    cli = (site / "reference" / "cli.html").read_text(encoding="utf-8")
    for command in ("run", "sweep", "figures", "reproduce", "calibrate", "params",
                    "baseline"):
        assert f"python -m sim {command}" in cli, command
    parameters = (site / "reference" / "parameters.html").read_text(encoding="utf-8")
    assert "<code>coupling</code>" in parameters and "ASSUMPTION" in parameters
    assert (site / "reference" / "api" / "sim.model.html").is_file()
    assert (site / "figures" / "phase_diagram.png").is_file()


@pytest.mark.slow
def test_the_site_loads_nothing_from_the_network(site):
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "fonts.googleapis.com" not in text, page
        assert "cdn.jsdelivr.net" not in text and "unpkg.com" not in text, page


def test_readme_is_a_first_page():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"
