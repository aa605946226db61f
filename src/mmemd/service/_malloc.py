"""Cap glibc's malloc arenas in a server process before its threads start.

glibc gives a thread that meets a locked arena a new arena of its own, up to eight per core, and keeps each arena's
freed memory for reuse by that arena only. The service answers every synchronous route on a pool of up to 40 threads
(anyio's default), so over minutes the process holds many partly used arenas: in a 4-minute mixed soak the resident
memory grew 9.5 % after the warm-up with glibc's default and 4.1 % with ``MALLOC_ARENA_MAX=2`` (docs/performance.md,
"Service limits and scale"). Python objects themselves come from CPython's own allocator; what the arenas hold are
the larger buffers (request and response bodies, JSON text, pydantic-core's allocations).

``mallopt(M_ARENA_MAX, n)`` is what the ``MALLOC_ARENA_MAX`` variable sets, so an operator's own value in the
environment wins and this does nothing then. Not glibc (musl, macOS): nothing to do.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

#: ``M_ARENA_MAX`` from glibc's ``malloc.h``.
_M_ARENA_MAX = -8

#: Two arenas: the main one and one shared by the request threads. Measured as above.
DEFAULT_ARENAS = 2


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return None
    return libc


def limit_malloc_arenas(arenas: int = DEFAULT_ARENAS) -> bool:
    """Cap this process's malloc arenas at ``arenas`` unless ``MALLOC_ARENA_MAX`` is set; True when the cap was set.

    Call it before the process starts threads: arenas already created stay.
    """
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    libc = _glibc()
    if libc is None:
        return False
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mallopt.restype = ctypes.c_int
    return bool(libc.mallopt(_M_ARENA_MAX, arenas))


#: How often a serving process hands freed allocator memory back (seconds). One trim of a ~100 MB server took
#: 0.7 ms and gave back ~2 MB freed since the last (``bench_hardening.py memory``): cheap beside a request.
TRIM_INTERVAL_SECONDS = 60.0


def trim_free_memory() -> bool:
    """Return the allocator's free pages to the system (glibc ``malloc_trim(0)``); False when not glibc.

    glibc keeps memory freed inside its heaps resident for reuse; a long-running server's heaps fill with such holes
    between long-lived objects, and the resident size creeps up though nothing more is in use.
    """
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    libc.malloc_trim(0)
    return True


async def trim_periodically(interval: float = TRIM_INTERVAL_SECONDS) -> None:
    """Trim every ``interval`` seconds until cancelled (the service's lifespan runs it)."""
    import asyncio

    if _glibc() is None:
        return
    while True:
        await asyncio.sleep(interval)
        trim_free_memory()
