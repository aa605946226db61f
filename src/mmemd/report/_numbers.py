"""Numbered citations: the report cites each knowledge-base claim by a number, not by its id.

A clinician cannot look up ``emdtx-7-05``; a number that leads to an evidence entry naming the publication can be.
Numbers are given in the order claims are first cited in the report, as in a journal's numbered (Vancouver) style;
several numbers in one bracket are sorted, and a run of three or more consecutive numbers is written as a range
(``[3, 5–7]``), a run of two as two numbers (``[5, 6]``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

#: A citation of claims by id, as the document is first built: ``[emdtx-7-05, emdrev-5-03]``.
CLAIM_CITE: Final = re.compile(r"\[([a-z]+-[a-z0-9.]+-\d{2}(?:, [a-z]+-[a-z0-9.]+-\d{2})*)\]")
#: A numbered citation as the reader sees it: ``[3]``, ``[3, 5–7]``.
NUMBER_CITE: Final = re.compile(r"\[(\d+(?:–\d+)?(?:, \d+(?:–\d+)?)*)\]")
#: The dash of a range (en dash, as in "5–7").
RANGE: Final = "–"


def collapse(numbers: Iterable[int]) -> str:
    """Sorted, without repeats, runs of three or more as ranges: ``[7, 3, 5, 6]`` → ``"3, 5–7"``."""
    out: list[str] = []
    run: list[int] = []
    for n in sorted(set(numbers)):
        if run and n != run[-1] + 1:
            out.append(_run(run))
            run = []
        run.append(n)
    if run:
        out.append(_run(run))
    return ", ".join(out)


def _run(run: list[int]) -> str:
    if len(run) >= 3:
        return f"{run[0]}{RANGE}{run[-1]}"
    return ", ".join(str(n) for n in run)


def expand(group: str) -> list[int]:
    """The numbers a citation's text stands for: ``"3, 5–7"`` → ``[3, 5, 6, 7]``."""
    out: list[int] = []
    for part in group.split(", "):
        first, _, last = part.partition(RANGE)
        out.extend(range(int(first), int(last or first) + 1))
    return out


class Numbering:
    """Claim ids to citation numbers, given on first sight."""

    __slots__ = ("_numbers",)

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}

    def number(self, claim_id: str) -> int:
        return self._numbers.setdefault(claim_id, len(self._numbers) + 1)

    def cite(self, text: str) -> str:
        """``text`` with each bracket of claim ids replaced by the claims' numbers (numbering new ones in order)."""
        if "[" not in text:
            return text
        return CLAIM_CITE.sub(lambda m: f"[{collapse(self.number(i) for i in m.group(1).split(', '))}]", text)

    @property
    def claims(self) -> tuple[str, ...]:
        """The cited claim ids in number order (number ``n`` is ``claims[n - 1]``)."""
        return tuple(self._numbers)
