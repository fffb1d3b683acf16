"""Solara's front-end files, cached locally so the dashboard needs no internet.

A Solara page loads its JavaScript, CSS and fonts from a public CDN of npm packages.
The same packages come from the npm registry: :func:`cache_assets` fetches each with
``npm pack`` (npm checks the tarball's integrity) and unpacks it where Solara's asset
proxy looks (``SOLARA_ASSETS_PROXY_CACHE_DIR``), as ``NAME@VERSION/...``. The launcher
(``python -m sim.dashboard``) then points ``SOLARA_ASSETS_CDN`` at a closed local port,
so a file missing from the cache fails at once instead of being fetched.

Which packages: the exact versions Solara's page template pins (the page shell), the
draggable grid SolaraViz lays its components out with, and the icon font Solara's
settings name. They are read from the installed Solara, so an upgrade of Solara changes
the list with it.

Command line: ``python -m sim.dashboard.assets [--cache DIR] [--env]``
(``make dashboard-assets``); ``--env`` prints the environment settings that make any
Solara server, or JupyterLab showing the dashboard inline, use the cache
(``make notebooks`` applies them).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

#: Where the cache goes unless ``--cache`` or ``SOLARA_ASSETS_PROXY_CACHE_DIR`` says
#: otherwise: beside the project's virtual environment, out of version control.
DEFAULT_CACHE = Path(__file__).resolve().parents[2] / ".solara-assets"

# "/NAME@X.Y.Z/" or "/@SCOPE/NAME@X.Y.Z-tag/" inside a CDN address
_PIN = re.compile(r"/((?:@[\w.-]+/)?[\w.-]+)@(\d+\.\d+\.\d+(?:-[\w.]+)?)/")
#: A local port nothing listens on: a request for a file missing from the cache is
#: refused at once instead of reaching out.
CLOSED_CDN = "http://127.0.0.1:9/"

# files of the installed Solara that name the packages its pages load from the CDN
_SOURCES = ("server/templates/solara.html.j2", "widgets/vue/gridlayout.vue")


def cache_dir() -> Path:
    """The cache in use: ``SOLARA_ASSETS_PROXY_CACHE_DIR`` if set, else the default."""
    return Path(os.environ.get("SOLARA_ASSETS_PROXY_CACHE_DIR") or DEFAULT_CACHE)


def offline_environment(cache: os.PathLike[str] | str) -> dict[str, str]:
    """The environment variables that make a Solara server (or Solara's Jupyter server
    extension) serve the front-end files from ``cache`` and never reach out."""
    return {
        "SOLARA_ASSETS_PROXY": "true",
        "SOLARA_ASSETS_PROXY_CACHE_DIR": str(cache),
        "SOLARA_ASSETS_CDN": CLOSED_CDN,
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
    }


def required_packages() -> list[str]:
    """``NAME@VERSION`` of every npm package the dashboard's page loads, sorted."""
    spec = importlib.util.find_spec("solara")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("Solara is not installed: pip install -e '.[dashboard]'")
    root = Path(spec.submodule_search_locations[0])
    found: set[str] = set()
    for source in _SOURCES:
        for name, version in _PIN.findall((root / source).read_text(encoding="utf-8")):
            # the template also names the Vuetify 3 app, loaded only with ipyvue 3
            if "vuetify3" in name and _ipyvue_major() < 3:
                continue
            found.add(f"{name}@{version}")
    found.add(_fontawesome())
    return sorted(found)


def missing_packages(cache: Path | None = None) -> list[str]:
    """The required packages not yet in ``cache``."""
    cache = cache or cache_dir()
    return [package for package in required_packages()
            if not (cache / package / "package.json").is_file()]


def cache_assets(cache: Path | None = None, *, npm: str = "npm") -> list[str]:
    """Fetch every missing package from the npm registry into ``cache``.

    Returns the packages fetched (none when the cache was complete). Each package is
    unpacked into a temporary directory and moved into place in one rename, so an
    interrupted run never leaves half a package behind."""
    cache = cache or cache_dir()
    missing = missing_packages(cache)
    if not missing:
        return []
    if shutil.which(npm) is None:
        raise RuntimeError(f"'{npm}' not found: install Node.js and npm to fetch Solara's "
                           "front-end files from the npm registry")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".fetch-") as scratch:
        work = Path(scratch)
        result = subprocess.run([npm, "pack", "--silent", "--pack-destination", str(work),
                                 *missing], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            message = (result.stderr.strip().splitlines() or ["no message"])[-1]
            raise RuntimeError(f"npm pack failed for {' '.join(missing)}: {message}")
        tarballs = result.stdout.split()
        if len(tarballs) != len(missing):
            raise RuntimeError(f"npm pack returned {len(tarballs)} files for "
                               f"{len(missing)} packages: {result.stdout.strip()}")
        for package, tarball in zip(missing, tarballs, strict=True):
            unpacked = work / f"unpacked-{tarball}"
            with tarfile.open(work / tarball) as archive:
                archive.extractall(unpacked, filter="data")
            target = cache / package
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():  # an earlier, incomplete copy
                shutil.rmtree(target)
            (unpacked / "package").rename(target)
    return missing


def _ipyvue_major() -> int:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return int(version("ipyvue").split(".")[0])
    except PackageNotFoundError:
        return 0


def _fontawesome() -> str:
    from solara.server.settings import assets
    pin = _PIN.search(assets.fontawesome_path + "/")
    if pin is None:
        raise RuntimeError(f"cannot read a package version from Solara's icon font path "
                           f"{assets.fontawesome_path!r}")
    return f"{pin.group(1)}@{pin.group(2)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sim.dashboard.assets",
        description="Cache Solara's front-end files from the npm registry for offline use.")
    parser.add_argument("--cache", type=Path, default=None,
                        help=f"cache directory (default: $SOLARA_ASSETS_PROXY_CACHE_DIR or "
                             f"{DEFAULT_CACHE})")
    parser.add_argument("--env", action="store_true",
                        help="after caching, print the offline settings as NAME=VALUE lines "
                             "(for env(1) or export)")
    args = parser.parse_args(argv)
    cache = (args.cache or cache_dir()).resolve()
    try:
        fetched = cache_assets(cache)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    report = sys.stderr if args.env else sys.stdout  # --env keeps stdout for the settings
    if fetched:
        print(f"cached {len(fetched)} package(s) in {cache}: {', '.join(fetched)}", file=report)
    else:
        print(f"Solara's front-end files are all in {cache}", file=report)
    if args.env:
        for name, value in offline_environment(cache).items():
            print(f"{name}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
