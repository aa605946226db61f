"""The compiled store: one SQLite file with an FTS5 index, built from the curated YAML on first use.

The file is named by the knowledge base's content hash, so an edited data file yields a new store and a stale one is
never read. It is built in a temporary file and renamed into place (atomic: concurrent first uses cannot see a half
built store), then opened read-only.

The store heals itself, because it is only a cache of the YAML shipped in the package:

- on open it is verified — store schema, ``PRAGMA integrity_check``, the data's content hash, and a hash of every
  stored row (``rows_sha256``, written at build time) — and rebuilt atomically when any check fails (an empty,
  truncated, random or partly overwritten file). The full check reads every row (about 10 ms, a third of what a
  one-record ``mmemd assess`` spends on its own work), so a file that passed it is stamped — device, inode, size,
  mtime and ctime in ``<store>.verified`` beside it — and while its ``stat`` still equals the stamp only the schema
  and content hash are checked. Any write to the file changes its mtime and ctime; a file is stamped only once it
  has been quiet for :data:`VERIFIED_SETTLE_SECONDS`, so a write within the file system's timestamp granularity
  after the check cannot leave the stamp looking current (git's "racily clean" rule for its index);
- when the cache directory cannot be written (read-only, full, over ``ulimit -f``) the store is built in memory
  instead, with one warning, and mmemd carries on;
- ``.tmp`` files left by a build that was killed are removed once they are older than any build could take;
- a query that fails on a damaged store triggers one rebuild (:class:`~mmemd.knowledge.KnowledgeBase`), not an
  error on every later query.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from mmemd._version import __version__
from mmemd.knowledge._data import cache_dir, content_hash, kb_version, stamp_name, stamped
from mmemd.knowledge._models import Claim
from mmemd.knowledge._vocab import Vocabulary

if TYPE_CHECKING:  # the loader and tokeniser are needed only to build a store, not to open one
    import logging
    import sqlite3

    from mmemd.knowledge._load import Curated

STORE_SCHEMA = 1


def _log() -> logging.Logger:
    """The package logger, imported on first use: an intact store (every assessment) logs nothing, and importing
    ``logging`` is a few milliseconds of a one-record ``assess``."""
    import logging

    return logging.getLogger("mmemd.knowledge")


#: A build takes well under a second; a ``.tmp`` file older than this was left by a killed process.
STALE_TMP_SECONDS = 600

#: A store is stamped as verified only when its last change (mtime and ctime) is at least this old.
VERIFIED_SETTLE_SECONDS = 2.0

_warned = False

#: Column weights for bm25 ranking: curated statements first, then the controlled terms, then the raw quote.
BM25_WEIGHTS = (3.0, 3.0, 1.0, 2.0)

_DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (id TEXT PRIMARY KEY, alias TEXT NOT NULL, doc TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE claims (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    section TEXT NOT NULL,
    category TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    grade TEXT NOT NULL,
    emd_specific INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE claim_terms (claim_rowid INTEGER NOT NULL, term TEXT NOT NULL, role TEXT NOT NULL);
CREATE INDEX claim_terms_term ON claim_terms (term, claim_rowid);
CREATE VIRTUAL TABLE claims_fts USING fts5(
    statement_zh, statement_en, quote, terms, tokenize = 'unicode61 remove_diacritics 2'
);
"""


@lru_cache(maxsize=1)
def _builder_hash() -> str:
    """Hash of the code that shapes the store (tokeniser, loader, models): a changed builder means a new store.

    Kept by the files' ``stat`` (:func:`~mmemd.knowledge._data.stamped`): computed again once a file was written."""
    here = Path(__file__).resolve().parent
    files = [
        here / name for name in ("_store.py", "_text.py", "_load.py", "_models.py", "_grade.py", "_vocab.py")
    ]

    def compute() -> bytes:
        import hashlib

        h = hashlib.sha256()
        for path in files:
            h.update(path.read_bytes())
        return h.hexdigest().encode("ascii")

    digest = stamped(stamp_name("builder-hash", here), files, compute)
    assert digest is not None
    return digest.decode("ascii")


def store_path(directory: Path | None = None) -> Path:
    """The store file for the current data and builder (both hashes in the name, so stale stores are never read)."""
    return (directory or cache_dir()) / f"kb-{content_hash()[:16]}-{_builder_hash()[:8]}.sqlite"


