"""The ``response`` section from the engine's result: timeline, reasons and per-parameter detail (docs/criteria.md §1).

:func:`build_response` is the second half of :func:`mmemd.clinical.response.imwg_response`; the models it fills are in
``_response_models`` (interpreted), so that a compiled build (mypyc) compiles this module with the engine.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

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
from mmemd.clinical._response_models import (
    RESPONSE_CRITERIA_VERSION,
    ImwgResponse,
    ParameterResponses,
    TimelineEntry,
    _fields_in_order,
    _new,
    _set,
    _set_extra,
    _set_fields_set,
    _set_private,
)
from mmemd.clinical._response_mrd import mrd_status
from mmemd.clinical._response_text import S13, describe_baseline, describe_level, describe_pd
from mmemd.clinical.snapshot import Snapshot

if TYPE_CHECKING:
    from mmemd.clinical.response import ResponseSettings


def build_response(
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


def _timeline_entry(date: _dt.date, category: TimelineCategory, confirmed: bool | None) -> TimelineEntry:
    """What ``_fields_in_order(TimelineEntry)`` builds, written out for its three fields (an entry per assessment):
    the field dict is built directly instead of zipped from the names."""
    m: TimelineEntry = _new(TimelineEntry)
    _set(m, "__dict__", {"date": date, "category": category, "confirmed": confirmed})
    _set_fields_set(m, {"date", "category", "confirmed"})
    _set_extra(m, None)
    _set_private(m, None)
    return m


_imwg_response: Final = _fields_in_order(ImwgResponse)
_parameter_responses: Final = _fields_in_order(ParameterResponses)
assert tuple(ParameterResponses.__pydantic_fields__) == tuple(name for _, name in _PARAM_FIELDS)
assert tuple(TimelineEntry.__pydantic_fields__) == ("date", "category", "confirmed")
assert TimelineEntry.model_config.get("extra") != "allow" and not TimelineEntry.__pydantic_post_init__
assert not TimelineEntry.__private_attributes__
