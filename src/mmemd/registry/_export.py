"""Registry -> research: the ``mmemd.cohort/1`` tables (docs/cohort.md), pseudonymised, as Parquet files.

What leaves the registry: the registry id (never the MRN, name or the hospital's record id), the clinical facts the
cohort schema names, and dates — optionally shifted per patient.

**Date shift.** With a key, every date of a patient moves by the same number of days, so intervals (time to
progression, follow-up) are exact while calendar dates are hidden. The offset is derived from the key and the
registry id, ``HMAC-SHA256(key, "mmemd.date-shift/1:" + registry_id)``: the first 8 bytes, big-endian, modulo
``2 * max_days + 1``, minus ``max_days`` (default ``max_days`` 182: up to half a year either way; 0 is possible).
Anyone holding the key can recompute the offset of a patient and undo it (:func:`date_shift_days`); without the key
the offsets cannot be derived from the data. Keep the key apart from the export.

Derived columns, in our words:

- ``patients.age_at_diagnosis`` is the record's ``age``; ``iss``, ``r_iss`` and ``high_risk`` are computed by the
  clinical engine (:func:`mmemd.clinical.staging.stage`) from the values at diagnosis (null when indeterminate).
- ``patients.last_contact_date`` is the latest of: the death date, the last-contact event, the latest visit, the
  latest therapy-line start and the diagnosis date.
- ``assessments.line`` is the latest therapy line started on or before the visit (line 1 before any line starts).
- Laboratory values are converted to the cohort schema's units (g/dL, mg/24h, mg/dL).
- A patient without a diagnosis date, or a lesion without ``detected_at``, cannot be a row of the schema (both are
  required): they are left out and counted in the summary.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Text, cast, literal, select

from mmemd.registry._models import FACT_TABLES, Patient
from mmemd.registry._store import _Facts, compose

if TYPE_CHECKING:
    from mmemd.registry._store import Registry

__all__ = ["DEFAULT_MAX_SHIFT_DAYS", "ExportSummary", "cohort_tables", "date_shift_days", "export_cohort"]

DEFAULT_MAX_SHIFT_DAYS: Final = 182
_CHUNK: Final = 1000


def date_shift_days(key: bytes, registry_id: str, max_days: int = DEFAULT_MAX_SHIFT_DAYS) -> int:
    """The patient's date offset in days (see the module docstring); exported date = true date + offset."""
    digest = hmac.new(key, b"mmemd.date-shift/1:" + registry_id.encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % (2 * max_days + 1) - max_days


@dataclass(slots=True)
class ExportSummary:
    out_dir: Path
    rows: dict[str, int] = field(default_factory=dict)
    skipped_patients_no_diagnosis_date: int = 0
    skipped_lesions_no_detected_at: int = 0
    date_shifted: bool = False


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def _facts_for(registry: Registry, ids: Sequence[str]) -> dict[str, _Facts]:
    """The current facts of these patients, one query per fact table. The JSON column is read as text and decoded
    with orjson (several times faster than the ORM's per-row ``json.loads``, the largest cost of an export)."""
    import orjson

    out: dict[str, _Facts] = {pid: {t: {} for t in FACT_TABLES} for pid in ids}
    loads = orjson.loads
    with registry.reading() as s:
        conn = s.connection()
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            for table in FACT_TABLES:
                pos = table.position if hasattr(table, "position") else literal(0)
                q = (
                    select(table.patient_id, table.key, table.tombstone, cast(table.data, Text), pos)
                    .where(table.patient_id.in_(ids))
                    .order_by(table.change_id)
                )
                # Straight to the driver: plain tuples, without a SQLAlchemy Row per fact. The ids are the
                # registry's own (MM- and 10 letters/digits), rendered as quoted literals by the dialect.
                cursor.execute(str(q.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})))
                _apply(out, table, cursor.fetchall(), loads)
        finally:
            cursor.close()
    return out


def _apply(out: dict[str, _Facts], table: Any, rows: Any, loads: Any) -> None:
    """Replay the fact rows (in change order) onto the patients' current facts."""
    for pid, key, tombstone, data, position in rows:
        facts = out[pid][table]
        if tombstone:
            facts.pop(key, None)
        else:
            facts[key] = (None if data is None else loads(data), position or 0)


@cache
def _canonical_unit(field_name: str) -> str:
    from mmemd.clinical.units import analyte

    return str(analyte(field_name).canonical)


def _canonical(field_name: str, q: Mapping[str, Any] | None) -> float | None:
    if not q or q.get("value") is None:
        return None
    if q["unit"] == _canonical_unit(field_name):
        return float(q["value"])
    from mmemd.clinical.units import to_canonical

    return float(to_canonical(field_name, Decimal(str(q["value"])), str(q["unit"])))


def _d(v: Any) -> dt.date | None:
    return dt.date.fromisoformat(v) if isinstance(v, str) else None


