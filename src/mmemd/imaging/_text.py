"""Normalising a report for matching while keeping every offset into the original text.

Each character is NFKC-normalised on its own when that yields one character (full-width ``４．２ｃｍ`` becomes
``4.2cm``, ``：`` becomes ``:``), so the normalised text and the original stay aligned. OCR-like spacing is removed:
in Chinese all horizontal whitespace goes (``肝 S6 段`` reads ``肝S6段``), in English runs of it become one space.
``to_original`` maps each normalised position back, so spans are always reported in the caller's text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from mmemd.imaging._lexicon import Lang


@dataclass(frozen=True)
class Normalized:
    text: str
    to_original: tuple[int, ...]
    original_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the normalised ``[start, end)``."""
        if start >= end:
            pos = self.to_original[start] if start < len(self.to_original) else self.original_length
            return pos, pos
        return self.to_original[start], self.to_original[end - 1] + 1


_CJK: Final = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_LATIN: Final = re.compile(r"[A-Za-z]")


@lru_cache(maxsize=4096)
def _char(c: str) -> str:
    n = unicodedata.normalize("NFKC", c)
    return n if len(n) == 1 else c


def detect_language(text: str) -> Lang:
    """``zh`` when Chinese characters make up at least a fifth of the letters, else ``en``."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    return "zh" if cjk and cjk * 5 >= cjk + latin else "en"


def normalize(text: str, lang: Lang) -> Normalized:
    out: list[str] = []
    where: list[int] = []
    for i, raw in enumerate(text):
        c = raw if raw.isascii() else _char(raw)
        if c == "\r":
            continue
        if c in " \t\u3000\xa0" or (c.isspace() and c != "\n"):
            if lang == "zh":
                continue
            if out and out[-1] in " \n":
                continue
            c = " "
        out.append(c)
        where.append(i)
    return Normalized("".join(out), tuple(where), len(text))
