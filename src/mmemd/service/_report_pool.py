"""Reports (HTML, PDF) rendered in a bounded pool with a bounded queue, apart from everything else.

A PDF takes seconds of CPU and hundreds of MB; rendered on the request thread pool, 50 report clients pushed the
assessment p50 from 130 ms to 2 s and 24 concurrent PDFs left the process 1 GB larger for good. Here:

- at most ``workers`` reports render at once and ``queue`` more wait; a report beyond that is refused at once with
  :class:`ReportPoolFull` (the route answers 503 with ``Retry-After``) instead of piling up;
- with ``isolation = "process"`` (the default) rendering happens in separate processes, so it neither holds this
  process's GIL nor grows its memory; each process is replaced after ``tasks_per_process`` reports, which returns
  the memory a burst of PDFs took; the processes run at a lower CPU priority (``nice`` +10) so that on a busy host
  assessments are scheduled first, and they are stopped after ``idle_seconds`` without a report, which returns
  their memory. ``"thread"`` keeps rendering in this process (tests, tiny deployments).
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
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Literal

Isolation = Literal["process", "thread"]


class ReportPoolFull(Exception):
    """Every render slot and queue place is taken: refuse now (503) rather than wait without bound."""


@functools.lru_cache(maxsize=1)
def _worker_kb() -> Any:
    from mmemd import knowledge

    return knowledge.load()


def _init_render_process() -> None:
    """Lower the priority, and end this process when the server's process is gone (a killed server must not
    leave render processes behind)."""
    with contextlib.suppress(OSError):  # not permitted: render at normal priority
        os.nice(10)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="mmemd-parent-watch").start()


def _render_in_process(record_json: str, lang: str, fmt: str) -> str | bytes:
    """Runs in a pool process: the record travels as its JSON (validated again there), the knowledge base is loaded
    once per process."""
    from mmemd.clinical.record import parse_record_json
    from mmemd.report import render_report

    return render_report(parse_record_json(record_json), lang=lang, fmt=fmt, kb=_worker_kb())


class ReportPool:
    def __init__(
        self,
        workers: int,
        queue: int,
        isolation: Isolation = "process",
        tasks_per_process: int = 20,
        idle_seconds: float = 30.0,
    ) -> None:
        self.workers = workers
        self.capacity = workers + queue
        self.isolation = isolation
        self._tasks_per_process = tasks_per_process
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
                # Recycle by hand: a fresh pool for new reports, the old one finishes its reports and exits.
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
                    initializer=_init_render_process,
                )
            else:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=self.workers, thread_name_prefix="mmemd-report"
                )
        return self._executor

    async def render(self, record: Any, lang: str, fmt: str, kb: Any) -> str | bytes:
        with self._lock:
            if self._admitted >= self.capacity:
                raise ReportPoolFull
            self._admitted += 1
        try:
            loop = asyncio.get_running_loop()
            if self.isolation == "process":
                payload = record.model_dump_json(by_alias=True)
                try:
                    return await loop.run_in_executor(self._pool(), _render_in_process, payload, lang, fmt)
                except BrokenProcessPool:
                    # a render process died (killed, out of memory): start a fresh pool for the next report
                    self._executor = None
                    raise ReportPoolFull from None
            from mmemd.report import render_report

            call = functools.partial(render_report, record, lang=lang, fmt=fmt, kb=kb)
            return await loop.run_in_executor(self._pool(), call)
        finally:
            with self._lock:
                self._admitted -= 1
                self._last_done = time.monotonic()
            if self.isolation == "process":
                asyncio.get_running_loop().call_later(self._idle_seconds, self._stop_if_idle)

    def _stop_if_idle(self) -> None:
        """Stop the render processes when no report came for ``idle_seconds`` (their memory goes back)."""
        with self._lock:
            idle = self._admitted == 0 and time.monotonic() - self._last_done >= self._idle_seconds * 0.99
            executor, self._executor = (self._executor, None) if idle else (None, self._executor)
        if executor is not None:
            executor.shutdown(wait=False)

    def close(self) -> None:
        """Stop the pool: waiting reports are cancelled, running ones finish; shutdown does not wait for them (a
        stuck render must not hold the server's exit — a render process also ends when the server is gone)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
