"""The knowledge base as a Python object: filter, look up, search, count, export."""

from __future__ import annotations

import marshal
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson

from mmemd._validated import NotRebuilt, rebuilder
from mmemd.knowledge._data import stamp_name, stamped
from mmemd.knowledge._models import Category, Claim, Source
from mmemd.knowledge._store import BM25_WEIGHTS, open_store, reopener, store_path
from mmemd.knowledge._vocab import Vocabulary, vocabulary

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Mapping

    from mmemd.knowledge._search import SearchResult

#: Fields of an exported record, in order (docs/knowledge.md).
EXPORT_FIELDS = (
    "id",
    "source",
    "section",
    "quote",
    "offset",
    "category",
    "endpoint",
    "value",
    "value_max",
    "value_qualifier",
    "unit",
    "comparator_value",
    "p",
    "direction",
    "interventions",
    "comparator",
    "regimen",
    "study",
    "design",
    "disease",
    "population_emd",
    "n_total",
    "n_emd",
    "timepoint",
    "arm",
    "comparator_arm",
    "statement_en",
    "statement_zh",
    "grade",
    "emd_specific",
    "references",
    "flags",
    "notes",
)

HIGHLIGHT_FIELDS = ("statement_en", "statement_zh", "quote")


class UnknownTermError(ValueError):
    pass


def _fts_phrase(term: str) -> str | None:
    from mmemd.knowledge._text import tokens  # the tokeniser's patterns are compiled only when a search runs

    toks = tokens(term)
    if not toks:
        return None
    phrase = '"' + " ".join(toks) + '"'
    # A Latin word typed in part ("lenalid") should still find "lenalidomide".
    last = toks[-1]
    if last.isascii() and last.isalpha() and len(last) >= 3:
        phrase += " *"
    return phrase


