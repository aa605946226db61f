"""The compiled DuckDB SQL is the Ibis queries, and a file read through it gives what Ibis gives.

A file on the default engine runs the stored SQL on DuckDB directly; a DataFrame, an Ibis table or another engine runs
the Ibis expressions. Both paths must agree exactly on every column type the conversion knows (whole and float
times, booleans, decimals, float32, dates, timestamps), with delayed entry, groups and missing values.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import ibis
import numpy as np
import pandas as pd
import pytest

from mmemd.research.survival import SurvivalInputError, _compiled, kaplan_meier
from mmemd.research.survival._backend import open_source, open_table
from mmemd.research.survival._kaplan_meier import km_group, km_summary
from mmemd.research.survival._local import LocalTable
from mmemd.research.survival._queries import compile_duckdb
from mmemd.research.survival._risk_sets import RiskTable, risk_tables


def test_stored_sql_is_what_the_ibis_queries_compile_to() -> None:
    if ibis.__version__ != _compiled.IBIS_VERSION:
        pytest.skip(
            f"the SQL was compiled by ibis {_compiled.IBIS_VERSION} and ibis {ibis.__version__} is installed "
            "(the parity tests below still compare the two paths' results)"
        )
    fresh = compile_duckdb()
    assert fresh["convert"] == _compiled.CONVERT
    assert fresh["checks"] == _compiled.CHECKS
    assert fresh["counts"] == _compiled.COUNTS


def _frame(n: int = 400, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    entry = np.round(rng.uniform(0, 30, n), 1)
    time = entry + np.round(rng.exponential(60, n), 1) + 0.5
    df = pd.DataFrame(
        {
            "entry": entry,
            "time": time,
            "whole": np.maximum(1, np.round(time)).astype(np.int64),
            "status": rng.integers(0, 2, n).astype(np.int64),
            "arm": rng.choice(["a", "b", "c"], n),
        }
    )
    # missing values in each column the analysis reads (R's na.omit leaves the row out and we count it)
    df.loc[3, "time"] = np.nan
    df.loc[5, "status"] = None
    df.loc[7, "arm"] = None
    df.loc[11, "entry"] = np.nan
    return df


def _same(a: list[RiskTable], b: list[RiskTable]) -> None:
    assert [t.name for t in a] == [t.name for t in b]
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.times, y.times)
        for field in ("n_in", "n_out", "events", "cum_in", "cum_out"):
            np.testing.assert_array_equal(getattr(x, field), getattr(y, field))
        assert x.base == y.base


def _both(path: Path, **args: Any) -> tuple[tuple[list[RiskTable], int], tuple[list[RiskTable], int]]:
    local = open_source(path)
    assert isinstance(local, LocalTable)
    return risk_tables(local, **args), risk_tables(open_table(path), **args)


@pytest.mark.parametrize(
    "args",
    [
        {"time": "time", "event": "status"},
        {"time": "whole", "event": "status", "group": "arm"},
        {"time": "time", "event": "status", "entry": "entry"},
        {"time": "time", "event": "status", "entry": "entry", "group": "arm"},
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_file_path_equals_ibis_path(tmp_path: Path, fmt: str, args: dict[str, str]) -> None:
    df = _frame()
    path = tmp_path / f"cohort.{fmt}"
    if fmt == "csv":
        df.to_csv(path, index=False, na_rep="NA")
    else:
        df.to_parquet(path, index=False)
    (local, excluded_local), (via_ibis, excluded_ibis) = _both(path, **args)
    _same(local, via_ibis)
    assert excluded_local == excluded_ibis > 0
    if "group" in args:
        assert [t.name for t in local] == ["a", "b", "c"]


def test_every_column_kind_converts_alike(tmp_path: Path) -> None:
    """Booleans, decimals, float32, dates and timestamps (naive and with a zone) through both paths."""
    epoch = dt.date(1970, 1, 1)
    days = [18000, 18010, 18020, 18030, 18040, 18055, 18060, 18075]
    stop = [18100, 18050, 18300, 18200, 18100, 18400, 18200, 18090]
    path = tmp_path / "kinds.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE cohort (entry_date DATE, exit_date DATE, exit_ts TIMESTAMP, exit_tz TIMESTAMPTZ, "
        "exit_dec DECIMAL(10, 2), exit_f32 FLOAT, died BOOLEAN, arm VARCHAR)"
    )
    for i, (a, b) in enumerate(zip(days, stop, strict=True)):
        when = dt.datetime.combine(epoch + dt.timedelta(days=b), dt.time(6, 30))
        con.execute(
            "INSERT INTO cohort VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                epoch + dt.timedelta(days=a),
                epoch + dt.timedelta(days=b),
                when,
                when.replace(tzinfo=dt.UTC),
                b / 100,
                b / 8,
                i % 3 != 0,
                "xy"[i % 2],
            ],
        )
    con.close()
    for time in ("exit_date", "exit_ts", "exit_tz", "exit_dec", "exit_f32"):
        entry = "entry_date" if time in ("exit_date", "exit_ts") else None
        local = open_source(path, table="cohort")
        assert isinstance(local, LocalTable)
        args: dict[str, Any] = {"time": time, "event": "died", "entry": entry, "group": "arm"}
        a_tables, a_excl = risk_tables(local, **args)
        local.close()  # DuckDB refuses a second connection to the file with other settings
        backend = ibis.duckdb.connect(str(path), read_only=True)
        b_tables, b_excl = risk_tables(backend.table("cohort"), **args)
        backend.disconnect()
        _same(a_tables, b_tables)
        assert a_excl == b_excl == 0
    # a date counts days since 1970-01-01 on the file path too (R's numeric value of a Date)
    local = open_source(path, table="cohort")
    date_tables, _ = risk_tables(local, time="exit_date", event="died")
    local.close()
    assert sorted(date_tables[0].times.tolist()) == sorted(float(d) for d in set(stop))


def test_bad_input_is_worded_alike_on_both_paths(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("time,status,arm\n1,1,a\n2,2,b\n3,0,a\n", encoding="utf-8")
    for table in (open_source(path), open_table(path)):
        with pytest.raises(SurvivalInputError, match=r"--event: column 'status' must be 0 \(censored\)"):
            risk_tables(table, time="time", event="status")
        with pytest.raises(
            SurvivalInputError, match=r"--time: column 'arm' must be numeric \(it is string\)"
        ):
            risk_tables(table, time="arm", event="status")
        with pytest.raises(SurvivalInputError, match=r"--group: column 'nope' not found"):
            risk_tables(table, time="time", event="status", group="nope")


def test_an_unreadable_table_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(SurvivalInputError, match=r"--table: cannot read table 'cohort'"):
        open_source(path, table="cohort")


def test_summary_without_the_curve_equals_the_model_summary(tmp_path: Path) -> None:
    path = tmp_path / "cohort.csv"
    _frame().to_csv(path, index=False, na_rep="NA")
    tables, _ = risk_tables(open_source(path), time="time", event="status", group="arm")
    for rt in tables:
        assert km_summary(rt, [10, 50, 400], 0.9, "g") == km_group(rt, [10, 50, 400], 0.9, "g").summary()


def test_the_public_api_on_a_file_records_the_compiling_ibis(tmp_path: Path) -> None:
    path = tmp_path / "cohort.csv"
    _frame().to_csv(path, index=False, na_rep="NA")
    km = kaplan_meier(path, time="time", event="status", group="arm")
    assert km.versions.ibis == _compiled.IBIS_VERSION
    assert km.versions.backend == f"duckdb {duckdb.__version__}"
    # round_trip: pandas' default float parser is not exact, DuckDB's is
    frame = pd.read_csv(path, float_precision="round_trip")
    from_frame = kaplan_meier(frame, time="time", event="status", group="arm")
    assert km.groups == from_frame.groups
    assert km.logrank == from_frame.logrank


def test_a_bad_value_past_the_sniffed_rows_is_an_input_error(tmp_path: Path) -> None:
    """DuckDB infers the column types from the first rows; a text value further down fails the scan, which must
    come back as an input error naming the cause (exit 2 in the CLI), never a traceback."""
    from typer.testing import CliRunner

    from mmemd.cli._app import build_app

    path = tmp_path / "late.csv"
    rows = [f"{i % 400 + 1},{i % 2},{'ab'[i % 2]}" for i in range(60_000)]
    rows.append("soon,1,a")
    path.write_text("time,status,arm\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(SurvivalInputError, match=r"FILE: DuckDB cannot read the data"):
        kaplan_meier(path, time="time", event="status")
    result = CliRunner().invoke(build_app(), ["survival", str(path), "--time", "time", "--event", "status"])
    assert result.exit_code == 2
    assert "DuckDB cannot read the data" in result.stderr
