"""MRD categories (docs/criteria.md §1.4): all require CR; sensitivity ≥ 1 in 10^5; sustained ≥ 1 year."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec.structs
import pytest
from test_response_support import joined, run, snap

from mmemd.clinical._response_mrd import one_year_after
from mmemd.clinical.response import DEFAULT_RESPONSE_SETTINGS

BASE: dict[str, Any] = {"serum": 3.0, "urine": 0, "serum_ife": True, "urine_ife": True, "bmpc": 40}
CR: dict[str, Any] = {"serum_ife": False, "urine_ife": False}


def course(mrd: dict[str, Any], *, in_cr: bool = True, extra: list[Any] | None = None) -> Any:
    follow = CR if in_cr else {"serum": 0.1, "serum_ife": True, "urine_ife": True}
    return run(
        [
            snap("2025-01-01", baseline=True, **BASE),
            snap("2025-03-01", **follow, bmpc=1),
            snap("2025-04-01", **follow, **mrd),
            *(extra or []),
        ]
    )


NGF = {"mrd_method": "NGF", "mrd_negative": True}


@pytest.mark.parametrize(
    ("sensitivity", "expected", "reading"),
    [
        (1e-5, "flow_negative", "1 in 10^5 (inclusive)"),
        (1e-6, "flow_negative", "1 in 10^6 is more sensitive"),
        (1.1e-5, None, "1.1e-5 is less sensitive than required"),
    ],
)
def test_flow_sensitivity(sensitivity: float, expected: str | None, reading: str) -> None:
    assert course({**NGF, "mrd_sensitivity": sensitivity}).mrd == expected, reading


def test_sequencing_negative() -> None:
    assert (
        course({"mrd_method": "NGS", "mrd_negative": True, "mrd_sensitivity": 1e-6}).mrd
        == "sequencing_negative"
    )


def test_missing_sensitivity_or_method_is_not_mrd_negative() -> None:
    r = course({**NGF})
    assert r.mrd is None
    assert "sensitivity is missing" in joined(r)
    assert course({"mrd_negative": True, "mrd_sensitivity": 1e-6}).mrd is None


def test_mrd_requires_cr() -> None:
    r = course({**NGF, "mrd_sensitivity": 1e-6}, in_cr=False)
    assert r.mrd is None
    assert "MRD categories require CR" in joined(r)


def test_mrd_positive() -> None:
    assert course({"mrd_method": "NGF", "mrd_negative": False, "mrd_sensitivity": 1e-6}).mrd is None


def test_imaging_plus_needs_pet_negative() -> None:
    assert course({**NGF, "mrd_sensitivity": 1e-5, "pet_negative": True}).mrd == "imaging_plus_negative"
    assert course({**NGF, "mrd_sensitivity": 1e-5, "pet_negative": False}).mrd == "flow_negative"


def test_mrd_lost_after_relapse_from_cr() -> None:
    r = course(
        {**NGF, "mrd_sensitivity": 1e-5},
        extra=[snap("2025-06-01", serum=0, serum_ife=True, urine_ife=False)],
    )
    assert r.relapse_from_cr is True
    assert r.mrd is None
    assert "lost" in joined(r)


def test_unconfirmed_cr_setting() -> None:
    """mrd_requires_confirmed_cr: a first CR assessment (not yet confirmed) does not carry an MRD category."""
    snaps = [
        snap("2025-01-01", baseline=True, **BASE),
        snap("2025-03-01", **CR, bmpc=1, **NGF, mrd_sensitivity=1e-5),
    ]
    assert run(snaps).mrd is None
    loose = msgspec.structs.replace(DEFAULT_RESPONSE_SETTINGS, mrd_requires_confirmed_cr=False)
    assert run(snaps, loose).mrd == "flow_negative"


# ---------------------------------------------------------------- sustained MRD negativity


def sustained(
    first: str,
    second: str,
    settings: Any = DEFAULT_RESPONSE_SETTINGS,
    between: dict[str, Any] | None = None,
    at_second: dict[str, Any] | None = None,
) -> Any:
    neg = {**NGF, "mrd_sensitivity": 1e-5, "pet_negative": True}
    return run(
        [
            snap("2023-12-01", baseline=True, **BASE),
            snap("2024-01-01", **CR, bmpc=1),
            snap(first, **CR, **neg),
            snap("2024-09-01", **CR, **(between or {})),
            snap(second, **CR, **{**neg, **(at_second or {})}),
        ],
        settings,
    )


def test_sustained_one_calendar_year_inclusive() -> None:
    """§1.4 "confirmed minimum 1 year apart", calendar-year reading: 2024-03-10 → 2025-03-10 qualifies."""
    assert sustained("2024-03-10", "2025-03-10").mrd == "sustained_negative"


def test_sustained_one_day_short() -> None:
    assert sustained("2024-03-10", "2025-03-09").mrd == "imaging_plus_negative"


def test_sustained_leap_day_calendar_vs_365_days() -> None:
    """From 29 Feb 2024 a calendar year ends 1 Mar 2025; 365 days end 28 Feb 2025 (sustained_mrd_interval)."""
    assert one_year_after(dt.date(2024, 2, 29), "calendar_year") == dt.date(2025, 3, 1)
    assert one_year_after(dt.date(2024, 2, 29), "365_days") == dt.date(2025, 2, 28)
    assert sustained("2024-02-29", "2025-02-28").mrd == "imaging_plus_negative"
    days = msgspec.structs.replace(DEFAULT_RESPONSE_SETTINGS, sustained_mrd_interval="365_days")
    assert sustained("2024-02-29", "2025-02-28", days).mrd == "sustained_negative"


def test_365_days_within_a_leap_year_is_shorter_than_a_calendar_year() -> None:
    """2024-01-01 + 365 days = 2024-12-31 (2024 is a leap year) but the calendar year ends 2025-01-01."""
    days = msgspec.structs.replace(DEFAULT_RESPONSE_SETTINGS, sustained_mrd_interval="365_days")
    assert one_year_after(dt.date(2024, 1, 1), "365_days") == dt.date(2024, 12, 31)
    assert sustained("2024-02-01", "2025-01-31", days).mrd == "sustained_negative"
    assert sustained("2024-02-01", "2025-01-31").mrd == "imaging_plus_negative"


def test_sustained_needs_no_positive_in_between() -> None:
    r = sustained("2024-03-10", "2025-03-10", between={"mrd_method": "NGF", "mrd_negative": False})
    assert r.mrd == "imaging_plus_negative"


def test_sustained_needs_imaging_at_both_by_default() -> None:
    r = sustained("2024-03-10", "2025-03-10", at_second={"pet_negative": None})
    assert r.mrd == "flow_negative"
    either = msgspec.structs.replace(DEFAULT_RESPONSE_SETTINGS, sustained_mrd_imaging_at_both=False)
    assert (
        sustained("2024-03-10", "2025-03-10", either, at_second={"pet_negative": None}).mrd
        == "sustained_negative"
    )
