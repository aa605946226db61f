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
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from mmemd.clinical._response_levels import ALL, SD_ONLY, UP_TO_MR, UP_TO_VGPR
from mmemd.clinical._response_params import reduced_by
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


def plasmacytoma_mask(base: Baseline, measures: Measures, s: ResponseSettings) -> tuple[int, bool]:
    if not base.lesions:
        return ALL, False
    spd = spd_of(base.lesions, measures)
    if spd is None:
        return SD_ONLY, True
    if all(is_zero(measures[lid]) for lid in base.lesions):
        return ALL, False
    if base.spd is None:
        return SD_ONLY, True  # baseline SPD unknown: the reduction cannot be computed
    if reduced_by(base.spd, spd, s.pr_spd_threshold_pct):
        return UP_TO_VGPR, False
    if reduced_by(base.spd, spd, s.mr_spd_threshold_pct):
        return UP_TO_MR, False
    return SD_ONLY, False


@dataclass(slots=True)
class LesionTracker:
    """Imaging nadirs over the assessments before the current one (no confirmation needed)."""

    spd_nadir: Decimal | None = None
    spd_nadir_date: _dt.date | None = None
    # lesion id -> (lowest longest diameter, perpendicular measured with it, date)
    longest: dict[str, tuple[Decimal, Decimal, _dt.date]] = field(default_factory=dict)

    def push(self, base: Baseline, measures: Measures, when: _dt.date) -> None:
        if len(base.lesions) > 1:
            spd = spd_of(base.lesions, measures)
            if spd is not None and (self.spd_nadir is None or spd < self.spd_nadir):
                self.spd_nadir, self.spd_nadir_date = spd, when
        for lid, m in measures.items():
            prev = self.longest.get(lid)
            if prev is None or m.longest_cm < prev[0]:
                self.longest[lid] = (m.longest_cm, m.perpendicular_cm, when)


def imaging_progression(
    base: Baseline, measures: Measures, new_lesion: bool | None, tracker: LesionTracker, s: ResponseSettings
) -> list[PdInfo]:
    """PD (b) criteria met at this assessment (measured lesions only, nothing carried forward)."""
    found: list[PdInfo] = []
    if new_lesion:
        found.append(PdInfo("new_lesion"))
    if not measures:
        return found  # nothing imaged at this date: no lesion to compare (most assessments)
    if s.lesion_absent_at_baseline_is_new:
        for lid in sorted(measures):
            if lid not in base.known_lesions and lid not in tracker.longest and not is_zero(measures[lid]):
                found.append(PdInfo(f"new_plasmacytoma:{lid}"))
    if len(base.lesions) > 1 and tracker.spd_nadir is not None:
        spd = spd_of(base.lesions, measures)
        n = tracker.spd_nadir
        if spd is not None and spd > n and (spd - n) * _HUNDRED >= n * s.pd_spd_increase_pct:
            found.append(PdInfo("spd", n, tracker.spd_nadir_date, spd))
    for lid in sorted(measures):
        m = measures[lid]
        prev = tracker.longest.get(lid)
        if prev is None:
            continue
        nadir, perp_at_nadir, when = prev
        short_axis = m.perpendicular_cm if s.pd_short_axis_reference == "current" else perp_at_nadir
        if (
            m.longest_cm > nadir
            and (m.longest_cm - nadir) * _HUNDRED >= nadir * s.pd_longest_diameter_increase_pct
            and short_axis > s.pd_short_axis_gt_cm
        ):
            found.append(PdInfo(f"lesion:{lid}", nadir, when, m.longest_cm, short_axis))
    return found
