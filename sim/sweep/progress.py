"""Progress of a sweep: a bar on a terminal, plain periodic lines otherwise.

On a cluster the report also names the number of workers and of runs pending, and keeps
coming (every ``interval`` seconds) while no run finishes, so a stalled cluster shows.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Reports runs done out of the total, the rate and the time left."""

    def __init__(self, total: int, done: int, label: str, stream: TextIO | None = None,
                 interval: float = 10.0) -> None:
        self.total, self.done, self.label = total, done, label
        self.stream = stream or sys.stderr
        self.interval = interval
        self.workers: int | None = None  # known on a cluster only
        self._start = time.monotonic()
        self._start_done = done
        self._last = -float("inf")
        self._bar = None
        if self.stream.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=done, desc=label, unit="run",
                             file=self.stream, dynamic_ncols=True)

    def update(self, n: int = 1) -> None:
        """``n`` more runs are done."""
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        self._report(force=self.done == self.total)

    def waiting(self, workers: int, pending: int) -> None:
        """The cluster's state while runs are under way: reported at least every
        ``interval`` seconds, whether or not runs finish."""
        self.workers = workers
        if self._bar is not None:
            # the bar is redrawn with its clock moving even when no run finishes
            self._bar.set_postfix_str(f"{_workers(workers)}, {pending} pending")
            return
        self._report()

    def line(self) -> str:
        elapsed = time.monotonic() - self._start
        made = self.done - self._start_done
        rate = made / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        share = 100.0 * self.done / self.total if self.total else 100.0
        eta = f"{left:.0f}s left" if left == left else "time left unknown"
        text = (f"{self.label}: {self.done}/{self.total} runs ({share:.0f}%), "
                f"{rate:.2f} runs/s, {eta}")
        if self.workers is not None:
            text += f"; {_workers(self.workers)}, {self.total - self.done} runs pending"
        return text

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def _report(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= self.interval:
            self._last = now
            print(self.line(), file=self.stream, flush=True)


def _workers(count: int) -> str:
    return f"{count} worker" if count == 1 else f"{count} workers"
