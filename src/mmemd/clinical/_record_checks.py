"""The record's number checks and its cross-field rules on a validated record, free of the pydantic models.

These run for every number and every record read (a dense record calls a range check 88 times), so they live apart
from :mod:`.record`'s models: plain typed functions that mypyc can compile (the optional compiled build), with the
same results either way. The models (:mod:`.record`) and the native validator (:mod:`._record_native`) call them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from pydantic_core import PydanticCustomError

__all__ = ["consistent", "number_error", "range_check", "range_text", "to_decimal"]

_INF: Final = float("inf")


def number_error(v: object) -> PydanticCustomError:
    kind = "a boolean" if isinstance(v, bool) else "a string" if isinstance(v, str) else type(v).__name__
    return PydanticCustomError("number_type", "expected a number, got {kind}", {"kind": kind})


# Decimals of the floats read so far (a batch meets the same few hundred laboratory values over and over; a Decimal
# is immutable, so one can serve every record). Zero is not kept: -0.0 == 0.0 as a key, but their Decimals differ.
_FLOAT_DECIMALS: Final[dict[float, Decimal]] = {}
_FLOAT_DECIMALS_MAX: Final = 4096


def to_decimal(v: object) -> Decimal:
    """A JSON number as an exact ``Decimal`` (a float via its shortest text, ``repr``); strings, booleans, NaN and
    infinities refused."""
    if type(v) is int:
        return Decimal(v)
    if type(v) is float:
        kept = _FLOAT_DECIMALS.get(v)
        if kept is not None:
            return kept
        if v != v or v == _INF or v == -_INF:
            raise PydanticCustomError("number_not_finite", "expected a finite number")
        # repr(float) is the shortest round-tripping text (= str(x)): 0.07 -> Decimal("0.07"), not 0.0700000000000000067
        dec = Decimal(repr(v))
        if v:
            if len(_FLOAT_DECIMALS) >= _FLOAT_DECIMALS_MAX:
                _FLOAT_DECIMALS.clear()
            _FLOAT_DECIMALS[v] = dec
        return dec
    if type(v) is Decimal:
        if not v.is_finite():
            raise PydanticCustomError("number_not_finite", "expected a finite number")
        return v
    raise number_error(v)


_EXACT_INT: Final = 2**53


def range_text(lo: Decimal | None, hi: Decimal | None, lo_open: bool, hi_open: bool) -> str:
    left = "(" if lo_open else "["
    right = ")" if hi_open else "]"
    return f"{left}{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}{right}"


def range_check(
    lo: Decimal | None, hi: Decimal | None, what: str, lo_open: bool = False, hi_open: bool = False
) -> Callable[[object], Decimal]:
    """A number within ``lo``..``hi`` (each bound closed unless open), as :func:`to_decimal` reads it; else a
    ``PydanticCustomError`` (``negative_value`` below a closed 0, ``out_of_range`` otherwise)."""
    # A float strictly between these is inside the range, decided without comparing Decimals: a float's Decimal (its
    # repr) lies within the float's rounding interval and a bound within its nearest float's, and a float more than
    # one float away from that one has a rounding interval wholly on its side (open and closed bounds alike); both
    # floats lie strictly inside the bounds.
    inside_lo = -_INF if lo is None else math.nextafter(float(lo), _INF)
    inside_hi = _INF if hi is None else math.nextafter(float(hi), -_INF)

    def check(v: object) -> Decimal:
        if type(v) is float:
            d = _FLOAT_DECIMALS.get(v)
            if d is None:
                d = to_decimal(v)  # refuses NaN and the infinities
            if inside_lo < v < inside_hi:
                return d
        elif type(v) is int:
            d = Decimal(v)
            # Within +-2**53 an int converts to a float exactly, so the float comparison is exact; beyond, the
            # Decimal comparisons below decide (compiled code compares an int with a float by converting the int,
            # which a huge int would overflow).
            if -_EXACT_INT < v < _EXACT_INT and inside_lo < v < inside_hi:
                return d
        else:
            d = to_decimal(v)
        if lo is not None and (d <= lo if lo_open else d < lo):
            if lo == 0 and not lo_open:
                raise PydanticCustomError("negative_value", "{what} must not be negative", {"what": what})
            raise PydanticCustomError(
                "out_of_range",
                "{what} {value} is outside {range}",
                {"what": what, "value": str(d), "range": range_text(lo, hi, lo_open, hi_open)},
            )
        if hi is not None and (d >= hi if hi_open else d > hi):
            raise PydanticCustomError(
                "out_of_range",
                "{what} {value} is outside {range}",
                {"what": what, "value": str(d), "range": range_text(lo, hi, lo_open, hi_open)},
            )
        return d

    return check


def consistent(rec: Any) -> bool:
    """True when a field-valid record (a :class:`.record.PatientRecord`) breaks none of the cross-field rules of
    :func:`.record.cross_field_problems`."""
    lesion_ids: set[str] = set()
    if rec.lesions:
        for les in rec.lesions:
            if les.id in lesion_ids:
                return False
            lesion_ids.add(les.id)
    if rec.therapy_history:
        lines: set[int] = set()
        for line in rec.therapy_history:
            if line.line in lines:
                return False
            lines.add(line.line)
            if line.refractory_agents:
                agents = line.agents
                for agent in line.refractory_agents:
                    if agent not in agents:
                        return False
    cyto = rec.cytogenetics
    if cyto is not None:
        frac = cyto.del_17p_clonal_fraction_pct
        if frac is not None and frac > 0 and cyto.del_17p is not True:
            return False
    if rec.assessments:
        prev = None
        baseline = False
        for a in rec.assessments:
            if prev is not None and a.date <= prev:
                return False
            prev = a.date
            if a.baseline is True:
                if baseline:
                    return False
                baseline = True
            flc = a.free_light_chains
            if (
                flc is not None
                and flc.involved is None
                and (flc.kappa is not None or flc.lambda_ is not None)
            ):
                return False
            if a.plasmacytomas:
                measured: set[str] = set()
                for pm in a.plasmacytomas:
                    if pm.lesion not in lesion_ids or pm.lesion in measured:
                        return False
                    measured.add(pm.lesion)
                    if pm.perpendicular_cm > pm.longest_cm:
                        return False
    return True
