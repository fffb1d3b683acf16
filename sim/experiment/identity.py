"""Code identity: which model code made a result.

A results directory must never mix runs made by different code, and a Dask worker that
runs different code from the process that submits to it must be refused. Both need a
fingerprint of the code itself, not of whatever repository happens to enclose it:

* ``source_sha256``: SHA-256 over the installed ``sim`` package's Python files (their
  paths relative to the package and their bytes, in sorted order). It changes with any
  edit to the model and with nothing else.
* ``version``: the package version (``sim.__version__``).
* ``git``: the commit and whether the work tree is dirty, only when the package's parent
  folder is itself the top of a git checkout (a development install); never read from a
  repository that merely contains an installed copy.

* ``environment``: the Python version and the versions of the packages a run's numbers
  depend on (:data:`RESULT_PACKAGES`), with ``environment_sha256`` over them: the same
  source under another numpy may draw other numbers.

Two codes are the same when their :func:`code_key` match: the source and, where
recorded, the environment; the rest is for people. A code recorded before environments
were (no ``environment_sha256``) counts as another code.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import platform
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import sim

_PACKAGE = Path(sim.__file__).resolve().parent


@functools.cache
def source_sha256() -> str:
    """SHA-256 of the ``sim`` package's source files and its profiles (computed once per
    process): a profile sets the defaults, so results made under another are another
    code's. A profile counts by its values, not its comments (which record where it came
    from)."""
    digest = hashlib.sha256()
    profiles = _PACKAGE / "profiles"
    for path in sorted(p for p in _PACKAGE.rglob("*")
                       if p.suffix == ".py" or (p.parent == profiles and p.is_file())):
        relative = path.relative_to(_PACKAGE).as_posix()
        if "__pycache__" in relative:
            continue
        digest.update(relative.encode() + b"\0")
        digest.update(_content(path) + b"\0")
    return digest.hexdigest()


def _content(path: Path) -> bytes:
    if path.suffix == ".toml":
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            return path.read_bytes()
        return json.dumps(values, sort_keys=True).encode()
    return path.read_bytes()


@functools.cache
def git_state() -> dict[str, Any] | None:
    """Commit and dirtiness of the checkout the package lives in, or None.

    Only a checkout whose top level is the package's parent folder counts: a copy of
    ``sim`` vendored inside another repository reports None, not that repository.
    """
    root = _PACKAGE.parent
    try:
        top = _git(root, "rev-parse", "--show-toplevel")
        if Path(top).resolve() != root:
            return None
        commit = _git(root, "rev-parse", "HEAD")
        dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": dirty}


#: The installed distributions whose versions are part of a code's identity: those the
#: model's runs and their stored tables are computed with.
RESULT_PACKAGES: tuple[str, ...] = ("numpy", "mesa", "pandas", "pyarrow")


@functools.cache
def environment() -> dict[str, str]:
    """Python's version and each of :data:`RESULT_PACKAGES`' (``"absent"`` when not
    installed)."""
    versions = {"python": platform.python_version()}
    for name in RESULT_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def environment_sha256(versions: dict[str, str]) -> str:
    """SHA-256 of an environment's versions (sorted JSON)."""
    return hashlib.sha256(json.dumps(versions, sort_keys=True).encode()).hexdigest()


def code_identity() -> dict[str, Any]:
    """The fingerprint recorded in manifests and compared across processes."""
    versions = environment()
    return {"version": sim.__version__, "source_sha256": source_sha256(),
            "environment": versions, "environment_sha256": environment_sha256(versions),
            "git": git_state()}


def code_key(code: Any) -> str | None:
    """What makes two codes the same: the source and the environment, as one string
    (None for an unrecorded code). A code recorded without an environment gets a key of
    its source alone, which no code running now has."""
    if not isinstance(code, dict) or code.get("source_sha256") is None:
        return None
    environment_part = code.get("environment_sha256")
    return (str(code["source_sha256"]) if environment_part is None
            else f"{code['source_sha256']}+{environment_part}")


def code_version() -> str:
    """A short human label: ``VERSION+gCOMMIT[-dirty]`` in a checkout, else ``VERSION``."""
    state = git_state()
    if state is None:
        return sim.__version__
    return f"{sim.__version__}+g{state['commit'][:12]}" + ("-dirty" if state["dirty"] else "")


def short(identity: dict[str, Any]) -> str:
    """One-line description of an identity, for error messages."""
    git = identity.get("git")
    where = f", commit {git['commit'][:12]}{' (dirty)' if git['dirty'] else ''}" if git else ""
    versions = identity.get("environment")
    environment_text = (", " + " ".join(f"{name} {version}" for name, version in
                                        versions.items()) if isinstance(versions, dict)
                        else ", environment not recorded")
    return (f"version {identity.get('version')}, source "
            f"{str(identity.get('source_sha256'))[:12]}{where}{environment_text}")


def _git(root: Path, *arguments: str) -> str:
    return subprocess.run(["git", "-C", str(root), *arguments], capture_output=True,
                          text=True, timeout=10, check=True).stdout.strip()
