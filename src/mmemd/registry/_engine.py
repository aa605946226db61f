"""Database connection and migrations: SQLite (the embedded default, WAL mode) or PostgreSQL (``database_url``).

SQLite specifics, each for a reason:

- ``journal_mode=WAL``: readers never block the writer and the writer never blocks readers — a clinician opening a
  patient page while another adds a visit does not wait.
- ``synchronous=FULL``: a committed visit survives a power cut, not only a process crash.
- ``busy_timeout``: a writer waits for the lock instead of failing.
- writes start with ``BEGIN IMMEDIATE``: the write lock is taken before the first read, so a read-then-write
  transaction cannot fail half-way with "database is locked" (SQLite cannot upgrade a read lock while another
  writer waits; it returns SQLITE_BUSY without waiting).
- ``foreign_keys=ON``: SQLite leaves them off unless asked.

Migrations ship inside the package (``mmemd/registry/migrations``) and run programmatically; nothing needs an
``alembic.ini``.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event

__all__ = [
    "HEAD",
    "current_revision",
    "default_data_dir",
    "default_database_url",
    "make_engine",
    "upgrade",
]

HEAD: Final = "head"
_BUSY_TIMEOUT_S: Final = 30.0


def default_data_dir() -> Path:
    """``MMEMD_DATA_DIR``, else ``$XDG_DATA_HOME/mmemd`` (``~/.local/share/mmemd``)."""
    if os.environ.get("MMEMD_DATA_DIR"):
        return Path(os.environ["MMEMD_DATA_DIR"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mmemd"


def default_database_url(data_dir: str | os.PathLike[str] | None = None) -> str:
    """The embedded default: ``registry.sqlite3`` in the data directory (created when missing)."""
    d = Path(data_dir) if data_dir is not None else default_data_dir()
    d.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{d / 'registry.sqlite3'}"


def _normalise(url: str) -> str:
    # psycopg 3 is the PostgreSQL driver we install; plain postgresql:// URLs (what pg tools print) mean it too.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, write: bool = False, **kwargs: Any) -> Engine:
    """An engine for ``url``; ``write=True`` makes SQLite transactions start with ``BEGIN IMMEDIATE``."""
    url = _normalise(url)
    if not url.startswith("sqlite"):
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    engine = create_engine(
        url, connect_args={"timeout": _BUSY_TIMEOUT_S, "check_same_thread": False}, **kwargs
    )
    begin = "BEGIN IMMEDIATE" if write else "BEGIN"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver, so our BEGIN below is the one that runs.
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_S * 1000)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


def _alembic_config(connection: Any) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("mmemd.registry") / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = HEAD) -> None:
    """Bring the database schema to ``revision`` (default: the newest), in one transaction per migration."""
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), revision)


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (``None``: not a registry database yet)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        rev: str | None = MigrationContext.configure(conn).get_current_revision()
        return rev
