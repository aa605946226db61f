"""The server caps glibc's malloc arenas before its request threads start (mmemd.service._malloc)."""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
import sys
import textwrap

import pytest

from mmemd.service import _malloc

glibc = pytest.mark.skipif(
    _malloc._glibc() is None, reason="needs glibc (the arena cap is a glibc mallopt option)"
)

# Eight threads allocate and free 64 KiB-ish buffers at once for a while, then glibc's malloc_info lists the arenas
# (one <heap nr=...> element each). With the default, contending threads get arenas of their own (up to 8 per core).
_ARENAS_AFTER_THREADS = textwrap.dedent(
    """
    import ctypes, os, sys, tempfile, threading
    from mmemd.service._malloc import limit_malloc_arenas
    if sys.argv[1] == "cap":
        assert limit_malloc_arenas(2)
    start = threading.Barrier(8)
    def work():
        start.wait()
        for _ in range(20000):
            bytes(70000 + os.getpid() % 7)
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    libc = ctypes.CDLL("libc.so.6")
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    path = tempfile.mktemp()
    fp = libc.fopen(path.encode(), b"w")
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    print(open(path).read().count("<heap nr="))
    os.unlink(path)
    """
)


def _arenas(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    out = subprocess.run(
        [sys.executable, "-c", _ARENAS_AFTER_THREADS, mode],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip())


@glibc
def test_the_cap_holds_however_many_threads_contend() -> None:
    assert _arenas("cap") <= 2


@glibc
def test_an_operators_malloc_arena_max_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert _malloc.limit_malloc_arenas() is False


@glibc
def test_the_cap_is_set_without_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    # Setting it in this (test) process is harmless: a cap only limits arenas created from now on.
    assert _malloc.limit_malloc_arenas(8 * (os.cpu_count() or 1)) is True


def test_nothing_to_do_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.setattr(_malloc, "_glibc", lambda: None)
    assert _malloc.limit_malloc_arenas() is False


@glibc
@pytest.mark.skipif(
    platform.machine() not in ("x86_64", "aarch64"), reason="arena counts measured on 64-bit Linux"
)
def test_without_the_cap_contending_threads_get_more_arenas() -> None:
    # The control for the first test: the workload does make more than two arenas when nothing caps them, so the
    # cap is what keeps it at two. Eight threads released at once on a barrier, each allocating 20,000 times.
    assert _arenas("default") > 2


@glibc
def test_trim_gives_freed_memory_back() -> None:
    assert _malloc.trim_free_memory() is True


def test_trim_without_glibc_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_malloc, "_glibc", lambda: None)
    assert _malloc.trim_free_memory() is False
    # and the periodic task returns at once instead of sleeping forever
    asyncio.run(asyncio.wait_for(_malloc.trim_periodically(3600), timeout=5))


@glibc
def test_the_periodic_trim_runs_each_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(_malloc, "trim_free_memory", lambda: calls.append(1) or True)

    async def three_intervals() -> None:
        task = asyncio.create_task(_malloc.trim_periodically(0.01))
        while len(calls) < 3:
            await asyncio.sleep(0.005)
        task.cancel()

    asyncio.run(asyncio.wait_for(three_intervals(), timeout=10))
    assert len(calls) >= 3


def test_the_service_runs_the_trim_while_it_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from mmemd.service import create_app

    started: list[float] = []
    cancelled: list[bool] = []

    async def fake(interval: float = _malloc.TRIM_INTERVAL_SECONDS) -> None:
        started.append(interval)
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    monkeypatch.setattr(_malloc, "trim_periodically", fake)
    with TestClient(create_app()) as client:
        assert client.get("/healthz").status_code == 200
        assert started == [_malloc.TRIM_INTERVAL_SECONDS]
        assert cancelled == []
    # leaving the block ran the lifespan's shutdown: the task was cancelled, not left sleeping
    assert cancelled == [True]
