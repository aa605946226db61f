"""Report-level facts: modality and study date, with the span each came from."""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from mmemd.imaging._lexicon import lexicon

_EXAM_LINE: Final = re.compile(
    r"^[ \t]*(?:检查项目|检查名称|检查方法|检查部位|exam|examination|procedure|study)[ \t]*:[^\n]*",
    re.IGNORECASE | re.MULTILINE,
)
_DATE_LABEL: Final = re.compile(
    r"(?:检查日期|检查时间|date\s+of\s+exam|exam\s+date|study\s+date|date\s+of\s+service|^[ \t]*date)\s*:\s*"
    r"(?:(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"|(?P<um>\d{1,2})/(?P<ud>\d{1,2})/(?P<uy>\d{4})"
    r"|(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(?P<md>\d{1,2}),?\s+(?P<my>\d{4}))",
    re.IGNORECASE | re.MULTILINE,
)


_MONTHS: Final = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def modality(text: str) -> tuple[str, int, int] | None:
    """The modality named on the exam line, else the first named anywhere (PET-CT, MRI, ultrasound, CT in order)."""
    lines = [(m.start(), m.end()) for m in _EXAM_LINE.finditer(text)] or [(0, len(text))]
    for lo, hi in lines:
        for name, pattern in lexicon().modality:
            m = pattern.search(text, lo, hi)
            if m:
                return name, m.start(), m.end()
    return None


def study_date(text: str) -> tuple[str, int, int] | None:
    """The labelled date of the study (检查日期, "Exam date"); US month/day/year when written with slashes, and
    "March 5, 2025"."""
    for m in _DATE_LABEL.finditer(text):
        if m.group("y"):
            y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d"))
        elif m.group("mon"):
            y, mo, d = int(m.group("my")), _MONTHS.index(m.group("mon").lower()[:3]) + 1, int(m.group("md"))
        else:
            y, mo, d = int(m.group("uy")), int(m.group("um")), int(m.group("ud"))
        try:
            iso = date(y, mo, d).isoformat()
        except ValueError:
            continue
        start = m.start("y") if m.group("y") else m.start("mon") if m.group("mon") else m.start("um")
        return iso, start, m.start() + len(m.group(0).rstrip())
    return None
