"""What a full-text search returns (:meth:`mmemd.knowledge.KnowledgeBase.search`): the hits, ranked.

A module of its own so that an assessment, which reads claims but never searches, does not build these classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from mmemd.knowledge._models import Claim


@dataclass(frozen=True)
class SearchHit:
    claim: Claim
    score: float
    #: character spans matching the query, per field (statement_en, statement_zh, quote)
    spans: dict[str, list[tuple[int, int]]] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchResult:
    query: str
    #: "all" when every term matched; "any" when nothing matched all terms and the search fell back to any term
    matched: Literal["all", "any", "none"]
    hits: list[SearchHit]
