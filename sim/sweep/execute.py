"""Executors: where the runs of a sweep are made.

Both yield results as runs finish, in whatever order; the storage layer makes the final
tables independent of that order.

- :class:`InProcessExecutor`: one run after another in this process (``--workers 1``,
  for debugging; optionally in shuffled order, which tests use).
- :class:`DaskExecutor`: Dask distributed, on an embedded ``LocalCluster`` sized to the
  machine or on an existing cluster given by its scheduler address. A worker lost
  mid-run is survived: the scheduler runs its tasks again elsewhere.

What can go wrong with a cluster ends in an :class:`ExecutorError` whose message is one
line; its ``exit_code`` is what the command line exits with:

- ``2`` (:class:`SchedulerAddressError`), before anything is stored: a scheduler
  address that is not ``tcp://HOST:PORT`` or ``HOST:PORT``, nothing listening there, or
  something that is not a Dask scheduler (it must greet with a Dask handshake within
  ``HANDSHAKE_SECONDS``; nothing it sends is read beyond ``GREETING_LIMIT`` bytes).
- ``3`` (:data:`EXIT_CLUSTER`), mid-sweep, the finished runs being stored: no worker for
  ``no_worker_timeout`` seconds (none ever joined, or the last one died), the scheduler
  lost or silent as long, or a worker running other code than this process (checked on
  every worker at connection and, for workers joining later, by every task before it
  runs, so no run of other code is ever stored).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import random
import re
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sim.experiment import identity
from sim.sweep.tasks import CodeMismatchError, run_checked

#: Exit code of a sweep stopped by its cluster (finished runs are stored: resumable).
EXIT_CLUSTER = 3
#: Exit code of a bad scheduler address (the same as any other usage error).
EXIT_ADDRESS = 2

#: Seconds a scheduler has to greet a new connection before it is taken for something
#: else (a Dask scheduler greets at once; an HTTP server never speaks first).
HANDSHAKE_SECONDS = 5.0
#: The largest greeting accepted from a scheduler (a real one sends about 60 bytes);
#: anything claiming more is not Dask, and no buffer of the claimed size is allocated.
GREETING_LIMIT = 1 << 16
#: Default seconds without any worker before a sweep gives up.
NO_WORKER_TIMEOUT = 120.0
#: How often the cluster is asked how many workers it has (seconds).
STATUS_SECONDS = 1.0
#: How long one such question may take before the answer counts as missing.
STATUS_TIMEOUT = 5.0
#: How long to wait for results before looking at the cluster again (seconds).
POLL_SECONDS = 0.25

_HOST_PORT = re.compile(r"^(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9._-]+))"
                        r":(?P<port>[0-9]+)$")


class ExecutorError(RuntimeError):
    """The cluster cannot run the sweep, or stopped running it; the message is one line.

    ``exit_code`` is what ``python -m sim`` exits with (see the module docstring).
    """

    exit_code = EXIT_CLUSTER


class SchedulerAddressError(ExecutorError):
    """The scheduler address is malformed, or no Dask scheduler answers there."""

    exit_code = EXIT_ADDRESS


def parse_scheduler_address(text: str, source: str = "--scheduler") -> str:
    """``tcp://HOST:PORT`` from ``tcp://HOST:PORT`` or ``HOST:PORT`` (IPv6 in brackets).

    Raises :class:`SchedulerAddressError` naming ``source`` (where the address came
    from) for anything else: another scheme, no port, a port out of 1-65535.
    """
    address = text.strip()
    scheme, separator, rest = address.partition("://")
    if not separator:
        scheme, rest = "tcp", address
    if scheme != "tcp":
        raise SchedulerAddressError(
            f"{source}: only tcp://HOST:PORT scheduler addresses are supported, got {text!r}")
    match = _HOST_PORT.match(rest)
    if match is None:
        raise SchedulerAddressError(
            f"{source}: expected a scheduler address tcp://HOST:PORT or HOST:PORT, "
            f"got {text!r}")
    port = int(match["port"])
    if not 0 < port < 65536:
        raise SchedulerAddressError(f"{source}: port must be between 1 and 65535, got {port}")
    host = f"[{match['ipv6']}]" if match["ipv6"] else match["host"]
    return f"tcp://{host}:{port}"


def probe_scheduler(address: str, timeout: float = HANDSHAKE_SECONDS) -> None:
    """Check that a Dask scheduler answers at ``address`` (``tcp://HOST:PORT``).

    Opens a plain TCP connection and reads the greeting a Dask server sends on every new
    connection: an 8-byte length, then that many bytes of frames. Waits at most
    ``timeout`` seconds in all and reads at most :data:`GREETING_LIMIT` bytes, so a
    server of another protocol (one that waits for a request, or one that speaks first)
    is refused quickly and without allocating what its first bytes claim. Raises
    :class:`SchedulerAddressError`.
    """
    host, port = _host_port(address)
    deadline = time.monotonic() + timeout
    try:
        connection = socket.create_connection((host, port), timeout=timeout)
    except socket.gaierror:
        raise SchedulerAddressError(f"{address}: unknown host {host!r}") from None
    except ConnectionRefusedError:
        raise SchedulerAddressError(
            f"no Dask scheduler at {address}: connection refused") from None
    except TimeoutError:
        raise SchedulerAddressError(
            f"no Dask scheduler at {address}: no connection within {timeout:g} s") from None
    except OSError as error:
        raise SchedulerAddressError(
            f"no Dask scheduler at {address}: {error.strerror or error}") from None
    with connection:
        try:
            (size,) = struct.unpack("Q", _receive(connection, 8, deadline))
            if not 16 <= size <= GREETING_LIMIT:
                raise ValueError(f"its first bytes announce a {size:,}-byte message")
            _check_frames(_receive(connection, size, deadline))
        except TimeoutError:
            problem = f"it sent no Dask greeting within {timeout:g} s"
        except EOFError:
            problem = "it closed the connection without a Dask greeting"
        except OSError as error:
            problem = f"the connection failed ({error.strerror or error})"
        except ValueError as error:
            problem = str(error)
        else:
            return
    raise SchedulerAddressError(f"{address} is not a Dask scheduler: {problem}")


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.removeprefix("tcp://").rpartition(":")
    return host.strip("[]"), int(port)


def _receive(connection: socket.socket, size: int, deadline: float) -> bytes:
    """Exactly ``size`` bytes, or TimeoutError at ``deadline`` / EOFError at the end."""
    chunks, missing = [], size
    while missing:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        connection.settimeout(left)
        chunk = connection.recv(min(missing, 65536))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def _check_frames(body: bytes) -> None:
    """Dask's frame layout: a count, one length per frame, then (some of) the frames."""
    (count,) = struct.unpack_from("Q", body)
    prelude = 8 * (1 + count)
    if not 0 < count <= 64 or prelude > len(body):
        raise ValueError("its greeting is not made of Dask frames")
    lengths = struct.unpack_from(f"{count}Q", body, 8)
    if prelude + sum(lengths) < len(body):
        raise ValueError("its greeting is not made of Dask frames")


class InProcessExecutor:
    """Runs tasks here, in order (or in an order shuffled by ``shuffle_seed``)."""

    def __init__(self, shuffle_seed: int | None = None) -> None:
        self.shuffle_seed = shuffle_seed

    def __enter__(self) -> InProcessExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    @contextlib.contextmanager
    def kept_running(self) -> Iterator[InProcessExecutor]:
        """Nothing to keep running here (see :meth:`DaskExecutor.kept_running`)."""
        yield self

    def describe(self) -> str:
        return "in-process"

    def map_unordered(self, task: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        items = list(items)
        if self.shuffle_seed is not None:
            random.Random(self.shuffle_seed).shuffle(items)
        for item in items:
            yield task(item)


@contextlib.contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Ignore SIGINT while the embedded cluster starts its worker processes, which
    inherit that (a process started with SIGINT ignored installs no KeyboardInterrupt
    handler): Ctrl-C at a terminal reaches the whole process group, and the workers
    would each print a traceback. This process still stops on Ctrl-C and shuts them
    down. Outside the main thread (where signals cannot be set) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class DaskExecutor:
    """Runs tasks on Dask distributed.

    Args:
        scheduler: address of an existing scheduler (``tcp://HOST:PORT`` or
            ``HOST:PORT``); None starts a local cluster for the duration of the ``with``
            block. A malformed address raises :class:`SchedulerAddressError` here.
        workers: worker processes of the local cluster (default: the machine's cores).
        dashboard: serve the local cluster's dashboard (on a free port).
        no_worker_timeout: seconds the cluster may have no worker (or the scheduler not
            answer) before the sweep stops with an :class:`ExecutorError`.

    ``on_status``, if set, is called about every :data:`STATUS_SECONDS` with the number of
    workers and of runs not yet returned, whether or not runs finish meanwhile.
    """

    def __init__(self, scheduler: str | None = None, workers: int | None = None,
                 dashboard: bool = False, no_worker_timeout: float = NO_WORKER_TIMEOUT,
                 ) -> None:
        if not no_worker_timeout > 0:
            raise ValueError(f"no_worker_timeout must be positive, got {no_worker_timeout}")
        self.scheduler = parse_scheduler_address(scheduler) if scheduler else None
        self.workers = workers or os.cpu_count() or 1
        self.dashboard = dashboard
        self.no_worker_timeout = no_worker_timeout
        self.on_status: Callable[[int, int], None] | None = None
        self._cluster = None
        self._client = None
        self._stack = contextlib.ExitStack()
        self._users = 0  # ``with`` blocks open on the cluster
        self._holds = 0  # kept_running() blocks open

    def probe(self) -> None:
        """Check the scheduler answers as a Dask scheduler (see :func:`probe_scheduler`);
        nothing to check for a local cluster."""
        if self.scheduler:
            probe_scheduler(self.scheduler)

    def __enter__(self) -> DaskExecutor:
        import dask
        from distributed import Client, LocalCluster

        if self._client is not None:  # kept running, or an outer block's: reuse it
            if self._client.status == "running":
                self._users += 1
                return self
            if self._users:  # an outer block's sweep is on it: that sweep reports it
                raise self._lost()
            self._close()  # kept running but lost since: start afresh
        # Dask's own log lines (a worker lost, a failed reconnection) would bury the one
        # line this executor reports for the same event.
        self._stack.enter_context(_quiet_logs())
        try:
            if self.scheduler:
                self.probe()
                # bounded: the probe has seen a Dask scheduler, so a stall here is a
                # cluster in trouble, not a wrong address
                self._stack.enter_context(
                    dask.config.set({"distributed.comm.timeouts.connect": "10s"}))
                try:
                    self._client = Client(self.scheduler, timeout="20s")
                except (OSError, TimeoutError) as error:
                    raise ExecutorError(f"cannot connect to the Dask scheduler "
                                        f"{self.scheduler}: {_reason(error)}") from None
            else:
                # one single-threaded process per worker: the model holds the GIL
                # The scheduler always serves HTTP (health routes); a free loopback port
                # keeps it from taking 8787, and the dashboard is only mounted if asked.
                # Workers sample their stacks every 10 ms for the dashboard's profile;
                # with two workers on two cores that costs throughput, so only if asked.
                # Nannies start workers with MALLOC_TRIM_THRESHOLD_=65536 (Dask's default,
                # to hand memory back to the system): glibc then trims the heap after
                # almost every free, and a model run allocates and frees many small
                # arrays every quarter. None unsets it: 2-10% of a worker's time
                # (benchmarks/README.md has the measurements).
                self._stack.enter_context(dask.config.set(
                    {"distributed.worker.profile.enabled": self.dashboard,
                     "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}))
                # The workers log only critical messages, as this process does
                # (_quiet_logs): a worker whose heartbeat meets the scheduler closing
                # after a Ctrl-C would print an ERROR with a traceback, where the sweep
                # reports the interruption in one line; a run's own error comes back
                # to this process with its result.
                with _workers_ignore_ctrl_c():
                    self._cluster = LocalCluster(
                        n_workers=self.workers, threads_per_worker=1, processes=True,
                        host="127.0.0.1", dashboard_address="127.0.0.1:0",
                        scheduler_kwargs={"dashboard": self.dashboard},
                        silence_logs=logging.CRITICAL)
                self._client = Client(self._cluster)
                if self.dashboard:
                    print(self.describe(), file=sys.stderr)
            self._check_workers_code()
        except BaseException:
            self._close()
            raise
        self._users = 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._users -= 1
        if self._users == 0 and self._holds == 0:
            self._close()

    @contextlib.contextmanager
    def kept_running(self) -> Iterator[DaskExecutor]:
        """Within this block, a cluster that a ``with`` block started stays up when that
        block ends, for the next one (several sweeps in a row, as ``reproduce`` runs
        them, start the cluster once); it is closed when this block ends. Nothing is
        started here: a cluster starts only when some sweep has runs to send."""
        self._holds += 1
        try:
            yield self
        finally:
            self._holds -= 1
            if self._holds == 0 and self._users == 0:
                self._close()

    def _close(self) -> None:
        try:
            if self._client is not None:
                with contextlib.suppress(Exception):  # a lost scheduler cannot be told
                    self._client.close(timeout=10)
                self._client = None
            if self._cluster is not None:
                with contextlib.suppress(Exception):
                    self._cluster.close(timeout=30)
                self._cluster = None
        finally:
            self._stack.close()

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
        # Every task carries this process's code fingerprint: a worker that joins later
        # with other code refuses it before running anything.
        futures = self._client.map(run_checked, items, task=task,
                                   source_sha256=identity.source_sha256(), pure=False)
        # results are fetched in the background, so a worker lost while its result is
        # being fetched does not block the watch kept below
        finished = as_completed(futures, with_results=True, raise_errors=False)
        remaining = len(futures)
        census = _Census(self._client)
        watch = _Watch(self.no_worker_timeout)
        last_look = -float("inf")
        try:
            while remaining:
                with finished.thread_condition:
                    if not finished.has_ready():
                        finished.thread_condition.wait(timeout=POLL_SECONDS)
                for future, result in finished.next_batch(block=False):
                    value = self._value(future, result)
                    future.release()
                    remaining -= 1
                    yield value
                now = time.monotonic()
                if not remaining or now - last_look < STATUS_SECONDS:
                    continue
                last_look = now
                if self._client.status != "running":  # it reconnects only once lost
                    raise self._lost()
                news, workers = census.look(now)
                if not news:
                    continue
                problem = watch.update(workers, now)
                if problem:
                    raise ExecutorError(f"{problem} ({self._where()})")
                if self.on_status is not None and workers is not None:
                    self.on_status(workers, remaining)
        finally:
            census.close()

    # --- watching the cluster ----------------------------------------------------------
    def _where(self) -> str:
        return f"scheduler {self.scheduler}" if self.scheduler else "local Dask cluster"

    def _lost(self) -> ExecutorError:
        return ExecutorError(f"lost the connection to the Dask {self._where()}")

    def _value(self, future: Any, result: Any) -> Any:
        """A finished task's value; the one-line error of a refused or lost task."""
        if future.status == "finished":
            return result
        if future.status == "error":
            _, error, traceback = result
            if isinstance(error, CodeMismatchError):
                raise ExecutorError(self._refusal(error.worker, error.worker_identity))
            raise error.with_traceback(traceback)  # a fault of the model: keep its trace
        raise self._lost()  # cancelled: Dask cancels every task when the scheduler is lost

    def _check_workers_code(self) -> None:
        """Refuse the cluster if any worker runs other code than this process."""
        ours = identity.code_identity()
        try:
            reports = self._client.run(identity.code_identity, on_error="return",
                                       callback_timeout=60)
        except Exception as error:
            raise ExecutorError(f"the workers of the {self._where()} could not report "
                                f"their code: {_reason(error)}") from None
        for worker, theirs in sorted(reports.items()):
            if isinstance(theirs, BaseException):
                raise ExecutorError(f"worker {worker} could not report its code "
                                    f"({_reason(theirs)}); is this package installed "
                                    "there?")
            if identity.code_key(theirs) != identity.code_key(ours):
                raise ExecutorError(self._refusal(worker, theirs))

    def _refusal(self, worker: str, theirs: dict[str, Any]) -> str:
        return (f"worker {worker} runs other code ({identity.short(theirs)}) than this "
                f"process ({identity.short(identity.code_identity())}); refused, none of "
                "its runs is stored: install the same code on every worker")


class _Census:
    """Asks the scheduler how many workers it has, without waiting for the answer: the
    sweep's loop goes on (and reports) while a busy scheduler has not replied."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.question: concurrent.futures.Future | None = None
        self.asked = 0.0

    def look(self, now: float) -> tuple[bool, int | None]:
        """``(news, workers)``. News is the answer to the last question (``workers``
        None if it failed) or, once it has gone unanswered for :data:`STATUS_TIMEOUT`
        seconds, ``workers`` None; then a new question is asked if none is pending."""
        news, workers = False, None
        if self.question is not None and self.question.done():
            try:
                workers = len(self.question.result())
            except Exception:  # a reset connection: a lost scheduler shows in the client
                workers = None
            news, self.question = True, None
        elif self.question is not None and now - self.asked >= STATUS_TIMEOUT:
            news = True
        if self.question is None:
            self.question = asyncio.run_coroutine_threadsafe(
                self.client.scheduler.ncores(), self.client.loop.asyncio_loop)
            self.asked = now
        return news, workers

    def close(self) -> None:
        if self.question is not None:
            self.question.cancel()


class _Watch:
    """Since when the cluster has had no worker, or its scheduler no answer."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.since: float | None = None

    def update(self, workers: int | None, now: float) -> str | None:
        """Record one look at the cluster; a description once it has gone on too long."""
        if workers:
            self.since = None
            return None
        if self.since is None:
            self.since = now
        if now - self.since < self.timeout:
            return None
        if workers is None:
            return f"the Dask scheduler has not answered for {self.timeout:g} s"
        return f"no Dask worker for {self.timeout:g} s"


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    """Only critical messages from Dask's and Tornado's loggers, restored afterwards."""
    loggers = [logging.getLogger(name) for name in ("distributed", "tornado")]
    loggers += [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
                if name.startswith(("distributed.", "tornado."))]
    levels = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        # NOTSET loggers inherit the quiet level from their parents
        if logger.level != logging.NOTSET or "." not in logger.name:
            logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in levels:
            logger.setLevel(level)


def _reason(error: BaseException) -> str:
    """An exception as one line."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
