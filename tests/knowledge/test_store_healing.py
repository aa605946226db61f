"""The evidence store heals itself: one test per fault an operator met (a bad file, an unwritable or full cache
directory, leftovers of a killed build, a store damaged after start-up)."""

from __future__ import annotations

import errno
import logging
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import mmemd.knowledge._store as store
from mmemd.knowledge import load
from mmemd.knowledge._kb import KnowledgeBase
from mmemd.knowledge._store import (
    STALE_TMP_SECONDS,
    clean_stale_tmp,
    open_store,
    store_path,
    verify_store,
)
from mmemd.knowledge._vocab import vocabulary

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture
def good(tmp_path: Path) -> Path:
    """A directory holding a freshly built, verified store."""
    open_store(tmp_path).close()
    return tmp_path


@pytest.fixture(autouse=True)
def _fresh_warning_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "_warned", False)


def _works(directory: Path) -> None:
    kb = load(directory)
    assert len(kb) > 0 and kb.search("pomalidomide").hits
    con = sqlite3.connect(store_path(directory))
    assert verify_store(con) is None, "the store on disk was not healed"
    con.close()


def _empty(p: Path) -> None:
    p.write_bytes(b"")


def _truncated(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _random(p: Path) -> None:
    p.write_bytes(random.Random(1).randbytes(p.stat().st_size))


def _partly_overwritten(p: Path) -> None:
    data = bytearray(p.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 8192] = random.Random(2).randbytes(8192)
    p.write_bytes(bytes(data))


def _row_edited(p: Path) -> None:
    # a well-formed SQLite file whose content no longer matches what was built
    con = sqlite3.connect(p)
    con.execute("UPDATE claims SET doc = replace(doc, 'a', 'b') WHERE rowid = 1")
    con.commit()
    con.close()


def _old_schema(p: Path) -> None:
    con = sqlite3.connect(p)
    con.execute("UPDATE meta SET value = '0' WHERE key = 'store_schema'")
    con.commit()
    con.close()


@pytest.mark.parametrize(
    "damage",
    [_empty, _truncated, _random, _partly_overwritten, _row_edited, _old_schema],
    ids=lambda f: f.__name__,
)
def test_bad_store_file_is_rebuilt(
    good: Path, damage: Callable[[Path], None], caplog: pytest.LogCaptureFixture
) -> None:
    damage(store_path(good))
    with caplog.at_level(logging.WARNING, logger="mmemd.knowledge"):
        _works(good)
    assert not caplog.records  # a rebuild in place is routine, not a warning


def test_unwritable_cache_dir_falls_back_to_memory_with_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def read_only(*_a: object, **_k: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    import tempfile  # the store imports it when it writes: patch the module itself

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with caplog.at_level(logging.WARNING, logger="mmemd.knowledge"):
        for _ in range(3):
            kb = load(tmp_path)
            assert kb.search("pomalidomide").hits
    assert len(caplog.records) == 1
    assert "Read-only file system" in caplog.text and "in-memory" in caplog.text
    assert not store_path(tmp_path).exists()


def test_cache_dir_that_is_a_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with caplog.at_level(logging.WARNING, logger="mmemd.knowledge"):
        assert len(load(blocker / "cache")) > 0
    assert len(caplog.records) == 1


def test_full_disk_during_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = sqlite3.connect

    class FullDisk(sqlite3.Connection):
        def executescript(self, *_a: object) -> sqlite3.Cursor:
            raise sqlite3.OperationalError("database or disk is full")

    def connect(target: object, *a: object, **k: object) -> sqlite3.Connection:
        if str(target).endswith(".tmp"):
            return real_connect(target, *a, factory=FullDisk)  # type: ignore[arg-type, misc]
        return real_connect(target, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlite3, "connect", connect)
    assert len(load(tmp_path)) > 0
    assert list(tmp_path.iterdir()) == []  # the failed build left nothing behind


def test_file_size_limit_in_a_real_process(tmp_path: Path) -> None:
    """``ulimit -f`` (64 KiB): the build cannot finish; the command still works, with exactly one warning."""
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))\n"
        "from mmemd.knowledge import load\n"
        "kb = load()\n"
        "print(len(kb), len(kb.search('pomalidomide').hits) > 0)\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC, "MMEMD_CACHE_DIR": str(tmp_path)}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[1] == "True"
    assert r.stderr.count("knowledge store:") == 1 and "Traceback" not in r.stderr
    assert not any(p.suffix == ".tmp" for p in tmp_path.iterdir())


