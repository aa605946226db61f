"""Sizes and SUVmax, read exactly.

Sizes: ``4.2cm×3.1cm``, ``42 mm x 31 mm``, ``3.4 x 1.8 x 2.0 cm``, ``最厚约1.5cm``, ``长径约2.6cm，短径约1.8cm``; the unit written last applies to
numbers written without one. Millimetres become centimetres by exact decimal division (``Decimal("18") / 10`` is
``1.8``). Of three diameters the two largest are kept; the pair is ordered long, short — the longest diameter and
its perpendicular, as plasmacytoma response is measured. A size or SUV written after a prior-study word in its
clause ("前片约…", "原约…", "previously …", "decreased from …") is the prior study's and is skipped; a single length
that places a finding (距乳头3cm处, "3 cm from the nipple") is a distance and is skipped too. SUVmax is read
as ``SUVmax 9.8``, ``SUV 9.8`` (but not SUVmean or SUVpeak), ``SUVmax=9.8``, ``SUV max 约9.8``, ``max SUV of 9.8``, ``SUV最大值约9.8``; of a change written in one
phrase (``SUVmax由5.1升至11.3``, ``SUVmax from 9.6 to 4.1``) the current value is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from mmemd.imaging._lexicon import Lang, lexicon

_NUM: Final = r"\d+(?:\.\d+)?"
_UNIT: Final = r"(?:cm|mm|厘米|毫米)"
_BY: Final = r"\s*(?:[×xX*＊]|by)\s*"
_SIZE: Final = re.compile(
    rf"(?<![\d.])(?P<a>{_NUM})\s*(?P<ua>{_UNIT})?(?:{_BY}(?P<b>{_NUM})\s*(?P<ub>{_UNIT})?"
    rf"(?:{_BY}(?P<c>{_NUM})\s*(?P<uc>{_UNIT})?)?)?(?P<pow>[23](?![\d.]))?(?![A-Za-z\d])",
    re.IGNORECASE,
)
_SUV: Final = re.compile(
    rf"(?:SUV\s*max|SUV\s*\(\s*max\s*\)|max(?:imum|\.)?\s+SUV|SUV\s*最大值|最大SUV|SUV(?![A-Za-z]))\s*[)）]?\s*(?:值)?\s*"
    rf"(?:约|为|达|高达|=|:|of|is|was|approximately|approx\.?|~|up\s+to|measuring)?\s*(?:约|为)?\s*"
    rf"(?:(?P<from>由|从|from)\s*)?(?P<v>{_NUM})"
    rf"(?:\s*(?:升至|升高至|增至|增高至|增加至|降至|下降至|减低至|降低至|减少至|to|->|→)\s*(?P<w>{_NUM}))?",
    re.IGNORECASE,
)
# Two diameters written apart: 长径约2.6cm，短径约1.8cm; "long axis 2.6 cm, short axis 1.8 cm"; "2.6 cm in long
# axis and 1.8 cm in short axis".
_LONG: Final = r"(?:长径|最大径|long[\s-]axis|longest\s+diameter)"
_SHORT: Final = r"(?:短径|short[\s-]axis)"
_PAIR: Final = re.compile(
    rf"{_LONG}\D{{0,8}}?(?P<a>{_NUM})\s*(?P<ua>{_UNIT})?\D{{0,12}}?{_SHORT}\D{{0,8}}?(?P<b>{_NUM})\s*(?P<ub>{_UNIT})"
    rf"|(?P<a2>{_NUM})\s*(?P<ua2>{_UNIT})\s*(?:in\s+)?{_LONG}\D{{0,16}}?(?P<b2>{_NUM})\s*(?P<ub2>{_UNIT})\s*"
    rf"(?:in\s+)?{_SHORT}",
    re.IGNORECASE,
)
_TEN: Final = Decimal(10)
# A single length that says where a lesion is, not how big it is: 距乳头3cm, 距肛缘5cm, "4 cm from the nipple".
_DISTANCE_BEFORE: Final = re.compile(r"距[^\d，,。；;]{0,6}$")
_DISTANCE_AFTER: Final = re.compile(r"\s*(?:from|away\s+from|deep\s+to)\b|\s*处", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Size:
    cm: tuple[Decimal, ...]  # (long, short) or (single,)
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Suv:
    value: Decimal
    start: int
    end: int


def _cm(value: str, unit: str) -> Decimal:
    d = Decimal(value)
    return d / _TEN if unit.lower() in ("mm", "毫米") else d


def sizes(text: str, start: int, end: int) -> list[Size]:
    out: list[Size] = []
    pairs: list[Size] = []
    for m in _PAIR.finditer(text, start, end):
        a, b = (m.group("a"), m.group("b")) if m.group("a") else (m.group("a2"), m.group("b2"))
        ub = m.group("ub") or m.group("ub2")
        ua = m.group("ua") or m.group("ua2") or ub
        dims = sorted((_cm(a, ua), _cm(b, ub)), reverse=True)
        if all(d > 0 for d in dims):
            pairs.append(Size(tuple(dims), m.start(), m.end()))
    for m in _SIZE.finditer(text, start, end):
        if any(p.start <= m.start() < p.end for p in pairs):
            continue
        nums = [m.group(k) for k in ("a", "b", "c") if m.group(k)]
        if m.group("pow") and (len(nums) == 1 or not any(m.group(k) for k in ("ua", "ub", "uc"))):
            continue  # 体积约12cm³ is a volume; "4.2×3.1×2.0cm³" writes three lengths with a cube sign
        units = [m.group(k) for k in ("ua", "ub", "uc")]
        last = next((u for u in reversed(units[: len(nums)]) if u), None)
        if last is None:
            continue
        filled = []
        for n, u in zip(nums, units, strict=False):
            filled.append(_cm(n, u or last))
        dims = sorted(filled, reverse=True)[:2]
        if any(d <= 0 for d in dims):
            continue
        if len(nums) == 1 and (
            _DISTANCE_BEFORE.search(text, max(0, m.start() - 7), m.start())
            or _DISTANCE_AFTER.match(text, m.end())
        ):
            continue
        out.append(Size(tuple(dims), m.start(), m.end()))
    return sorted(out + pairs, key=lambda v: v.start)


def suvs(text: str, start: int, end: int) -> list[Suv]:
    """Each SUVmax; of "SUVmax由5.1升至11.3" / "SUVmax from 9.6 to 4.1" the current (second) value."""
    out = []
    for m in _SUV.finditer(text, start, end):
        value = m.group("w") if m.group("from") and m.group("w") else m.group("v")
        out.append(Suv(Decimal(value), m.start(), m.end()))
    return out


_PRIOR_WINDOW: Final = {"zh": 6, "en": 16}


def is_prior(text: str, clause_start: int, value_start: int, lang: Lang) -> bool:
    """True when a prior-study word ends shortly before the value, in the same clause."""
    lo = max(clause_start, value_start - _PRIOR_WINDOW[lang])
    return lexicon().prior[lang].search(text, lo, value_start) is not None