def _claim_terms(claim: Claim, vocab: Vocabulary) -> list[tuple[str, str]]:
    """(term id, role) pairs for filtering: interventions with their classes and regimen components."""
    pairs: list[tuple[str, str]] = []
    for role, ids, regimen in (
        ("intervention", claim.interventions, claim.regimen),
        ("comparator", claim.comparator, claim.comparator_regimen),
    ):
        agents = list(ids)
        if regimen is not None:
            agents += vocab.regimens[regimen].components
            pairs.append((regimen, f"{role}_regimen"))
        for a in dict.fromkeys(agents):
            pairs.append((a, role))
            cls = vocab.agent_class(a)
            if cls is not None:
                pairs.append((cls, f"{role}_class"))
    pairs += [(s, "subject") for s in claim.subjects]
    return list(dict.fromkeys(pairs))


def _search_terms(claim: Claim, vocab: Vocabulary, curated: Curated) -> str:
    """Every name a reader might type for what the claim is about, in both languages."""
    names: list[str] = []
    for term_id, _role in _claim_terms(claim, vocab):
        term = vocab.term(term_id)
        if term is not None:
            names += term.names()
    endpoint = vocab.endpoints.get(claim.endpoint)
    if endpoint is not None:
        names += endpoint.names()
    source = curated.sources[claim.source]
    section = next(s for s in source.sections if s.number == claim.section)
    names += [section.title_zh, section.title_en, claim.category.value.replace("_", " ")]
    if claim.study:
        names.append(claim.study)
    if claim.population.emd in ("emd", "mixed"):
        names += ["EMD", "extramedullary", "髓外"]
    names.append(claim.population.disease)
    from mmemd.knowledge._text import index_text

    return index_text(" ".join(names))


def _fill(con: sqlite3.Connection, curated: Curated) -> None:
    """Create the tables in ``con`` and insert every source and claim."""
    from mmemd.knowledge._text import index_text

    vocab = curated.vocabulary
    with con:
        con.executescript(_DDL)
        for src in curated.sources.values():
            con.execute(
                "INSERT INTO sources VALUES (?, ?, ?, ?)",
                (src.id, src.alias, src.model_dump_json(), curated.texts[src.id]),
            )
        for rowid, claim in enumerate(curated.claims, start=1):
            con.execute(
                "INSERT INTO claims VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rowid,
                    claim.id,
                    claim.source,
                    claim.section,
                    claim.category.value,
                    claim.endpoint,
                    claim.grade,
                    int(claim.emd_specific),
                    claim.model_dump_json(),
                ),
            )
            con.executemany(
                "INSERT INTO claim_terms VALUES (?, ?, ?)",
                [(rowid, t, r) for t, r in _claim_terms(claim, vocab)],
            )
            con.execute(
                "INSERT INTO claims_fts (rowid, statement_zh, statement_en, quote, terms) VALUES (?, ?, ?, ?, ?)",
                (
                    rowid,
                    index_text(claim.statement_zh),
                    index_text(claim.statement_en),
                    index_text(claim.quote),
                    _search_terms(claim, vocab, curated),
                ),
            )
        con.execute("INSERT INTO claims_fts (claims_fts) VALUES ('optimize')")
        con.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [
                ("kb_version", kb_version()),
                ("content_hash", content_hash()),
                ("store_schema", str(STORE_SCHEMA)),
                ("built_by", f"mmemd {__version__}"),
                ("rows_sha256", _rows_hash(con)),
            ],
        )


def _rows_hash(con: sqlite3.Connection) -> str:
    """sha256 over every stored source, claim and index row, in a fixed order (a flipped byte anywhere shows)."""
    import hashlib  # only for the full check: an unchanged, verified store is not hashed

    h = hashlib.sha256()
    for sql in (
        "SELECT id, alias, doc, text FROM sources ORDER BY id",
        "SELECT rowid, id, source, section, category, endpoint, grade, emd_specific, doc FROM claims ORDER BY rowid",
        "SELECT claim_rowid, term, role FROM claim_terms ORDER BY claim_rowid, term, role",
        "SELECT rowid, statement_zh, statement_en, quote, terms FROM claims_fts ORDER BY rowid",
    ):
        for row in con.execute(sql):
            h.update(json.dumps(row, ensure_ascii=False).encode())
            h.update(b"\n")
    return h.hexdigest()


def build_store(path: Path, curated: Curated | None = None) -> Path:
    """Compile the curated data into ``path`` (atomically) and return it."""
    import sqlite3

    from mmemd.knowledge._load import load_curated

    curated = curated or load_curated()
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # only to write: an assessment with a warm cache writes nothing

    fd, tmp_name = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        con = sqlite3.connect(tmp)
        try:
            _fill(con, curated)
        finally:
            con.close()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}-journal").unlink(missing_ok=True)
    return path


def memory_store(curated: Curated | None = None) -> sqlite3.Connection:
    """The store built in memory (when no directory can hold it)."""
    import sqlite3

    from mmemd.knowledge._load import load_curated

    con = sqlite3.connect(":memory:", check_same_thread=False)
    _fill(con, curated or load_curated())
    return con