class KnowledgeBase:
    """The evidence knowledge base, read from the compiled store (see :func:`load`)."""

    def __init__(
        self,
        con: sqlite3.Connection | None,
        vocab: Vocabulary,
        reopen: Callable[[], sqlite3.Connection] | None = None,
        *,
        kept: tuple[str, Mapping[str, str]] | None = None,
        connect: Callable[[], sqlite3.Connection] | None = None,
    ) -> None:
        """``con`` the opened store; or None with ``kept`` — the store's version and every claim's JSON by id, read
        from a store that was verified and has not changed since (:func:`load`), which answer :meth:`get` and ``in``
        — and ``connect``, which opens the store on the first query they cannot answer."""
        self._con = con
        self._connect = connect
        self._reopen = reopen
        self.vocabulary = vocab
        self._cache: dict[int, Claim] = {}
        self._by_id: dict[str, Claim] = {}
        self._kept_docs: Mapping[str, str] | None = None
        if kept is not None:
            self.version, self._kept_docs = kept
        else:
            self.version = self._rows("SELECT value FROM meta WHERE key = 'kb_version'")[0][0]

    def _rows(self, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> list[Any]:
        """All rows of a query. A damaged store (a database error) is rebuilt once and the query retried; a second
        failure is raised, so a store that cannot be healed is not rebuilt on every query."""
        import sqlite3

        if self._con is None:  # a knowledge base from kept claims: the store is opened on its first query
            assert self._connect is not None
            self._con = self._connect()
        try:
            return self._con.execute(sql, args).fetchall()
        except sqlite3.DatabaseError:
            if self._reopen is None:
                raise
            reopen, self._reopen = self._reopen, None
            old = self._con
            self._con = reopen()
            old.close()
            return self._con.execute(sql, args).fetchall()

    # -- lookup ---------------------------------------------------------------------------------------------------
    def _claim(self, rowid: int, doc: str) -> Claim:
        claim = self._cache.get(rowid)
        if claim is None:
            claim = _stored_claim(doc)
            # one object per claim, whether first read by id (from the kept claims) or by a query
            claim = self._cache[rowid] = self._by_id.setdefault(claim.id, claim)
        return claim

    def __len__(self) -> int:
        return int(self._rows("SELECT count(*) FROM claims")[0][0])

    def __iter__(self) -> Iterator[Claim]:
        return iter(self.claims())

    def get(self, claim_id: str) -> Claim:
        claim = self._by_id.get(claim_id)
        if claim is not None:
            return claim
        if self._kept_docs is not None:  # every claim of the store
            doc = self._kept_docs.get(claim_id)
            if doc is None:
                raise KeyError(f"no claim with id {claim_id!r}")
            claim = self._by_id[claim_id] = _stored_claim(doc)
            return claim
        rows = self._rows("SELECT rowid, doc FROM claims WHERE id = ?", (claim_id,))
        row = rows[0] if rows else None
        if row is None:
            raise KeyError(f"no claim with id {claim_id!r}")
        claim = self._by_id[claim_id] = self._claim(row[0], row[1])
        return claim

    def __contains__(self, claim_id: object) -> bool:
        if self._kept_docs is not None:
            return claim_id in self._kept_docs
        return bool(self._rows("SELECT 1 FROM claims WHERE id = ?", (claim_id,)))

    def resolve(self, name: str) -> str:
        """An agent, procedure, class or regimen id from any of its names (``泊马度胺`` -> ``pomalidomide``)."""
        v = self.vocabulary
        wanted = name.casefold()
        for table in (v.agents, v.procedures, v.classes, v.regimens):
            for term in table.values():
                if any(n.casefold() == wanted for n in term.names()):
                    return term.id
        known = sorted([*v.agents, *v.procedures, *v.classes, *v.regimens])
        raise UnknownTermError(f"unknown agent {name!r}; known ids: {', '.join(known)}")

    def claims(
        self,
        *,
        agent: str | None = None,
        endpoint: str | None = None,
        category: str | None = None,
        source: str | None = None,
        emd_only: bool = False,
    ) -> list[Claim]:
        """Claims matching every given filter, in source order.

        ``agent`` is an agent, procedure, class or regimen, by id or any name; it matches claims where it is an
        intervention or the comparator, alone, as a component of a named regimen, or (for a class) via any member.
        """
        where, args = [], []
        if agent is not None:
            ident = self.resolve(agent)
            where.append(
                "c.rowid IN (SELECT claim_rowid FROM claim_terms WHERE term = ? AND role != 'subject')"
            )
            args.append(ident)
        if endpoint is not None:
            if endpoint not in self.vocabulary.endpoints:
                known = ", ".join(sorted(self.vocabulary.endpoints))
                raise UnknownTermError(f"unknown endpoint {endpoint!r}; known: {known}")
            where.append("c.endpoint = ?")
            args.append(endpoint)
        if category is not None:
            if category not in Category.__members__:
                raise UnknownTermError(
                    f"unknown category {category!r}; known: {', '.join(Category.__members__)}"
                )
            where.append("c.category = ?")
            args.append(category)
        if source is not None:
            src = self.source(source)
            where.append("c.source = ?")
            args.append(src.id)
        if emd_only:
            where.append("c.emd_specific = 1")
        sql = "SELECT c.rowid, c.doc FROM claims c"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY c.rowid"
        return [self._claim(r, d) for r, d in self._rows(sql, args)]

    # -- sources ----------------------------------------------------------------------------------------------------
    def sources(self) -> list[Source]:
        return [Source.model_validate_json(d) for (d,) in self._rows("SELECT doc FROM sources ORDER BY id")]

    def source(self, ident: str) -> Source:
        rows = self._rows("SELECT doc FROM sources WHERE id = ? OR alias = ?", (ident, ident))
        row = rows[0] if rows else None
        if row is None:
            known = ", ".join(f"{s.id} ({s.alias})" for s in self.sources())
            raise UnknownTermError(f"unknown source {ident!r}; known: {known}")
        return Source.model_validate_json(row[0])

    def source_text(self, ident: str) -> str:
        rows = self._rows("SELECT text FROM sources WHERE id = ? OR alias = ?", (ident, ident))
        row = rows[0] if rows else None
        if row is None:
            raise UnknownTermError(f"unknown source {ident!r}")
        return str(row[0])

    def context(self, claim: Claim, chars: int = 80) -> tuple[str, str, str]:
        """(text before, the quote, text after) around a claim's quote in its source."""
        text = self.source_text(claim.source)
        start, end = claim.offset, claim.offset + len(claim.quote)
        return text[max(0, start - chars) : start], text[start:end], text[end : end + chars]

    # -- search -----------------------------------------------------------------------------------------------------
    def search(self, query: str, limit: int = 20) -> SearchResult:
        """Full-text search in Chinese or English, ranked by bm25; every term must match (else any term).

        Terms are separated by white space. A Chinese term matches as an exact substring (of any length); a Latin
        term matches words, the last word also as a prefix. Names of agents, classes, regimens, endpoints, sites and
        biomarkers in either language find the claims tagged with them.
        """
        terms = query.split()
        phrases = [p for p in (_fts_phrase(t) for t in terms) if p is not None]
        if not phrases:
            raise ValueError("empty query: give at least one word or Chinese character")
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        sql = (
            f"SELECT c.rowid, c.doc, bm25(claims_fts, {weights}) AS score FROM claims_fts "
            "JOIN claims c ON c.rowid = claims_fts.rowid WHERE claims_fts MATCH ? "
            "ORDER BY score, c.rowid LIMIT ?"
        )
        matched: Literal["all", "any", "none"] = "all"
        rows = self._rows(sql, (" AND ".join(phrases), limit))
        if not rows and len(phrases) > 1:
            matched = "any"
            rows = self._rows(sql, (" OR ".join(phrases), limit))
        if not rows:
            matched = "none"
        from mmemd.knowledge._search import SearchHit, SearchResult
        from mmemd.knowledge._text import find_spans

        hits = []
        for rowid, doc, score in rows:
            claim = self._claim(rowid, doc)
            spans = {f: find_spans(getattr(claim, f), terms) for f in HIGHLIGHT_FIELDS}
            hits.append(SearchHit(claim=claim, score=-float(score), spans=spans))
        return SearchResult(query=query, matched=matched, hits=hits)

    # -- summaries --------------------------------------------------------------------------------------------------
    def stats(self) -> dict[str, dict[str, int]]:
        claims = self.claims()
        alias = {s.id: s.alias for s in self.sources()}
        agents: Counter[str] = Counter()
        for c in claims:
            agents.update(set(c.interventions))
        return {
            "source": dict(Counter(alias[c.source] for c in claims).most_common()),
            "category": dict(Counter(c.category.value for c in claims).most_common()),
            "agent": dict(agents.most_common()),
            "endpoint": dict(Counter(c.endpoint for c in claims).most_common()),
            "grade": dict(sorted(Counter(c.grade for c in claims).items())),
            "design": dict(Counter(c.design.value for c in claims).most_common()),
            "emd_specific": dict(Counter(str(c.emd_specific).lower() for c in claims).most_common()),
        }

    def export_records(self) -> Iterator[dict[str, Any]]:
        """One flat record per claim with :data:`EXPORT_FIELDS` (numbers as JSON numbers, lists as lists)."""
        for c in self.claims():
            d = c.model_dump(mode="python")
            rec: dict[str, Any] = {}
            for f in EXPORT_FIELDS:
                if f == "disease":
                    rec[f] = c.population.disease
                elif f == "population_emd":
                    rec[f] = c.population.emd
                else:
                    val = d.get(f)
                    if isinstance(val, Decimal):
                        val = int(val) if val == val.to_integral_value() else float(val)
                    elif isinstance(val, tuple):
                        val = [v.value if isinstance(v, Enum) else v for v in val]
                    elif isinstance(val, Enum):
                        val = val.value
                    rec[f] = val
            yield rec


def _stored_claim(doc: str) -> Claim:
    """A claim of the store: validated when the store was built (from the curated files, by this code — the store's
    name carries the hash of the modules that shape it), so rebuilt from its JSON without validating again, which
    spares an assessment building the claim validator (~3 ms of its start-up). Anything that does not fit the
    claim's fields is validated, and rejected, as before."""
    try:
        return rebuilder(Claim)(orjson.loads(doc))
    except (NotRebuilt, orjson.JSONDecodeError):
        return Claim.model_validate_json(doc)


def load(cache_dir: Path | None = None) -> KnowledgeBase:
    """Open the knowledge base (building its store on first use) — the one entry point most callers need.

    The store's version and claims are kept in the cache by the store file's ``stat`` (:func:`stamped`) once it
    has been opened — and verified, or healed — and left unchanged for two seconds: while the file is unchanged, a
    knowledge base answers :meth:`~KnowledgeBase.get` from them and opens the store only for a query they cannot
    answer, so an assessment neither imports ``sqlite3`` nor opens the store (~3 ms). A store written, rebuilt or
    removed since has a different ``stat``: it is opened, verified and healed as before, and kept again.
    """
    vocab = vocabulary()
    path = store_path(cache_dir)
    opened: list[sqlite3.Connection] = []

    def keep() -> bytes:
        con = open_store(cache_dir)
        opened.append(con)
        docs = dict(con.execute("SELECT id, doc FROM claims").fetchall())
        version = con.execute("SELECT value FROM meta WHERE key = 'kb_version'").fetchone()[0]
        return marshal.dumps((version, docs))

    blob = stamped(stamp_name("store-claims", path), [path], keep)
    if opened:
        return KnowledgeBase(opened[0], vocab, reopen=reopener(cache_dir))
    assert blob is not None  # a kept entry always has a payload
    try:
        version, docs = marshal.loads(blob)
    except (EOFError, ValueError, TypeError):  # CRC-32 matched a damaged payload: open the store
        return KnowledgeBase(open_store(cache_dir), vocab, reopen=reopener(cache_dir))
    return KnowledgeBase(
        None,
        vocab,
        reopen=reopener(cache_dir),
        kept=(version, docs),
        connect=lambda: open_store(cache_dir),
    )
