"""One writer per results directory: an exclusive ``flock`` on ``DIR/.lock``.

The lock is held by the sweep that writes a directory, from its first check of the
directory to its end. The kernel drops it when the holding process ends, however it ends
(``kill -9`` included), so a lock is never stale and never needs removing by hand; the
file itself stays. While held, the file names its holder (process id, host, start time,
experiment), so a second sweep into the same directory can say who has it.

Within one process the lock is re-entrant: the command line checks a directory before it
starts Dask and :func:`sim.sweep.run_sweep` opens it again, and both must see the lock as
theirs. Two processes never share it. ``flock`` locks are local to one machine; results
directories on a network file system shared by several machines are not protected.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.experiment.design import ExperimentError

LOCK_FILE = ".lock"

_HOLDER_WAIT_SECONDS = 1.0
"""How long a refused sweep waits for a holder that has just taken the lock to write its
details (it writes them right after taking it)."""


@dataclass
class _Held:
    fd: int
    count: int


# Locks this process holds, by (device, inode) of the lock file: the same directory
# reached by another path (a symlink, a relative path) is still the same lock.
_HELD: dict[tuple[int, int], _Held] = {}
_HELD_GUARD = threading.Lock()


class DirectoryLock:
    """The exclusive lock of one results directory.

    Args:
        directory: the results directory (it must exist when the lock is taken).
        experiment: name of the experiment of the sweep taking it, written for others.
    """

    def __init__(self, directory: str | Path, experiment: str) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOCK_FILE
        self.experiment = experiment
        self._key: tuple[int, int] | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._key is not None

    def acquire(self) -> None:
        """Take the lock at once or raise :class:`ExperimentError` naming its holder."""
        if self._key is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        key = _identity(fd)
        with _HELD_GUARD:
            held = _HELD.get(key)
            if held is not None:  # this process holds it already
                os.close(fd)
                held.count += 1
                self._key = key
                return
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise ExperimentError(in_use_message(self.directory,
                                                     read_holder(self.path))) from None
            except BaseException:
                os.close(fd)
                raise
            details = {"pid": os.getpid(), "host": socket.gethostname(),
                       "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                       "experiment": self.experiment}
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(details) + "\n").encode(), 0)
            _HELD[key] = _Held(fd, 1)
            self._key = key

    def release(self) -> None:
        """Give the lock up (the last release of this process unlocks the file)."""
        if self._key is None:
            return
        with _HELD_GUARD:
            held = _HELD[self._key]
            held.count -= 1
            if held.count == 0:
                del _HELD[self._key]
                # the details go first, while the lock still keeps others out
                os.ftruncate(held.fd, 0)
                fcntl.flock(held.fd, fcntl.LOCK_UN)
                os.close(held.fd)
            self._key = None


def holder(directory: str | Path) -> dict[str, Any] | None:
    """Who holds the lock of ``directory`` in another process, or None when nobody does.

    Creates nothing and writes nothing: a directory that is then refused for another
    reason stays exactly as it was.
    """
    path = Path(directory) / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        with _HELD_GUARD:
            if _identity(fd) in _HELD:
                return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return read_holder(path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def read_holder(path: Path) -> dict[str, Any]:
    """The details a holder wrote into its lock file ({} if it has not written them)."""
    deadline = time.monotonic() + _HOLDER_WAIT_SECONDS
    while True:
        try:
            details = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(details, dict):
                return details
        except (OSError, ValueError):
            pass
        if time.monotonic() >= deadline:
            return {}
        time.sleep(0.05)


def in_use_message(directory: Path, details: dict[str, Any]) -> str:
    """The one line that refuses a second sweep into a directory in use."""
    if details:
        who = (f"experiment {details.get('experiment')!r}, pid {details.get('pid')} on "
               f"{details.get('host')}, started {details.get('started')}")
    else:
        who = "a process that has not yet written its details"
    return (f"{directory} is in use by another sweep ({who}); wait for it to end or "
            "choose another --out directory")


def _identity(fd: int) -> tuple[int, int]:
    info = os.fstat(fd)
    return info.st_dev, info.st_ino