def _stage(record: Mapping[str, Any]) -> tuple[str | None, str | None, bool | None]:
    from mmemd.clinical.record import parse_record
    from mmemd.clinical.staging import stage

    # Staging reads only the values at diagnosis: validate just those (a whole record with 20 visits costs ~10x).
    at_diagnosis = {
        k: record[k] for k in ("schema", "id", "phase", "diagnosis", "labs", "cytogenetics") if k in record
    }
    s = stage(parse_record(at_diagnosis))

    def name(x: Any) -> str | None:
        return None if x is None else str(getattr(x, "value", x))

    return name(s.iss), name(s.r_iss), s.high_risk


def _line_at(starts: list[tuple[dt.date, int]], day: dt.date) -> int:
    """The latest line started on or before ``day`` (``starts`` sorted by date); line 1 before any line starts."""
    started = [n for start, n in starts if start <= day]
    return max(started) if started else 1


_Columns = dict[str, dict[str, list[Any]]]


def _empty_columns() -> _Columns:
    from mmemd.research.cohort._schema import TABLES

    return {t.name: {c.name: [] for c in t.columns} for t in TABLES}


def _rows_for(
    registry: Registry, ids: Sequence[str], date_shift_key: bytes | None, max_shift_days: int
) -> tuple[_Columns, list[int]]:
    """The cohort tables of these patients, column by column (no dict per row), and how many patients / lesions
    had to be left out."""
    cols = _empty_columns()
    P, A, L, E, M = (
        cols["patients"],
        cols["assessments"],
        cols["lesions"],
        cols["events"],
        cols["plasmacytoma_measurements"],
    )
    skipped = [0, 0]
    fromiso = dt.date.fromisoformat
    for chunk in _chunks(ids):
        for pid, facts in _facts_for(registry, chunk).items():
            record, events = compose(pid, facts)
            shift = dt.timedelta(
                days=date_shift_days(date_shift_key, pid, max_shift_days) if date_shift_key else 0
            )
            dx = _d((record.get("diagnosis") or {}).get("date"))
            if dx is None:
                skipped[0] += 1
                continue
            lines = [(int(tl["line"]), _d(tl.get("start"))) for tl in record.get("therapy_history", [])]
            starts = sorted((start, n) for n, start in lines if start is not None)
            visits = record.get("assessments", [])
            days = [fromiso(a["date"]) for a in visits]
            ends: list[dt.date | None] = [dx, *(v for _, v in lines if v), *days]
            ends += [_d(e["date"]) for e in events if e["event"] in ("death", "last_contact")]
            iss, r_iss, high = _stage(record)
            P["patient_id"].append(pid)
            P["sex"].append(record.get("sex"))
            P["age_at_diagnosis"].append(record.get("age"))
            P["diagnosis_date"].append(dx + shift)
            P["iss"].append(iss)
            P["r_iss"].append(r_iss)
            P["high_risk"].append(high)
            P["last_contact_date"].append(max(d for d in ends if d is not None) + shift)
            for a, day in zip(visits, days, strict=True):
                flc = a.get("free_light_chains") or {}
                shifted = day + shift
                A["patient_id"].append(pid)
                A["line"].append(_line_at(starts, day))
                A["date"].append(shifted)
                A["serum_m_protein_g_dl"].append(_canonical("serum_m_protein", a.get("serum_m_protein")))
                A["urine_m_protein_mg_24h"].append(_canonical("urine_m_protein", a.get("urine_m_protein")))
                A["serum_ife"].append(a.get("serum_ife"))
                A["urine_ife"].append(a.get("urine_ife"))
                A["flc_kappa_mg_dl"].append(_canonical("free_light_chain", flc.get("kappa")))
                A["flc_lambda_mg_dl"].append(_canonical("free_light_chain", flc.get("lambda")))
                A["flc_involved"].append(flc.get("involved"))
                A["bone_marrow_plasma_cells_pct"].append(a.get("bone_marrow_plasma_cells_pct"))
                A["new_lesion"].append(a.get("new_lesion"))
                for m in a.get("plasmacytomas") or ():
                    M["patient_id"].append(pid)
                    M["lesion_id"].append(m["lesion"])
                    M["date"].append(shifted)
                    M["longest_cm"].append(float(m["longest_cm"]))
                    M["perpendicular_cm"].append(float(m["perpendicular_cm"]))
            for les in record.get("lesions", []):
                if les.get("detected_at") is None:
                    skipped[1] += 1
                    continue
                on = _d(les.get("detected_on"))
                L["patient_id"].append(pid)
                L["lesion_id"].append(les["id"])
                L["site"].append(les.get("site"))
                L["relation_to_bone"].append(les.get("relation_to_bone"))
                L["detected_at"].append(les["detected_at"])
                L["detected_on"].append(None if on is None else on + shift)
                L["cns"].append(les.get("cns"))
                L["biopsy_proven"].append(les.get("biopsy_proven"))
            for e in events:
                if e["event"] in ("progression", "death"):
                    day_e = _d(e["date"])
                    E["patient_id"].append(pid)
                    E["event"].append(e["event"])
                    E["date"].append(None if day_e is None else day_e + shift)
                    E["line"].append(e.get("line"))
    return cols, skipped


