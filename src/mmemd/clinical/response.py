"""IMWG 2016 uniform response criteria (KUMAR16) — the ``response`` section of ``mmemd.assessment/1``.

Entry point: :func:`imwg_response`. Criteria: docs/criteria.md §1 (§1.2 measurable disease, §1.3
categories and general rules, §1.4 MRD, §1.5 readings of ambiguous bounds). Every reading the spec tags
[I] or [M], and every reading this module had to choose, is a field of :class:`ResponseSettings` whose
docstring cites the section; docs/response.md explains them. The module is versioned
(:data:`RESPONSE_CRITERIA_VERSION`) so a revised IMWG set can be swapped in (docs/criteria.md §0, §7).

Pure: no I/O, no logging. Quantities are :class:`~decimal.Decimal` and thresholds are compared exactly.
"""

# Models: no `from __future__ import annotations`: pydantic need not compile each annotation (performance.md).

import datetime as _dt
from collections.abc import Callable, Collection, Sequence
from decimal import Decimal
from typing import Any, Final, Literal, TypeVar

import msgspec
from pydantic import BaseModel, ConfigDict, Field

from mmemd._defaults import new_list
from mmemd.clinical._response_baseline import MEASURABLE, Baseline
from mmemd.clinical._response_engine import (
    FLC,
    IHC,
    LAB_PD_CODES,
    MARROW,
    PLASMACYTOMAS,
    SERUM,
    URINE,
    Assessed,
    EngineResult,
    run,
)
from mmemd.clinical._response_levels import (
    ALL,
    BASELINE,
    NAMES,
    NO_MR,
    NOT_EVALUABLE,
    PD_NAME,
    SD,
    ParameterCategory,
    ResponseCategory,
    TimelineCategory,
    highest,
)
from mmemd.clinical._response_mrd import MrdCategory, mrd_status
from mmemd.clinical._response_progression import serum_progression, urine_progression
from mmemd.clinical._response_text import S13, describe_baseline, describe_level, describe_pd
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

RESPONSE_CRITERIA_VERSION: Final = "IMWG-2016"
"""Version of the response criteria implemented here (docs/criteria.md §0 watch item, §7 item 7)."""


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
    return _build(snapshots, result, settings, phase)


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


def _build(
    snaps: Sequence[Snapshot], r: EngineResult, s: ResponseSettings, phase: str | None
) -> ImwgResponse:
    base = r.base
    bi = base.index
    timeline: list[TimelineEntry] = []
    construct = _timeline_entry
    for i, sn in enumerate(snaps):
        a = r.assessed[i]
        if i == bi:
            timeline.append(construct(sn.date, BASELINE, None))
        elif a is None:
            timeline.append(construct(sn.date, NOT_EVALUABLE, None))
        else:
            timeline.append(construct(sn.date, a.category, a.confirmed))

    reasons: list[str] = [describe_baseline(base, s)]
    if bi > 0:
        reasons.append(
            f"{bi} assessment(s) before the baseline {base.snap.date.isoformat()} are not evaluated (not_evaluable)"
        )
    last = r.assessed[-1]
    mr_filtered = s.mr_rrmm_only and phase != "relapsed_refractory"
    by_parameter: ParameterResponses | None = None
    if last is None:
        current: ResponseCategory = NOT_EVALUABLE
        confirmed = False
        reasons.append(f"not_evaluable: no assessment after the baseline {base.snap.date.isoformat()}")
    else:
        current = last.category
        confirmed = bool(last.confirmed)
        reasons.extend(_current_reasons(snaps, r, last, s, mr_filtered))
        if base.primary is not None:
            by_parameter = _by_parameter(base, snaps[last.index], last, mr_filtered)

    if r.best_index is not None and r.best != NOT_EVALUABLE:
        b = r.assessed[r.best_index]
        assert b is not None
        by = f", confirmed by {snaps[b.confirmed_by].date.isoformat()}" if b.confirmed_by is not None else ""
        reasons.append(
            f"best confirmed response: {r.best} at {snaps[r.best_index].date.isoformat()}{by} ({S13} general rule 1)"
        )
    else:
        reasons.append("best confirmed response: not_evaluable (no confirmed category yet)")

    relapse = r.relapse_at is not None
    if relapse:
        assert r.relapse_at is not None and r.cr_confirmed_at is not None
        ra = r.assessed[r.relapse_at]
        assert ra is not None
        note = "" if ra.pd else "; not PD by itself (general rule 3: positive IFE alone after CR is not PD)"
        reasons.append(
            f"relapse from CR ({S13}) at {snaps[r.relapse_at].date.isoformat()}: "
            f"{_relapse_text(snaps[r.relapse_at], ra, s)} after CR of "
            f"{snaps[r.cr_confirmed_at].date.isoformat()}{note}"
        )
    mrd, mrd_reasons = mrd_status(snaps, r, s)
    reasons.extend(mrd_reasons)
    # Fields in declaration order: criteria, current, confirmed, best, progressive_disease, relapse_from_cr, mrd,
    # timeline, reasons, by_parameter.
    return _imwg_response(
        RESPONSE_CRITERIA_VERSION,
        current,
        confirmed,
        r.best,
        r.first_confirmed_pd is not None,
        relapse,
        mrd,
        timeline,
        reasons,
        by_parameter,
    )