def test_stale_tmp_files_are_removed_and_fresh_ones_kept(good: Path) -> None:
    name = store_path(good).name
    stale = [good / f"{name}abc.tmp", good / f"{name}abc.tmp-journal"]
    fresh = good / f"{name}xyz.tmp"
    for p in [*stale, fresh]:
        p.write_bytes(b"half a build")
    old = time.time() - STALE_TMP_SECONDS - 60
    for p in stale:
        os.utime(p, (old, old))
    open_store(good).close()
    assert [p.exists() for p in stale] == [False, False]
    assert fresh.exists()  # may be a build in progress in another process
    assert clean_stale_tmp(good, now=time.time() + STALE_TMP_SECONDS + 60) == [fresh]


def test_query_error_on_a_damaged_store_rebuilds_once(
    good: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # A store that passed start-up and is damaged later: its meta table still reads, the search index does not.
    broken = tmp_path_factory.mktemp("broken") / "kb.sqlite"
    shutil.copy(store_path(good), broken)
    con = sqlite3.connect(broken)
    con.execute("DROP TABLE claims_fts")
    con.commit()
    reopened: list[int] = []

    def reopen() -> sqlite3.Connection:
        reopened.append(1)
        return open_store(good, rebuild=True)

    kb = KnowledgeBase(con, vocabulary(), reopen=reopen)
    assert kb.search("pomalidomide").hits
    assert kb.search("泊马度胺").hits
    assert reopened == [1]


def test_a_store_that_cannot_be_healed_is_not_rebuilt_forever(good: Path) -> None:
    calls: list[int] = []

    def still_broken() -> sqlite3.Connection:
        calls.append(1)
        con = sqlite3.connect(":memory:")
        con.execute("CREATE TABLE meta (key TEXT, value TEXT)")
        return con

    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    con.execute("INSERT INTO meta VALUES ('kb_version', 'x')")
    kb = KnowledgeBase(con, vocabulary(), reopen=still_broken)
    for _ in range(3):
        with pytest.raises(sqlite3.OperationalError):
            kb.search("pomalidomide")
    assert calls == [1]


def _settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Open the store as if it had been written a minute ago (so a sound file gets its stamp)."""
    later = time.time() + 60
    monkeypatch.setattr(store.time, "time", lambda: later)


def _no_row_hash(con: sqlite3.Connection) -> str:
    raise AssertionError("the full row check ran on a stamped, unchanged store")


def test_a_store_unchanged_since_its_full_check_is_not_hashed_again(
    good: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _settled(monkeypatch)
    open_store(good).close()  # full check, then the stamp
    assert store._verified_path(store_path(good)).exists()
    monkeypatch.setattr(store, "_rows_hash", _no_row_hash)
    kb = load(good)
    assert kb.search("pomalidomide").hits


def test_a_freshly_written_store_is_not_stamped(good: Path) -> None:
    # Written moments ago: a later write could fall within the same timestamp tick, so no stamp yet.
    open_store(good).close()
    assert not store._verified_path(store_path(good)).exists()


@pytest.mark.parametrize("damage", [_partly_overwritten, _row_edited, _old_schema], ids=lambda f: f.__name__)
def test_a_stamped_store_changed_later_is_checked_and_rebuilt(
    good: Path, damage: Callable[[Path], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    _settled(monkeypatch)
    open_store(good).close()
    p = store_path(good)
    stamped = p.stat()
    damage(p)
    # The write happens within the same clock tick here; in use, only a file quiet for the settle time is stamped,
    # so a later write always moves its mtime. Move it the way such a write would.
    os.utime(p, ns=(stamped.st_atime_ns, stamped.st_mtime_ns + 10**9))
    _works(good)
