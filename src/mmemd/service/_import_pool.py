"""FHIR imports (a REST bundle, a CDS Hooks prefetch) in a bounded pool (:mod:`._work_pool`).

The import validates every resource with ``fhir.resources``: 7–12 ms of CPU per call, against ~2 ms for a whole
assessment. On the event loop (REST) or in a thread (CDS) it held the interpreter lock while assessments waited; in
the mixed soak these two routes were a quarter of the server's CPU (docs/performance.md). In the pool's process it
runs on the other core. The process is kept warm (stopped only after 5 minutes without an import) because a fresh
one pays the ``fhir.resources`` import (~2 s) on its first call.

The import's own errors cross the process boundary as data and are raised again here with their original types,
so the routes answer exactly as when the import ran in-process.
"""

from __future__ import annotations

import functools
from typing import Any

from mmemd.service._work_pool import Isolation, WorkPool


def _import(name: str, *args: Any, **kwargs: Any) -> tuple[str, Any]:
    """Runs in the pool: ``mmemd.fhir.<name>(...)``, its errors returned as data (they cross a process boundary)."""
    import importlib

    from mmemd.clinical.errors import RecordError

    try:
        return "ok", getattr(importlib.import_module("mmemd.fhir"), name)(*args, **kwargs)
    except RecordError as exc:
        return "record", (list(exc.problems), exc.kind)
    except ValueError as exc:  # BundleError: not valid FHIR R4
        return "invalid", (list(getattr(exc, "problems", None) or []), str(exc))


class InvalidFhir(ValueError):
    """The import's ``BundleError`` raised again on this side: the same problems (path, message) and text."""

    def __init__(self, problems: list[Any], text: str) -> None:
        self.problems = problems
        super().__init__(text)


def _result(outcome: tuple[str, Any]) -> Any:
    from mmemd.clinical.errors import RecordError

    kind, value = outcome
    if kind == "invalid":
        raise InvalidFhir(*value)
    if kind == "record":
        problems, record_kind = value
        raise RecordError(problems, record_kind)
    return value


class ImportPool(WorkPool):
    thread_name = "mmemd-import"

    def __init__(self, workers: int, queue: int, isolation: Isolation = "process") -> None:
        # imports leave little behind: recycle rarely; a lower priority would only delay the CDS answer
        super().__init__(
            workers,
            queue,
            isolation,
            tasks_per_process=5_000,
            idle_seconds=300.0,
            niceness=0,
        )

    async def bundle_to_record(self, bundle: dict[str, Any]) -> Any:
        """:func:`mmemd.fhir.bundle_to_record` in the pool (raises ``RecordError``, or :class:`InvalidFhir` for its
        ``BundleError``)."""
        return _result(await self.run(_import, "bundle_to_record", bundle))

    async def bundle_to_record_from_parts(self, parts: dict[str, Any]) -> Any:
        """:func:`mmemd.fhir.bundle_to_record_from_parts` in the pool."""
        return _result(await self.run(functools.partial(_import, "bundle_to_record_from_parts", **parts)))
