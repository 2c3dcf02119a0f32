"""Work on every core: tasks in *spawned* worker processes, their results back in task order.

What uses it: linking a backfill's articles, parsing a decade of price files — both while the
caller writes what comes back (``COPY`` in the caller, the CPU work in the workers). The workers
are spawned, never forked: the callers run inside a Dagster run whose process holds threads and
locks, and a child forked from it can inherit a lock held at that moment and hang (it did). A
spawned worker starts a fresh interpreter and imports only the module of the function it runs.
"""

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

Task = TypeVar("Task")
Result = TypeVar("Result")

# tasks submitted ahead of the one the caller waits for, per worker: enough to keep every worker
# busy, few enough that results the caller has not consumed yet stay a few tasks' worth of memory
AHEAD_PER_WORKER = 4


def worker_count(items: int, workers_from: int) -> int:
    """Worker processes for ``items`` units of work: none (0) below ``workers_from`` or when it is
    0 — a little work is done before workers have started — else one per core (none on one core,
    nor in a daemonic process such as a pool's worker, which may not start processes)."""
    cores = os.cpu_count() or 1
    allowed = cores > 1 and not multiprocessing.current_process().daemon
    return cores if allowed and 0 < workers_from <= items else 0


def _start(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    # a process started with SIGTERM ignored (nohup, some supervisors) passes that on to what it
    # spawns, and then the pool cannot stop the worker: its join hung a benchmark
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if initializer is not None:
        initializer(*initargs)


def spawned_map(function: Callable[[Task], Result], tasks: Iterable[Task], processes: int,
                initializer: Callable[..., None] | None = None,
                initargs: tuple[Any, ...] = ()) -> Iterator[Result]:
    """``function`` of each task in ``processes`` spawned workers (each first runs ``initializer``),
    the results in task order while the caller consumes them. ``function`` must be importable by
    name (a module-level function) and its tasks and results picklable."""
    # an executor, not a multiprocessing.Pool: a worker that dies (killed, out of memory) breaks it
    # and the run fails, where a Pool's imap waits for the lost task for ever
    executor = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start, initargs=(initializer, initargs))
    pending: deque[Future[Result]] = deque()
    try:
        for task in tasks:
            pending.append(executor.submit(function, task))
            if len(pending) > processes * AHEAD_PER_WORKER:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:  # done, or the caller stopped (its write failed): drop what has not started
        executor.shutdown(wait=True, cancel_futures=True)
