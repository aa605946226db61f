"""Per-route concurrency limits: a route admits at most ``limit`` requests at once; one more is refused at once with
503 problem+json and ``Retry-After`` (nothing done, safe to retry), instead of queueing without bound.

The routes that run work in a pool are limited by the pool itself (:mod:`._work_pool`: workers + queue). This
limit is for routes that run in the request thread pool: 40 threads are shared by every synchronous route,
``/healthz`` included, so one route must not take them all. The table of limits is in docs/deploy.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from mmemd.service._problem import busy


class ConcurrencyLimit:
    """A FastAPI dependency (``dependencies=[Depends(limit)]``); it runs on the event loop, so the count needs no
    lock."""

    def __init__(self, limit: int, what: str, retry_after: int = 1) -> None:
        self.limit = limit
        self.what = what
        self.retry_after = retry_after
        self.in_use = 0

    async def __call__(self) -> AsyncIterator[None]:
        if self.in_use >= self.limit:
            raise busy(
                f"Too many {self.what} at once",
                f"at most {self.limit} {self.what} run at once; retry shortly",
                self.retry_after,
            )
        self.in_use += 1
        try:
            yield
        finally:
            self.in_use -= 1
