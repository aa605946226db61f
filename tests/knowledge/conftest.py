"""Shared by the knowledge tests: models compared value for value and type for type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel


@pytest.fixture
def assert_identical() -> Callable[[Any, Any], None]:
    """Equal, of the same types all the way down, with the same set fields and field order."""
    return _assert_identical


def _assert_identical(got: Any, want: Any) -> None:
    """Equal, of the same types all the way down, with the same set fields and field order."""
    assert type(got) is type(want), (got, want)
    if isinstance(want, BaseModel):
        assert got.model_fields_set == want.model_fields_set
        assert list(got.__dict__) == list(want.__dict__)
        assert (got.__pydantic_extra__, got.__pydantic_private__) == (
            want.__pydantic_extra__,
            want.__pydantic_private__,
        )
        for key, value in want.__dict__.items():
            _assert_identical(got.__dict__[key], value)
        assert got == want and _hash(got) == _hash(want) and repr(got) == repr(want)
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            _assert_identical(a, b)
    elif isinstance(want, dict):
        assert list(got) == list(want)
        for key, value in want.items():
            _assert_identical(got[key], value)
    else:
        assert got == want


def _hash(model: BaseModel) -> int | str:
    try:
        return hash(model)
    except TypeError as exc:  # a frozen model with a dict field: unhashable either way
        return str(exc)
