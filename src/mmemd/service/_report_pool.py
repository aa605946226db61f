"""Reports (HTML, PDF) rendered in a bounded pool (:mod:`._work_pool`) apart from everything else.

A PDF takes seconds of CPU and hundreds of MB, an HTML report ~240 ms; rendered on the request thread pool, 50 report
clients pushed the assessment p50 from 130 ms to 2 s and 24 concurrent PDFs left the process 1 GB larger for good.
In the pool, at most ``report_workers`` render at once and ``report_queue`` more wait; beyond that the route answers
503 with ``Retry-After``. Render processes are recycled after 20 reports and stopped after 30 s without one.
"""

from __future__ import annotations

import functools
from typing import Any

from mmemd.service._work_pool import PoolFull, WorkPool

#: the pool is full (an alias: reports were the first pooled work)
ReportPoolFull = PoolFull


@functools.lru_cache(maxsize=1)
def _worker_kb() -> Any:
    from mmemd import knowledge

    return knowledge.load()


def _render_in_process(record: str | dict[str, Any], lang: str, fmt: str) -> str | bytes:
    """Runs in a pool process: a validated record travels as its JSON (validated again there), a record imported
    from FHIR (a CDS card's report link) as its dict; the knowledge base is loaded once per process."""
    from mmemd.clinical.record import parse_record_json
    from mmemd.report import render_report

    parsed = parse_record_json(record) if isinstance(record, str) else record
    return render_report(parsed, lang=lang, fmt=fmt, kb=_worker_kb())


class ReportPool(WorkPool):
    thread_name = "mmemd-report"

    async def render(self, record: Any, lang: str, fmt: str, kb: Any) -> str | bytes:
        """The report of ``record`` (a validated record model or its JSON-able dict)."""
        if self.isolation == "process":
            payload = record.model_dump_json(by_alias=True) if hasattr(record, "model_dump_json") else record
            return await self.run(_render_in_process, payload, lang, fmt)
        from mmemd.report import render_report

        return await self.run(functools.partial(render_report, record, lang=lang, fmt=fmt, kb=kb))
