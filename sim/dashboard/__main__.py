"""Start the dashboard: ``python -m sim.dashboard [--host H] [--port P]``.

Serves ``sim.dashboard.app`` with ``solara run`` on 127.0.0.1 (by default), offline:
Solara's front-end files come from the local cache (fetched first from the npm
registry if missing, see :mod:`sim.dashboard.assets`), the CDN address points at a
closed local port, and Solara's usage statistics are switched off.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from sim.dashboard import assets


def serve_command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line for the dashboard."""
    return [sys.executable, "-m", "solara", "run", "sim.dashboard.app", "--host", host,
            "--port", str(port), "--production", "--no-open"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.dashboard",
                                     description="Serve the interactive dashboard.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8765, help="port (default: 8765)")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port must be between 1 and 65535, got {args.port}")
    cache = assets.cache_dir()
    try:
        fetched = assets.cache_assets(cache)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if fetched:
        print(f"cached Solara's front-end files in {cache}", flush=True)
    env = {**os.environ, **assets.offline_environment(cache)}
    print(f"dashboard at http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
    try:
        return subprocess.call(serve_command(args.host, args.port), env=env)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
