"""One error report listing every problem of an input document, each with its JSON path and the accepted values.

A record is either valid as a whole or rejected as a whole (docs/record.md): no partial assessment is ever produced
from an invalid record. :class:`RecordError` carries every :class:`Problem` found, in document order.

``RecordError`` deliberately derives from ``Exception`` and not from ``ValueError``: the record model raises it from
inside pydantic validation (so ``PatientRecord.model_validate`` reports field *and* cross-field problems together), and
pydantic would otherwise swallow a ``ValueError`` into a single generic line.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from mmemd._problems import Loc, MmemdError, Problem, json_path

__all__ = [
    "DUPLICATE_KEY_MARKER",
    "Loc",
    "Problem",
    "RecordError",
    "json_path",
    "loads",
    "problems_from_validation_error",
]

# Marker key inserted by :func:`loads` into an object that repeated a key; the models forbid unknown keys, so the
# marker surfaces as a problem at the right path and is rewritten into "duplicate key" here.
DUPLICATE_KEY_MARKER: Final = "\x00duplicate-key:"


def _sort_key(p: Problem) -> tuple[tuple[tuple[int, int, str], ...], str]:
    # Document order is unknown after validation; sort by path (indices numerically) for a stable report.
    return tuple((0, x, "") if isinstance(x, int) else (1, 0, x) for x in p.loc), p.message


class RecordError(MmemdError):
    """The input document is invalid. ``problems`` lists every problem found (never only the first)."""

    def __init__(self, problems: Iterable[Problem], kind: str = "mmemd.patient/1") -> None:
        unique: dict[tuple[Loc, str], Problem] = {}
        for p in problems:
            unique.setdefault((p.loc, p.message), p)
        self.problems: tuple[Problem, ...] = tuple(sorted(unique.values(), key=_sort_key))
        self.kind = kind
        n = len(self.problems)
        super().__init__(
            f"invalid {kind} document: {n} problem{'s' if n != 1 else ''}\n"
            + "\n".join(map(str, self.problems))
        )

    def report(self) -> dict[str, Any]:
        """The JSON error report (``mmemd.errors/1``)."""
        return {
            "schema": "mmemd.errors/1",
            "valid": False,
            "document": self.kind,
            "problem_count": len(self.problems),
            "problems": [p.as_dict() for p in self.problems],
        }

    def report_text(self) -> str:
        return str(self)


# --- JSON parsing ---------------------------------------------------------------------------------------------


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                d[DUPLICATE_KEY_MARKER + k] = None
            seen.add(k)
    return d


def not_utf8(data: bytes) -> str | None:
    """Why ``data`` is not UTF-8 text (JSON documents are UTF-8, RFC 8259 §8.1), or None when it is."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} is not valid UTF-8 "
            "(save the file as UTF-8; a GBK or Latin-1 file must be converted first)"
        )
    return None


def loads(text: str | bytes) -> Any:
    """Parse JSON through the input boundary (:func:`mmemd._json.parse_json`); raises :class:`RecordError`.

    Malformed JSON is reported at path ``$`` with line and column; an over-long number or string, nesting too deep
    and ``NaN``/``Infinity`` at their own paths. A key repeated within one object is kept visible (see
    ``DUPLICATE_KEY_MARKER``) instead of the usual silent "last one wins", which would drop clinical data without a
    word, and is reported with the record's other problems.
    """
    from mmemd._json import JsonInputError, parse_json

    if isinstance(text, bytes):
        why = not_utf8(text)
        if why:
            # Named as what it is (a GBK or Latin-1 file, say), not as malformed JSON; same code, so callers that map
            # unreadable input to "400 Bad Request" keep doing so.
            raise RecordError([Problem((), why, code="malformed_json")])
    try:
        return parse_json(text, object_pairs_hook=_pairs_hook)
    except JsonInputError as exc:
        raise RecordError(exc.problems) from None


# --- pydantic errors -> problems ------------------------------------------------------------------------------


