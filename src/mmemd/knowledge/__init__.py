"""The evidence knowledge base: every finding of the two seed reviews as a structured, bilingual, citable claim.

>>> from mmemd import knowledge
>>> kb = knowledge.load()
>>> claims = kb.claims(agent="pomalidomide", endpoint="ORR")
>>> hits = kb.search("泊马度胺 髓外").hits

See docs/knowledge.md for the model, docs/curation.md for the data files, docs/grading.md for the grade rubric.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmemd._lazy import lazy_exports

if TYPE_CHECKING:
    from mmemd.knowledge._data import kb_version
    from mmemd.knowledge._glossary import Glossary, load_glossary
    from mmemd.knowledge._grade import SMALL_STUDY_N, grade_claim
    from mmemd.knowledge._kb import EXPORT_FIELDS, KnowledgeBase, UnknownTermError, load
    from mmemd.knowledge._load import CurationError, Problem, load_curated
    from mmemd.knowledge._models import Category, Claim, Design, Direction, Flag, Population, Source
    from mmemd.knowledge._search import SearchHit, SearchResult
    from mmemd.knowledge._vocab import Vocabulary, vocabulary

# Each name is imported from its module on first use, so a caller pays only for what it reads: record validation
# needs the vocabulary, not the SQLite store, the claim models or the curation loader (which validates every claim
# against its quote and is needed only to build the store).
_LAZY = {
    "kb_version": "_data",
    "Glossary": "_glossary",
    "load_glossary": "_glossary",
    "SMALL_STUDY_N": "_grade",
    "grade_claim": "_grade",
    "EXPORT_FIELDS": "_kb",
    "KnowledgeBase": "_kb",
    "SearchHit": "_search",
    "SearchResult": "_search",
    "UnknownTermError": "_kb",
    "load": "_kb",
    "CurationError": "_load",
    "Problem": "_load",
    "load_curated": "_load",
    "Category": "_models",
    "Claim": "_models",
    "Design": "_models",
    "Direction": "_models",
    "Flag": "_models",
    "Population": "_models",
    "Source": "_models",
    "Vocabulary": "_vocab",
    "vocabulary": "_vocab",
}

__all__ = [
    "EXPORT_FIELDS",
    "SMALL_STUDY_N",
    "Category",
    "Claim",
    "CurationError",
    "Design",
    "Direction",
    "Flag",
    "Glossary",
    "KnowledgeBase",
    "Population",
    "Problem",
    "SearchHit",
    "SearchResult",
    "Source",
    "UnknownTermError",
    "Vocabulary",
    "grade_claim",
    "kb_version",
    "load",
    "load_curated",
    "load_glossary",
    "vocabulary",
]


__getattr__ = lazy_exports(__name__, _LAZY)
