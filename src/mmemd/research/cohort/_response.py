"""Best IMWG 2016 response of every line of therapy, by the clinical engine in batch.

Decision (measured, docs/cohort.md "Response"): the categories come from the same engine as ``mmemd assess``
(:func:`mmemd.clinical.response.imwg_response`, through its engine core ``run``), not from a re-implementation in SQL — confirmation by two
consecutive assessments, the lowest-level rule across parameters, PD from the confirmed nadir and the plasmacytoma
rules (docs/criteria.md §1.3) are too intricate to copy without drift. What makes it fast enough for 2 million
assessments is what is *not* done: no pydantic patient records, no JSON. The engine reads
:class:`~mmemd.clinical.snapshot.Snapshot` s, built straight from the columns that DuckDB returns already sorted by
(patient, line, date); lines are split into contiguous ranges and assessed by worker processes (fork: they inherit
the columns, nothing large is pickled).

Each line is assessed on its own: its earliest assessment is the baseline (a new line needs a new baseline, as the
engine says after PD). Its baseline plasmacytomas are the soft-tissue lesions measured, not 0 × 0, at that date.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

__all__ = ["CATEGORIES", "LineResponses", "line_responses"]

CATEGORIES: Final = ("sCR", "CR", "VGPR", "PR", "MR", "SD", "PD", "not_evaluable")
_CODE: Final = {c: i for i, c in enumerate(CATEGORIES)}
_ORDINAL_EPOCH: Final = _dt.date(1970, 1, 1).toordinal()
_PARALLEL_MIN_ROWS: Final = 50_000
_TASKS_PER_WORKER: Final = 8

_COLUMNS: Final = (
    "patient_id",
    "line",
    "date",
    "serum_m_protein_g_dl",
    "urine_m_protein_mg_24h",
    "serum_ife",
    "urine_ife",
    "flc_kappa_mg_dl",
    "flc_lambda_mg_dl",
    "flc_involved",
    "bone_marrow_plasma_cells_pct",
    "new_lesion",
    "emd",
)


@dataclass(slots=True)
class LineResponses:
    """One entry per (patient, line), in (patient_id, line) order."""

    line: npt.NDArray[np.int64]
    emd: list[str]
    best: npt.NDArray[np.int8]  # index into CATEGORIES
    rows: int
    workers: int


# Columns of the current batch, set before the pool forks (workers read them, never receive them).
_WORK: dict[str, Any] = {}


def _decimals(values: npt.NDArray[np.float64]) -> list[Decimal | None]:
    # repr() is the shortest string that round-trips: 0.2 -> Decimal("0.2"), exactly what was stored.
    return [None if v != v else Decimal(repr(v)) for v in values.tolist()]


def _ife(values: list[str | None]) -> list[bool | None]:
    m = {"positive": True, "negative": False}
    return [None if v is None else m[v] for v in values]


def _assess_range(bounds: tuple[int, int]) -> npt.NDArray[np.int8]:
    """Lines ``bounds`` of the batch in :data:`_WORK` (what a forked worker process runs)."""
    return _assess_lines(_WORK["cols"], _WORK["starts"], _WORK["measures"], *bounds)


def _assess_lines(
    cols: dict[str, Any],
    starts: npt.NDArray[np.int64],
    measures: dict[tuple[str, int], tuple[Any, ...]],
    lo: int,
    hi: int,
) -> npt.NDArray[np.int8]:
    """Best response codes of lines ``lo``..``hi`` (line k spans rows ``starts[k]``..``starts[k+1]``)."""
    from mmemd.clinical.response import DEFAULT_RESPONSE_SETTINGS, imwg_best_response
    from mmemd.clinical.snapshot import Snapshot

    r0, r1 = int(starts[lo]), int(starts[hi])
    dates = [_dt.date.fromordinal(d + _ORDINAL_EPOCH) for d in cols["date"][r0:r1].tolist()]
    serum = _decimals(cols["serum_m_protein_g_dl"][r0:r1])
    urine = _decimals(cols["urine_m_protein_mg_24h"][r0:r1])
    kappa = _decimals(cols["flc_kappa_mg_dl"][r0:r1])
    lam = _decimals(cols["flc_lambda_mg_dl"][r0:r1])
    bm = _decimals(cols["bone_marrow_plasma_cells_pct"][r0:r1])
    s_ife = _ife(cols["serum_ife"][r0:r1])
    u_ife = _ife(cols["urine_ife"][r0:r1])
    involved = cols["flc_involved"][r0:r1]
    new_lesion = cols["new_lesion"][r0:r1]
    pids = cols["patient_id"][r0:r1]
    lines = cols["line"][r0:r1].tolist()
    date_ints = cols["date"][r0:r1].tolist()
    out = np.empty(hi - lo, np.int8)
    settings = DEFAULT_RESPONSE_SETTINGS
    for k in range(lo, hi):
        a, b = int(starts[k]) - r0, int(starts[k + 1]) - r0
        snaps = []
        for i in range(a, b):
            pcs = measures.get((pids[i], date_ints[i]), ()) if measures else ()
            snaps.append(
                Snapshot(
                    dates[i],
                    i == a,
                    serum[i],
                    urine[i],
                    s_ife[i],
                    u_ife[i],
                    kappa[i],
                    lam[i],
                    involved[i],
                    bm[i],
                    None,
                    None,
                    None,
                    None,
                    None,
                    pcs,
                    new_lesion[i],
                    None,
                    None,
                    None,
                    None,
                )
            )
        base_pcs = snaps[0].plasmacytomas
        baseline_lesions = tuple(m.lesion for m in base_pcs if m.longest_cm > 0 or m.perpendicular_cm > 0)
        # imwg_best_response is imwg_response without the timeline and reasons (tests compare the two on every
        # line of a synthetic cohort).
        phase: Literal["newly_diagnosed", "relapsed_refractory"] = (
            "newly_diagnosed" if lines[a] == 1 else "relapsed_refractory"
        )
        out[k - lo] = _CODE[imwg_best_response(snaps, settings, baseline_lesions, phase=phase)]
    return out


def _measures(table: Any) -> dict[tuple[str, int], tuple[Any, ...]]:
    """(patient_id, date as days since 1970) -> the plasmacytoma measurements of that date."""
    return _measures_from_arrow(table.to_pyarrow())


def _measures_from_arrow(rows: Any) -> dict[tuple[str, int], tuple[Any, ...]]:
    from mmemd.clinical.snapshot import PlasmacytomaMeasure

    if rows.num_rows == 0:
        return {}
    pid = rows.column("patient_id").to_pylist()
    day = rows.column("date").cast("int32").to_numpy().tolist()
    lid = rows.column("lesion_id").to_pylist()
    lo = _decimals(rows.column("longest_cm").to_numpy(zero_copy_only=False))
    pe = _decimals(rows.column("perpendicular_cm").to_numpy(zero_copy_only=False))
    out: dict[tuple[str, int], list[Any]] = {}
    for p, d, i, a, b in zip(pid, day, lid, lo, pe, strict=True):
        assert a is not None and b is not None  # required columns (validated)
        out.setdefault((p, d), []).append(PlasmacytomaMeasure(i, a, b))
    return {k: tuple(v) for k, v in out.items()}


def _workers(requested: int | None) -> int:
    if requested is not None:
        return max(1, requested)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def line_status(tables: dict[str, Any]) -> Any:
    """(patient_id, line, emd): EMD status at each line's baseline — extraosseous / paraskeletal / none — from the
    soft-tissue lesions found on or before the baseline date (a lesion without a date: diagnosis lesions from line 1,
    relapse lesions from line 2)."""
    import ibis  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    a = tables["assessments"]
    les = tables["lesions"]
    lines = a.group_by(["patient_id", "line"]).aggregate(baseline_date=a.date.min())
    soft = les.filter(
        les.relation_to_bone.isin(["none", "arising_from_bone"]) | les.cns.fill_null(False)
    ).select("patient_id", "relation_to_bone", "detected_at", "detected_on", "cns")
    j = lines.join(soft, "patient_id")
    known = ibis.ifelse(
        j.detected_on.notnull(),
        j.detected_on <= j.baseline_date,
        (j.detected_at == "diagnosis") | (j.line > 1),
    )
    j = j.filter(known)
    status = j.group_by(["patient_id", "line"]).aggregate(
        extra=((j.relation_to_bone == "none") | j.cns.fill_null(False)).any(),
        para=(j.relation_to_bone == "arising_from_bone").any(),
    )
    out = lines.left_join(status, ["patient_id", "line"])
    emd = ibis.ifelse(
        out.extra.fill_null(False),
        "extraosseous",
        ibis.ifelse(out.para.fill_null(False), "paraskeletal", "none"),
    )
    return out.select(patient_id=out.patient_id, line=out.line, emd=emd)


_MEASURE_COLUMNS: Final = ("patient_id", "date", "lesion_id", "longest_cm", "perpendicular_cm")
_RESULT_SCHEMA: Final = "patient_id string, line long, emd string, best byte, rows long"

#: Assessment rows per streamed chunk (whole patients only). Bounds the columns and Python objects held at once: the
#: engine's ordered result is read batch by batch instead of as one table.
_CHUNK_ROWS: Final = 250_000


def line_responses(
    tables: dict[str, Any],
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk_rows: int | None = None,
) -> LineResponses:
    """Best confirmed IMWG response of every (patient, line). ``progress(done_lines, total_lines)``.

    The assessments come out of the engine sorted by (patient, line, date) and are read in chunks of about
    ``chunk_rows`` rows, cut between patients; each chunk is assessed (by worker processes when large) and only the
    per-line results are kept, so memory follows the chunk size, not the cohort size.
    """
    a = tables["assessments"]
    status = line_status(tables)
    j = a.join(status, ["patient_id", "line"])
    q = j.select(*_COLUMNS).order_by(["patient_id", "line", "date"])
    mm = None
    if "plasmacytoma_measurements" in tables:
        m = tables["plasmacytoma_measurements"]
        les = tables["lesions"]
        soft = les.filter(les.relation_to_bone.isnull() | (les.relation_to_bone != "intraosseous"))
        mm = m.semi_join(soft, ["patient_id", "lesion_id"]).select(*_MEASURE_COLUMNS)
    backend = q._find_backend(use_default=True)
    if getattr(backend, "name", "") == "pyspark":
        out = _spark_line_responses(backend, q, mm)
        if progress is not None:
            progress(len(out.best), len(out.best))
        return out
    measures = _measures(mm) if mm is not None else {}
    limit = max(1, chunk_rows or _CHUNK_ROWS)
    total_lines = int(status.count().to_pyarrow().as_py()) if progress is not None else 0
    n_workers = _workers(workers)
    lines: list[npt.NDArray[np.int64]] = []
    emd: list[str] = []
    best: list[npt.NDArray[np.int8]] = []
    rows = 0
    used_workers = 1
    done = 0
    for chunk in _patient_chunks(_ordered_batches(q, min(limit, 1 << 16)), limit):

        def chunk_progress(d: int, _n: int, before: int = done) -> None:
            if progress is not None:
                progress(before + d, total_lines)

        part = _chunk_responses(chunk, measures, n_workers, chunk_progress)
        lines.append(part.line)
        emd.extend(part.emd)
        best.append(part.best)
        rows += part.rows
        used_workers = max(used_workers, part.workers)
        done += len(part.best)
    if not lines:
        return LineResponses(np.zeros(0, np.int64), [], np.zeros(0, np.int8), 0, 0)
    return LineResponses(
        line=np.concatenate(lines), emd=emd, best=np.concatenate(best), rows=rows, workers=used_workers
    )


def _ordered_batches(q: Any, size: int) -> Any:
    """Record batches of the query's result, streamed. On DuckDB through its own Arrow reader: Ibis's
    ``to_pyarrow_batches`` calls ``fetch_record_batch`` on a DB-API cursor, which DuckDB 2 no longer has."""
    backend = q._find_backend(use_default=True)
    if getattr(backend, "name", "") != "duckdb":
        yield from q.to_pyarrow_batches(chunk_size=size)
        return
    backend._run_pre_execute_hooks(q)  # registers in-memory tables the query reads
    relation = backend.con.sql(backend.compile(q))
    if hasattr(relation, "to_arrow_reader"):
        yield from relation.to_arrow_reader(size)
    else:  # DuckDB 1.x
        yield from relation.fetch_arrow_reader(size)


def _patient_chunks(batches: Any, limit: int) -> Any:
    """Tables of at least ``limit`` rows (the last may be smaller) from record batches sorted by patient, each cut
    at a patient boundary: a patient's rows are never split between chunks."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

    pending: list[Any] = []
    pending_rows = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        pending_rows += batch.num_rows
        if pending_rows < limit:
            continue
        table = pa.Table.from_batches(pending)
        pid = table.column("patient_id")
        last = pid[table.num_rows - 1]
        tail = int(pc.sum(pc.equal(pid, last)).as_py())  # the last patient's rows: contiguous, at the end
        cut = table.num_rows - tail
        if cut == 0:  # one patient so far: keep reading
            continue
        yield table.slice(0, cut)
        rest = table.slice(cut).combine_chunks()
        pending = rest.to_batches()
        pending_rows = rest.num_rows
    if pending_rows:
        yield pa.Table.from_batches(pending)


