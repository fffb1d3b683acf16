"""Progress of a sweep: a bar on a terminal, plain periodic lines otherwise."""

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
        self._start = time.monotonic()
        self._start_done = done
        self._last = 0.0
        self._bar = None
        if self.stream.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=done, desc=label, unit="run",
                             file=self.stream, dynamic_ncols=True)

    def update(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        if now - self._last >= self.interval or self.done == self.total:
            self._last = now
            print(self.line(), file=self.stream, flush=True)

    def line(self) -> str:
        elapsed = time.monotonic() - self._start
        made = self.done - self._start_done
        rate = made / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        share = 100.0 * self.done / self.total if self.total else 100.0
        eta = f"{left:.0f}s left" if left == left else "time left unknown"
        return (f"{self.label}: {self.done}/{self.total} runs ({share:.0f}%), "
                f"{rate:.2f} runs/s, {eta}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
