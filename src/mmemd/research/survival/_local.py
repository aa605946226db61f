"""A CSV, Parquet or DuckDB file on the default engine, queried with the compiled survival SQL on DuckDB directly.

The queries are the Ibis definitions of ``_queries``, compiled to DuckDB SQL ahead of time (``_compiled``), so a
``mmemd survival`` run on a file imports DuckDB (~0.05 s) but not Ibis, sqlglot and pandas (~0.5 s together). Other
engines, database URLs and in-memory tables go through Ibis (``_backend.open_table``) with the same definitions.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from typing import Any

#: DuckDB column types by conversion kind (``_queries.KINDS``); anything else is not a time or an event.
_INTEGER_TYPES = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
    }
)
_OTHER_KINDS = {
    "BOOLEAN": "boolean",
    "DOUBLE": "floating",
    "FLOAT": "float32",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}
# How Ibis names the DuckDB types an error message may mention, so both paths word the error alike.
_IBIS_NAMES = {"VARCHAR": "string", "BLOB": "binary", "INTERVAL": "interval", "TIME": "time", "UUID": "uuid"}

#: Memory DuckDB may use before it spills the aggregation to disk: the distinct-time group-by of a 10-million-row
#: file with float times fits well inside, and a bigger one spills instead of growing the process.
MEMORY_LIMIT = os.environ.get("MMEMD_DUCKDB_MEMORY_LIMIT", "256MB")
_SIZE = re.compile(r"\d+(\.\d+)?\s*[KMGT]i?B", re.IGNORECASE)


def engine_settings() -> dict[str, str | int]:
    """DuckDB's memory limit and thread count from the environment, checked before any file is opened: a bad
    value is named as the setting it is, not reported as a file that cannot be read."""
    from mmemd.research.survival._backend import SurvivalInputError

    limit = os.environ.get("MMEMD_DUCKDB_MEMORY_LIMIT", MEMORY_LIMIT).strip()
    if not _SIZE.fullmatch(limit):
        raise SurvivalInputError(
            "MMEMD_DUCKDB_MEMORY_LIMIT", f"{limit!r}: expected a size such as 256MB or 4GB"
        )
    settings: dict[str, str | int] = {"memory_limit": limit}
    threads = os.environ.get("MMEMD_DUCKDB_THREADS", "").strip()
    if threads:
        if not threads.isdigit() or int(threads) < 1:
            raise SurvivalInputError(
                "MMEMD_DUCKDB_THREADS", f"{threads!r}: expected a whole number of threads ≥ 1"
            )
        settings["threads"] = int(threads)
    return settings


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def kind(duckdb_type: str) -> str | None:
    t = duckdb_type.upper()
    if t in _INTEGER_TYPES:
        return "integer"
    if t.startswith("DECIMAL"):
        return "decimal"
    return _OTHER_KINDS.get(t)


def type_name(duckdb_type: str) -> str:
    return _IBIS_NAMES.get(duckdb_type.upper(), duckdb_type.lower())


@dataclass
class LocalTable:
    """A file on an embedded DuckDB connection: ``relation`` is the SQL ``FROM`` item, ``types`` its columns."""

    con: Any
    relation: str
    types: dict[str, str]

    @property
    def columns(self) -> list[str]:
        return list(self.types)

    def close(self) -> None:
        """Release the file: DuckDB refuses a second connection to a database file with other settings."""
        self.con.close()

    def backend_version(self) -> str:
        import duckdb

        return f"duckdb {duckdb.__version__}"


def open_local(fmt: str, path: str, table: str | None) -> LocalTable:
    """Open ``path`` (format ``csv``, ``parquet`` or ``duckdb``) on a fresh in-process DuckDB connection."""
    import duckdb

    config: dict[str, str | bool | int | float | list[str]] = {
        **engine_settings(),
        # the counts are sorted in numpy afterwards: DuckDB need not keep rows in file order (less memory)
        "preserve_insertion_order": False,
        # spill files go to the system temporary directory, never next to the user's data or the working directory
        "temp_directory": os.path.join(tempfile.gettempdir(), f"mmemd-duckdb-{os.getpid()}"),
    }
    if fmt == "duckdb":
        assert table is not None
        con = duckdb.connect(path, read_only=True, config=config)
        relation = quote_identifier(table)
    else:
        con = duckdb.connect(config=config)
        if fmt == "parquet":
            relation = f"read_parquet([{_literal(path)}])"
        else:
            # "NA" is how R (and many registry exports) write a missing value; an empty field is missing too.
            relation = f"read_csv([{_literal(path)}], nullstr=['', 'NA'], header=TRUE, auto_detect=TRUE)"
    # DuckDB draws a progress bar on the terminal for long queries; the command's output is the result alone
    con.execute("SET enable_progress_bar = false")
    rows = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    return LocalTable(con, relation, {str(r[0]): str(r[1]) for r in rows})
