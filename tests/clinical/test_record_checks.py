"""The record's range checks (clinical/_record_checks.py) decide exactly as the exact ``Decimal`` comparison.

A float well inside the range is accepted by comparing floats; these tests hold that shortcut to the exact rule at
and around every kind of bound: closed and open, 0, integers, decimals no float represents (0.1, 2.4, the converted
plausible bounds), beyond the floats' range, and on random floats and bounds.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_core import PydanticCustomError

from mmemd.clinical._record_checks import range_check, to_decimal


def exact(v: object, lo: Decimal | None, hi: Decimal | None, lo_open: bool, hi_open: bool) -> Decimal | None:
    """The rule itself: the number's Decimal compared exactly with the bounds; None when refused."""
    try:
        d = to_decimal(v)
    except PydanticCustomError:
        return None
    if lo is not None and (d <= lo if lo_open else d < lo):
        return None
    if hi is not None and (d >= hi if hi_open else d > hi):
        return None
    return d


def checked(
    v: object, lo: Decimal | None, hi: Decimal | None, lo_open: bool, hi_open: bool
) -> Decimal | None:
    try:
        return range_check(lo, hi, "x", lo_open, hi_open)(v)
    except PydanticCustomError:
        return None


def around(bound: Decimal | None) -> list[float]:
    """Floats a few steps either side of the float nearest ``bound``, that float and its negation."""
    if bound is None:
        return [0.0, 1.0, -1.0]
    f = float(bound)
    out = [f, -f]
    lower = upper = f
    for _ in range(3):
        lower, upper = math.nextafter(lower, -math.inf), math.nextafter(upper, math.inf)
        out += [lower, upper]
    return [x for x in out if math.isfinite(x)]


BOUNDS = [
    Decimal(0),
    Decimal(1),
    Decimal(50),
    Decimal(100),
    Decimal("0.1"),
    Decimal("2.4"),
    Decimal("0.4990019960079840319361277445"),  # a plausible bound converted to another unit, rounded inwards
    Decimal("1e-7"),
    Decimal("1e400"),
    None,
]


@pytest.mark.parametrize("lo_open", [False, True])
@pytest.mark.parametrize("hi_open", [False, True])
def test_floats_at_and_around_every_kind_of_bound_are_decided_exactly(lo_open: bool, hi_open: bool) -> None:
    for lo in BOUNDS:
        for hi in BOUNDS:
            if lo is not None and hi is not None and hi <= lo:
                continue
            ints = [int(b) + k for b in (lo, hi) if b is not None and abs(b) < 10**6 for k in (-1, 0, 1)]
            floats = [*around(lo), *around(hi), 0.0, -0.0, 5e-324, -5e-324, 1.7976931348623157e308]
            for v in [*floats, *ints, 0, 10**400, -(10**400)]:
                want, got = exact(v, lo, hi, lo_open, hi_open), checked(v, lo, hi, lo_open, hi_open)
                assert (want is None) == (got is None), (v, lo, hi, lo_open, hi_open)
                if want is not None and got is not None:
                    assert str(got) == str(want) == str(Decimal(repr(v) if type(v) is float else v))


@settings(max_examples=500)
@given(
    v=st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.booleans(),
    bounds=st.tuples(
        st.decimals(allow_nan=False, allow_infinity=False), st.decimals(allow_nan=False, allow_infinity=False)
    ),
    lo_open=st.booleans(),
    hi_open=st.booleans(),
)
def test_any_number_and_any_bounds_are_decided_exactly(
    v: object, bounds: tuple[Decimal, Decimal], lo_open: bool, hi_open: bool
) -> None:
    lo, hi = sorted(bounds)
    want, got = exact(v, lo, hi, lo_open, hi_open), checked(v, lo, hi, lo_open, hi_open)
    assert (want is None) == (got is None)
    if want is not None and got is not None:
        assert str(got) == str(want)
