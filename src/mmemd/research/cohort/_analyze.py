"""``analyze_cohort``: validate, then incidence, response by line, survival — one :class:`CohortAnalysis`.

Each step is timed (``timings_s``; ids and timings only are ever logged, never patient values). ``progress`` is
called as ``progress(step, done, total)`` so a shell can draw bars; the core never prints.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from mmemd.research.cohort._io import Backend, open_cohort
from mmemd.research.cohort._models import CohortAnalysis, CohortVersions, ResponseRow

__all__ = ["STEPS", "analyze_cohort"]

log = logging.getLogger("mmemd.cohort")

STEPS = ("validate", "incidence", "response", "survival")
Progress = Callable[[str, int, int], None]
LINE_BUCKETS = ("1", "2", "3", "4+")
EMD_ORDER = ("none", "paraskeletal", "extraosseous")


def _versions(backend: str, con: Any) -> CohortVersions:
    import ibis  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    from mmemd._version import __version__
    from mmemd.clinical.response import RESPONSE_CRITERIA_VERSION
    from mmemd.clinical.risk import HIGH_RISK_DEFINITION
    from mmemd.knowledge import kb_version
    from mmemd.research.cohort._schema import COHORT_SCHEMA

    engine = backend
    with contextlib.suppress(Exception):  # a backend without a version string keeps its name
        engine = f"{con.name} {con.version}"
    return CohortVersions(
        mmemd=__version__,
        knowledge_base=kb_version(),
        response_criteria=RESPONSE_CRITERIA_VERSION,
        high_risk_definition=HIGH_RISK_DEFINITION,
        cohort_schema=COHORT_SCHEMA,
        ibis=ibis.__version__,
        backend=engine,
    )


def response_rows(line: Any, emd: list[str], best: Any, conf_level: float = 0.95) -> list[ResponseRow]:
    """Aggregate per-line best responses into rows by line bucket and EMD status."""
    import numpy as np

    from mmemd.research.cohort._incidence import proportion
    from mmemd.research.cohort._response import CATEGORIES

    bucket = np.minimum(np.asarray(line, dtype=np.int64), 4)
    emd_arr = np.asarray(emd, dtype=object)
    best_arr = np.asarray(best, dtype=np.int64)
    ne = CATEGORIES.index("not_evaluable")
    orr_codes = [CATEGORIES.index(c) for c in ("sCR", "CR", "VGPR", "PR")]
    vgpr_codes = [CATEGORIES.index(c) for c in ("sCR", "CR", "VGPR")]
    rows: list[ResponseRow] = []
    for b, name in enumerate(LINE_BUCKETS, start=1):
        for status in EMD_ORDER:
            sel = (bucket == b) & (emd_arr == status)
            n = int(sel.sum())
            if n == 0:
                continue
            counts = np.bincount(best_arr[sel], minlength=len(CATEGORIES))
            evaluable = n - int(counts[ne])
            rows.append(
                ResponseRow(
                    line=name,
                    emd=status,
                    lines=n,
                    categories={c: int(counts[i]) for i, c in enumerate(CATEGORIES)},
                    evaluable=evaluable,
                    orr=proportion(int(counts[orr_codes].sum()), evaluable, conf_level),
                    vgpr_or_better=proportion(int(counts[vgpr_codes].sum()), evaluable, conf_level),
                )
            )
    return rows


def analyze_cohort(
    location: str | os.PathLike[str],
    backend: Backend = "duckdb",
    *,
    conf_level: float = 0.95,
    workers: int | None = None,
    progress: Progress | None = None,
    date_shift_key: bytes | None = None,
) -> CohortAnalysis:
    """Analyse the cohort at ``location`` (see :func:`open_cohort`). Raises :class:`CohortError` if invalid."""
    from mmemd.research.cohort._incidence import emd_incidence
    from mmemd.research.cohort._outcomes import survival_by_emd
    from mmemd.research.cohort._response import line_responses
    from mmemd.research.cohort._validate import validate_and_count

    def step(name: str, done: int, total: int) -> None:
        if progress is not None:
            progress(name, done, total)

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    step("validate", 0, 1)
    source = open_cohort(location, backend, date_shift_key=date_shift_key)
    tables, rows = validate_and_count(source)
    timings["validate"] = time.perf_counter() - t0
    step("validate", 1, 1)
    log.info("cohort validated: %d patients, %d assessments", rows["patients"], rows["assessments"])

    t0 = time.perf_counter()
    step("incidence", 0, 1)
    incidence = emd_incidence(tables, conf_level)
    timings["incidence"] = time.perf_counter() - t0
    step("incidence", 1, 1)

    t0 = time.perf_counter()
    step("response", 0, 1)
    lr = line_responses(tables, workers=workers, progress=lambda d, n: step("response", d, n))
    response = response_rows(lr.line, lr.emd, lr.best, conf_level)
    timings["response"] = time.perf_counter() - t0
    response_notes = [
        "Best confirmed response per line of therapy by the clinical engine (IMWG 2016, docs/response.md); each "
        "line's earliest assessment is its baseline.",
        "EMD status is that at the line's baseline (soft-tissue lesions found on or before it).",
        "ORR = sCR + CR + VGPR + PR among evaluable lines (best response other than not_evaluable); exact CIs.",
    ]
    if "plasmacytoma_measurements" not in tables:
        response_notes.append(
            "No plasmacytoma_measurements table: plasmacytoma criteria (SPD) were not applied to any line."
        )
    log.info("response: %d lines from %d assessments, %d worker(s)", lr.best.size, lr.rows, lr.workers)

    t0 = time.perf_counter()
    step("survival", 0, 1)
    survival, cox, curves, notes = survival_by_emd(tables, conf_level)
    timings["survival"] = time.perf_counter() - t0
    step("survival", 1, 1)

    return CohortAnalysis(
        source=source.location,
        versions=_versions(source.backend, source.con),
        rows=rows,
        incidence=incidence,
        response=response,
        response_notes=response_notes,
        survival=survival,
        cox=cox,
        notes=notes,
        timings_s={k: round(v, 3) for k, v in timings.items()},
        curves=curves,
    )
