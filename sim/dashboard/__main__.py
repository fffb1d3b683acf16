"""Start the dashboard: ``python -m sim.dashboard [--host H] [--port P]``.

Serves ``sim.dashboard.app`` with ``solara run`` on 127.0.0.1 (by default), offline:
Solara's front-end files come from the local cache (fetched first from the npm
registry if missing, see :mod:`sim.dashboard.assets`), the CDN address points at a
closed local port, and Solara's usage statistics are switched off.

The server runs as a child process. When the launcher is stopped (Ctrl-C, or SIGTERM
from a process manager) it stops the server too: SIGTERM to the child, then SIGKILL if
it has not ended within ``STOP_SECONDS``; so no server is left behind.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

from sim.dashboard import assets

#: Seconds the server has to end after SIGTERM before it is killed.
STOP_SECONDS = 10.0


class _Terminated(Exception):
    """The launcher received SIGTERM."""


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
    return serve(serve_command(args.host, args.port), env)


def serve(command: list[str], env: dict[str, str]) -> int:
    """Run the server ``command`` until it ends, or until this process gets Ctrl-C
    (exit 130) or SIGTERM (exit 143), in which case the server is stopped first."""

    def terminate(signum: int, frame: object) -> None:
        raise _Terminated

    server = None
    previous = signal.signal(signal.SIGTERM, terminate)
    previous_interrupt = signal.getsignal(signal.SIGINT)
    try:
        server = subprocess.Popen(command, env=env)
        return server.wait()
    except (KeyboardInterrupt, _Terminated) as interruption:
        # stopping is bounded (SIGKILL after the grace), so a repeated signal may wait
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if server is not None:
            stop(server)
        return 143 if isinstance(interruption, _Terminated) else 130
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
        if previous_interrupt is not None:
            signal.signal(signal.SIGINT, previous_interrupt)


def stop(server: subprocess.Popen, grace: float | None = None) -> None:
    """End ``server``: SIGTERM, then SIGKILL after ``grace`` seconds (default
    :data:`STOP_SECONDS`); returns once it is gone."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=STOP_SECONDS if grace is None else grace)
            return
        except subprocess.TimeoutExpired:
            server.kill()
    server.wait()


if __name__ == "__main__":
    sys.exit(main())