def _columns(arrow: Any) -> tuple[dict[str, Any], npt.NDArray[np.int64]]:
    """The engine's columns as the snapshot builder reads them, and the first row of every (patient, line) followed
    by the row count. ``arrow`` holds at least one row, sorted by (patient, line, date)."""
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    n = arrow.num_rows

    pid_col = arrow.column("patient_id")
    pid_change = (
        pc.not_equal(pid_col.slice(1), pid_col.slice(0, max(n - 1, 0))).to_numpy(zero_copy_only=False)
        if n > 1
        else np.zeros(0, np.bool_)
    )
    cols: dict[str, Any] = {}
    for name in _COLUMNS:
        col = arrow.column(name)
        if name == "date":
            cols[name] = col.cast("int32").to_numpy()
        elif name == "line":
            cols[name] = col.to_numpy()
        elif name in {"patient_id", "serum_ife", "urine_ife", "flc_involved", "new_lesion", "emd"}:
            cols[name] = col.to_pylist()
        else:
            cols[name] = col.to_numpy(zero_copy_only=False).astype(np.float64)
    line_arr = cols["line"]
    change = np.flatnonzero(pid_change | (np.diff(line_arr) != 0)) + 1
    starts = np.concatenate(([0], change, [n])).astype(np.int64)
    return cols, starts


