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
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select

from mmemd.registry._models import FACT_TABLES, Patient
from mmemd.registry._store import _Facts, compose

if TYPE_CHECKING:
    from mmemd.registry._store import Registry

__all__ = ["DEFAULT_MAX_SHIFT_DAYS", "ExportSummary", "date_shift_days", "export_cohort"]

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
    out: dict[str, _Facts] = {pid: {t: {} for t in FACT_TABLES} for pid in ids}
    with registry.reading() as s:
        for table in FACT_TABLES:
            cols = [table.patient_id, table.key, table.tombstone, table.data]
            if hasattr(table, "position"):
                cols.append(table.position)
            q = select(*cols).where(table.patient_id.in_(ids)).order_by(table.change_id)
            for row in s.execute(q):
                facts = out[row[0]][table]
                if row[2]:
                    facts.pop(row[1], None)
                else:
                    facts[row[1]] = (row[3], row[4] if len(row) > 4 else 0)
    return out


def _canonical(field_name: str, q: Mapping[str, Any] | None) -> float | None:
    if not q or q.get("value") is None:
        return None
    from mmemd.clinical.units import analyte, to_canonical

    if q["unit"] == analyte(field_name).canonical:
        return float(q["value"])
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


def _line_at(lines: list[tuple[int, dt.date | None]], day: dt.date) -> int:
    started = [n for n, start in lines if start is not None and start <= day]
    return max(started) if started else 1


def _rows_for(
    registry: Registry, ids: Sequence[str], date_shift_key: bytes | None, max_shift_days: int
) -> tuple[dict[str, list[dict[str, Any]]], list[int]]:
    """The cohort rows of these patients, and how many patients / lesions had to be left out."""
    from mmemd.research.cohort._schema import TABLES

    rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in TABLES}
    skipped = [0, 0]
    for chunk in _chunks(ids):
        for pid, facts in _facts_for(registry, chunk).items():
            record, events = compose(pid, facts)
            shift = dt.timedelta(
                days=date_shift_days(date_shift_key, pid, max_shift_days) if date_shift_key else 0
            )

            def sh(day: dt.date | None, shift: dt.timedelta = shift) -> dt.date | None:
                return None if day is None else day + shift

            dx = _d((record.get("diagnosis") or {}).get("date"))
            if dx is None:
                skipped[0] += 1
                continue
            lines = [(int(tl["line"]), _d(tl.get("start"))) for tl in record.get("therapy_history", [])]
            visits = record.get("assessments", [])
            ends = [dx, *(v for _, v in lines if v), *(_d(a["date"]) for a in visits)]
            ends += [_d(e["date"]) for e in events if e["event"] in ("death", "last_contact")]
            iss, r_iss, high = _stage(record)
            rows["patients"].append(
                {
                    "patient_id": pid,
                    "sex": record.get("sex"),
                    "age_at_diagnosis": record.get("age"),
                    "diagnosis_date": sh(dx),
                    "iss": iss,
                    "r_iss": r_iss,
                    "high_risk": high,
                    "last_contact_date": sh(max(d for d in ends if d is not None)),
                }
            )
            for a in visits:
                day = dt.date.fromisoformat(a["date"])
                flc = a.get("free_light_chains") or {}
                rows["assessments"].append(
                    {
                        "patient_id": pid,
                        "line": _line_at(lines, day),
                        "date": sh(day),
                        "serum_m_protein_g_dl": _canonical("serum_m_protein", a.get("serum_m_protein")),
                        "urine_m_protein_mg_24h": _canonical("urine_m_protein", a.get("urine_m_protein")),
                        "serum_ife": a.get("serum_ife"),
                        "urine_ife": a.get("urine_ife"),
                        "flc_kappa_mg_dl": _canonical("free_light_chain", flc.get("kappa")),
                        "flc_lambda_mg_dl": _canonical("free_light_chain", flc.get("lambda")),
                        "flc_involved": flc.get("involved"),
                        "bone_marrow_plasma_cells_pct": a.get("bone_marrow_plasma_cells_pct"),
                        "new_lesion": a.get("new_lesion"),
                    }
                )
                for m in a.get("plasmacytomas") or []:
                    rows["plasmacytoma_measurements"].append(
                        {
                            "patient_id": pid,
                            "lesion_id": m["lesion"],
                            "date": sh(day),
                            "longest_cm": float(m["longest_cm"]),
                            "perpendicular_cm": float(m["perpendicular_cm"]),
                        }
                    )
            for les in record.get("lesions", []):
                if les.get("detected_at") is None:
                    skipped[1] += 1
                    continue
                rows["lesions"].append(
                    {
                        "patient_id": pid,
                        "lesion_id": les["id"],
                        "site": les.get("site"),
                        "relation_to_bone": les.get("relation_to_bone"),
                        "detected_at": les["detected_at"],
                        "detected_on": sh(_d(les.get("detected_on"))),
                        "cns": les.get("cns"),
                        "biopsy_proven": les.get("biopsy_proven"),
                    }
                )
            for e in events:
                if e["event"] in ("progression", "death"):
                    rows["events"].append(
                        {
                            "patient_id": pid,
                            "event": e["event"],
                            "date": sh(_d(e["date"])),
                            "line": e.get("line"),
                        }
                    )
    return rows, skipped


def _write(rows: dict[str, list[dict[str, Any]]], out: Path, suffix: str = "") -> dict[str, int]:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs
    import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

    from mmemd.research.cohort._schema import TABLES

    types = {
        "string": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "date": pa.date32(),
        "bool": pa.bool_(),
    }
    counts = {}
    for t in TABLES:
        schema = pa.schema([pa.field(c.name, types[c.type], nullable=not c.required) for c in t.columns])
        table = pa.Table.from_pylist(rows[t.name], schema=schema)
        pq.write_table(table, out / f"{t.name}{suffix}.parquet")
        counts[t.name] = table.num_rows
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
    with registry.reading() as s:
        ids = list(s.scalars(select(Patient.id).where(Patient.deleted.is_(False)).order_by(Patient.id)))
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
