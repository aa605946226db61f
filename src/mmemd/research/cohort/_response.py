"""Best IMWG 2016 response of every line of therapy, by the clinical engine in batch.

Decision (measured, docs/cohort.md "Response"): the categories come from the same engine as ``mmemd assess``
(:func:`mmemd.clinical.response.imwg_best_response`, its engine core without the timeline), not from a
re-implementation in SQL — confirmation by two consecutive assessments, the lowest-level rule across parameters, PD
from the confirmed nadir and the plasmacytoma rules (docs/criteria.md §1.3) are too intricate to copy without drift.
What makes it fast enough for tens of millions of assessments is what is *not* done: no pydantic patient records, no
JSON, no pandas. The engine reads :class:`~mmemd.clinical.snapshot.Snapshot` s built straight from Arrow columns.

One query gives every assessment with its line's EMD status and that date's plasmacytoma measurements (a list
column), so a chunk of whole patients carries everything its lines need and is assessed on its own:

* DuckDB: the rows come out sorted by (patient, line, date), are cut into chunks of whole patients and handed, as
  Arrow, to a pool of worker processes (a few chunks in flight, so memory follows the chunk size, not the cohort);
* Spark: the rows are partitioned by patient and sorted within each partition; each partition's Arrow batches are
  cut into chunks of whole patients and assessed in the executors (``mapInArrow``), so a cluster spreads the work.

Each line is assessed on its own: its earliest assessment is the baseline (a new line needs a new baseline, as the
engine says after PD). Its baseline plasmacytomas are the soft-tissue lesions measured, not 0 × 0, at that date.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections import deque
from collections.abc import Callable, Iterator
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
_DECIMAL_COLUMNS: Final = (
    "serum_m_protein_g_dl",
    "urine_m_protein_mg_24h",
    "flc_kappa_mg_dl",
    "flc_lambda_mg_dl",
    "bone_marrow_plasma_cells_pct",
)
#: The plasmacytoma measurements of an assessment's date: list<struct<lesion_id, longest_cm, perpendicular_cm>>.
_PCS: Final = "plasmacytomas"
_SORT: Final = ("patient_id", "line", "date")

#: Assessment rows per chunk (whole patients only): the unit of work handed to a worker process or assessed by a
#: Spark task. Bounds the Arrow columns and Python objects held at once.
_CHUNK_ROWS: Final = 100_000
#: Chunks queued per worker process beyond the one it is assessing (keeps the workers busy while the engine's
#: result is read, without reading ahead without bound).
_QUEUED_PER_WORKER: Final = 2


@dataclass(slots=True)
class LineResponses:
    """One entry per (patient, line), in (patient_id, line) order."""

    line: npt.NDArray[np.int64]
    emd: list[str]
    best: npt.NDArray[np.int8]  # index into CATEGORIES
    rows: int
    workers: int


def _decimals(values: npt.NDArray[np.float64]) -> list[Decimal | None]:
    """Exact decimals of a float column, ``None`` for null (NaN). repr() is the shortest string that round-trips:
    0.2 -> Decimal("0.2"), exactly what was stored. Each distinct value is converted once (laboratory values repeat
    within a chunk) and the same immutable Decimal shared."""
    if values.size == 0:
        return []
    known = ~np.isnan(values)
    uniq, inverse = np.unique(values[known], return_inverse=True)
    decs: list[Decimal | None] = [Decimal(repr(v)) for v in uniq.tolist()]
    decs.append(None)
    index = np.full(values.size, len(decs) - 1, np.int64)
    index[known] = inverse.reshape(-1)
    return [decs[i] for i in index.tolist()]


_IFE: Final = {"positive": True, "negative": False, None: None}


def _plasmacytomas(values: list[list[dict[str, Any]] | None]) -> list[tuple[Any, ...]]:
    """Each assessment's plasmacytoma measurements (by lesion id), from the list column."""
    from mmemd.clinical.snapshot import PlasmacytomaMeasure

    out: list[tuple[Any, ...]] = []
    for pcs in values:
        if not pcs:
            out.append(())
            continue
        out.append(
            tuple(
                PlasmacytomaMeasure(
                    m["lesion_id"], Decimal(repr(m["longest_cm"])), Decimal(repr(m["perpendicular_cm"]))
                )
                for m in sorted(pcs, key=lambda m: m["lesion_id"])
            )
        )
    return out