def _chunk_responses(
    arrow: Any,
    measures: dict[tuple[str, int], tuple[Any, ...]],
    n_workers: int,
    progress: Callable[[int, int], None],
) -> LineResponses:
    """The lines of one chunk of whole patients (rows sorted by patient, line, date)."""
    import multiprocessing

    n = arrow.num_rows
    if n == 0:
        return LineResponses(np.zeros(0, np.int64), [], np.zeros(0, np.int8), 0, 0)
    cols, starts = _columns(arrow)
    n_lines = starts.size - 1
    line_arr = cols["line"]
    _WORK.clear()
    _WORK.update(cols=cols, starts=starts, measures=measures)
    best = np.empty(n_lines, np.int8)
    try:
        if n < _PARALLEL_MIN_ROWS or n_workers <= 1:
            step = max(1, n_lines // 20)
            for lo in range(0, n_lines, step):
                hi = min(n_lines, lo + step)
                best[lo:hi] = _assess_range((lo, hi))
                progress(hi, n_lines)
            n_workers = 1
        else:
            # Warm the engine before forking so workers inherit imported modules.
            from mmemd.clinical import response  # noqa: F401

            n_tasks = n_workers * _TASKS_PER_WORKER
            edges = np.linspace(0, n_lines, n_tasks + 1).astype(np.int64)
            ranges = [(int(x), int(y)) for x, y in itertools.pairwise(edges) if y > x]
            ctx = multiprocessing.get_context("fork")
            done = 0
            with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
                for (lo, hi), res in zip(ranges, pool.map(_assess_range, ranges), strict=True):
                    best[lo:hi] = res
                    done += hi - lo
                    progress(done, n_lines)
    finally:
        _WORK.clear()
    first = starts[:-1]
    return LineResponses(
        line=np.asarray(line_arr)[first].astype(np.int64),
        emd=[cols["emd"][i] for i in first.tolist()],
        best=best,
        rows=n,
        workers=n_workers,
    )


def _spark_line_responses(backend: Any, q: Any, mm: Any) -> LineResponses:
    """On Spark the engine core runs inside the executors: assessments and plasmacytoma measurements are co-grouped by
    patient and each patient's lines are assessed by :func:`_patient_lines` (``applyInPandas``), so a cluster spreads
    the work; only one row per line comes back to the driver."""
    for expr in (q, mm):
        if expr is not None:
            backend._run_pre_execute_hooks(expr)  # registers in-memory tables as Spark views
    assessments = backend.raw_sql(backend.compile(q.as_table()))
    grouped = assessments.groupBy("patient_id")
    if mm is not None:
        measurements = backend.raw_sql(backend.compile(mm))
        out = grouped.cogroup(measurements.groupBy("patient_id")).applyInPandas(
            _patient_lines, _RESULT_SCHEMA
        )
    else:
        out = grouped.applyInPandas(lambda a: _patient_lines(a, None), _RESULT_SCHEMA)
    rows = out.orderBy("patient_id", "line").toPandas()
    return LineResponses(
        line=rows["line"].to_numpy(dtype=np.int64),
        emd=[str(v) for v in rows["emd"].tolist()],
        best=rows["best"].to_numpy(dtype=np.int8),
        rows=int(rows["rows"].sum()),
        workers=int(backend._session.sparkContext.defaultParallelism),
    )


def _patient_lines(assessments: Any, measurements: Any) -> Any:
    """One patient's lines (pandas in, pandas out): what a Spark executor runs for each patient."""
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # no stubs installed
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    empty = pd.DataFrame({"patient_id": [], "line": [], "emd": [], "best": [], "rows": []})
    if len(assessments) == 0:
        return empty
    frame = assessments.sort_values(["line", "date"], kind="stable").reset_index(drop=True)
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    arrow = pa.Table.from_pandas(frame[list(_COLUMNS)], preserve_index=False)
    cols, starts = _columns(arrow)
    measures: dict[tuple[str, int], tuple[Any, ...]] = {}
    if measurements is not None and len(measurements):
        mframe = measurements.copy()
        mframe["date"] = pd.to_datetime(mframe["date"]).dt.date
        measures = _measures_from_arrow(
            pa.Table.from_pandas(mframe[list(_MEASURE_COLUMNS)], preserve_index=False)
        )
    n_lines = starts.size - 1
    best = _assess_lines(cols, starts, measures, 0, n_lines)
    first = starts[:-1]
    return pd.DataFrame(
        {
            "patient_id": [cols["patient_id"][i] for i in first.tolist()],
            "line": np.asarray(cols["line"])[first].astype(np.int64),
            "emd": [cols["emd"][i] for i in first.tolist()],
            "best": best.astype(np.int8),
            "rows": np.diff(starts).astype(np.int64),
        }
    )
