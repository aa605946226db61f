"""The facts a reason line states, for comparing an English reason with its Chinese: dates, numbers (3.0 = 3,
12.00 = 12, 1E-5 = 0.00001, the sign of a change aside), each with the comparison it is a threshold of (≥, >, <, ≤),
and the criterion cites (IMWG 2014, IMWG-2016 §1.3, general rule 1 = 一般规则1, IMS/IMWG 2025).

Identifiers are not facts: the digits of a record field or key (cytogenetics.t_4_14), a chromosome notation
(t(4;14), del(17p), 1q, 1p32), a lesion id (L1), a name with a digit (TP53, R2-ISS, β2, beta2) or a unit (mg/24h).
The year of a Chinese in-text citation ("Fernández de Larrea等，2021", where the English writes "et al.") is part of
the cite, not a fact. A myeloma-defining event keyed with its threshold (marrow_plasma_cells_ge_60) states that threshold (≥60).
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CITE_YEAR = re.compile(r"等，\d{4}")
_KEY_THRESHOLD = re.compile(r"_ge_(\d+)\b")
_IDENTIFIERS = (
    re.compile(r"(?:cytogenetics|labs|diagnosis)\.[a-z0-9_.]+"),
    re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"),
    re.compile(r"t\(\d+;\d+\)"),
    re.compile(r"(?<![0-9.])\d+(?!E[-+]?\d)[A-Za-z][A-Za-z0-9]*"),
    re.compile(r"(?:[A-Za-z]|β)+\d+[A-Za-z0-9]*"),
)
NUMBER = re.compile(r"([≥>≤<]) ?(\d+(?:\.\d+)?(?:E[-+]?\d+)?)|(\d+(?:\.\d+)?(?:E[-+]?\d+)?)")
CITE = re.compile(r"IMS/IMWG 2025|IMWG[- ]\d{4}|§\d+\.\d+|general rule \d+|一般规则\d+")


def _number(text: str) -> str:
    return format(Decimal(text).normalize(), "f")


def facts(text: str) -> Counter[str]:
    """The dates, numbers (with their comparison) of ``text``, as a multiset."""
    out: Counter[str] = Counter(DATE.findall(text))
    text = DATE.sub(" ", _KEY_THRESHOLD.sub(r" ≥\1 ", _CITE_YEAR.sub("等", text)))
    for pattern in _IDENTIFIERS:
        text = pattern.sub(" ", text)
    for cmp, bound, plain in NUMBER.findall(text):
        out[f"{cmp}{_number(bound)}" if cmp else _number(plain)] += 1
    return out


def cites(text: str) -> Counter[str]:
    """The criterion cites of ``text``, "general rule N" and "一般规则N" as one."""
    return Counter(
        c.replace("general rule ", "一般规则").replace("IMWG-", "IMWG ") for c in CITE.findall(text)
    )


def needs(text: str) -> int:
    """How often ``text`` says what a level or criterion needs ("needs …", "需…")."""
    return len(re.findall(r"\bneed(?:s|ed)?\b", text)) + text.count("需")
