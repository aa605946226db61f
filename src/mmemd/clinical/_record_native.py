"""A second validator of ``mmemd.patient/1`` for parsed JSON, with no Python call per number, date or quantity.

The record models (:mod:`.record`) check numbers, dates, therapy ids and each quantity's plausible range in Python
validators: exact ``Decimal`` values, strings and booleans refused as numbers, and error reports with the contract's
codes and messages. Each call from pydantic-core into Python costs more than the check itself, and a dense record
makes about 150 of them. This module derives from the models' own core schema a validator that expresses the same
checks in pydantic-core's native schemas and builds the *same* model classes:

* a number is a JSON integer or a finite float (never a string or a boolean), read as ``Decimal(int)`` or
  ``Decimal(str(float))`` — the records' own conversion — and held to the field's bounds by ``Decimal`` comparison;
* a date is ``YYYY-MM-DD`` (ASCII digits) and a calendar date;
* a therapy id is checked by the models' own function (a few a record);
* a quantity's plausible range is checked per unit: the quantity's fields are chosen by its ``unit`` (a tagged union),
  and each unit's value bounds are the analyte's canonical bounds converted to that unit. Where a converted bound is
  not a finite decimal, it is rounded *into* the range, so that anything accepted here is plausible (a value in the
  sliver left out is not refused: it takes the models' own validation below);
* the cross-field rules are checked on the validated model (:func:`consistent`), with the same conditions as
  :func:`.record.cross_field_problems`.

It is used only for documents read by mmemd's JSON boundary (:func:`read`), whose values are exactly ``dict``, ``list``, ``str``,
``int``, ``float``, ``bool`` and ``None``; a document it does not accept — any problem at all, or anything it does not
decide — is validated again by the models, whose verdict and error report are the only ones ever returned. So this
validator can only be faster, never different: it must never accept what the models refuse, and what it accepts
must be equal, value for value, to what the models build (tests hold both on generated documents).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal
from fractions import Fraction
from typing import Any, Final

from pydantic import ValidationError
from pydantic_core import CoreSchema, SchemaValidator
from pydantic_core import core_schema as cs

from mmemd._json import plain_object
from mmemd.clinical.record import (
    NATIVE_BOUNDS,
    PatientRecord,
    _known_therapy,
    _Quantity,
    _to_date,
    _to_decimal,
)
from mmemd.clinical.units import ANALYTES

__all__ = ["Unsupported", "consistent", "native_validator", "read", "validate_native"]

_DATE_PATTERN: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"  # pydantic-core's regex: `$` is the end of the text


class Unsupported(Exception):
    """The models hold a Python validator this module cannot express natively (so no native validator is built)."""


def _number(
    lo: Decimal | None = None, hi: Decimal | None = None, lo_open: bool = False, hi_open: bool = False
) -> CoreSchema:
    bounds: dict[str, Decimal] = {}
    if lo is not None:
        bounds["gt" if lo_open else "ge"] = lo
    if hi is not None:
        bounds["lt" if hi_open else "le"] = hi
    # Strict int or strict float first (a string, a boolean, NaN or an infinity is refused), then the Decimal of what
    # was read: Decimal(int) or Decimal(str(float)) by pydantic-core, the same as the models' conversion.
    read = cs.union_schema(
        [cs.int_schema(strict=True), cs.float_schema(strict=True, allow_inf_nan=False)], mode="smart"
    )
    return cs.chain_schema([read, cs.decimal_schema(allow_inf_nan=False, **bounds)])  # type: ignore[arg-type]


def _date() -> CoreSchema:
    return cs.chain_schema([cs.str_schema(strict=True, pattern=_DATE_PATTERN), cs.date_schema()])


_DIGITS: Final = 28


def _to_unit(bound: Decimal, mul: Decimal, div: Decimal, rounding: str) -> Decimal:
    """``bound`` (canonical unit) in the unit ``canonical = value * mul / div``; rounded towards the inside."""
    exact = Fraction(bound) * Fraction(div) / Fraction(mul)
    value = Decimal(exact.numerator) / Decimal(exact.denominator)
    if Fraction(value) == exact:
        return value
    return Context(prec=_DIGITS, rounding=rounding).divide(
        Decimal(exact.numerator), Decimal(exact.denominator)
    )


def _quantity(model_schema: Mapping[str, Any], convert: Callable[[Any], Any]) -> CoreSchema:
    """A quantity's model schema whose fields are chosen by its unit, each unit with its own value bounds."""
    cls = model_schema["cls"]
    spec = ANALYTES[cls.analyte]
    fields_schema = model_schema["schema"]
    fields = {k: v for k, v in fields_schema["fields"].items() if k not in ("unit", "value")}
    choices: dict[Any, CoreSchema] = {}
    for unit, conv in spec.conversions.items():
        lo = max(Decimal(0), _to_unit(spec.plausible_min, conv.mul, conv.div, ROUND_CEILING))
        hi = _to_unit(spec.plausible_max, conv.mul, conv.div, ROUND_FLOOR)
        unit_fields = {
            "unit": cs.model_field(cs.literal_schema([unit])),
            "value": cs.model_field(_number(lo, hi)),
            **{k: convert(v) for k, v in fields.items()},
        }
        choices[unit] = {**fields_schema, "fields": unit_fields}
    inner = cs.tagged_union_schema(choices, discriminator="unit")
    return {**model_schema, "schema": inner}