def _current_reasons(
    snaps: Sequence[Snapshot], r: EngineResult, last: Assessed, s: ResponseSettings, mr_filtered: bool
) -> list[str]:
    out: list[str] = []
    base = r.base
    when = snaps[last.index].date.isoformat()
    if r.first_confirmed_pd is not None:
        pd_a = r.assessed[r.first_confirmed_pd]
        assert pd_a is not None
        pd_when = snaps[pd_a.index].date.isoformat()
        texts = "; ".join(describe_pd(p, s) for p in pd_a.pd_info)
        by = (
            f"; confirmed by {snaps[pd_a.confirmed_by].date.isoformat()}"
            if pd_a.confirmed_by is not None
            else ""
        )
        if pd_a.confirmed_by is not None:
            kind = ""
        elif all(code in LAB_PD_CODES or code == "cpc" for code in pd_a.pd):
            kind = " (laboratory PD taken without confirmation: confirmation settings are off)"
        else:
            kind = " (imaging/marrow PD needs no confirmation, general rule 1)"
        out.append(f"PD at {pd_when}: {texts}{by}{kind}")
        if last.index != pd_a.index:
            out.append(
                f"assessments after the confirmed PD of {pd_when} are reported as PD; a new line of therapy needs "
                "a new baseline"
            )
        return out
    if last.category == PD_NAME:
        texts = "; ".join(describe_pd(p, s) for p in last.pd_info)
        out.append(
            f"PD at {when}, not confirmed yet: {texts}; M-protein/FLC progression needs a second consecutive "
            f"assessment ({S13} general rule 1)"
        )
        return out
    if base.primary is None:
        out.append(
            f"not_evaluable at {when}: no measurable disease at baseline; PD criteria are still applied"
        )
        return out
    if not last.evaluable:
        out.append(
            f"not_evaluable at {when}: the response parameter ({_primary_name(base.primary)}) was not measured"
        )
        return out
    lines = describe_level(base, snaps, last, s, mr_filtered)
    if last.level > SD:
        if last.confirmed:
            if last.confirmed_by is not None:
                lines[0] += f"; confirmed by {snaps[last.confirmed_by].date.isoformat()}"
            else:
                lines[0] += "; confirmed (marrow/imaging need no second assessment, general rule 1)"
        else:
            lines[0] += (
                f"; not confirmed yet: needs two consecutive assessments ({S13} general rule 1), "
                f"confirmed level here {NAMES[last.conf_level]}"
            )
    out.extend(lines)
    return out


def _primary_name(primary: str) -> str:
    return {"serum_urine": "serum/urine M-protein", "flc": "serum FLC", "marrow": "bone-marrow PCs"}[primary]


def _relapse_text(sn: Snapshot, a: Assessed, s: ResponseSettings) -> str:
    signs: list[str] = []
    if sn.serum_ife_positive:
        signs.append("serum IFE positive")
    if sn.urine_ife_positive:
        signs.append("urine IFE positive")
    if sn.serum_m_protein_g_dl is not None and sn.serum_m_protein_g_dl > 0:
        signs.append("serum M-protein back on electrophoresis")
    if sn.urine_m_protein_mg_24h is not None and sn.urine_m_protein_mg_24h > 0:
        signs.append("urine M-protein back on electrophoresis")
    bmpc = sn.bone_marrow_plasma_cells_pct
    if bmpc is not None and bmpc >= s.cr_marrow_below_pct:
        signs.append(f"BMPC {bmpc}% (≥{s.cr_marrow_below_pct}%)")
    if any(m.longest_cm > 0 or m.perpendicular_cm > 0 for m in sn.plasmacytomas):
        signs.append("plasmacytoma measurable again")
    if a.pd:
        signs.append("progression")
    return ", ".join(signs) or "sign of progression"


_PARAM_FIELDS: Final = (
    (SERUM, "serum"),
    (URINE, "urine"),
    (FLC, "flc"),
    (MARROW, "marrow"),
    (PLASMACYTOMAS, "plasmacytomas"),
)
_PD_PARAM: Final = {
    "serum": "serum",
    "urine": "urine",
    "dflc": "flc",
    "marrow": "marrow",
    "spd": "plasmacytomas",
}


def _by_parameter(base: Baseline, sn: Snapshot, last: Assessed, mr_filtered: bool) -> ParameterResponses:
    keep = NO_MR if mr_filtered else ALL
    # A parameter is null when its datum is absent: the electrophoresis value (or a negative IFE) for a
    # measurable M-protein, the IFE for an unmeasurable one.
    serum_ife, urine_ife = sn.serum_ife_positive, sn.urine_ife_positive
    absent = {
        SERUM: sn.serum_m_protein_g_dl is None
        and (serum_ife is None or (serum_ife and base.serum_role == MEASURABLE)),
        URINE: sn.urine_m_protein_mg_24h is None
        and (urine_ife is None or (urine_ife and base.urine_role == MEASURABLE)),
        FLC: sn.flc_kappa_mg_dl is None or sn.flc_lambda_mg_dl is None,
        MARROW: last.marrow_from is None,
        PLASMACYTOMAS: not base.lesions or any(lid not in last.measures for lid in base.lesions),
    }
    values: dict[str, ParameterCategory | None] = {}
    for p, name in _PARAM_FIELDS:
        mask = last.masks[p] & keep
        if p == MARROW:
            mask &= last.masks[IHC]  # the marrow's sub-response includes its IHC clonality (sCR)
        values[name] = None if absent[p] or mask == 0 else NAMES[highest(mask)]
    for code in last.pd:
        target = _PD_PARAM.get(code)
        if target is None and code.startswith(("lesion:", "new_plasmacytoma:")):
            target = "plasmacytomas"
        if target is not None:
            values[target] = PD_NAME
    return _parameter_responses(*[values[name] for _, name in _PARAM_FIELDS])


_timeline_entry: Final = _fields_in_order(TimelineEntry)
_imwg_response: Final = _fields_in_order(ImwgResponse)
_parameter_responses: Final = _fields_in_order(ParameterResponses)
assert tuple(ParameterResponses.__pydantic_fields__) == tuple(name for _, name in _PARAM_FIELDS)
