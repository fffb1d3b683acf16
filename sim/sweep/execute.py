"""Executors: where the runs of a sweep are made.

Both yield results as runs finish, in whatever order; the storage layer makes the final
tables independent of that order.

- :class:`InProcessExecutor`: one run after another in this process (``--workers 1``,
  for debugging; optionally in shuffled order, which tests use).
- :class:`DaskExecutor`: Dask distributed, on an embedded ``LocalCluster`` sized to the
  machine or on an existing cluster given by its scheduler address. A worker lost
  mid-run is survived: the scheduler runs its tasks again elsewhere.
"""

from __future__ import annotations

import logging
import os
import random
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any


class InProcessExecutor:
    """Runs tasks here, in order (or in an order shuffled by ``shuffle_seed``)."""

    def __init__(self, shuffle_seed: int | None = None) -> None:
        self.shuffle_seed = shuffle_seed

    def __enter__(self) -> InProcessExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def describe(self) -> str:
        return "in-process"

    def map_unordered(self, task: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        items = list(items)
        if self.shuffle_seed is not None:
            random.Random(self.shuffle_seed).shuffle(items)
        for item in items:
            yield task(item)


class DaskExecutor:
    """Runs tasks on Dask distributed.

    Args:
        scheduler: address of an existing scheduler (``tcp://host:port``); None starts a
            local cluster for the duration of the ``with`` block.
        workers: worker processes of the local cluster (default: the machine's cores).
        dashboard: serve the local cluster's dashboard (on a free port).
    """

    def __init__(self, scheduler: str | None = None, workers: int | None = None,
                 dashboard: bool = False) -> None:
        self.scheduler = scheduler
        self.workers = workers or os.cpu_count() or 1
        self.dashboard = dashboard
        self._cluster = None
        self._client = None
        self._config = None

    def __enter__(self) -> DaskExecutor:
        import dask
        from distributed import Client, LocalCluster

        if self.scheduler:
            self._client = Client(self.scheduler, timeout="30s")
        else:
            # one single-threaded process per worker: the model holds the GIL
            # The scheduler always serves HTTP (health routes); a free loopback port
            # keeps it from taking 8787, and the dashboard is only mounted if asked.
            # Workers sample their stacks every 10 ms for the dashboard's profile; with
            # two workers on two cores that costs throughput, so only when it is asked.
            self._config = dask.config.set(
                {"distributed.worker.profile.enabled": self.dashboard})
            self._config.__enter__()
            self._cluster = LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True,
                host="127.0.0.1", dashboard_address="127.0.0.1:0",
                scheduler_kwargs={"dashboard": self.dashboard}, silence_logs=logging.ERROR)
            self._client = Client(self._cluster)
            if self.dashboard:
                print(self.describe(), file=sys.stderr)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._config.__exit__(None, None, None)

    def describe(self) -> str:
        if self.scheduler:
            return f"Dask scheduler {self.scheduler}"
        if self.dashboard and self._client is not None:
            return (f"local Dask cluster, {self.workers} workers, dashboard "
                    f"{self._client.dashboard_link}")
        return f"local Dask cluster, {self.workers} workers"

    def map_unordered(self, task: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        from distributed import as_completed

        items = list(items)
        if not items:
            return
        futures = self._client.map(task, items, pure=False)
        for future in as_completed(futures):
            yield future.result()
            future.release()
