"""Spark smoke test: the same analysis on PySpark (local mode) equals DuckDB's."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from _system import has_executable, require_system


def test_spark_backend_gives_the_duckdb_answer(tmp_path: Path) -> None:
    pytest.importorskip("pyspark", reason="pyspark not installed (extra 'spark')")
    require_system("default-jre-headless", has_executable("java"), "PySpark needs a JVM")
    from mmemd.research.cohort import analyze_cohort, synth_cohort

    synth_cohort(60, tmp_path / "c", seed=4)
    duck = json.loads(analyze_cohort(tmp_path / "c", workers=1).to_json())
    spark = json.loads(analyze_cohort(tmp_path / "c", "spark", workers=1).to_json())
    assert spark["versions"]["backend"].startswith("pyspark")
    for key in ("rows", "incidence", "response", "survival", "cox"):
        assert spark[key] == duck[key], key


def test_spark_response_step_runs_in_the_executors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On Spark the lines are assessed in the executors (mapInArrow over partitions by patient) — the driver-side chunk path is never
    used — and every line equals DuckDB's."""
    pytest.importorskip("pyspark", reason="pyspark not installed (extra 'spark')")
    require_system("default-jre-headless", has_executable("java"), "PySpark needs a JVM")
    import mmemd.research.cohort._response as r
    from mmemd.research.cohort import synth_cohort
    from mmemd.research.cohort._io import open_cohort
    from mmemd.research.cohort._validate import validate_cohort

    synth_cohort(40, tmp_path / "c", seed=5)
    duck = r.line_responses(validate_cohort(open_cohort(tmp_path / "c")), workers=1)

    def no_driver_chunks(*args: object, **kwargs: object) -> None:
        raise AssertionError("the Spark path must not assess chunks on the driver")

    monkeypatch.setattr(r, "_ordered_batches", no_driver_chunks)  # the driver never streams the rows
    monkeypatch.setattr(r, "_start_pool", no_driver_chunks)  # nor starts worker processes
    spark = r.line_responses(validate_cohort(open_cohort(tmp_path / "c", "spark")), workers=1)
    assert spark.rows == duck.rows
    assert spark.line.tolist() == duck.line.tolist()
    assert spark.emd == duck.emd
    assert spark.best.tolist() == duck.best.tolist()


def test_spark_reports_the_problems_duckdb_reports(
    tmp_path: Path, add_duplicate_and_orphan_event: Callable[[Path], None]
) -> None:
    """A broken cohort: the same problems, counts and example rows from both engines (every check's count is
    computed in one query; a failed check fetches its example row)."""
    pytest.importorskip("pyspark", reason="pyspark not installed (extra 'spark')")
    require_system("default-jre-headless", has_executable("java"), "PySpark needs a JVM")
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mmemd.research.cohort import CohortError, open_cohort, synth_cohort, validate_cohort

    d = tmp_path / "c"
    synth_cohort(60, d, seed=4)
    add_duplicate_and_orphan_event(d)
    p = pq.read_table(d / "patients.parquet")
    age = p.column("age_at_diagnosis").to_pylist()
    age[1] = 150
    i = p.schema.get_field_index("age_at_diagnosis")
    pq.write_table(p.set_column(i, "age_at_diagnosis", pa.array(age, pa.int64())), d / "patients.parquet")
    found = {}
    for backend in ("duckdb", "spark"):
        with pytest.raises(CohortError) as info:
            validate_cohort(open_cohort(d, backend))  # type: ignore[arg-type]
        found[backend] = [p.to_dict() for p in info.value.problems]
    assert [(p["table"], p["column"]) for p in found["duckdb"]] == [
        ("patients", "age_at_diagnosis"),
        ("events", "patient_id, event, date"),
        ("events", "patient_id"),
    ], found["duckdb"]
    assert found["spark"] == found["duckdb"]