def _convert(schema: Any) -> Any:
    """The models' core schema with every Python validator replaced by its native equivalent."""
    if isinstance(schema, list):
        return [_convert(x) for x in schema]
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    out: Any
    if kind in ("function-plain", "function-after", "function-before", "function-wrap"):
        fn = schema["function"]["function"]
        if kind == "function-wrap" and getattr(fn, "__func__", None) is PatientRecord._every_problem.__func__:
            out = _convert(schema["schema"])  # the cross-field rules: checked on the model (consistent)
        elif kind == "function-plain" and fn in NATIVE_BOUNDS:
            out = _number(*NATIVE_BOUNDS[fn])
        elif kind == "function-plain" and fn is _to_decimal:
            out = _number()
        elif kind == "function-plain" and fn is _to_date:
            out = _date()
        elif kind == "function-after" and fn is _known_therapy:
            # Kept as the models' own check (a few ids a record): read from the vocabulary at each call, as there.
            out = {**schema, "schema": _convert(schema["schema"])}
        elif kind == "function-after" and fn is _Quantity._plausible and schema["schema"]["type"] == "model":
            out = _quantity(schema["schema"], _convert)
        else:
            raise Unsupported(repr(fn))
        if "ref" in schema:
            out = {**out, "ref": schema["ref"]}
        return out
    return {k: v if k in ("cls", "serialization", "metadata") else _convert(v) for k, v in schema.items()}


_VALIDATOR: SchemaValidator | None = None


def native_validator() -> SchemaValidator:
    """The native validator (built on first use: building it costs a few milliseconds)."""
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = SchemaValidator(_convert(PatientRecord.__pydantic_core_schema__))
    return _VALIDATOR


def consistent(rec: PatientRecord) -> bool:
    """True when a field-valid record breaks none of the cross-field rules of :func:`.record.cross_field_problems`."""
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


def validate_native(data: dict[str, Any]) -> PatientRecord | None:
    """The record when ``data`` (parsed JSON) is valid as a whole, else None (the models then say why)."""
    try:
        rec: PatientRecord = native_validator().validate_python(data)
    except ValidationError:
        return None
    return rec if consistent(rec) else None


def read(text: str | bytes) -> PatientRecord | None:
    """The record in a JSON document when the input boundary's quick scans and this validator accept it, else None.

    The depth scan is left out (:func:`mmemd._json.plain_object`): what this validator accepts nests as a record does,
    5 deep; anything else is read again by the whole boundary, then by the models.
    """
    data = plain_object(text)
    return None if data is None else validate_native(data)
