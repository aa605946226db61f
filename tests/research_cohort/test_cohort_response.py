"""The batch response step gives, for every line, the best response ``mmemd assess`` gives for that line."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from mmemd.clinical import assess
from mmemd.research.cohort import open_cohort, validate_cohort
from mmemd.research.cohort._response import CATEGORIES, line_responses


def _q(value: float | None, unit: str) -> dict[str, Any] | None:
    return None if value is None else {"value": value, "unit": unit}


def _records(tables: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    """One mmemd.patient/1 record per (patient, line), with the lesions measured on that line."""
    a = tables["assessments"].order_by(["patient_id", "line", "date"]).to_pyarrow().to_pylist()
    m = tables["plasmacytoma_measurements"].to_pyarrow().to_pylist()
    les = {(r["patient_id"], r["lesion_id"]): r for r in tables["lesions"].to_pyarrow().to_pylist()}
    meas: dict[tuple[str, Any], list[dict[str, Any]]] = defaultdict(list)
    for r in m:
        meas[(r["patient_id"], r["date"])].append(r)
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for r in a:
        key = (r["patient_id"], r["line"])
        rec = out.setdefault(
            key,
            {
                "schema": "mmemd.patient/1",
                "id": f"{key[0]}-L{key[1]}",
                "phase": "newly_diagnosed" if key[1] == 1 else "relapsed_refractory",
                "lesions": [],
                "assessments": [],
            },
        )
        flc = None
        if r["flc_kappa_mg_dl"] is not None:
            flc = {
                "kappa": _q(r["flc_kappa_mg_dl"], "mg/dL"),
                "lambda": _q(r["flc_lambda_mg_dl"], "mg/dL"),
                "involved": r["flc_involved"],
            }
        pcs = [
            {
                "lesion": x["lesion_id"],
                "longest_cm": x["longest_cm"],
                "perpendicular_cm": x["perpendicular_cm"],
            }
            for x in meas.get((r["patient_id"], r["date"]), [])
        ]
        for x in pcs:
            if all(lz["id"] != x["lesion"] for lz in rec["lesions"]):
                lesion = les[(r["patient_id"], x["lesion"])]
                rec["lesions"].append(
                    {
                        "id": x["lesion"],
                        "site": lesion["site"],
                        "relation_to_bone": lesion["relation_to_bone"],
                        "detected_at": lesion["detected_at"],
                        "detected_on": lesion["detected_on"].isoformat(),
                    }
                )
        rec["assessments"].append(
            {
                "date": r["date"].isoformat(),
                "serum_m_protein": _q(r["serum_m_protein_g_dl"], "g/dL"),
                "urine_m_protein": _q(r["urine_m_protein_mg_24h"], "mg/24h"),
                "serum_ife": r["serum_ife"],
                "urine_ife": r["urine_ife"],
                "free_light_chains": flc,
                "bone_marrow_plasma_cells_pct": r["bone_marrow_plasma_cells_pct"],
                "new_lesion": r["new_lesion"],
                "plasmacytomas": pcs,
            }
        )
    return out


def test_every_line_matches_the_clinical_engine(small_cohort: Path) -> None:
    tables = validate_cohort(open_cohort(small_cohort))
    batch = line_responses(tables, workers=1)
    records = _records(tables)
    assert len(records) == batch.best.size
    keys = sorted(records)
    mismatches = []
    for key, code in zip(keys, batch.best.tolist(), strict=True):
        want = assess(records[key]).response.best
        if CATEGORIES[code] != want:
            mismatches.append((key, CATEGORIES[code], want))
    assert not mismatches, mismatches[:5]
    # The synthetic cohort exercises the categories, not just SD.
    assert {CATEGORIES[c] for c in batch.best.tolist()} >= {"CR", "VGPR", "PR", "SD"}


def test_parallel_workers_give_the_same_answer(small_cohort: Path) -> None:
    import mmemd.research.cohort._response as r

    tables = validate_cohort(open_cohort(small_cohort))
    one = line_responses(tables, workers=1)
    old = r._PARALLEL_MIN_ROWS
    r._PARALLEL_MIN_ROWS = 0  # force the process pool on a small cohort
    try:
        two = line_responses(tables, workers=2)
        # many small chunks through the pool: more chunks in flight than workers, results kept in chunk order
        many = line_responses(tables, workers=2, chunk_rows=50)
    finally:
        r._PARALLEL_MIN_ROWS = old
    assert two.workers == 2
    assert one.best.tolist() == two.best.tolist()
    assert one.emd == two.emd
    assert many.workers == 2
    assert many.line.tolist() == one.line.tolist()
    assert many.emd == one.emd
    assert many.best.tolist() == one.best.tolist()


def test_decimals_are_the_stored_values() -> None:
    """Each float becomes the Decimal of its shortest repr (0.1 -> Decimal("0.1"), never 0.1000000000000000055...),
    null (NaN) becomes None, and repeated values give equal Decimals in their rows."""
    from decimal import Decimal

    import numpy as np

    from mmemd.research.cohort._response import _decimals

    values = np.array([0.1, np.nan, 2.5, 0.1, 1e-7, np.nan, 1234.5678, 2.5])
    assert _decimals(values) == [
        Decimal("0.1"),
        None,
        Decimal("2.5"),
        Decimal("0.1"),
        Decimal("1E-7"),
        None,
        Decimal("1234.5678"),
        Decimal("2.5"),
    ]
    assert _decimals(np.array([np.nan, np.nan])) == [None, None]
    assert _decimals(np.zeros(0)) == []


def test_streamed_chunks_give_the_same_lines_as_one_chunk(small_cohort: Path) -> None:
    """Chunks cut between patients (here a few rows each, so nearly every patient boundary is a cut) change nothing:
    same lines, same order, same categories."""
    tables = validate_cohort(open_cohort(small_cohort))
    whole = line_responses(tables, workers=1, chunk_rows=10**9)
    seen: list[tuple[int, int]] = []
    small = line_responses(tables, workers=1, chunk_rows=7, progress=lambda d, n: seen.append((d, n)))
    assert small.rows == whole.rows
    assert small.line.tolist() == whole.line.tolist()
    assert small.emd == whole.emd
    assert small.best.tolist() == whole.best.tolist()
    assert seen and seen[-1] == (len(whole.best), len(whole.best))  # progress counts lines across chunks


def test_patient_chunks_never_split_a_patient() -> None:
    import pyarrow as pa

    from mmemd.research.cohort._response import _patient_chunks

    pids = ["a"] * 5 + ["b"] * 1 + ["c"] * 9 + ["d"] * 2
    table = pa.table({"patient_id": pids, "x": list(range(len(pids)))})
    for limit in (1, 2, 3, 6, 10, 100):
        chunks = list(_patient_chunks(table.to_batches(max_chunksize=4), limit))
        assert sum(c.num_rows for c in chunks) == len(pids)
        assert [v for c in chunks for v in c.column("x").to_pylist()] == list(range(len(pids)))
        ids = [set(c.column("patient_id").to_pylist()) for c in chunks]
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                assert not a & b, (limit, ids)