def assess_chunk(arrow: Any) -> Any:
    """The lines of one chunk of whole patients, rows sorted by (patient, line, date) — what a DuckDB worker process
    or a Spark task runs. Returns an Arrow table of one row per line: patient_id, line, emd, best (index into
    :data:`CATEGORIES`), rows (assessments)."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

    from mmemd.clinical.response import DEFAULT_RESPONSE_SETTINGS, imwg_best_response
    from mmemd.clinical.snapshot import Snapshot

    n = arrow.num_rows
    pid_col = arrow.column("patient_id")
    line_arr = arrow.column("line").to_numpy().astype(np.int64)
    if n > 1:
        pid_change = pc.not_equal(pid_col.slice(1), pid_col.slice(0, n - 1)).to_numpy(zero_copy_only=False)
        change = np.flatnonzero(pid_change | (np.diff(line_arr) != 0)) + 1
    else:
        change = np.zeros(0, np.int64)
    starts = np.concatenate(([0], change, [n])).astype(np.int64)
    first = starts[:-1]

    date_ints = arrow.column("date").cast(pa.int32()).to_numpy()
    dates = [_dt.date.fromordinal(d) for d in (date_ints.astype(np.int64) + _ORDINAL_EPOCH).tolist()]
    dec = {c: _decimals(arrow.column(c).to_numpy().astype(np.float64)) for c in _DECIMAL_COLUMNS}
    serum, urine, kappa, lam, bm = (dec[c] for c in _DECIMAL_COLUMNS)
    s_ife = [_IFE[v] for v in arrow.column("serum_ife").to_pylist()]
    u_ife = [_IFE[v] for v in arrow.column("urine_ife").to_pylist()]
    involved = arrow.column("flc_involved").to_pylist()
    new_lesion = arrow.column("new_lesion").to_pylist()
    pcs = (
        _plasmacytomas(arrow.column(_PCS).to_pylist())
        if _PCS in arrow.column_names and arrow.column(_PCS).null_count < n
        else [()] * n
    )
    settings = DEFAULT_RESPONSE_SETTINGS
    best = np.empty(first.size, np.int8)
    for k, (a, b) in enumerate(zip(first.tolist(), starts[1:].tolist(), strict=True)):
        snaps = [
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
                pcs[i],
                new_lesion[i],
                None,
                None,
                None,
                None,
            )
            for i in range(a, b)
        ]
        baseline_lesions = tuple(m.lesion for m in pcs[a] if m.longest_cm > 0 or m.perpendicular_cm > 0)
        # imwg_best_response is imwg_response without the timeline and reasons (tests compare the line results with
        # ``mmemd assess`` on every line of a synthetic cohort).
        phase: Literal["newly_diagnosed", "relapsed_refractory"] = (
            "newly_diagnosed" if line_arr[a] == 1 else "relapsed_refractory"
        )
        best[k] = _CODE[imwg_best_response(snaps, settings, baseline_lesions, phase=phase)]
    return pa.table(
        {
            "patient_id": pid_col.take(pa.array(first)),
            "line": pa.array(line_arr[first], pa.int64()),
            "emd": arrow.column("emd").take(pa.array(first)),
            "best": pa.array(best, pa.int8()),
            "rows": pa.array(np.diff(starts), pa.int64()),
        }
    )


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


def _assessment_rows(tables: dict[str, Any]) -> Any:
    """Every assessment (the columns the engine reads) with its line's EMD status and, as a list column, the
    plasmacytoma measurements of soft-tissue lesions at that date (null when none; no column without the table)."""
    import ibis  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    a = tables["assessments"]
    status = line_status(tables)
    j = a.join(status, ["patient_id", "line"]).select(*_COLUMNS)
    if "plasmacytoma_measurements" not in tables:
        return j
    m = tables["plasmacytoma_measurements"]
    les = tables["lesions"]
    soft = les.filter(les.relation_to_bone.isnull() | (les.relation_to_bone != "intraosseous"))
    mm = m.semi_join(soft, ["patient_id", "lesion_id"])
    per_date = mm.group_by(["patient_id", "date"]).aggregate(
        **{
            _PCS: ibis.struct(
                {
                    "lesion_id": mm.lesion_id,
                    "longest_cm": mm.longest_cm.cast("float64"),
                    "perpendicular_cm": mm.perpendicular_cm.cast("float64"),
                }
            ).collect()
        }
    )
    out = j.left_join(per_date, [j.patient_id == per_date.patient_id, j.date == per_date.date])
    return out.select(*(j[c] for c in _COLUMNS), per_date[_PCS])


#: The per-line result, as Spark's ``mapInArrow`` declares it.
_RESULT_SCHEMA: Final = "patient_id string, line long, emd string, best byte, rows long"


def line_responses(
    tables: dict[str, Any],
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk_rows: int | None = None,
) -> LineResponses:
    """Best confirmed IMWG response of every (patient, line). ``progress(done_lines, total_lines)``.

    The assessments are read in chunks of about ``chunk_rows`` rows, cut between patients; each chunk is assessed
    on its own (by worker processes, or Spark tasks) and only the per-line results are kept, so memory follows the
    chunk size, not the cohort size.
    """
    q = _assessment_rows(tables)
    limit = max(1, chunk_rows or _CHUNK_ROWS)
    backend = q._find_backend(use_default=True)
    if getattr(backend, "name", "") == "pyspark":
        out = _spark_line_responses(backend, q, limit)
        if progress is not None:
            progress(len(out.best), len(out.best))
        return out
    total_lines = int(line_status(tables).count().to_pyarrow().as_py()) if progress is not None else 0
    n_workers = _workers(workers)
    if n_workers > 1:
        n_rows = int(tables["assessments"].count().to_pyarrow().as_py())
        if n_rows < _PARALLEL_MIN_ROWS:  # not worth starting processes for
            n_workers = 1
    pool = _start_pool(n_workers) if n_workers > 1 else None
    parts: list[Any] = []
    done = 0
    rows = 0
    try:
        chunks = _patient_chunks(_ordered_batches(q.order_by(list(_SORT)), min(limit, 1 << 16)), limit)
        results = map(assess_chunk, chunks) if pool is None else _pooled(pool, chunks, n_workers)
        for part in results:
            parts.append(part.select(["line", "emd", "best"]))
            done += part.num_rows
            rows += int(np.asarray(part.column("rows")).sum())
            if progress is not None:
                progress(done, total_lines)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if not parts:
        return LineResponses(np.zeros(0, np.int64), [], np.zeros(0, np.int8), 0, 0)
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    result = pa.concat_tables(parts)
    return LineResponses(
        line=result.column("line").to_numpy().astype(np.int64),
        emd=result.column("emd").to_pylist(),
        best=result.column("best").to_numpy().astype(np.int8),
        rows=rows,
        workers=n_workers,
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


def _start_pool(n_workers: int) -> Any:
    """A pool of ``n_workers`` forked processes, started now — before the engine runs the sort, so the workers begin
    as copies of a small process (a fork made later would start as a copy of DuckDB's sort buffers). Forked rather
    than spawned: spawning re-imports the caller's ``__main__``, which breaks scripts without a main guard."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from mmemd.clinical import response  # noqa: F401  # imported once, inherited by the workers

    pool = ProcessPoolExecutor(max_workers=n_workers, mp_context=multiprocessing.get_context("fork"))
    pool.submit(int).result()  # with fork, the first task starts every worker process
    return pool


def _pooled(pool: Any, chunks: Iterator[Any], n_workers: int) -> Iterator[Any]:
    """Per-line results of each chunk, in chunk order, the chunks (Arrow) assessed by the pool while the engine's
    result is still being read; at most a few chunks per worker are in flight."""
    from concurrent.futures import Future

    pending: deque[Future[Any]] = deque()
    for chunk in chunks:
        pending.append(pool.submit(assess_chunk, chunk))
        while len(pending) > n_workers * (1 + _QUEUED_PER_WORKER):
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _spark_line_responses(backend: Any, q: Any, limit: int) -> LineResponses:
    """On Spark the engine core runs inside the executors: the rows are partitioned by patient, sorted within each
    partition, and each partition's Arrow batches are cut into chunks of whole patients and assessed by
    :func:`assess_chunk` (``mapInArrow``), so a cluster spreads the work; only one row per line comes back to the
    driver. ``spark.sql.shuffle.partitions`` sets how many tasks share the work."""
    backend._run_pre_execute_hooks(q)  # registers in-memory tables as Spark views
    rows = backend.raw_sql(backend.compile(q))
    partitions = int(rows.sparkSession.conf.get("spark.sql.shuffle.partitions"))

    def assess_partition(batches: Iterator[Any]) -> Iterator[Any]:
        for chunk in _patient_chunks(batches, limit):
            yield from assess_chunk(chunk).to_batches()

    # Collected as Arrow and put in (patient, line) order on the driver: an ``orderBy`` in Spark would sample its
    # input to choose range boundaries, a second job that runs the whole response step (the engine included) again.
    out = (
        rows.repartition(partitions, "patient_id")
        .sortWithinPartitions(*_SORT)
        .mapInArrow(assess_partition, _RESULT_SCHEMA)
        .toArrow()
    )
    out = out.sort_by([("patient_id", "ascending"), ("line", "ascending")])
    return LineResponses(
        line=out.column("line").to_numpy().astype(np.int64),
        emd=[str(v) for v in out.column("emd").to_pylist()],
        best=out.column("best").to_numpy().astype(np.int8),
        rows=int(np.asarray(out.column("rows")).sum()),
        workers=int(backend._session.sparkContext.defaultParallelism),
    )
