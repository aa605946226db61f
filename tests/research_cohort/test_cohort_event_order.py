"""Cohort facts that cannot all be true: two deaths, progression after death, an assessment decades before the
diagnosis or after the last contact — each a problem naming the table, column and an example row."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmemd.research.cohort import CohortError, open_cohort, validate_cohort


def _problems(d: Path) -> list[str]:
    with pytest.raises(CohortError) as info:
        validate_cohort(open_cohort(d))
    return [str(p) for p in info.value.problems]


def _patient(d: Path) -> dict[str, object]:
    return pq.read_table(d / "patients.parquet").slice(0, 1).to_pylist()[0]


def _events(pid: str, rows: list[tuple[str, datetime.date]]) -> pa.Table:
    return pa.table(
        {
            "patient_id": [pid] * len(rows),
            "event": [e for e, _ in rows],
            "date": pa.array([d for _, d in rows], pa.date32()),
            "line": pa.array([None] * len(rows), pa.int64()),
        }
    )


def test_two_deaths_and_progression_after_death(tmp_path: Path, small_cohort: Path) -> None:
    d = shutil.copytree(small_cohort, tmp_path / "c")
    p = _patient(d)
    dx, last = p["diagnosis_date"], p["last_contact_date"]
    assert (
        isinstance(dx, datetime.date)
        and isinstance(last, datetime.date)
        and last > dx + datetime.timedelta(2)
    )
    mid = dx + (last - dx) / 2
    e = pq.read_table(d / "events.parquet")
    e = e.filter(pa.compute.not_equal(e.column("patient_id"), p["patient_id"]))
    extra = _events(str(p["patient_id"]), [("death", mid), ("death", last), ("progression", last)])
    pq.write_table(pa.concat_tables([e, extra.cast(e.schema)]), d / "events.parquet")
    probs = _problems(d)
    assert any(s.startswith("events.event: more than one death for a patient (1 row(s)") for s in probs), (
        probs
    )
    assert any(s.startswith("events.date: progression after the patient's death (1 row(s)") for s in probs), (
        probs
    )


def test_assessment_decades_before_diagnosis(tmp_path: Path, small_cohort: Path) -> None:
    d = shutil.copytree(small_cohort, tmp_path / "c")
    a = pq.read_table(d / "assessments.parquet")
    dates = a.column("date").to_pylist()
    dates[0] = dates[0] - datetime.timedelta(days=365 * 24)
    a = a.set_column(a.schema.get_field_index("date"), "date", pa.array(dates, pa.date32()))
    pq.write_table(a, d / "assessments.parquet")
    probs = _problems(d)
    assert any("assessments.date: more than 365 days before patients.diagnosis_date" in s for s in probs), (
        probs
    )
    assert any("date=" in s and "None" not in s for s in probs if s.startswith("assessments.date")), probs


def test_the_synthetic_cohort_passes(small_cohort: Path) -> None:
    assert set(validate_cohort(open_cohort(small_cohort))) >= {"patients", "events", "assessments"}
