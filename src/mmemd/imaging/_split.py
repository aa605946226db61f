"""Sections (检查所见/诊断意见, Findings/Impression), sentences and clauses, as spans of the normalised text.

Only findings and impression are read. Clinical history, indication and comparison blocks are skipped (a history of
plasmacytoma is not a finding of this study), as are one-line header fields (exam, date). A report with no findings
or impression heading is read whole, as findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from mmemd.imaging._lexicon import Lang, lexicon

SectionKind = Literal["findings", "impression"]

# Headings after which the block runs to the next heading; other "other" headings cover their own line only.
_BLOCK_OTHER = frozenset(
    {
        "clinical history",
        "history",
        "indication",
        "indications",
        "comparison",
        "technique",
        "clinical information",
        "reason for exam",
        "临床诊断",
        "临床资料",
        "临床病史",
        "病史",
    }
)


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Section:
    kind: SectionKind
    start: int
    end: int


@lru_cache(maxsize=2)
def _heading(lang: Lang) -> re.Pattern[str]:
    terms = sorted(lexicon().sections[lang], key=lambda kt: len(kt[1]), reverse=True)
    alt = "|".join(f"(?P<h{i}>{re.escape(t)})" for i, (_, t) in enumerate(terms))
    # A heading starts a line (after optional numbering) and is followed by a colon, or ends the line.
    return re.compile(rf"^[ \t]*(?:{alt})[ \t]*(?::|$)", re.IGNORECASE | re.MULTILINE)


def sections(text: str, lang: Lang) -> list[Section]:
    terms = sorted(lexicon().sections[lang], key=lambda kt: len(kt[1]), reverse=True)
    heads: list[tuple[int, int, str, str]] = []  # line start, content start, kind, term
    for m in _heading(lang).finditer(text):
        i = int(m.lastgroup[1:]) if m.lastgroup else 0
        kind, term = terms[i]
        heads.append((m.start(), m.end(), kind, term.lower()))
    has_main = any(k in ("findings", "impression") for _, _, k, _ in heads)
    out: list[Section] = []
    state: str = "findings" if not has_main else "preamble"
    pos = 0
    for line_start, content_start, kind, term in heads:
        if state in ("findings", "impression") and line_start > pos:
            out.append(Section(state, pos, line_start))  # type: ignore[arg-type]
        if kind in ("findings", "impression"):
            state, pos = kind, content_start
        elif term in _BLOCK_OTHER:
            state, pos = "other", content_start
        else:
            line_end = text.find("\n", content_start)
            pos = len(text) if line_end < 0 else line_end
    if state in ("findings", "impression") and len(text) > pos:
        out.append(Section(state, pos, len(text)))  # type: ignore[arg-type]
    return [s for s in out if text[s.start : s.end].strip()]


# Sentence ends: Chinese and ASCII full stops (a "." not inside a number), semicolons, "!" and line breaks.
_SENTENCE_END = re.compile(r"[。；;！!\n]|\.(?!\d)")
_CLAUSE_END = re.compile(r"[，,：:]")


def _pieces(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[Span]:
    out: list[Span] = []
    pos = start
    for m in pattern.finditer(text, start, end):
        if text[pos : m.start()].strip():
            out.append(Span(pos, m.start()))
        pos = m.end()
    if text[pos:end].strip():
        out.append(Span(pos, end))
    return out


def sentences(text: str, section: Section) -> list[Span]:
    return _pieces(text, section.start, section.end, _SENTENCE_END)


def clauses(text: str, sentence: Span) -> list[Span]:
    return _pieces(text, sentence.start, sentence.end, _CLAUSE_END)
