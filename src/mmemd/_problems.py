"""One problem shape for every input mmemd reads: where (a JSON path), what (a stable code), and a message.

:class:`Problem` is the unit every entry point reports — ``mmemd validate`` prints it, the CLI exits 2 with it, the
service renders it as an RFC 9457 ``errors`` entry. Values that parametrise a message (a limit, the length found) go in
``ctx`` so the message can be re-rendered, as pydantic-core's ``ErrorDetails`` does.

:class:`MmemdError` is the base of the errors that carry problems.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

import msgspec

Loc = tuple[str | int, ...]

_IDENT: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def json_path(loc: Iterable[str | int]) -> str:
    """``('assessments', 2, 'serum_m_protein', 'unit')`` -> ``$.assessments[2].serum_m_protein.unit``."""
    parts = ["$"]
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        elif _IDENT.match(p):
            parts.append(f".{p}")
        else:
            parts.append(f"[{json.dumps(p, ensure_ascii=False)}]")
    return "".join(parts)


class Problem(msgspec.Struct, frozen=True):
    """One problem of an input document. Two problems are equal (and hash alike) by where, what and which code:
    the input line and the message's values (``line``, ``ctx``) are not compared."""

    loc: Loc
    message: str
    accepted: tuple[str, ...] = ()
    code: str = "invalid"
    line: int | None = None  # input line (batch mode), 1-based
    ctx: Mapping[str, Any] | None = None

    def _compared(self) -> tuple[Loc, str, tuple[str, ...], str]:
        return (self.loc, self.message, self.accepted, self.code)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._compared() == other._compared()

    def __ne__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._compared() != other._compared()

    def __hash__(self) -> int:
        return hash(self._compared())

    @property
    def path(self) -> str:
        return json_path(self.loc)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "code": self.code, "message": self.message}
        if self.accepted:
            out["accepted"] = list(self.accepted)
        return out

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}"
        if self.accepted and "accepted" not in self.message:
            text += f" (accepted: {', '.join(self.accepted)})"
        return text


class MmemdError(Exception):
    """Base of the errors that carry :class:`Problem` s (``problems``, in document order)."""

    problems: tuple[Problem, ...]
