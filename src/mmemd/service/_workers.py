"""``mmemd serve --workers N``: N server processes, each with its own listening socket on the same port
(``SO_REUSEPORT``), so the kernel spreads the connections over them.

uvicorn's own ``--workers`` binds one socket in the parent and lets every worker accept from it. A worker woken
for a new connection accepts every connection waiting at that moment (asyncio accepts up to the backlog per wake-up),
and keep-alive clients stay where they were accepted: with 16 keep-alive clients, one worker got all 16 and did
7.8 s of work while the other did 0.06 s — two workers served no more than one. With one socket per worker the
kernel assigns each connection to a socket by its address hash, whatever the workers are doing.

The parent only supervises: it replaces a worker that dies, and on SIGTERM/SIGINT passes the signal on to every
worker (each drains its connections, ``mmemd.service._protocol``) and waits for them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import time
from typing import Any

log = logging.getLogger("uvicorn.error")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _worker(settings: dict[str, Any]) -> None:
    """One worker process: its own socket, the app, uvicorn with the parent's limits."""
    import logging.config

    import uvicorn

    from mmemd.service._app import create_app_from_environment
    from mmemd.service._malloc import limit_malloc_arenas

    limit_malloc_arenas()  # a spawned process: its own allocator, capped before its threads start
    if settings.get("log_config"):
        logging.config.dictConfig(settings["log_config"])
    sock = _bind(settings["host"], settings["port"])
    app = create_app_from_environment()  # the configuration the parent validated, from the environment
    server = uvicorn.Server(uvicorn.Config(app, **{**settings, "log_config": None}))
    server.run(sockets=[sock])


def run_workers(workers: int, settings: dict[str, Any]) -> None:
    """Run ``workers`` worker processes with these ``uvicorn.Config`` settings until SIGTERM/SIGINT."""
    if not hasattr(socket, "SO_REUSEPORT"):  # pragma: no cover - not Linux/BSD/macOS
        raise OSError("--workers needs SO_REUSEPORT (Linux, BSD, macOS)")
    _bind(settings["host"], settings["port"]).close()  # fail here, once, if the address is taken
    ctx = multiprocessing.get_context("spawn")
    stopping: list[int] = []

    def start() -> Any:
        p = ctx.Process(target=_worker, args=(settings,), name="mmemd-worker")
        p.start()
        return p

    def on_signal(signum: int, _frame: Any) -> None:
        stopping.append(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    procs = [start() for _ in range(workers)]
    log.info("started %d worker processes (pids %s)", workers, ", ".join(str(p.pid) for p in procs))
    try:
        while not stopping:
            for i, p in enumerate(procs):
                if not p.is_alive() and not stopping:
                    log.warning("worker %s exited with %s; starting another", p.pid, p.exitcode)
                    procs[i] = start()
            time.sleep(0.2)
        for p in procs:
            if p.pid is not None and p.is_alive():
                os.kill(p.pid, stopping[0])
        grace = float(settings.get("timeout_graceful_shutdown", 10)) + 10
        deadline = time.monotonic() + grace
        for p in procs:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join()
        log.info("workers stopped")
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
