"""Backup and restore: SQLite's online backup API, or ``pg_dump``/``pg_restore`` for PostgreSQL.

SQLite's backup API copies a consistent snapshot while the service keeps running (readers and writers are not
stopped); the backup is itself a registry database file. PostgreSQL is dumped in ``pg_dump``'s custom format and
restored with ``pg_restore --clean``, which replaces the registry's tables with the dump's.
"""

from __future__ import annotations

import glob
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

__all__ = ["BackupError", "backup", "restore"]


class BackupError(RuntimeError):
    pass


def _sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return None
    if not u.database or u.database == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    return Path(u.database)


def _pg_tool(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise BackupError(
            f"{name} not found: install PostgreSQL's client tools (Debian package postgresql-client)"
        )
    return found


def _libpq_url(url: str) -> str:
    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def backup(url: str, dest: str | Path) -> Path:
    """Write a consistent copy of the registry at ``url`` to ``dest``."""
    dest = Path(dest)
    src = _sqlite_path(url)
    if src is not None:
        with closing(sqlite3.connect(src)) as a, closing(sqlite3.connect(dest)) as b:
            a.backup(b)
        return dest
    proc = subprocess.run(
        [_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={dest}", _libpq_url(url)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise BackupError(f"pg_dump failed: {proc.stderr.strip()}")
    return dest


def restore(url: str, src: str | Path) -> None:
    """Replace the registry at ``url`` by the backup ``src``."""
    src = Path(src)
    if not src.is_file():
        raise BackupError(f"no backup file {src}")
    path = _sqlite_path(url)
    if path is not None:
        with closing(sqlite3.connect(src)) as a:
            if (
                a.execute("SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'").fetchone()[0]
                != 1
            ):
                raise BackupError(f"{src} is not a registry backup")
            with closing(sqlite3.connect(path)) as b:
                a.backup(b)
        return
    proc = subprocess.run(
        [
            _pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={_libpq_url(url)}",
            str(src),
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise BackupError(f"pg_restore failed: {proc.stderr.strip()}")
