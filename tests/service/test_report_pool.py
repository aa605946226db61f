"""Reports render in a bounded pool: beyond its slots and queue a report is a 503 with Retry-After at once, other
routes are unaffected, and the default isolation renders in a separate process."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import pytest
from _service_support import AUTH, REPO_EXAMPLES, assert_problem, make_app
from fastapi.testclient import TestClient

from mmemd.clinical.record import parse_record_json
from mmemd.service._report_pool import ReportPool, ReportPoolFull


def test_full_pool_refuses_at_once_and_frees_its_slots() -> None:
    release = threading.Event()
    started = threading.Semaphore(0)

    async def scenario() -> list[Any]:
        pool = ReportPool(workers=1, queue=1, isolation="thread")
        import mmemd.report as report

        real = report.render_report

        def slow(*a: Any, **k: Any) -> str:
            started.release()
            release.wait(30)
            return "<html></html>"

        report.render_report = slow  # type: ignore[assignment]
        try:
            first = asyncio.ensure_future(pool.render(None, "en", "html", None))
            second = asyncio.ensure_future(pool.render(None, "en", "html", None))
            await asyncio.sleep(0)
            await asyncio.to_thread(started.acquire)
            with pytest.raises(ReportPoolFull):
                await pool.render(None, "en", "html", None)
            assert pool.in_use == 2
            release.set()
            done = await asyncio.gather(first, second)
            assert pool.in_use == 0
            return done
        finally:
            report.render_report = real  # type: ignore[assignment]
            pool.close()

    assert asyncio.run(scenario()) == ["<html></html>", "<html></html>"]


def test_route_answers_503_with_retry_after_when_full(record: dict[str, Any]) -> None:
    app = make_app(report_workers=1, report_queue=0)
    with TestClient(app) as client:
        pool = app.state.report_pool
        pool._admitted = pool.capacity  # every slot taken by reports in flight
        try:
            r = client.post("/v1/reports", json=record, headers=AUTH)
            body = assert_problem(r, 503)
            assert r.headers["retry-after"] == "5" and "retry" in body["detail"]
            # assessments do not queue behind reports
            assert client.post("/v1/assessments", json=record, headers=AUTH).status_code == 200
        finally:
            pool._admitted = 0


def test_process_isolation_renders_in_another_process() -> None:
    text = (REPO_EXAMPLES / "emd-liver-rrmm-pr.json").read_text(encoding="utf-8")
    pool = ReportPool(workers=1, queue=0, isolation="process", tasks_per_process=1)
    try:
        html = asyncio.run(pool.render(parse_record_json(text), "zh", "html", None))
        assert isinstance(html, str) and "<html" in html and "髓外" in html
        pids = asyncio.run(_pids(pool))
        assert os.getpid() not in pids
    finally:
        pool.close()


async def _pids(pool: ReportPool) -> set[int]:
    loop = asyncio.get_running_loop()
    return {await loop.run_in_executor(pool._pool(), os.getpid) for _ in range(2)}


def test_idle_render_processes_are_stopped() -> None:
    text = (REPO_EXAMPLES / "emd-liver-rrmm-pr.json").read_text(encoding="utf-8")
    pool = ReportPool(workers=1, queue=0, isolation="process", idle_seconds=0.2)

    async def scenario() -> tuple[bool, bool]:
        await pool.render(parse_record_json(text), "en", "html", None)
        running = pool._executor is not None
        await asyncio.sleep(1.0)  # the idle check runs on this loop once 0.2 s have passed without a report
        return running, pool._executor is None

    try:
        assert asyncio.run(scenario()) == (True, True)
    finally:
        pool.close()


def test_render_processes_are_recycled_without_stalling() -> None:
    # ProcessPoolExecutor's own max_tasks_per_child stalls on Python 3.11 after a worker exits (cpython #115634);
    # the pool recycles by hand: every report completes.
    text = (REPO_EXAMPLES / "emd-liver-rrmm-pr.json").read_text(encoding="utf-8")
    pool = ReportPool(workers=1, queue=4, isolation="process", tasks_per_process=1)
    record = parse_record_json(text)

    async def scenario() -> list[str | bytes]:
        jobs = [pool.render(record, "en", "html", None) for _ in range(3)]
        return await asyncio.wait_for(asyncio.gather(*jobs), timeout=600)

    try:
        assert all("<html" in str(h) for h in asyncio.run(scenario()))
    finally:
        pool.close()