def _unwrap(tp: Any) -> Any:
    """Strip Annotated / Optional layers."""
    while True:
        origin = get_origin(tp)
        if origin is typing.Annotated:
            tp = get_args(tp)[0]
        elif origin is Union or origin is types.UnionType:
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _field_by_key(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.annotation
    return None


def _resolve(root: type[BaseModel], loc: Sequence[str | int]) -> Any:
    """The (unwrapped) type annotation at ``loc`` inside ``root``, or None."""
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(part, int):
            if get_origin(tp) in (list, tuple, Sequence):
                tp = get_args(tp)[0]
            else:
                return None
        elif isinstance(tp, type) and issubclass(tp, BaseModel):
            tp = _field_by_key(tp, part)
            if tp is None:
                return None
        else:
            return None
    return _unwrap(tp)


def _field_names(tp: Any) -> tuple[str, ...]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tuple(info.alias or name for name, info in tp.model_fields.items())
    return ()


def _literal_values(tp: Any) -> tuple[str, ...]:
    if get_origin(tp) is Literal:
        return tuple(str(a) for a in get_args(tp))
    return ()


def _quantity_name(root: type[BaseModel], loc: Loc) -> str:
    name = next((str(p) for p in reversed(loc) if isinstance(p, str)), "quantity")
    from mmemd.clinical.units import ANALYTES

    spec = ANALYTES.get(str(getattr(_resolve(root, loc), "analyte", "")))
    if spec is None or spec.label == name.replace("_", " "):
        return name
    return f"{name} ({spec.label})"


_BOUND: Final[Mapping[str, tuple[str, str]]] = {
    "greater_than_equal": ("≥", "ge"),
    "greater_than": (">", "gt"),
    "less_than_equal": ("≤", "le"),
    "less_than": ("<", "lt"),
}

_KIND: Final[Mapping[str, str]] = {
    "bool_type": "expected true, false or null",
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "int_from_float": "expected an integer",
    "list_type": "expected a JSON array",
    "model_type": "expected a JSON object",
    "model_attributes_type": "expected a JSON object",
    "dict_type": "expected a JSON object",
    "missing": "required field is missing",
    "string_too_short": "must not be empty",
    "too_short": "must not be empty",
}


def problems_from_validation_error(exc: ValidationError, root: type[BaseModel]) -> list[Problem]:
    """Turn pydantic's errors into :class:`Problem` s with contract-worded messages and the accepted values."""
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc: Loc = tuple(err["loc"])
        etype: str = err["type"]
        ctx: Mapping[str, Any] = err.get("ctx") or {}
        given = err.get("input")
        accepted: tuple[str, ...] = tuple(ctx.get("accepted", ()))
        code = etype
        if etype == "implausible_value":
            loc = (
                *loc,
                "value",
            )  # raised by the quantity as a whole (it needs the unit); the culprit is the value
        if etype == "extra_forbidden":
            key = str(loc[-1]) if loc else ""
            if key.startswith(DUPLICATE_KEY_MARKER):
                loc = loc[:-1]
                msg = f"key {key[len(DUPLICATE_KEY_MARKER) :]!r} appears more than once in this object"
                code = "duplicate_key"
            else:
                accepted = _field_names(_resolve(root, loc[:-1]))
                msg = f"unknown field {key!r}"
                code = "unknown_field"
        elif etype == "literal_error":
            accepted = _literal_values(_resolve(root, loc))
            if loc and loc[-1] == "unit":
                msg = f"unknown unit {given!r} for {_quantity_name(root, loc[:-1])}; accepted units: {', '.join(accepted)}"
                code = "unknown_unit"
            elif loc == ("schema",):
                msg = f"unknown schema version {given!r}; accepted: {', '.join(accepted)}"
                code = "unknown_schema"
            else:
                msg = f"unknown value {given!r}; accepted: {', '.join(accepted)}"
                code = "unknown_value"
        elif etype in _KIND:
            msg = _KIND[etype]
            if etype == "missing":
                code = "missing"
        elif etype == "is_instance_of" and ctx.get("class") == "Decimal":
            kind = (
                "a boolean" if isinstance(given, bool) else "a string" if isinstance(given, str) else "null"
            )
            msg = f"expected a number, got {kind if given is None or isinstance(given, (bool, str)) else type(given).__name__}"
            code = "number_type"
        elif etype == "finite_number":
            msg = "expected a finite number"
            code = "number_not_finite"
        elif etype == "greater_than_equal" and str(ctx.get("ge")) == "0":
            msg = "must not be negative"
            code = "negative_value"
        elif etype in _BOUND:
            sign, key = _BOUND[etype]
            msg = f"{given} is out of range: must be {sign} {ctx.get(key)}"
            code = "out_of_range"
        else:
            msg = err["msg"]
        out.append(Problem(loc, msg, accepted, code))
    return out
