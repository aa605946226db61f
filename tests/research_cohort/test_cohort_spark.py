"""Spark smoke test: the same analysis on PySpark (local mode) equals DuckDB's."""

from __future__ import annotations

import json
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
