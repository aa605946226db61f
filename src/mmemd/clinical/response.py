"""IMWG 2016 uniform response criteria (KUMAR16) — the ``response`` section of ``mmemd.assessment/1``.

Entry point: :func:`imwg_response`. Criteria: docs/criteria.md §1 (§1.2 measurable disease, §1.3
categories and general rules, §1.4 MRD, §1.5 readings of ambiguous bounds). Every reading the spec tags
[I] or [M], and every reading this module had to choose, is a field of :class:`ResponseSettings` whose
docstring cites the section; docs/response.md explains them. The module is versioned
(:data:`RESPONSE_CRITERIA_VERSION`) so a revised IMWG set can be swapped in (docs/criteria.md §0, §7).

Pure: no I/O, no logging. Quantities are :class:`~decimal.Decimal` and thresholds are compared exactly.
"""

from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Final, Literal

import msgspec

from mmemd.clinical._response_build import build_response
from mmemd.clinical._response_engine import run
from mmemd.clinical._response_levels import NOT_EVALUABLE, ResponseCategory
from mmemd.clinical._response_models import (
    RESPONSE_CRITERIA_VERSION,
    ImwgResponse,
    ParameterResponses,
    TimelineEntry,
)
from mmemd.clinical._response_models import _fields_in_order as _fields_in_order
from mmemd.clinical._response_mrd import MrdCategory
from mmemd.clinical._response_progression import serum_progression, urine_progression
from mmemd.clinical.snapshot import Snapshot

__all__ = [
    "DEFAULT_RESPONSE_SETTINGS",
    "RESPONSE_CRITERIA_VERSION",
    "ImwgResponse",
    "MrdCategory",
    "ParameterResponses",
    "ResponseCategory",
    "ResponseSettings",
    "TimelineEntry",
    "imwg_response",
    "serum_progression",
    "urine_progression",
]


