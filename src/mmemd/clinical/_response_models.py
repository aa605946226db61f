"""The ``response`` section's models (``mmemd.assessment/1``, docs/record.md) and their field-order constructor.

Re-exported by :mod:`mmemd.clinical.response`. Kept apart from the code that fills them (``_response_build``) so that
a compiled build of the package (mypyc) can compile that code, while the pydantic models stay interpreted.
"""

# Models: no `from __future__ import annotations`: pydantic need not compile each annotation (performance.md).

import datetime as _dt
from collections.abc import Callable
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from mmemd._defaults import new_list
from mmemd.clinical._response_levels import (
    ParameterCategory,
    ResponseCategory,
    TimelineCategory,
)
from mmemd.clinical._response_mrd import MrdCategory

RESPONSE_CRITERIA_VERSION: Final = "IMWG-2016"
"""Version of the response criteria implemented here (docs/criteria.md §0 watch item, §7 item 7)."""


class TimelineEntry(BaseModel):
    """Category at one assessment; the baseline assessment is "baseline"."""

    model_config = ConfigDict(extra="forbid")

    date: _dt.date
    category: TimelineCategory
    confirmed: bool | None = Field(
        default=None,
        description="Category confirmed by two consecutive assessments where required (docs/criteria.md §1.3 "
        "general rule 1); null for baseline and not_evaluable.",
    )


class ParameterResponses(BaseModel):
    """Sub-response of each parameter at the latest assessment: the highest overall category its data allow
    (overall = the lowest of them, docs/criteria.md §1.3 general rule 7), "PD" when it met a PD criterion,
    null when not applicable or its datum is missing."""

    model_config = ConfigDict(extra="forbid")

    serum: ParameterCategory | None = None
    urine: ParameterCategory | None = None
    flc: ParameterCategory | None = None
    marrow: ParameterCategory | None = None
    plasmacytomas: ParameterCategory | None = None


class ImwgResponse(BaseModel):
    """The ``response`` section of ``mmemd.assessment/1`` (docs/record.md)."""

    model_config = ConfigDict(extra="forbid")

    criteria: str = RESPONSE_CRITERIA_VERSION
    current: ResponseCategory
    confirmed: bool
    best: ResponseCategory
    progressive_disease: bool
    relapse_from_cr: bool
    mrd: MrdCategory | None = None
    timeline: list[TimelineEntry] = Field(default_factory=new_list)
    reasons: list[str] = Field(default_factory=new_list)
    by_parameter: ParameterResponses | None = None


_new: Final = object.__new__
_set: Final = object.__setattr__
# BaseModel's own slots, set through their descriptors (what object.__setattr__ finds for them, without the lookup).
_set_fields_set: Final = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra: Final = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private: Final = BaseModel.__dict__["__pydantic_private__"].__set__
_M = TypeVar("_M", bound=BaseModel)


def _fields_in_order(cls: type[_M]) -> Callable[..., _M]:
    """A constructor of the result model ``cls`` from *every* field's value, positionally in declaration order.

    The engine builds these sections from values that already have their types, so the result is what
    ``cls.model_construct(**all_fields)`` gives (the same field dict, in declaration order, and every field set) —
    without its per-call walk over the fields, aliases and defaults, which cost a few percent of an assessment.
    """
    names = tuple(cls.__pydantic_fields__)
    fields_set = set(names)
    assert cls.model_config.get("extra") != "allow" and not cls.__pydantic_post_init__, cls
    assert not cls.__private_attributes__, cls

    def construct(*values: Any) -> _M:
        m: _M = _new(cls)
        _set(m, "__dict__", dict(zip(names, values, strict=True)))
        _set_fields_set(m, fields_set.copy())
        _set_extra(m, None)
        _set_private(m, None)
        return m

    return construct
