"""Spark smoke test (local mode): the same Ibis code path as DuckDB gives the same curves and test statistics.

Runs when pyspark (extra ``spark``) and a Java runtime are installed; otherwise it is skipped with the reason.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from _system import has_executable, require_system
from mmemd.research.survival import kaplan_meier, logrank_test


@pytest.fixture(scope="module")
def spark_ready() -> None:
    pytest.importorskip(
        "pyspark", reason="pyspark not installed (pip install -e '.[spark]'): Spark test skipped"
    )
    pytest.importorskip(
        "ibis.backends.pyspark", reason="ibis-framework[pyspark] not installed: Spark test skipped"
    )
    require_system("default-jre-headless", has_executable("java"), "PySpark needs a JVM")


def test_spark_matches_duckdb_with_entry_groups_and_times(
    spark_ready: None, tmp_path: Path, aml_frame: pd.DataFrame
) -> None:
    df = aml_frame.copy()
    # Delayed entry for a third of the patients (always before their exit time).
    df["entry"] = [0.0 if i % 3 else min(4.0, t - 0.5) for i, t in enumerate(df["time"])]
    csv = tmp_path / "aml.csv"
    parquet = tmp_path / "aml.parquet"
    df.to_csv(csv, index=False)
    df.to_parquet(parquet)
    args = {
        "time": "time",
        "event": "status",
        "entry": "entry",
        "group": "x",
        "at": [10, 30, 200],
        "overall": True,
    }
    duck = kaplan_meier(csv, **args)  # type: ignore[arg-type]
    for source in (csv, parquet):
        spark = kaplan_meier(source, backend="spark", **args)  # type: ignore[arg-type]
        assert spark.versions.backend.startswith("pyspark")
        assert [g.model_dump() for g in spark.groups] == [g.model_dump() for g in duck.groups]
    lr_duck = logrank_test(csv, time="time", event="status", group="x", entry="entry")
    lr_spark = logrank_test(parquet, time="time", event="status", group="x", entry="entry", backend="spark")
    assert lr_spark.chi2 == pytest.approx(lr_duck.chi2, rel=1e-12)
    assert lr_spark.df == 1