def verify_store(con: sqlite3.Connection, *, rows: bool = True) -> str | None:
    """Why the opened store cannot be used (None when it is sound): schema, integrity, content and row hashes
    (``rows=False``: schema and content hash only, for a file unchanged since it was fully verified)."""
    import sqlite3

    try:
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("store_schema") != str(STORE_SCHEMA):
            return "store schema differs"
        if meta.get("content_hash") != content_hash():
            return "content hash differs"
        if not rows:
            return None
        check = con.execute("PRAGMA integrity_check").fetchall()
        if check != [("ok",)]:
            return "integrity check failed"
        if meta.get("rows_sha256") != _rows_hash(con):
            return "stored rows do not match their hash"
    except sqlite3.Error as exc:
        return f"unreadable ({exc})"
    return None


def _stat_stamp(path: Path) -> str | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return f"{st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}"


def _verified_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamped(path: Path, stamp: str | None) -> bool:
    """Whether ``path`` was fully verified and has not changed since (its ``stat`` equals the stamp)."""
    if stamp is None:
        return False
    try:
        return _verified_path(path).read_text(encoding="ascii") == stamp
    except (OSError, UnicodeDecodeError):
        return False


def _stamp_verified(path: Path, stamp: str) -> None:
    """Record that the file with this ``stat`` passed the full check — once it has settled; best effort (a
    read-only cache directory just means the full check runs every time)."""
    target = _verified_path(path)
    tmp: str | None = None
    try:
        st = path.stat()
        if time.time() - max(st.st_mtime, st.st_ctime) < VERIFIED_SETTLE_SECONDS:
            return
        import tempfile  # only to write: an assessment with a warm cache writes nothing

        fd, tmp = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(stamp)
        os.replace(tmp, target)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def clean_stale_tmp(directory: Path, now: float | None = None) -> list[Path]:
    """Remove build leftovers (``kb-*.tmp``, ``kb-*.tmp-journal``) older than :data:`STALE_TMP_SECONDS`."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        candidates = [*directory.glob("kb-*.tmp"), *directory.glob("kb-*.tmp-journal")]
    except OSError:
        return removed
    for p in candidates:
        try:
            if now - p.stat().st_mtime > STALE_TMP_SECONDS:
                p.unlink()
                removed.append(p)
        except OSError:
            continue
    return removed


def _warn_once(message: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        _log().warning(message)


def open_store(directory: Path | None = None, *, rebuild: bool = False) -> sqlite3.Connection:
    """Open the verified store for the current data read-only, building (or rebuilding) it when needed.

    Never fails for a reason the cache is to blame for: when the directory cannot hold a sound store, the store is
    built in memory and one warning is logged.
    """
    import sqlite3  # here, not at the top: an assessment reading the kept claims never opens the store (_kb.load)

    directory = directory or cache_dir()
    path = store_path(directory)
    clean_stale_tmp(directory)
    if not rebuild and path.exists():
        stamp = _stat_stamp(path)
        con = _open_ro(path)
        stamped = _stamped(path, stamp)
        problem = verify_store(con, rows=not stamped) if con is not None else "unreadable"
        if problem is None and con is not None:
            if not stamped and stamp is not None and stamp == _stat_stamp(path):
                _stamp_verified(path, stamp)
            return con
        if con is not None:
            con.close()
        _log().info("knowledge store %s: %s; rebuilding", path.name, problem)
    try:
        build_store(path)
        con = _open_ro(path)
        if con is not None and verify_store(con) is None:
            return con
        reason = "the rebuilt store does not verify"
    except (OSError, sqlite3.Error) as exc:
        reason = f"cannot write it ({getattr(exc, 'strerror', None) or exc})"
    _warn_once(
        f"knowledge store: {reason} in {directory}; using an in-memory store for this process "
        "(set MMEMD_CACHE_DIR to a writable directory to keep it)"
    )
    return memory_store()


def _open_ro(path: Path) -> sqlite3.Connection | None:
    import sqlite3

    try:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    except sqlite3.Error:
        return None


def reopener(directory: Path | None = None) -> Callable[[], sqlite3.Connection]:
    """A function that rebuilds and reopens the store (what a query error on a damaged store calls, once)."""
    return lambda: open_store(directory, rebuild=True)


def source_doc(con: sqlite3.Connection, source_id: str) -> tuple[dict[str, object], str] | None:
    row = con.execute(
        "SELECT doc, text FROM sources WHERE id = ? OR alias = ?", (source_id, source_id)
    ).fetchone()
    if row is None:
        return None
    return json.loads(row[0]), row[1]