# gc=False: holds numbers, strings, dates and tuples of them only, so never part of a reference cycle
class ResponseSettings(msgspec.Struct, frozen=True, gc=False):
    """Readings of the IMWG 2016 criteria. Defaults are the spec's; each field cites its section."""

    # ---- measurable disease (docs/criteria.md §1.2)
    serum_measurable_min_g_dl: Decimal = Decimal("1")
    """Serum M-protein measurable at >= 1 g/dL (docs/criteria.md §1.2, inclusive)."""
    urine_measurable_min_mg_24h: Decimal = Decimal("200")
    """Urine M-protein measurable at >= 200 mg/24 h (docs/criteria.md §1.2, inclusive)."""
    flc_measurable_min_mg_dl: Decimal = Decimal("10")
    """Involved FLC measurable at >= 10 mg/dL with an abnormal κ/λ ratio (docs/criteria.md §1.2)."""
    flc_ratio_normal_low: Decimal = Decimal("0.26")
    """Lower bound of the normal κ/λ FLC ratio, inclusive (docs/criteria.md §1.2, §1.3 sCR)."""
    flc_ratio_normal_high: Decimal = Decimal("1.65")
    """Upper bound of the normal κ/λ FLC ratio, inclusive (docs/criteria.md §1.2, §1.3 sCR)."""
    marrow_primary_min_pct: Decimal = Decimal("30")
    """BMPC response needs a baseline BMPC >= 30% (docs/criteria.md §1.3 PR, marrow-only patients)."""

    # ---- response categories (docs/criteria.md §1.3, §1.5)
    vgpr_serum_reduction_pct: Decimal = Decimal("90")
    """VGPR: serum M-protein reduction >= 90% (docs/criteria.md §1.3, inclusive)."""
    pr_serum_reduction_pct: Decimal = Decimal("50")
    """PR: serum M-protein reduction >= 50% (docs/criteria.md §1.3, inclusive)."""
    mr_serum_reduction_pct: Decimal = Decimal("25")
    """MR: serum reduction in [25%, 50%) — "≥25% but ≤49%" read without a gap (docs/criteria.md §1.5 [I])."""
    vgpr_urine_below_mg_24h: Decimal = Decimal("100")
    """VGPR: urine M-protein < 100 mg/24 h (docs/criteria.md §1.3, strict)."""
    pr_urine_reduction_pct: Decimal = Decimal("90")
    """PR: urine M-protein reduction >= 90% ... (docs/criteria.md §1.3, inclusive)."""
    pr_urine_below_mg_24h: Decimal = Decimal("200")
    """... or to < 200 mg/24 h (docs/criteria.md §1.3, strict)."""
    mr_urine_reduction_pct: Decimal = Decimal("50")
    """MR: urine reduction in [50%, 90%) — "50–89%" read without a gap (docs/criteria.md §1.5 [I])."""
    vgpr_flc_reduction_pct: Decimal = Decimal("90")
    """FLC-only VGPR: dFLC decrease of 90% (docs/criteria.md §1.3; RAJ11 says ">90%", §1.5 [I])."""
    vgpr_flc_strict: bool = False
    """False: dFLC VGPR at >= 90% (the chosen reading); True: > 90% as in RAJ11 (docs/criteria.md §1.5 [I])."""
    pr_flc_reduction_pct: Decimal = Decimal("50")
    """FLC-only PR: dFLC decrease >= 50% (docs/criteria.md §1.3, inclusive)."""
    pr_marrow_reduction_pct: Decimal = Decimal("50")
    """Marrow-only PR: BMPC reduction >= 50% (docs/criteria.md §1.3, inclusive)."""
    cr_marrow_below_pct: Decimal = Decimal("5")
    """CR: BMPC < 5% (docs/criteria.md §1.3, strict); also the relapse-from-CR marrow level (>= 5%)."""
    pr_spd_threshold_pct: Decimal = Decimal("50")
    """PR (and better): SPD reduction >= 50% if plasmacytomas were present at baseline (docs/criteria.md §1.3)."""
    mr_spd_threshold_pct: Decimal = Decimal("50")
    """MR: SPD reduction >= 50% per KUMAR16; 25 gives the 2006/2011 "25–49%" reading (docs/criteria.md §1.3 MR,
    tagged "make configurable"; §1.5)."""
    mr_rrmm_only: bool = False
    """Report MR only for relapsed/refractory patients (RAJ11) instead of all (KUMAR16) (docs/criteria.md §1.5 [I]).
    When True, MR needs ``imwg_response(..., phase="relapsed_refractory")``."""
    ihc_kappa_max_ratio: Decimal = Decimal("4")
    """sCR: κ patients have no clonal PCs by IHC at κ/λ <= 4:1 (docs/criteria.md §1.3 sCR; abnormal > 4:1)."""
    ihc_lambda_min_ratio: Decimal = Decimal("0.5")
    """sCR: λ patients have no clonal PCs by IHC at κ/λ >= 1:2 (docs/criteria.md §1.3 sCR; abnormal < 1:2)."""
    ihc_min_plasma_cells_counted: int = 100
    """An IHC κ/λ ratio decides only after >= 100 plasma cells were counted (docs/criteria.md §1.3 sCR)."""

    # ---- progression (docs/criteria.md §1.3 PD, §1.5)
    pd_increase_pct: Decimal = Decimal("25")
    """PD (a): increase of >= 25% from the nadir (docs/criteria.md §1.3)."""
    pd_serum_min_increase_g_dl: Decimal = Decimal("0.5")
    """PD (a): serum absolute increase >= 0.5 g/dL (docs/criteria.md §1.3, inclusive)."""
    pd_serum_high_nadir_g_dl: Decimal = Decimal("5")
    """PD (a): the high-nadir rule applies when the nadir is >= 5 g/dL (docs/criteria.md §1.3, §1.5 [I])."""
    pd_serum_high_nadir_increase_g_dl: Decimal = Decimal("1")
    """PD (a): serum increase >= 1 g/dL from a nadir >= 5 g/dL (docs/criteria.md §1.3, §1.5 [I])."""
    pd_serum_high_nadir_abs_suffices: bool = True
    """True: from a nadir >= 5 g/dL an increase >= 1 g/dL suffices (25% not also required); False: 25% and
    >= 1 g/dL (docs/criteria.md §1.5 "Nadir ≥5 g/dL" [I])."""
    pd_urine_min_increase_mg_24h: Decimal = Decimal("200")
    """PD (a): urine absolute increase >= 200 mg/24 h (docs/criteria.md §1.3, inclusive)."""
    pd_dflc_min_increase_mg_dl: Decimal = Decimal("10")
    """PD (a): dFLC absolute increase > 10 mg/dL, strict; serum and urine unmeasurable (docs/criteria.md §1.3)."""
    pd_marrow_min_increase_pct_points: Decimal = Decimal("10")
    """PD (a): BMPC absolute increase >= 10 percentage points; serum, urine and FLC unmeasurable (§1.3)."""
    pd_nadir_zero_relative_satisfied: bool = True
    """From a nadir of 0 (or a negative dFLC) the 25%/50% relative test is trivially met and the absolute minimum
    governs; False: no relative progression from 0 (docs/criteria.md §1.5 "Nadir = 0" [I])."""
    nadir_reading: Literal["confirmed_pair", "lowest_value"] = "confirmed_pair"
    """"Lowest confirmed response value" (docs/criteria.md §1.3 PD (a)): "confirmed_pair" = lowest level held
    on two consecutive measurements of the parameter (or the baseline); "lowest_value" = lowest measured value.
    Marrow and imaging nadirs are always lowest values (no confirmation needed, §1.3 general rule 1)."""
    pd_spd_increase_pct: Decimal = Decimal("50")
    """PD (b): SPD increase >= 50% from nadir, more than one lesion (docs/criteria.md §1.3)."""
    pd_longest_diameter_increase_pct: Decimal = Decimal("50")
    """PD (b): longest-diameter increase >= 50% of a previous lesion (docs/criteria.md §1.3)."""
    pd_short_axis_gt_cm: Decimal = Decimal("1.0")
    """PD (b): the lesion's short axis must be > 1.0 cm, strict (docs/criteria.md §1.5 [I])."""
    pd_short_axis_reference: Literal["current", "nadir"] = "current"
    """Which measurement's short axis (perpendicular diameter) the > 1 cm test reads: the current one or the one at
    the longest-diameter nadir (docs/criteria.md §1.3 PD (b); reading in docs/response.md)."""
    lesion_absent_at_baseline_is_new: bool = True
    """A measured plasmacytoma that was neither listed nor measured at baseline is a new lesion → PD (b)
    (docs/criteria.md §1.3 PD (b); docs/record.md "lesions")."""
    pd_cpc_increase_pct: Decimal = Decimal("50")
    """PD (c): circulating plasma cells increase >= 50% (docs/criteria.md §1.3, §1.5 [I])."""
    pd_cpc_min_cells_per_ul: Decimal = Decimal("200")
    """PD (c): post-increase count >= 200 cells/µL (docs/criteria.md §1.5 "CPC" [I])."""

    # ---- confirmation (docs/criteria.md §1.3 general rule 1)
    response_confirmation_required: bool = True
    """Responses need two consecutive assessments; marrow and imaging need no repeat (docs/criteria.md §1.3
    general rule 1, ADMIRAL)."""
    pd_lab_confirmation_required: bool = True
    """M-protein/FLC progression needs a second consecutive assessment meeting PD; imaging and marrow PD need none
    (docs/criteria.md §1.3 general rule 1; ADMIRAL confirmation table)."""
    pd_cpc_confirmation_required: bool = True
    """Circulating-PC progression (a blood laboratory value) needs confirmation like M-protein (reading of §1.3
    general rule 1)."""
    marrow_carry_forward: bool = True
    """The latest bone-marrow result (BMPC, IHC) stands at later assessments until a newer one — "confirmation with
    repeat bone marrow biopsy not needed" (docs/criteria.md §1.3 general rule 1, CIBMTR)."""
    imaging_carry_forward: bool = True
    """[I] True (default): at an assessment where no plasmacytoma was measured at all (a laboratory-only visit) the
    latest measurement of each stands — imaging needs no confirmation (docs/criteria.md §1.3 general rule 1), and
    plasmacytomas are not re-imaged at every laboratory visit; an assessment that measured some plasmacytomas but not
    all still lacks the others. False: a baseline plasmacytoma not imaged at a date is a missing datum there
    (docs/record.md; general rule 7), so a laboratory-only visit can never show PR or better — after a confirmed
    sCR the next laboratory visit would read SD, which clinicians would rightly call wrong."""
    relapse_from_cr_requires_confirmed_cr: bool = True
    """Relapse from CR is assessed only after a *confirmed* CR (docs/criteria.md §1.3 "Relapse from CR")."""

    # ---- MRD (docs/criteria.md §1.4)
    mrd_max_sensitivity: Decimal = Decimal("1E-5")
    """MRD-negative counts at a sensitivity of 1 in 10^5 or better, i.e. limit of detection <= 1e-5 (§1.4)."""
    mrd_requires_confirmed_cr: bool = True
    """MRD categories require CR (§1.4); True: a confirmed CR at the MRD assessment (general rule 1)."""
    sustained_mrd_interval: Literal["calendar_year", "365_days"] = "calendar_year"
    """"Confirmed minimum 1 year apart" (docs/criteria.md §1.4): same date next calendar year (29 Feb → 1 Mar)
    or 365 days."""
    sustained_mrd_imaging_at_both: bool = True
    """Sustained MRD-negative needs marrow and PET negativity at both evaluations; False: PET at either (§1.4)."""


