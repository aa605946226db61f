"""Soft-tissue plasmacytomas: SPD response and imaging progression (docs/criteria.md §1.3, rule 5; §1.5).

* Response: if present at baseline, PR (and VGPR, which implies PR) needs an SPD reduction >= 50%, MR
  needs >= ``mr_spd_threshold_pct`` (KUMAR16: 50; 2006/2011: 25), CR needs every plasmacytoma gone
  (measured 0 x 0 — a residual mass on CT/MRI is not CR, §1.5). A baseline plasmacytoma not measured at a
  date makes the SPD unknown there: the levels that need it are not established (general rule 7).
* PD (b): a new lesion; >= 50% increase from nadir in the SPD of more than one lesion; >= 50% increase in
  the longest diameter of a previous lesion with short axis > 1.0 cm (strict, §1.5). Imaging needs no
  confirmation (general rule 1), so imaging nadirs are lowest values.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from mmemd.clinical._response_levels import ALL, SD_ONLY, UP_TO_MR, UP_TO_VGPR
from mmemd.clinical._response_params import Cuts
from mmemd.clinical._response_progression import PdInfo
from mmemd.clinical.snapshot import PlasmacytomaMeasure

if TYPE_CHECKING:
    from mmemd.clinical._response_baseline import Baseline
    from mmemd.clinical.response import ResponseSettings

_ZERO: Final = Decimal(0)
_HUNDRED: Final = Decimal(100)

Measures = dict[str, PlasmacytomaMeasure]


def is_zero(m: PlasmacytomaMeasure) -> bool:
    return m.longest_cm <= _ZERO and m.perpendicular_cm <= _ZERO


def spd_of(ids: tuple[str, ...], measures: Measures) -> Decimal | None:
    """Σ longest × perpendicular over ``ids`` (§1.1), None when one of them was not measured."""
    total = _ZERO
    for lid in ids:
        m = measures.get(lid)
        if m is None:
            return None
        total += m.longest_cm * m.perpendicular_cm
    return total


def plasmacytoma_mask(
    base: Baseline, measures: Measures, spd: Decimal | None, cuts: Cuts | None
) -> tuple[int, bool]:
    """``spd``: :func:`spd_of` the baseline lesions in ``measures`` (the caller computes it once an assessment);
    ``cuts``: :func:`~._response_params.reduction_cuts` of the baseline SPD for the PR and MR reductions."""
    if not base.lesions:
        return ALL, False
    if spd is None:
        return SD_ONLY, True
    for lid in base.lesions:
        m = measures[lid]
        if m.longest_cm > _ZERO or m.perpendicular_cm > _ZERO:  # not is_zero(m)
            break
    else:
        return ALL, False
    if base.spd is None:
        return SD_ONLY, True  # baseline SPD unknown: the reduction cannot be computed
    if cuts is None:
        return SD_ONLY, False
    drop = (base.spd - spd) * _HUNDRED
    if drop >= cuts[0]:
        return UP_TO_VGPR, False
    if drop >= cuts[1]:
        return UP_TO_MR, False
    return SD_ONLY, False


class LesionTracker:
    """Imaging nadirs over the assessments before the current one (no confirmation needed)."""

    # A plain class (not a msgspec Struct): mypyc compiles it to a native class; see _response_baseline.Baseline.
    __slots__ = ("longest", "spd_nadir", "spd_nadir_date")

    def __init__(self) -> None:
        self.spd_nadir: Decimal | None = None
        self.spd_nadir_date: _dt.date | None = None
        # lesion id -> (lowest longest diameter, perpendicular measured with it, date)
        self.longest: dict[str, tuple[Decimal, Decimal, _dt.date]] = {}


def imaging_step(
    base: Baseline,
    measures: Measures,
    spd: Decimal | None,
    new_lesion: bool | None,
    tracker: LesionTracker,
    s: ResponseSettings,
    found: list[PdInfo],
    when: _dt.date,
) -> None:
    """Append to ``found`` the PD (b) criteria met at this assessment (measured lesions only, nothing carried
    forward), against the nadirs of the earlier assessments; then add this assessment's measurements to the nadirs.
    ``spd``: :func:`spd_of` the baseline lesions in ``measures``. One pass over the lesions does both: a lesion's
    test reads only its own nadir, which is updated after it."""
    if new_lesion:
        found.append(PdInfo("new_lesion"))
    if not measures:
        return  # nothing imaged at this date: no lesion to compare (most assessments)
    longest = tracker.longest
    check_new = s.lesion_absent_at_baseline_is_new
    known = base.known_lesions
    new_ids: list[str] = []
    grown: list[tuple[str, PdInfo]] = []
    for lid, m in measures.items():
        prev = longest.get(lid)
        if prev is None:
            if check_new and lid not in known and not is_zero(m):
                new_ids.append(lid)
            longest[lid] = (m.longest_cm, m.perpendicular_cm, when)
            continue
        nadir, perp_at_nadir, nadir_when = prev
        current = m.longest_cm
        if current < nadir:
            longest[lid] = (current, m.perpendicular_cm, when)
        elif current > nadir and (current - nadir) * _HUNDRED >= nadir * s.pd_longest_diameter_increase_pct:
            short_axis = m.perpendicular_cm if s.pd_short_axis_reference == "current" else perp_at_nadir
            if short_axis > s.pd_short_axis_gt_cm:
                grown.append((lid, PdInfo(f"lesion:{lid}", nadir, nadir_when, current, short_axis)))
    # Reported in a fixed order: new plasmacytomas, the SPD, grown lesions, each by lesion id.
    for lid in sorted(new_ids):
        found.append(PdInfo(f"new_plasmacytoma:{lid}"))
    if spd is not None and len(base.lesions) > 1:
        n = tracker.spd_nadir
        if n is None or spd < n:
            tracker.spd_nadir, tracker.spd_nadir_date = spd, when
        elif spd > n and (spd - n) * _HUNDRED >= n * s.pd_spd_increase_pct:
            found.append(PdInfo("spd", n, tracker.spd_nadir_date, spd))
    if grown:
        grown.sort(key=_first)
        found.extend([info for _, info in grown])


def _first(pair: tuple[str, PdInfo]) -> str:
    return pair[0]
