"""A second validator of ``mmemd.patient/1`` for parsed JSON: the models' checks with fewer calls into Python.

The record models (:mod:`.record`) check numbers, dates, therapy ids and each quantity's plausible range in Python
validators (exact ``Decimal`` values, strings and booleans refused as numbers, error reports with the contract's
codes and messages), and the whole record in a wrap validator that walks the raw document again for the cross-field
rules. Each call from pydantic-core into Python costs more than most checks; a dense record makes about 150. This
module derives from the models' own core schema a validator that builds the *same* model classes with:

* a quantity's value and its plausible range in *one* call: the quantity's fields are chosen by its ``unit`` (a tagged
  union), and each unit's value check is the models' range check with the analyte's canonical plausible bounds
  converted to that unit (and never below 0). Where a converted bound is not a finite decimal, it is rounded *into*
  the range, so that anything accepted here is plausible; a value in the sliver left out takes the models' own
  validation. This drops the quantity's second call (its ``_plausible`` model validator);
* a date read natively: ``YYYY-MM-DD`` in ASCII digits, then a calendar date;
* the cross-field rules checked on the validated model (:func:`consistent`), with the conditions of
  :func:`.record.cross_field_problems`, instead of a second walk of the document;
* a therapy id matched natively against the vocabulary's ids (a literal);
* every other number checked by the models' own functions. (pydantic-core can convert numbers
  itself, but making a new ``Decimal`` from the float's text costs more than the models' call, which reuses the
  ``Decimal`` of a value already read: measured 127 against 111 µs for the dense record.)

It is used only for documents read by mmemd's JSON boundary (:func:`read`), whose values are exactly ``dict``,
``list``, ``str``, ``int``, ``float``, ``bool`` and ``None``; a document it does not accept — any problem at all — is
read again by the boundary and the models, whose verdict and error report are the only ones ever returned. So it can
only be faster, never different: it must never accept what the models refuse, and what it accepts must equal, value
for value, what the models build (tests hold both on generated documents).

pydantic-core reuses a complete model class's own validator wherever the class appears in a schema being built, which
would bring every Python validator back; the classes are marked incomplete while this validator is built (a few
milliseconds, once a process), so that their converted schemas are the ones compiled.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal
from fractions import Fraction
from typing import Any, Final

from pydantic import BaseModel, ValidationError
from pydantic_core import CoreSchema, SchemaError, SchemaValidator
from pydantic_core import core_schema as cs

from mmemd._json import plain_object
from mmemd.clinical._record_checks import consistent, range_check
from mmemd.clinical.record import _RANGE_CHECKS, PatientRecord, _known_therapy, _Quantity, _to_date
from mmemd.clinical.units import ANALYTES

__all__ = ["Unsupported", "consistent", "native_validator", "read", "validate_native"]

_DATE_PATTERN: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"  # pydantic-core's regex: `$` is the end of the text


class Unsupported(Exception):
    """The models' schema holds something this module does not know (so no native validator is built)."""


_DIGITS: Final = 28  # a converted bound that is not a finite decimal: rounded inwards at this precision


def _date() -> CoreSchema:
    return cs.chain_schema([cs.str_schema(strict=True, pattern=_DATE_PATTERN), cs.date_schema()])


def _to_unit(bound: Decimal, mul: Decimal, div: Decimal, rounding: str) -> Decimal:
    """``bound`` (canonical unit) in the unit ``canonical = value * mul / div``; rounded towards the inside."""
    exact = Fraction(bound) * Fraction(div) / Fraction(mul)
    value = Decimal(exact.numerator) / Decimal(exact.denominator)
    if Fraction(value) == exact:
        return value
    return Context(prec=_DIGITS, rounding=rounding).divide(
        Decimal(exact.numerator), Decimal(exact.denominator)
    )


def _range_check(lo: Decimal, hi: Decimal, what: str) -> CoreSchema:
    """The models' range check of a number (exact ``Decimal``; strings, booleans, NaN refused) with these bounds."""
    return cs.no_info_plain_validator_function(range_check(lo, hi, what))


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
            "value": cs.model_field(_range_check(lo, hi, spec.label)),
            **{k: convert(v) for k, v in fields.items()},
        }
        choices[unit] = {**fields_schema, "fields": unit_fields}
    inner = cs.tagged_union_schema(choices, discriminator="unit")
    return {**model_schema, "schema": inner}


def _convert(schema: Any) -> Any:
    """The models' core schema with the changes above; every other part as it is."""
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
        elif kind == "function-plain" and fn is _to_date:
            out = _date()
        elif kind == "function-after" and fn is _Quantity._plausible and schema["schema"]["type"] == "model":
            out = _quantity(schema["schema"], _convert)
        elif kind == "function-plain" and fn in _RANGE_CHECKS:
            return schema  # a range check of the models, as it is
        elif kind == "function-after" and fn is _known_therapy:
            out = _therapy_id(schema)
        else:
            raise Unsupported(repr(fn))
        if "ref" in schema:
            out = {**out, "ref": schema["ref"]}
        return out
    return {k: v if k in ("cls", "serialization", "metadata") else _convert(v) for k, v in schema.items()}


def _therapy_id(schema: Mapping[str, Any]) -> CoreSchema:
    """A therapy id (a strict string, then the models' check that the vocabulary knows it) as one of the vocabulary's
    ids, matched natively: the packaged vocabulary is read once per process, so the ids cannot change."""
    if schema["schema"] != cs.str_schema(strict=True):
        raise Unsupported(f"a therapy id of {schema['schema']!r}")
    from mmemd.knowledge import vocabulary

    try:
        ids = vocabulary().therapy_ids
    except Exception:  # a vocabulary that cannot be read: the models' own check, which raises it, at each id
        return {**schema}
    return cs.literal_schema(sorted(ids))


def _model_classes(schema: Any) -> Iterator[type[BaseModel]]:
    if isinstance(schema, list):
        for x in schema:
            yield from _model_classes(x)
    elif isinstance(schema, dict):
        cls = schema.get("cls")
        if isinstance(cls, type) and issubclass(cls, BaseModel):
            yield cls
        for k, v in schema.items():
            if k not in ("cls", "serialization", "metadata"):
                yield from _model_classes(v)


@contextmanager
def _own_schemas(classes: set[type[BaseModel]]) -> Iterator[None]:
    """While building: the classes' converted schemas are compiled, not their prebuilt validators reused."""
    marked = [c for c in classes if c.__dict__.get("__pydantic_complete__") is True]
    for c in marked:
        c.__pydantic_complete__ = False
    try:
        yield
    finally:
        for c in marked:
            c.__pydantic_complete__ = True


_VALIDATOR: SchemaValidator | None = None
_BUILDING: Final = threading.Lock()


def native_validator() -> SchemaValidator:
    """The native validator (built on first use: building it costs a few milliseconds).

    Raises :class:`Unsupported` when the models' schema is not one this module can convert (another pydantic's
    schema layout, say): the caller then keeps to the models.
    """
    global _VALIDATOR
    if _VALIDATOR is not None:
        return _VALIDATOR
    with _BUILDING:  # one build at a time: a second would see the classes already marked
        if _VALIDATOR is None:
            try:
                schema = _convert(PatientRecord.__pydantic_core_schema__)
                with _own_schemas(set(_model_classes(schema))):
                    _VALIDATOR = SchemaValidator(schema)
            except (KeyError, TypeError, SchemaError) as exc:
                raise Unsupported(f"{type(exc).__name__}: {exc}") from exc
    return _VALIDATOR


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
