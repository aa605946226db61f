"""pydantic models rebuilt from values that were validated before, without validating them again.

Data validated once and kept (the vocabulary in the cache, the claims in the knowledge store) need not be validated
on every start: validating is cheap, but the first validation of a model builds its validator — pydantic's schema
generation, a few milliseconds a model, most of a one-record ``assess``'s own time. :func:`plain` turns a validated
model into plain data (the JSON data model: dicts, lists, str, int, float, bool, None — Decimals as strings, enum
members as their values, as ``model_dump_json`` writes them), and :func:`rebuilder` turns such data back into the
model with ``model_construct``, led by the fields' annotations: the result equals the validated model — same
values of the same types, same set fields — which tests check over all the kept data.

Only for data this process, or the same code, validated: nothing is checked on the way back beyond the shape the
annotations give. An annotation the rebuilder cannot follow, or data that do not fit it, raise :class:`NotRebuilt`,
and the caller validates instead.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

#: marks a model's data that carries its set fields, ``{SET_FIELDS: [...], "field": value, ...}``; "~" starts no
#: field name.
SET_FIELDS = "~set"


class NotRebuilt(ValueError):
    """The data cannot be rebuilt without validating (an annotation the rebuilder cannot follow, data off it)."""


_PLAIN_TYPES: frozenset[Any] = frozenset({str, int, float, bool, type(None), Any})
_rebuilders: dict[type[BaseModel], Callable[[dict[str, Any]], Any]] = {}


def plain(model: BaseModel) -> dict[str, Any]:
    """A validated model as plain data for :func:`rebuilder`: every field by alias (or name), and the set fields."""
    out: dict[str, Any] = {SET_FIELDS: sorted(model.model_fields_set)}
    for name, info in type(model).model_fields.items():
        out[info.alias or name] = _plain_value(model.__dict__[name])
    return out


def _plain_value(v: Any) -> Any:
    if isinstance(v, BaseModel):
        return plain(v)
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, list):
        return [_plain_value(x) for x in v]
    if isinstance(v, tuple):
        return tuple(_plain_value(x) for x in v)
    if isinstance(v, dict):
        return {k: _plain_value(x) for k, x in v.items()}
    return v


def rebuilder(cls: type[M]) -> Callable[[dict[str, Any]], M]:
    """The function rebuilding ``cls`` from :func:`plain` data, or from the parsed ``model_dump_json`` of a
    validated instance (every field present: all of them set). Raises :class:`NotRebuilt` for a field annotation it
    cannot follow, and the function it returns for data off the annotations."""
    found = _rebuilders.get(cls)
    if found is None:
        found = _rebuilders[cls] = _make_rebuilder(cls)
    return found


def _make_rebuilder(cls: type[M]) -> Callable[[dict[str, Any]], M]:
    # (key in the data, field name, conversion); model_construct is given the alias where there is one: it takes
    # ``class`` (an alias) but not ``cls`` (a field name that is also its own first parameter).
    plan = [
        (info.alias or name, name, _conversion(info.annotation)) for name, info in cls.model_fields.items()
    ]
    required = {info.alias or name for name, info in cls.model_fields.items() if info.is_required()}

    def rebuild(data: dict[str, Any]) -> M:
        values: dict[str, Any] = {}
        fields_set: set[str] = set()
        try:
            if not required <= data.keys():
                raise ValueError(f"missing {', '.join(sorted(required - data.keys()))}")
            for key, name, convert in plan:
                if key in data:
                    v = data[key]
                    values[key] = v if convert is None or v is None else convert(v)
                    fields_set.add(name)
            kept = data.get(SET_FIELDS)
        except (TypeError, ValueError, ArithmeticError, AttributeError) as exc:
            raise NotRebuilt(f"{cls.__name__}: {exc}") from exc
        return cls.model_construct(fields_set if kept is None else set(kept), **values)

    return rebuild


def _conversion(ann: Any) -> Callable[[Any], Any] | None:
    """How plain data becomes a field's value (None: as it is). ``None`` values are passed as they are."""
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        return _conversion(typing.get_args(ann)[0])  # the metadata validates; the data are valid already
    if origin is typing.Union or origin is types.UnionType:
        arms = [a for a in typing.get_args(ann) if a is not type(None)]
        if len(arms) != 1:
            raise NotRebuilt(f"cannot rebuild a union field without validating: {ann!r}")
        return _conversion(arms[0])
    if origin is typing.Literal:
        if all(type(a) in (str, int, bool) for a in typing.get_args(ann)):
            return None
        raise NotRebuilt(f"cannot rebuild a literal of {ann!r}")
    if origin is tuple:
        args = typing.get_args(ann)
        if len(args) != 2 or args[1] is not Ellipsis:
            raise NotRebuilt(f"cannot rebuild a fixed-length tuple {ann!r}")
        return _items(tuple, _conversion(args[0]))
    if origin is list:
        return _items(list, _conversion(typing.get_args(ann)[0]))
    if origin is dict:
        key, value = typing.get_args(ann)
        if key is not str:
            raise NotRebuilt(f"cannot rebuild a dict keyed by {key!r}")
        convert = _conversion(value)
        if convert is None:
            return dict
        return lambda v: {k: x if x is None else convert(x) for k, x in v.items()}
    if origin is not None:
        raise NotRebuilt(f"cannot rebuild a field of type {ann!r}")
    if ann in _PLAIN_TYPES:
        return None
    if ann is Decimal:
        return _decimal
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return ann
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return rebuilder(ann)
    raise NotRebuilt(f"cannot rebuild a field of type {ann!r}")


def _items(container: Callable[[Any], Any], convert: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    if convert is None:
        return container
    return lambda v: container(x if x is None else convert(x) for x in v)


def _decimal(v: Any) -> Decimal:
    if type(v) is not str:  # a Decimal is written as its exact string; a number could be inexact
        raise TypeError(f"a Decimal written as {type(v).__name__}")
    return Decimal(v)
