"""Validation names the table, the column and an offending row — every problem at once."""

from __future__ import annotations

import datetime
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from mmemd.research.cohort import CohortError, open_cohort, validate_cohort


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _problems(d: Path) -> list[str]:
    with pytest.raises(CohortError) as info:
        validate_cohort(open_cohort(d))
    return [str(p) for p in info.value.problems]


def test_missing_table_is_named(tmp_path: Path, small_cohort: Path) -> None:
    d = _copy(small_cohort, tmp_path / "c")
    (d / "events.parquet").unlink()
    (d / "plasmacytoma_measurements.parquet").unlink()  # optional: not reported
    with pytest.raises(CohortError) as info:
        open_cohort(d)
    assert [p.table for p in info.value.problems] == ["events"]


def test_bad_values_name_table_column_and_row(tmp_path: Path, small_cohort: Path) -> None:
    d = _copy(small_cohort, tmp_path / "c")
    a = pq.read_table(d / "assessments.parquet")
    ife = a.column("serum_ife").to_pylist()
    ife[3] = "pos"
    a = a.set_column(a.schema.get_field_index("serum_ife"), "serum_ife", pa.array(ife))
    pq.write_table(a, d / "assessments.parquet")
    p = pq.read_table(d / "patients.parquet")
    age = p.column("age_at_diagnosis").to_pylist()
    age[0] = 150
    p = p.set_column(
        p.schema.get_field_index("age_at_diagnosis"), "age_at_diagnosis", pa.array(age, pa.int64())
    )
    p = p.drop_columns(["diagnosis_date"])
    pq.write_table(p, d / "patients.parquet")
    probs = _problems(d)
    assert any(s.startswith("patients.diagnosis_date: required column is missing") for s in probs), probs
    assert any(
        "patients.age_at_diagnosis: value above 120 (1 row(s); e.g. patient_id='P0000001'" in s for s in probs
    )
    row = a.slice(3, 1).to_pylist()[0]
    want = f"assessments.serum_ife: value not in {{positive, negative}} (1 row(s); e.g. patient_id='{row['patient_id']}'"
    assert any(s.startswith(want) for s in probs), probs


def test_duplicates_orphans_and_dates(
    tmp_path: Path, small_cohort: Path, add_duplicate_and_orphan_event: Callable[[Path], None]
) -> None:
    d = _copy(small_cohort, tmp_path / "c")
    add_duplicate_and_orphan_event(d)
    probs = _problems(d)
    assert any(s.startswith("events.patient_id, event, date: duplicate key") for s in probs), probs
    assert any(
        s.startswith(
            "events.patient_id: patient not in the patients table (1 row(s); e.g. patient_id='P9999999'"
        )
        for s in probs
    ), probs


def test_event_after_last_contact(tmp_path: Path, small_cohort: Path) -> None:
    d = _copy(small_cohort, tmp_path / "c")
    e = pq.read_table(d / "events.parquet")
    shifted = [d + datetime.timedelta(days=20000) for d in e.column("date").to_pylist()]
    e = e.set_column(e.schema.get_field_index("date"), "date", pa.array(shifted, pa.date32()))
    pq.write_table(e.slice(0, 1), d / "events.parquet")
    probs = _problems(d)
    assert any(
        "events.date: outside [patients.diagnosis_date, patients.last_contact_date]" in s for s in probs
    )


def test_csv_text_that_is_not_a_date(tmp_path: Path, small_cohort: Path) -> None:
    d = tmp_path / "csv"
    d.mkdir()
    for name in ("patients", "assessments", "lesions", "events"):
        t = pq.read_table(small_cohort / f"{name}.parquet")
        if name == "patients":
            dates = [x.isoformat() for x in t.column("last_contact_date").to_pylist()]
            dates[1] = "31/12/2020"
            t = t.set_column(
                t.schema.get_field_index("last_contact_date"), "last_contact_date", pa.array(dates)
            )
        pacsv.write_csv(t, d / f"{name}.csv")
    probs = _problems(d)
    assert any(
        s.startswith("patients.last_contact_date: value is not a date (1 row(s); e.g. patient_id='P0000002'")
        for s in probs
    ), probs
    # Reported once: not also as a missing required value.
    assert not any(s.startswith("patients.last_contact_date: required value is missing") for s in probs)


def test_not_a_cohort(tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text("hello")
    with pytest.raises(CohortError, match="expected a directory"):
        open_cohort(f)
    with pytest.raises(CohortError, match="does not exist"):
        open_cohort(tmp_path / "nope")


def test_empty_cohort_is_one_clear_problem(tmp_path: Path, small_cohort: Path) -> None:
    # An empty registry export has every table with its columns and no rows: refused up front, not a traceback from
    # the survival step.
    d = _copy(small_cohort, tmp_path / "c")
    for f in d.glob("*.parquet"):
        pq.write_table(pq.read_table(f).slice(0, 0), f)
    assert _problems(d) == ["patients: no patients: the cohort is empty"]
