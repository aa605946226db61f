"""Report-test fixtures (helpers live in _report_helpers.py: a module named conftest is ambiguous across dirs)."""

from __future__ import annotations

import datetime as dt

import pytest
from _report_helpers import GENERATED


@pytest.fixture(scope="session")
def generated() -> dt.datetime:
    return GENERATED
