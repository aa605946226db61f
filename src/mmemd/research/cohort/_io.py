"""Open a cohort through Ibis: a directory of Parquet or CSV files, a DuckDB file, a PostgreSQL database, or the
patient registry's own database (``registry+sqlite:///…`` or ``registry+postgresql://…``).

DuckDB is the default engine (files are read in place, nothing is loaded into Python); ``backend="spark"`` runs the
same Ibis expressions on PySpark in local mode. A database holds the tables under their schema names
(``patients``, ``assessments``, ...), as tables or views.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mmemd.research.cohort._errors import CohortError, CohortProblem
from mmemd.research.cohort._schema import OPTIONAL_TABLES, TABLES

__all__ = ["Backend", "CohortSource", "open_cohort"]

Backend = Literal["duckdb", "spark"]

_DB_SUFFIXES = (".duckdb", ".ddb", ".db")
#: DuckDB's memory limit for a cohort analysis (``MMEMD_DUCKDB_MEMORY_LIMIT`` overrides it, e.g. ``8GB``).
DUCKDB_MEMORY_LIMIT = "2GB"
_MEMORY_LIMIT = re.compile(r"\d+(\.\d+)?\s*[KMGT]i?B", re.IGNORECASE)

#: prefix of a registry database URL: the cohort tables are built from the registry's current rows
REGISTRY_PREFIX = "registry+"


def _registry_tables(url: str, date_shift_key: bytes | None) -> dict[str, Any]:
    """The registry's cohort tables (Arrow), pseudonymised exactly as ``mmemd registry export`` writes them."""
    from sqlalchemy.exc import SQLAlchemyError

    from mmemd.registry import Registry, cohort_tables

    where = url.split("@")[-1]  # never echo credentials
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise CohortError([CohortProblem("<cohort>", None, f"no registry database at {where}")])
    try:
        reg = Registry(url, migrate=False)
        try:
            return cohort_tables(reg, date_shift_key=date_shift_key)
        finally:
            reg.close()
    except SQLAlchemyError as exc:
        raise CohortError(
            [
                CohortProblem(
                    "<cohort>", None, f"cannot read the registry database {where}: {type(exc).__name__}"
                )
            ]
        ) from None


@dataclass(slots=True)
class CohortSource:
    """The cohort's tables as (unexecuted) Ibis table expressions on one connection."""

    con: Any
    tables: dict[str, Any]
    backend: str
    location: str
    notes: list[str] = field(default_factory=list)

    def has(self, name: str) -> bool:
        return name in self.tables


def _files_for(directory: Path, name: str) -> tuple[str, Path] | None:
    for kind, candidates in (
        ("parquet", (directory / f"{name}.parquet", directory / name)),
        ("csv", (directory / f"{name}.csv", directory / f"{name}.csv.gz")),
    ):
        for p in candidates:
            if p.is_file() or (kind == "parquet" and p.is_dir() and any(p.glob("*.parquet"))):
                return kind, p
    return None


def _spark_connection() -> Any:
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise CohortError(
            [CohortProblem("<backend>", None, "--backend spark needs pyspark (pip install 'mmemd[spark]')")]
        ) from exc
    import ibis  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    from mmemd.research.survival import spark_session

    return ibis.pyspark.connect(spark_session("mmemd-cohort"))


