"""Shared by the knowledge tests: models compared value for value and type for type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import _read_back


@pytest.fixture
def assert_identical() -> Callable[[Any, Any], None]:
    """Equal, of the same types all the way down, with the same set fields and field order."""
    return _read_back.assert_identical
