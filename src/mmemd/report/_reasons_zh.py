"""The engine's reason lines in Chinese, fact for fact.

The engine writes each reason (clinical/emd.py, staging.py, risk.py, _response_text.py, response.py) from a fixed set
of templates whose slots are the structured values it decided on: numbers, dates, the thresholds it applied, the
criterion and section. Each template has one Chinese row in :data:`mmemd.report._i18n.REASON_PHRASES`; the values
are carried over unchanged, so a Chinese haematologist reads the same numbers, thresholds ("≥50%", "<200 mg/24h",
"需…") and criterion cites ("IMWG-2016 §1.3", "一般规则1", "IMWG 2014") as an English one. The lesion and
myeloma-defining-event lists are worded through the glossary and the vocabulary, as the rest of the report.

A line for which no template matches (a new engine wording without its Chinese row) is never shown in English:
:data:`UNTRANSLATED_ZH` stands in its place, and the tests over the examples and the benchmark records fail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import Final

from mmemd.knowledge import load_glossary, vocabulary
from mmemd.report._citations import REFERENCES, short_cite
from mmemd.report._i18n import REASON_PHRASES, key_label, plain_keys

#: What stands in for an engine line that has no Chinese wording yet (never the English line).
UNTRANSLATED_ZH: Final = "（此条依据尚无中文表述）"

_LESION = re.compile(r"^(?P<id>[^\s:()]+)(?: \((?P<site>[^()]*)\))?: (?P<rest>.+)$")
#: A record field the engine names (``cytogenetics.t_14_20``), found also where Chinese around it leaves no word
#: boundary for :func:`plain_keys` to find.
_FIELD = re.compile(r"(?<![A-Za-z0-9_])(?:cytogenetics|labs|diagnosis)\.[a-z0-9_]+(?![a-z0-9_])")
_MDE = re.compile(r"myeloma-defining events: (?P<events>[a-z0-9_]+(?:, [a-z0-9_]+)*)(?=;|$)")
#: English prose left after the translation: a lower-case Latin word (units kept in Latin letters aside).
_PROSE = re.compile(r"(?<![A-Za-z0-9_\u00b5\u00c0-\u024f])[a-z][a-z]+(?![A-Za-z0-9\u00b5\u00c0-\u024f])")
_LATIN_OK: Final = frozenset({"mg", "cm", "del", "vs", "mmol", "kg"})
#: Lesion descriptors the engine writes that are not glossary terms (clinical/emd.py ``_describe``).
_LESION_EXTRA: Final = {"not biopsy-proven": "未经活检证实", "CNS involvement": "中枢神经系统受累"}


_META: Final = frozenset("()[]{}.*+?|^$\\")


def literal_key(pattern: str) -> str:
    """The longest run of literal text every match of ``pattern`` contains ("" when there is none to be sure of):
    outside any group, class or alternation, and not made optional by a quantifier."""
    if "|" in pattern.replace("\\|", ""):
        depth = 0
        for i, ch in enumerate(pattern):
            if ch == "(" and (i == 0 or pattern[i - 1] != "\\"):
                depth += 1
            elif ch == ")" and pattern[i - 1] != "\\":
                depth -= 1
            elif ch == "|" and depth == 0 and pattern[i - 1] != "\\":
                return ""  # an alternation at the top: no text common to every match
    runs: list[str] = []
    cur: list[str] = []
    i, depth, n = 0, 0, len(pattern)

    def cut() -> None:
        runs.append("".join(cur))
        cur.clear()

    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if depth == 0 and nxt in _META | {"/", "-", "^"}:
                cur.append(nxt)
            else:
                cut()
            i += 2
        elif ch == "[":
            cut()
            i = pattern.index("]", i + 2) + 1
        elif ch == "(":
            cut()
            depth += 1
            i += 1
        elif ch == ")":
            depth -= 1
            i += 1
        elif ch in "?*{":
            if cur:
                cur.pop()  # the character before an optional quantifier may be absent
            cut()
            i = pattern.index("}", i) + 1 if ch == "{" else i + 1
        elif ch in "+.^$":
            cut()
            i += 1
        else:
            if depth == 0:
                cur.append(ch)
            i += 1
    cut()
    return max(runs, key=len)


@lru_cache(maxsize=1)
def _rows() -> tuple[tuple[str, str, str], ...]:
    """(literal key, pattern, Chinese) per row: a row is compiled and run only on a line holding its key."""
    return tuple((literal_key(pattern), pattern, zh) for pattern, zh in REASON_PHRASES)


@cache
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@lru_cache(maxsize=1)
def _lesion_parts() -> tuple[tuple[str, str], ...]:
    """The lesion descriptors, English to Chinese, longest first (the engine's wording is the glossary's English)."""
    g = load_glossary()
    parts = dict(_LESION_EXTRA)
    for key in g.terms:
        if key.startswith(("relation.", "confirmation.", "detected.")):
            parts[g.term(key, "en")] = g.term(key, "zh")
    return tuple(sorted(parts.items(), key=lambda kv: -len(kv[0])))


@lru_cache(maxsize=1)
def _cites() -> tuple[str, ...]:
    """The in-text citations (an author's name may hold a lower-case particle: Fernández de Larrea)."""
    return tuple(short_cite(k, "zh") for k in REFERENCES)


def _lesion_line(line: str) -> str | None:
    """``L1 (liver): extraosseous lesion without bone contact, biopsy-proven, …`` in Chinese; None when ``line``
    is not a lesion line."""
    m = _LESION.match(line)
    if m is None:
        return None
    rest, tail = m["rest"], ""
    if rest.endswith(" — a feature of the PCL"):
        rest, tail = rest[: -len(" — a feature of the PCL")], "——属浆细胞白血病的表现"
    out: list[str] = []
    parts = _lesion_parts()
    while rest:
        hit = next(((en, zh) for en, zh in parts if rest.startswith(en)), None)
        if hit is None:
            return None
        out.append(hit[1])
        rest = rest[len(hit[0]) :]
        if rest.startswith(", "):
            rest = rest[2:]
        elif rest:
            return None
    site = f"（{vocabulary().label(m['site'], 'zh')}）" if m["site"] else ""
    return f"{m['id']}{site}：{'，'.join(out)}{tail}"


def _field(m: re.Match[str]) -> str:
    return key_label("zh", m.group(0)) or m.group(0)


def _events(m: re.Match[str]) -> str:
    g = load_glossary()
    names = [g.term(f"mde.{e}", "zh") if f"mde.{e}" in g.terms else e for e in m["events"].split(", ")]
    return "骨髓瘤定义事件：" + "、".join(names)


def _phrases(text: str, used: set[int] | None = None) -> str:
    """``text`` through the template rows in order; ``used`` collects the indexes of the rows that matched."""
    for i, (key, pattern, zh) in enumerate(_rows()):
        if key not in text:
            continue
        text, n = _compile(pattern).subn(zh, text)
        if n and used is not None:
            used.add(i)
    return text


def reason_zh(line: str, identifiers: Iterable[str] = ()) -> str:
    """One engine reason line in Chinese (:data:`UNTRANSLATED_ZH` when no template matches it).

    ``identifiers``: the record's own ids (lesion ids) that may appear in Latin letters."""
    lesion = _lesion_line(line)
    text = lesion if lesion is not None else _MDE.sub(_events, line)
    text = plain_keys(_FIELD.sub(_field, _phrases(text)), "zh")
    check = text
    for cite in _cites():
        check = check.replace(cite, " ")
    for ident in sorted(identifiers, key=len, reverse=True):
        check = check.replace(ident, " ")
    if any(w not in _LATIN_OK for w in _PROSE.findall(check)):
        return UNTRANSLATED_ZH
    return text


def reasons_zh(lines: Iterable[str], identifiers: Iterable[str] = ()) -> list[str]:
    ids = tuple(identifiers)
    return [reason_zh(line, ids) for line in lines]
