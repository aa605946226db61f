"""The compiled store: one SQLite file with an FTS5 index, built from the curated YAML on first use.

The file is named by the knowledge base's content hash, so an edited data file yields a new store and a stale one is
never read. It is built in a temporary file and renamed into place (atomic: concurrent first uses cannot see a half
built store), then opened read-only.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
from functools import lru_cache
from pathlib import Path

from mmemd._version import __version__
from mmemd.knowledge._data import content_hash, kb_version
from mmemd.knowledge._load import Curated, load_curated
from mmemd.knowledge._models import Claim
from mmemd.knowledge._text import index_text
from mmemd.knowledge._vocab import Vocabulary

STORE_SCHEMA = 1

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


def cache_dir() -> Path:
    """``$MMEMD_CACHE_DIR``, else ``$XDG_CACHE_HOME/mmemd``, else ``~/.cache/mmemd``."""
    if env := os.environ.get("MMEMD_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mmemd"


@lru_cache(maxsize=1)
def _builder_hash() -> str:
    """Hash of the code that shapes the store (tokeniser, loader, models): a changed builder means a new store."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in ("_store.py", "_text.py", "_load.py", "_models.py", "_grade.py", "_vocab.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()


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
    return index_text(" ".join(names))


def build_store(path: Path, curated: Curated | None = None) -> Path:
    """Compile the curated data into ``path`` (atomically) and return it."""
    curated = curated or load_curated()
    vocab = curated.vocabulary
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        con = sqlite3.connect(tmp)
        with con:
            con.executescript(_DDL)
            con.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ("kb_version", kb_version()),
                    ("content_hash", content_hash()),
                    ("store_schema", str(STORE_SCHEMA)),
                    ("built_by", f"mmemd {__version__}"),
                ],
            )
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
        con.close()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def open_store(directory: Path | None = None) -> sqlite3.Connection:
    """Open the store for the current data read-only, building it first if this is the first use."""
    path = store_path(directory)
    if not path.exists():
        build_store(path)
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    row = con.execute("SELECT value FROM meta WHERE key = 'content_hash'").fetchone()
    if row is None or row[0] != content_hash():  # pragma: no cover - only a hand-edited cache gets here
        con.close()
        path.unlink(missing_ok=True)
        return open_store(directory)
    return con


def source_doc(con: sqlite3.Connection, source_id: str) -> tuple[dict[str, object], str] | None:
    row = con.execute(
        "SELECT doc, text FROM sources WHERE id = ? OR alias = ?", (source_id, source_id)
    ).fetchone()
    if row is None:
        return None
    return json.loads(row[0]), row[1]
