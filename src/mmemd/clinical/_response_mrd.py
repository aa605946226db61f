"""MRD categories (docs/criteria.md §1.4). All require CR; MRD itself needs no second assessment.

The reported category is the status at the latest MRD evaluation after the baseline:
``sustained_negative`` > ``imaging_plus_negative`` > ``flow_negative`` (NGF) / ``sequencing_negative`` (NGS).
A negative result counts only with a stated method and a sensitivity of at least 1 in 10^5
(``mrd_max_sensitivity``); a relapse from CR or PD after it means the MRD-negative state was lost.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from mmemd.clinical._response_levels import CR, PD_NAME
from mmemd.clinical.snapshot import Snapshot

if TYPE_CHECKING:
    from mmemd.clinical._response_engine import EngineResult
    from mmemd.clinical.response import ResponseSettings

MrdCategory = Literal["sustained_negative", "flow_negative", "sequencing_negative", "imaging_plus_negative"]
_SECTION = "IMWG-2016 §1.4"


def one_year_after(start: _dt.date, reading: str) -> _dt.date:
    """Earliest date that is "1 year" after ``start`` (§1.4 sustained MRD; ``sustained_mrd_interval``)."""
    if reading == "365_days":
        return start + _dt.timedelta(days=365)
    try:
        return start.replace(year=start.year + 1)
    except ValueError:  # 29 February: the calendar year ends on 1 March of the next year
        return _dt.date(start.year + 1, 3, 1)


def _valid_negative(sn: Snapshot, s: ResponseSettings) -> bool:
    return (
        sn.mrd_negative is True
        and sn.mrd_method is not None
        and sn.mrd_sensitivity is not None
        and sn.mrd_sensitivity <= s.mrd_max_sensitivity
    )


def _in_cr(result: EngineResult, i: int, s: ResponseSettings) -> bool:
    a = result.assessed[i]
    if a is None or not a.evaluable or a.category == PD_NAME:
        return False
    return (a.conf_level if s.mrd_requires_confirmed_cr else a.level) >= CR


def mrd_status(
    snaps: Sequence[Snapshot], result: EngineResult, s: ResponseSettings
) -> tuple[MrdCategory | None, list[str]]:
    evaluations = [i for i in range(result.base.index + 1, len(snaps)) if snaps[i].mrd_negative is not None]
    if not evaluations:
        return None, []
    k = evaluations[-1]
    sk = snaps[k]
    when = sk.date.isoformat()
    if sk.mrd_negative is False:
        return None, [f"MRD: positive at {when} ({_SECTION})"]
    if sk.mrd_method is None:
        return None, [f"MRD: negative at {when} but the method (NGF or NGS) is missing ({_SECTION})"]
    if sk.mrd_sensitivity is None:
        return None, [
            f"MRD: negative at {when} but the sensitivity is missing; needs ≤ 1 in 10^5 ({_SECTION})"
        ]
    if sk.mrd_sensitivity > s.mrd_max_sensitivity:
        return None, [
            f"MRD: negative at {when} with sensitivity {sk.mrd_sensitivity:E}, above the required "
            f"{s.mrd_max_sensitivity:E} ({_SECTION})"
        ]
    if not _in_cr(result, k, s):
        need = "confirmed CR" if s.mrd_requires_confirmed_cr else "CR"
        return None, [
            f"MRD: negative at {when} but not in {need} at that assessment; MRD categories require CR ({_SECTION})"
        ]
    lost = [x for x in (result.relapse_at, result.first_confirmed_pd) if x is not None and x > k]
    if lost:
        return None, [
            f"MRD: negative at {when}, lost — relapse/progression at {snaps[min(lost)].date.isoformat()} ({_SECTION})"
        ]

    method = "NGF" if sk.mrd_method == "NGF" else "NGS"
    base_text = f"{method} negative at {when}, sensitivity {sk.mrd_sensitivity:E} (≤ {s.mrd_max_sensitivity:E}), in CR"
    for e in evaluations[:-1]:
        se = snaps[e]
        if not (_valid_negative(se, s) and _in_cr(result, e, s)):
            continue
        if sk.date < one_year_after(se.date, s.sustained_mrd_interval):
            break
        if any(snaps[j].mrd_negative is False for j in evaluations if e < j < k):
            continue
        imaging = (
            (se.pet_negative is True and sk.pet_negative is True)
            if s.sustained_mrd_imaging_at_both
            else (se.pet_negative is True or sk.pet_negative is True)
        )
        if imaging:
            return "sustained_negative", [
                f"MRD sustained_negative ({_SECTION}): marrow and PET negative at {se.date.isoformat()} and "
                f"{when}, ≥ 1 year apart ({s.sustained_mrd_interval})"
            ]
    if sk.pet_negative is True:
        return "imaging_plus_negative", [
            f"MRD imaging_plus_negative ({_SECTION}): {base_text}, PET-CT negative"
        ]
    category: MrdCategory = "flow_negative" if method == "NGF" else "sequencing_negative"
    tail = "" if sk.pet_negative is not None else "; PET-CT not reported (imaging-plus needs it)"
    return category, [f"MRD {category} ({_SECTION}): {base_text}{tail}"]
