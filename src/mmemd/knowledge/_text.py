"""Text normalisation shared by the full-text index, the query parser and the highlighter.

Chinese has no spaces between words, and the seeds' OCR breaks lines (and inserts spaces) inside words. The index
therefore stores Chinese as one token per character and matches a Chinese term as a *phrase* of its characters:
that is exact substring search for terms of any length — including two-character terms such as 髓外 or 预后, which
a trigram index cannot find — and it matches across the OCR's line breaks.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# CJK Unified Ideographs (+ extension A) and compatibility ideographs: one token per character.
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"([{_CJK}])")
# A word is a run of letters/digits that are not CJK: "RRMM患者" is "rrmm", "患", "者".
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+", re.UNICODE)


def normalize(text: str) -> str:
    """NFKC (full-width letters and digits become ASCII) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def tokens(text: str) -> list[str]:
    """Index tokens: each CJK character alone; runs of other letters and digits as words."""
    return _TOKEN.findall(normalize(text))


def index_text(text: str) -> str:
    """The text as the FTS5 ``unicode61`` tokenizer should see it (CJK characters separated by spaces)."""
    return " ".join(tokens(text))


@lru_cache(maxsize=512)
def term_pattern(term: str) -> re.Pattern[str] | None:
    """A regex finding ``term`` in normalised text, allowing any non-word gap between its tokens.

    The gap allowance mirrors the phrase match of the index: ``CAR-T`` finds "CAR-T" and "CAR T", ``复发难治多发性``
    finds "复发难治多发\\n\\n性".
    """
    toks = tokens(term)
    if not toks:
        return None
    return re.compile(r"[\W_]*".join(re.escape(t) for t in toks))


def find_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Character spans of ``text`` matching any of ``terms``, merged and sorted.

    Normalisation is done character by character so that spans index the original text.
    """
    norm_chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        n = normalize(ch)
        norm_chars.append(n)
        origin.extend([i] * len(n))
    norm = "".join(norm_chars)
    spans: list[tuple[int, int]] = []
    for term in terms:
        pat = term_pattern(term)
        if pat is None:
            continue
        for m in pat.finditer(norm):
            if m.end() > m.start():
                spans.append((origin[m.start()], origin[m.end() - 1] + 1))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def mark(text: str, spans: list[tuple[int, int]], before: str = "«", after: str = "»") -> str:
    out, last = [], 0
    for s, e in spans:
        out += [text[last:s], before, text[s:e], after]
        last = e
    out.append(text[last:])
    return "".join(out)