DEFAULT_RESPONSE_SETTINGS: Final = ResponseSettings()


def imwg_response(
    snapshots: Sequence[Snapshot],
    settings: ResponseSettings = DEFAULT_RESPONSE_SETTINGS,
    baseline_lesions: Collection[str] = (),
    *,
    phase: Literal["newly_diagnosed", "relapsed_refractory"] | None = None,
) -> ImwgResponse:
    """IMWG 2016 response over a patient's assessments (sorted by date, unique dates).

    ``baseline_lesions``: ids of soft-tissue plasmacytomas known at baseline (a plasmacytoma measured at the
    baseline assessment counts too). ``phase`` matters only with ``settings.mr_rrmm_only``.
    """
    for k in range(1, len(snapshots)):
        if not snapshots[k - 1].date < snapshots[k].date:
            raise ValueError("assessments must be sorted by date with unique dates")
    if not snapshots:
        return ImwgResponse.model_construct(
            current=NOT_EVALUABLE,
            confirmed=False,
            best=NOT_EVALUABLE,
            progressive_disease=False,
            relapse_from_cr=False,
            timeline=[],
            reasons=["not_evaluable: no assessments"],
        )
    result = run(snapshots, baseline_lesions, settings, phase == "relapsed_refractory")
    return build_response(snapshots, result, settings, phase)


def imwg_best_response(
    snapshots: Sequence[Snapshot],
    settings: ResponseSettings = DEFAULT_RESPONSE_SETTINGS,
    baseline_lesions: Collection[str] = (),
    *,
    phase: Literal["newly_diagnosed", "relapsed_refractory"] | None = None,
) -> ResponseCategory:
    """Only the ``best`` category of :func:`imwg_response` — the same engine run, without building the timeline,
    reasons and per-parameter detail (about a third of the cost), for cohort-scale work."""
    for k in range(1, len(snapshots)):
        if not snapshots[k - 1].date < snapshots[k].date:
            raise ValueError("assessments must be sorted by date with unique dates")
    if not snapshots:
        return NOT_EVALUABLE
    return run(snapshots, baseline_lesions, settings, phase == "relapsed_refractory").best