def open_cohort(
    location: str | os.PathLike[str], backend: Backend = "duckdb", *, date_shift_key: bytes | None = None
) -> CohortSource:
    """Open the cohort at ``location``: a directory of ``<table>.parquet`` / ``<table>.csv`` files, a DuckDB
    database file, a ``postgresql://`` URL, or ``registry+<database URL>`` (the patient registry's database; its
    current rows, pseudonymised as the export is, with dates shifted when ``date_shift_key`` is given). Raises
    :class:`CohortError` naming every missing table."""
    import ibis  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    loc = os.fspath(location)
    tables: dict[str, Any] = {}
    problems: list[CohortProblem] = []
    if loc.startswith(REGISTRY_PREFIX):
        if backend != "duckdb":
            raise CohortError([CohortProblem("<cohort>", None, "a registry database needs --backend duckdb")])
        url = loc.removeprefix(REGISTRY_PREFIX)
        arrow = _registry_tables(url, date_shift_key)
        con = ibis.duckdb.connect()
        for name, table in arrow.items():
            # handed to DuckDB as Arrow and kept as a temporary table of this in-memory connection
            con.con.register(f"mmemd_{name}_arrow", table)
            con.raw_sql(f'CREATE TEMP TABLE "mmemd_{name}" AS SELECT * FROM "mmemd_{name}_arrow"')
            con.con.unregister(f"mmemd_{name}_arrow")
            tables[name] = con.table(f"mmemd_{name}")
        backend_name: str = "duckdb"
        where = REGISTRY_PREFIX + url.split("@")[-1]
    elif loc.startswith(("postgres://", "postgresql://")):
        con = ibis.connect(loc)
        present = set(con.list_tables())
        for t in TABLES:
            if t.name in present:
                tables[t.name] = con.table(t.name)
        backend_name = "postgres"
        where = loc.split("@")[-1]  # never echo credentials
    else:
        path = Path(loc)
        if not path.exists():
            raise CohortError([CohortProblem("<cohort>", None, f"{loc} does not exist")])
        if path.is_file() and path.suffix in _DB_SUFFIXES:
            if backend != "duckdb":
                raise CohortError(
                    [CohortProblem("<cohort>", None, "a DuckDB database file needs --backend duckdb")]
                )
            con = ibis.duckdb.connect(str(path), read_only=True)
            present = set(con.list_tables())
            for t in TABLES:
                if t.name in present:
                    tables[t.name] = con.table(t.name)
        elif path.is_dir():
            con = _spark_connection() if backend == "spark" else ibis.duckdb.connect()
            for t in TABLES:
                found = _files_for(path, t.name)
                if found is None:
                    continue
                kind, p = found
                src = str(p / "*.parquet") if p.is_dir() else str(p)
                if kind == "parquet":
                    tables[t.name] = con.read_parquet(src, table_name=f"mmemd_{t.name}")
                elif backend == "duckdb":
                    # Every column as text, loaded into a temporary table: validation applies the schema's types
                    # with TRY_CAST and reports a bad value with its column and row. (Reading in place, DuckDB 2.0
                    # pushes the cast into the CSV scan, which then fails on the first bad value instead.)
                    name = f"mmemd_{t.name}"
                    literal = src.replace("'", "''")
                    con.raw_sql(
                        f"CREATE TEMP TABLE \"{name}\" AS SELECT * FROM read_csv('{literal}', all_varchar = true)"
                    )
                    tables[t.name] = con.table(name)
                else:
                    tables[t.name] = con.read_csv(src, table_name=f"mmemd_{t.name}")
        else:
            raise CohortError(
                [
                    CohortProblem(
                        "<cohort>",
                        None,
                        f"{loc}: expected a directory of Parquet/CSV files, a DuckDB file "
                        f"({', '.join(_DB_SUFFIXES)}) or a postgresql:// URL",
                    )
                ]
            )
        backend_name = backend
        where = str(path)
    for t in TABLES:
        if t.name not in tables and t.name not in OPTIONAL_TABLES:
            problems.append(
                CohortProblem(
                    t.name, None, "table not found (expected <name>.parquet, <name>.csv or a table/view)"
                )
            )
    if problems:
        raise CohortError(problems)
    if backend_name == "duckdb":
        # DuckDB draws its own progress bar on stdout for long queries: that would corrupt --json output (the CLI
        # draws its bars on stderr).
        con.raw_sql("SET enable_progress_bar = false")
        # Bounded memory whatever the cohort's size: DuckDB spills its sorts and joins to disk beyond this limit
        # (its default, 80% of RAM, lets the response step's sort of a million patients' assessments take 8 GB).
        limit = os.environ.get("MMEMD_DUCKDB_MEMORY_LIMIT", DUCKDB_MEMORY_LIMIT).strip()
        if not _MEMORY_LIMIT.fullmatch(limit):
            raise CohortError(
                [
                    CohortProblem(
                        "<backend>", None, f"MMEMD_DUCKDB_MEMORY_LIMIT={limit!r}: expected a size such as 4GB"
                    )
                ]
            )
        con.raw_sql(f"SET memory_limit = '{limit}'")
        # Spill under the system's temporary directory (DuckDB's default is ./.tmp, which need not be writable),
        # one directory per process; DuckDB removes its files when the connection closes.
        spill = os.path.join(tempfile.gettempdir(), f"mmemd-duckdb-{os.getpid()}").replace("'", "''")
        con.raw_sql(f"SET temp_directory = '{spill}'")
    return CohortSource(con=con, tables=tables, backend=backend_name, location=where)