def _arrow_types() -> dict[str, Any]:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    return {
        "string": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "date": pa.date32(),
        "bool": pa.bool_(),
    }


def _arrow(cols: _Columns) -> dict[str, Any]:
    """The columns as Arrow tables with the cohort schema's types (built column by column)."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    from mmemd.research.cohort._schema import TABLES

    types = _arrow_types()
    out = {}
    for t in TABLES:
        schema = pa.schema([pa.field(c.name, types[c.type], nullable=not c.required) for c in t.columns])
        out[t.name] = pa.table(
            [pa.array(cols[t.name][c.name], type=types[c.type]) for c in t.columns], schema=schema
        )
    return out


def _write(cols: _Columns, out: Path, suffix: str = "") -> dict[str, int]:
    import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

    counts = {}
    for name, table in _arrow(cols).items():
        pq.write_table(table, out / f"{name}{suffix}.parquet")
        counts[name] = table.num_rows
    return counts


def _export_part(
    url: str, ids: Sequence[str], date_shift_key: bytes | None, max_shift_days: int, out: Path, k: int
) -> tuple[dict[str, int], list[int]]:
    """One worker process: its share of the patients, written as ``<table>.part<k>.parquet``."""
    from mmemd.registry._store import Registry

    reg = Registry(url, migrate=False)
    try:
        rows, skipped = _rows_for(reg, ids, date_shift_key, max_shift_days)
    finally:
        reg.close()
    return _write(rows, out, f".part{k}"), skipped


def _current_ids(registry: Registry) -> list[str]:
    with registry.reading() as s:
        return list(s.scalars(select(Patient.id).where(Patient.deleted.is_(False)).order_by(Patient.id)))


def cohort_tables(
    registry: Registry, *, date_shift_key: bytes | None = None, max_shift_days: int = DEFAULT_MAX_SHIFT_DAYS
) -> dict[str, Any]:
    """The ``mmemd.cohort/1`` tables of the current (not deleted) patients as Arrow tables, read straight from the
    registry database — the same rows, pseudonymised the same way, as :func:`export_cohort` writes to Parquet.
    ``mmemd cohort analyze --registry`` reads them this way."""
    cols, _ = _rows_for(registry, _current_ids(registry), date_shift_key, max_shift_days)
    return _arrow(cols)


def export_cohort(
    registry: Registry,
    out_dir: str | Path,
    *,
    date_shift_key: bytes | None = None,
    max_shift_days: int = DEFAULT_MAX_SHIFT_DAYS,
    workers: int | None = None,
) -> ExportSummary:
    """Write ``patients``, ``assessments``, ``lesions``, ``events`` and ``plasmacytoma_measurements`` Parquet files
    of the current (not deleted) patients to ``out_dir``; ``mmemd cohort analyze out_dir`` reads them.

    ``workers`` processes (default: the CPUs, at most 8) share large registries; each reads its patients on its own
    connection, and their parts are joined into one file per table."""
    import os

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = ExportSummary(out, date_shifted=date_shift_key is not None)
    ids = _current_ids(registry)
    n_workers = min(workers or os.cpu_count() or 1, 8, max(1, len(ids) // _CHUNK))
    in_memory = registry.url in ("sqlite://", "sqlite:///:memory:")
    if n_workers <= 1 or in_memory:
        rows, skipped = _rows_for(registry, ids, date_shift_key, max_shift_days)
        summary.rows = _write(rows, out)
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs
        import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

        from mmemd.research.cohort._schema import TABLES

        shares = [ids[k::n_workers] for k in range(n_workers)]
        # spawn, not fork: a forked child would share the parent's open database connections
        with ProcessPoolExecutor(n_workers, mp_context=mp.get_context("spawn")) as pool:
            futures = [
                pool.submit(_export_part, registry.url, share, date_shift_key, max_shift_days, out, k)
                for k, share in enumerate(shares)
            ]
            results = [f.result() for f in futures]
        skipped = [sum(r[1][0] for r in results), sum(r[1][1] for r in results)]
        for t in TABLES:
            parts = [out / f"{t.name}.part{k}.parquet" for k in range(n_workers)]
            table = pa.concat_tables([pq.read_table(p) for p in parts])
            pq.write_table(table, out / f"{t.name}.parquet")
            summary.rows[t.name] = table.num_rows
            for p in parts:
                p.unlink()
    summary.skipped_patients_no_diagnosis_date, summary.skipped_lesions_no_detected_at = skipped
    return summary
