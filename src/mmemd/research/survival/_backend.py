"""Open cohort data as an Ibis table: CSV/Parquet files or a database table, on DuckDB (default), PySpark or
PostgreSQL. Every statistic downstream is written once against Ibis, so the same code runs on each engine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import ibis.expr.types as ir  # type: ignore[import-untyped,unused-ignore]  # ibis ships no py.typed marker

Backend = Literal["duckdb", "spark", "postgres"]
BACKENDS: tuple[str, ...] = ("duckdb", "spark", "postgres")

_CSV_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz", ".txt")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_DB_SUFFIXES = (".duckdb", ".ddb", ".db")


class SurvivalInputError(ValueError):
    """Bad input: names the field (column, option or file) and why. The CLI prints it and exits with code 2."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def spark_session(app_name: str = "mmemd") -> Any:
    """The SparkSession: local mode (``local[*]``) unless ``MMEMD_SPARK_MASTER`` names a cluster; an existing session
    (``spark-submit``) is reused. ``MMEMD_SPARK_SHUFFLE_PARTITIONS`` (default 8, right for one machine) sets how many
    tasks a grouped step such as the cohort response step is split into — on a cluster, a few per executor core."""
    from pyspark.sql import SparkSession

    builder: Any = SparkSession.builder
    return (
        builder.master(os.environ.get("MMEMD_SPARK_MASTER", "local[*]"))
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", os.environ.get("MMEMD_SPARK_SHUFFLE_PARTITIONS", "8"))
        # Results reach the driver as Arrow batches rather than pickled rows, one at a time (same values).
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


def _is_url(source: str) -> bool:
    return "://" in source


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for s in (*_CSV_SUFFIXES, *_PARQUET_SUFFIXES, *_DB_SUFFIXES):
        if name.endswith(s):
            return s
    return path.suffix.lower()


def open_table(
    source: Any,
    *,
    backend: Backend | str = "duckdb",
    table: str | None = None,
) -> ir.Table:
    """Return ``source`` as an Ibis table.

    ``source`` may be an Ibis table (returned as is), a pandas DataFrame or pyarrow Table (an in-memory DuckDB table,
    or a Spark DataFrame when ``backend="spark"``), a CSV or Parquet path (or a directory of Parquet files), a
    DuckDB database file with ``table=``, or a database URL (``postgresql://user@host/db``) with ``table=``.
    """
    import ibis
    import ibis.expr.types as ir

    if isinstance(source, ir.Table):
        return source
    if backend not in BACKENDS:
        raise SurvivalInputError(
            "--backend", f"unknown backend {backend!r} (choose one of {', '.join(BACKENDS)})"
        )

    if not isinstance(source, (str, os.PathLike)):
        if backend == "spark":
            session = ibis.pyspark.connect(spark_session())
            return session.create_table(_temp_name(), obj=source, temp=True)
        return ibis.memtable(source)

    text = os.fspath(source)
    if _is_url(text):
        if table is None:
            raise SurvivalInputError("--table", f"a database URL needs the table name ({_redact(text)})")
        try:
            return ibis.connect(text).table(table)
        except Exception as exc:  # driver-specific errors; the message names the table, never the password
            raise SurvivalInputError("--table", f"cannot open {table!r} at {_redact(text)}: {exc}") from None
    fmt, text, suffix = _locate(text, backend, table)
    if fmt == "duckdb":
        return ibis.duckdb.connect(text, read_only=True).table(table)
    if backend == "spark":
        con: Any = ibis.pyspark.connect(spark_session())
        if fmt == "parquet":
            return con.read_parquet(text)
        return con.read_csv(
            text, header=True, inferSchema=True, nullValue="NA", sep="\t" if ".tsv" in suffix else ","
        )
    duck = ibis.duckdb.connect()
    if fmt == "parquet":
        return duck.read_parquet(text)
    # "NA" is how R (and many registry exports) write a missing value; an empty field is missing too.
    return duck.read_csv(text, nullstr=["", "NA"])


def _locate(text: str, backend: str, table: str | None) -> tuple[str, str, str]:
    """(format: ``csv``, ``parquet`` or ``duckdb``; the path or glob to read; the file suffix) of a file source."""
    if backend == "postgres":
        raise SurvivalInputError("FILE", "--backend postgres needs a postgresql:// URL and --table")
    path = Path(text)
    if not path.exists():
        raise SurvivalInputError("FILE", f"{text} does not exist")
    suffix = _suffix(path)
    if path.is_dir():
        suffix = ".parquet"
        text = str(path / "*.parquet") if backend == "duckdb" else text
    if suffix in _DB_SUFFIXES:
        if table is None:
            raise SurvivalInputError("--table", f"{text} is a database file: name the table with --table")
        return "duckdb", text, suffix
    if suffix not in (*_CSV_SUFFIXES, *_PARQUET_SUFFIXES):
        raise SurvivalInputError(
            "FILE", f"{text}: expected a .csv, .tsv or .parquet file (got {suffix or 'none'})"
        )
    return ("parquet" if suffix in _PARQUET_SUFFIXES else "csv"), text, suffix


def open_source(source: Any, *, backend: str = "duckdb", table: str | None = None) -> Any:
    """A file on the default DuckDB engine as a :class:`~mmemd.research.survival._local.LocalTable` (the compiled
    queries run on DuckDB without importing Ibis); anything else as :func:`open_table` returns it."""
    if backend == "duckdb" and isinstance(source, (str, os.PathLike)) and not _is_url(os.fspath(source)):
        from mmemd.research.survival._local import engine_settings, open_local

        fmt, text, _ = _locate(os.fspath(source), backend, table)
        engine_settings()  # a bad setting is named as such, before the file is opened
        try:
            return open_local(fmt, text, table)
        except Exception as exc:  # DuckDB cannot read the file or find the table: name it and why
            what = f"table {table!r} in {text}" if fmt == "duckdb" else text
            raise SurvivalInputError(
                "--table" if fmt == "duckdb" else "FILE", f"cannot read {what}: {exc}"
            ) from None
    return open_table(source, backend=backend, table=table)


def backend_version(table: Any) -> str:
    """``"<engine> <version>"`` of the backend a table executes on (an unbound memtable runs on DuckDB)."""
    if hasattr(table, "backend_version"):  # a LocalTable: DuckDB itself
        return str(table.backend_version())
    try:
        con = table._find_backend(use_default=True)
    except Exception:  # pragma: no cover - defensive: every Ibis table has a backend or the default one
        return "unknown"
    name = str(getattr(con, "name", "unknown"))
    try:
        version = str(con.version)
    except Exception:  # some drivers need a live connection for this
        version = "?"
    return f"{name} {version}"


_counter = 0


def _temp_name() -> str:
    global _counter
    _counter += 1
    return f"mmemd_survival_{os.getpid()}_{_counter}"


def _redact(url: str) -> str:
    """Drop the password from a URL before it reaches a message."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))
