"""The package's layers: every import runs from a higher layer to a lower one, and the
tools on one floor never import each other.

From the top: the command line; ``reproduce`` (sweeps, then figures, then a verdict)
and its spot check (``reproduce --budget``: committed runs re-simulated);
the tools (sweeps, analyses, inference, dashboard), each reading only what is below;
the experiment contract (designs, input-file toolkit, analysis registry, results
directories, code identity, figure style); the model (every other module). A module
not named here belongs to the model, so a new file is checked from its first line.
Imports inside functions count as much as those at the top of a file.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sim"

#: Layers from the top; a layer of several packages is a floor whose rooms are
#: independent of each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("sim.__main__",),
    ("sim.cli",),
    ("sim.reproduce", "sim.spot_check"),
    ("sim.sweep", "sim.analyses", "sim.inference", "sim.dashboard"),
    ("sim.experiment",),
)
MODEL = len(LAYERS)
"""The layer of every other module of :mod:`sim`: the model."""


def room(module: str) -> tuple[int, str]:
    """The layer (0 = top) and the package a module belongs to."""
    for level, rooms in enumerate(LAYERS):
        for name in rooms:
            if module == name or module.startswith(name + "."):
                return level, name
    return MODEL, "model"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """Every module of :mod:`sim` a file imports (line, module), at any depth of the
    file, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    here = module_name(path).split(".")
    if path.name != "__init__.py":
        here = here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(here[:len(here) - node.level + 1] + ([base] if base else []))
            found.append((node.lineno, base))
            # "from sim import analyses" imports the package sim.analyses
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names
                      if (PACKAGE.parent / f"{base}.{alias.name}".replace(".", "/")).exists()
                      or (PACKAGE.parent / (f"{base}.{alias.name}".replace(".", "/") + ".py")
                          ).exists()]
    return [(line, name) for line, name in found if name == "sim" or name.startswith("sim.")]


def violations() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = module_name(path)
        level, package = room(source)
        for line, target in imports(path):
            if target == "sim":
                continue  # the package's face (its version) sits below everything
            target_level, target_package = room(target)
            where = f"{path.relative_to(ROOT)}:{line} imports {target}"
            if target_level < level:
                found.append(f"{where}: up from {package} to {target_package}")
            elif target_level == level and target_package != package:
                found.append(f"{where}: across the floor from {package} to {target_package}")
    return found


def test_every_import_runs_down() -> None:
    problems = violations()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("source", "target", "kind"), [
    ("sim/experiment/design.py", "from sim.sweep.tasks import RunResult", "up"),
    ("sim/analyses/drawing.py", "from sim.inference import report", "across"),
    ("sim/model.py", "import sim.experiment.registry", "up"),
    ("sim/experiment/results.py", "    from sim.analyses import catalogue", "up"),
])
def test_the_check_sees_a_wrong_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       source: str, target: str, kind: str) -> None:
    """The check itself: one import added the wrong way (at the top or inside a
    function) is found."""
    copy = tmp_path / "sim"
    for path in PACKAGE.rglob("*.py"):
        destination = copy / path.relative_to(PACKAGE)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    changed = copy / Path(source).relative_to("sim")
    text = changed.read_text(encoding="utf-8")
    if target.startswith("    "):
        text += f"\n\ndef _late() -> None:\n{target}\n"
    else:
        text = text.replace("from __future__ import annotations\n",
                            f"from __future__ import annotations\n\n{target}\n", 1)
    changed.write_text(text, encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", copy)
    problems = violations()
    assert problems, "the wrong import went unseen"
    assert all(problem.startswith(f"{source}:") and f": {kind} " in problem
               for problem in problems), problems
