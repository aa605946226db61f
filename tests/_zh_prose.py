"""English prose in Chinese clinician text: lower-case Latin words, which is what English prose is made of (a list of
known English words would miss new ones).

Allowed, and removed before the search: verbatim quotes of the claims (source text), claim ids, the reference list's
entries (titles of cited English publications), identifiers the caller names (record and lesion ids), version
strings, the vocabulary's own Latin names for Chinese (an INN without an NMPA name), and a short list of abbreviations
and units that Chinese clinical writing keeps in Latin letters. Capitalised words (trial and author names, CR, VGPR,
ORR, CAR-T, Isa-Kd) are not prose by this definition.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from mmemd.knowledge import vocabulary
from mmemd.report._citations import REFERENCES, REVIEWS, reference_text, short_cite
from mmemd.report._model import normalize_quote

#: Abbreviations and units kept in Latin letters in Chinese clinical text; mmemd is the product's name.
ALLOWED = frozenset({"vs", "del", "mg", "cm", "mmol", "kg", "mmemd"})
#: Compound units written in Latin letters in Chinese clinical text, removed whole (so "min" alone is still prose).
UNITS = ("mL/min/1.73 m²",)
#: A lower-case Latin word, not part of a longer word (accented Latin letters count as letters: Rosiñol).
WORD = re.compile(
    r"(?<![A-Za-z0-9_\u00b5\u00c0-\u024f])[a-z][a-z]+(?:[-_][a-z]+)*(?![A-Za-z0-9\u00b5\u00c0-\u024f])"
)
CLAIM_ID = re.compile(r"\b(?:emdtx|emdrev)-[A-Za-z0-9.]+-\d+\b")
KB_VERSION = re.compile(r"kb-[0-9.]+\+sha256:[0-9a-f]+")


@lru_cache(maxsize=1)
def _latin_terms() -> frozenset[str]:
    vocab = vocabulary()
    out: set[str] = set()
    for table in (
        vocab.classes,
        vocab.agents,
        vocab.procedures,
        vocab.regimens,
        vocab.biomarkers,
        vocab.sites,
    ):
        for term in table.values():
            out.update(WORD.findall(getattr(term, "zh", "") or ""))
    return frozenset(out)


def english_prose(text: str, kb: Any, identifiers: Iterable[str] = ()) -> list[str]:
    """The lower-case Latin words of ``text`` that are prose, in order."""
    for c in kb.claims():
        quote = normalize_quote(c.quote)
        if quote:
            text = text.replace(quote, " ").replace(html.escape(quote, quote=False), " ")
    for key in REFERENCES:
        ref = reference_text(key)
        text = text.replace(ref, " ").replace(html.escape(ref, quote=False), " ")
        # the in-text citation: an author's name may hold a lower-case particle (Fernández de Larrea)
        text = text.replace(short_cite(key, "zh"), " ")
    for unit in UNITS:
        text = text.replace(unit, " ")
    for review in REVIEWS.values():
        text = text.replace(review["en"], " ")
    for ident in sorted(identifiers, key=len, reverse=True):
        text = text.replace(ident, " ")
    text = KB_VERSION.sub(" ", CLAIM_ID.sub(" ", text))
    allowed = ALLOWED | _latin_terms()
    return [w for w in WORD.findall(text) if w not in allowed]


def record_identifiers(record: dict[str, Any]) -> list[str]:
    return [str(record["id"]), *(str(les["id"]) for les in record.get("lesions", []))]
