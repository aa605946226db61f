"""CPU-heavy work (reports, FHIR imports) in bounded pools with bounded queues, apart from the event loop.

The server answers every request on one event loop in one process. Work that takes far longer than an assessment
(~2 ms) held that loop — or, in a thread, the interpreter lock — while cheap requests queued behind it: a PDF takes
seconds, an HTML report ~240 ms, a FHIR import 7–12 ms (``fhir.resources`` validation). Here:

- at most ``workers`` jobs run at once and ``queue`` more wait; a job beyond that is refused at once with
  :class:`PoolFull` (the route answers 503 with ``Retry-After``) instead of piling up;
- with ``isolation = "process"`` (the default) the work happens in separate processes, so it neither holds this
  process's interpreter lock nor grows its memory; each process is replaced after ``tasks_per_process`` jobs, which
  returns what a burst of PDFs took; the processes run at a lower CPU priority (``nice`` +10 by default) so that on a
  busy host assessments are scheduled first, and they are stopped after ``idle_seconds`` without a job. ``"thread"``
  keeps the work in this process (tests, tiny deployments).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Literal, TypeVar

Isolation = Literal["process", "thread"]
T = TypeVar("T")


class PoolFull(Exception):
    """Every slot and queue place is taken: refuse now (503) rather than wait without bound."""


def _init_pool_process(niceness: int) -> None:
    """Lower the priority, and end this process when the server's process is gone (a killed server must not
    leave pool processes behind)."""
    if niceness:
        with contextlib.suppress(OSError):  # not permitted: run at normal priority
            os.nice(niceness)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="mmemd-parent-watch").start()


class WorkPool:
    #: the name prefix of the pool's threads (``isolation = "thread"``)
    thread_name = "mmemd-work"

    def __init__(
        self,
        workers: int,
        queue: int,
        isolation: Isolation = "process",
        tasks_per_process: int = 20,
        idle_seconds: float = 30.0,
        niceness: int = 10,
    ) -> None:
        self.workers = workers
        self.capacity = workers + queue
        self.isolation = isolation
        self._tasks_per_process = tasks_per_process
        self._niceness = niceness
        self._admitted = 0
        self._lock = threading.Lock()
        self._executor: concurrent.futures.Executor | None = None
        self._idle_seconds = idle_seconds
        self._submitted = 0
        self._last_done = time.monotonic()

    @property
    def in_use(self) -> int:
        return self._admitted

    def _pool(self) -> concurrent.futures.Executor:
        if self.isolation == "process":
            self._submitted += 1
            if self._submitted > self._tasks_per_process and self._executor is not None:
                # Recycle by hand: a fresh pool for new jobs, the old one finishes its jobs and exits.
                # (ProcessPoolExecutor's max_tasks_per_child can deadlock on Python 3.11 when a worker exits:
                # https://github.com/python/cpython/issues/115634.)
                old, self._executor = self._executor, None
                old.shutdown(wait=False)
                self._submitted = 1
        if self._executor is None:
            if self.isolation == "process":
                # spawn: a fork of a threaded server could inherit a held lock
                self._executor = concurrent.futures.ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_pool_process,
                    initargs=(self._niceness,),
                )
            else:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=self.workers, thread_name_prefix=self.thread_name
                )
        return self._executor

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the pool (``fn`` and its arguments must pickle when ``isolation = "process"``)."""
        with self._lock:
            if self._admitted >= self.capacity:
                raise PoolFull
            self._admitted += 1
        try:
            loop = asyncio.get_running_loop()
            try:
                return await loop.run_in_executor(self._pool(), functools.partial(fn, *args))
            except BrokenProcessPool:
                # a pool process died (killed, out of memory): start a fresh pool for the next job
                self._executor = None
                raise PoolFull from None
        finally:
            with self._lock:
                self._admitted -= 1
                self._last_done = time.monotonic()
            if self.isolation == "process":
                asyncio.get_running_loop().call_later(self._idle_seconds, self._stop_if_idle)

    def _stop_if_idle(self) -> None:
        """Stop the pool processes when no job came for ``idle_seconds`` (their memory goes back)."""
        with self._lock:
            idle = self._admitted == 0 and time.monotonic() - self._last_done >= self._idle_seconds * 0.99
            executor, self._executor = (self._executor, None) if idle else (None, self._executor)
        if executor is not None:
            executor.shutdown(wait=False)

    def close(self) -> None:
        """Stop the pool: waiting jobs are cancelled, running ones finish; shutdown does not wait for them (a stuck
        job must not hold the server's exit — a pool process also ends when the server is gone)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
