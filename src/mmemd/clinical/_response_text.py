"""Reason texts of the response section: which criterion (spec row) and which data led to each answer.

Only the assessments the answer points at (baseline, current, best, PD, relapse) are described, so the
per-assessment loop stays free of string work. Texts name values but are pure output (no logging).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from mmemd.clinical._response_baseline import (
    MEASURABLE,
    NONMEASURABLE,
    UNKNOWN,
    Baseline,
    dflc_of,
    flc_ratio_normal,
)
from mmemd.clinical._response_engine import (
    FLC,
    IHC,
    MARROW,
    PLASMACYTOMAS,
    SERUM,
    URINE,
    Assessed,
)
from mmemd.clinical._response_lesions import is_zero, spd_of
from mmemd.clinical._response_levels import CR, MR, NAMES, PR, SCR, SD, VGPR, bit
from mmemd.clinical.snapshot import Snapshot

if TYPE_CHECKING:
    from mmemd.clinical._response_progression import PdInfo
    from mmemd.clinical.response import ResponseSettings

S13: Final = "IMWG-2016 §1.3"
S12: Final = "IMWG-2016 §1.2"
_HUNDRED: Final = Decimal(100)
_CENT: Final = Decimal("0.01")
_NEEDS: Final = {False: "", True: "needs "}
_DEFINED: Final[dict[str, tuple[int, ...]]] = {"marrow": (PR, CR, SCR), "flc": (PR, VGPR, CR, SCR)}
_PARAM_NAMES: Final = ("serum", "urine", "FLC", "bone marrow", "marrow IHC", "plasmacytomas")
_PARAMS: Final = (SERUM, URINE, FLC, MARROW, IHC, PLASMACYTOMAS)


def num(v: Decimal) -> str:
    """Decimal as written, without exponent ("3.0" stays "3.0", 1E+2 -> "100")."""
    # str() writes the same digits as format(v, "f") unless it chooses exponent notation (a positive exponent, or
    # more than six zeros after the point), at a quarter of the cost: about twenty numbers a response's reasons.
    text = str(v)
    return format(v, "f") if "E" in text or "e" in text else text


def pct_change(base: Decimal, current: Decimal) -> str:
    """Signed percent change from ``base`` (display only; decisions never use this rounded value)."""
    if base == 0:
        return "n/a"
    change = ((current - base) * _HUNDRED / base).quantize(_CENT)
    text = num(abs(change).normalize())
    return f"−{text}%" if change < 0 else f"+{text}%"


def _serum(base: Baseline, sn: Snapshot, level: int, s: ResponseSettings, failing: bool) -> str | None:
    v, ife = sn.serum_m_protein_g_dl, sn.serum_ife_positive
    if ife is False and (v is None or v == 0):
        return "serum IFE negative"
    if base.serum_role != MEASURABLE:
        if level < CR:
            return None
        return ("serum IFE positive" if ife else "serum IFE not reported") + (
            " (CR needs a negative serum IFE)" if failing else ""
        )
    if v is None:
        return "serum M-protein missing"
    if v == 0:
        cr_tail = " (CR needs a negative serum IFE)" if level >= CR and failing else ""
        return (
            "serum M-protein 0 on electrophoresis, IFE " + ("positive" if ife else "not reported") + cr_tail
        )
    assert base.serum is not None
    need = {VGPR: s.vgpr_serum_reduction_pct, PR: s.pr_serum_reduction_pct, MR: s.mr_serum_reduction_pct}.get(
        level
    )
    if need is not None:
        tail = f" ({_NEEDS[failing]}≥{num(need)}% fall)"
    else:
        tail = " (CR needs a negative serum IFE)" if level >= CR and failing else ""
    return f"serum M-protein {num(v)} g/dL, {pct_change(base.serum, v)} from {num(base.serum)}{tail}"


def _urine(base: Baseline, sn: Snapshot, level: int, s: ResponseSettings, failing: bool) -> str | None:
    v, ife = sn.urine_m_protein_mg_24h, sn.urine_ife_positive
    if ife is False and (v is None or v == 0):
        return "urine IFE negative"
    if base.urine_role == NONMEASURABLE and level < CR and (v is None or v < s.vgpr_urine_below_mg_24h):
        return None  # not a response parameter; matters below CR only through its absolute clauses
    if v is None:
        if base.urine_role == NONMEASURABLE:
            return ("urine IFE positive" if ife else "urine IFE not reported") + (
                " (CR needs a negative urine IFE)" if failing else ""
            )
        return "urine M-protein missing"
    if v == 0:
        cr_tail = " (CR needs a negative urine IFE)" if level >= CR and failing else ""
        return (
            "urine M-protein 0 on electrophoresis, IFE " + ("positive" if ife else "not reported") + cr_tail
        )
    change = (
        f", {pct_change(base.urine, v)} from {num(base.urine)}"
        if base.urine is not None and base.urine
        else ""
    )
    if failing:
        needs = {
            SCR: "a negative urine IFE",
            CR: "a negative urine IFE",
            VGPR: f"<{num(s.vgpr_urine_below_mg_24h)} mg/24h",
            PR: f"≥{num(s.pr_urine_reduction_pct)}% fall or <{num(s.pr_urine_below_mg_24h)} mg/24h",
            MR: f"≥{num(s.mr_urine_reduction_pct)}% fall",
        }.get(level)
        tail = f" (needs {needs})" if needs else ""
    elif v < s.vgpr_urine_below_mg_24h:
        tail = f" (<{num(s.vgpr_urine_below_mg_24h)} mg/24h)"
    elif v < s.pr_urine_below_mg_24h:
        tail = f" (<{num(s.pr_urine_below_mg_24h)} mg/24h)"
    else:
        need = {PR: s.pr_urine_reduction_pct, MR: s.mr_urine_reduction_pct}.get(level)
        tail = f" (≥{num(need)}% fall)" if need is not None else ""
    return f"urine M-protein {num(v)} mg/24h{change}{tail}"


def _flc(base: Baseline, sn: Snapshot, level: int, s: ResponseSettings, failing: bool) -> str | None:
    kappa, lam = sn.flc_kappa_mg_dl, sn.flc_lambda_mg_dl
    primary = base.primary == "flc"
    if not primary and level < SCR:
        return None
    if kappa is None or lam is None:
        return "serum FLC missing"
    normal = flc_ratio_normal(kappa, lam, s)
    ratio = "n/a" if lam == 0 else num((kappa / lam).quantize(_CENT).normalize())
    ratio_text = (
        f"κ/λ {ratio} ({'normal' if normal else 'abnormal'}, "
        f"normal {num(s.flc_ratio_normal_low)}–{num(s.flc_ratio_normal_high)})"
    )
    if not primary:
        return "FLC " + ratio_text
    d = dflc_of(sn, base.involved)
    assert d is not None and base.dflc is not None
    need = {VGPR: s.vgpr_flc_reduction_pct, PR: s.pr_flc_reduction_pct}.get(level)
    sign = ">" if level == VGPR and s.vgpr_flc_strict else "≥"
    tail = f" ({_NEEDS[failing]}{sign}{num(need)}% fall)" if need is not None else ""
    return f"dFLC {num(d)} mg/dL, {pct_change(base.dflc, d)} from {num(base.dflc)}{tail}, {ratio_text}"


def _marrow(
    base: Baseline, snaps: Sequence[Snapshot], a: Assessed, level: int, s: ResponseSettings, failing: bool
) -> str | None:
    primary = base.primary == "marrow"
    if not primary and level < CR:
        return None
    if a.marrow_from is None:
        return "bone marrow not examined"
    sm = snaps[a.marrow_from]
    v = sm.bone_marrow_plasma_cells_pct
    assert v is not None
    when = (
        "" if a.marrow_from == a.index else f" (bone marrow of {sm.date.isoformat()}, no confirmation needed)"
    )
    if v < s.cr_marrow_below_pct:
        tail = f" (<{num(s.cr_marrow_below_pct)}%)"
    elif level >= CR or not primary:
        tail = f" (CR needs <{num(s.cr_marrow_below_pct)}%)"
    else:
        assert base.marrow is not None
        need = f" ({_NEEDS[failing]}≥{num(s.pr_marrow_reduction_pct)}% fall)" if level == PR else ""
        tail = f", {pct_change(base.marrow, v)} from {num(base.marrow)}%{need}"
    return f"BMPC {num(v)}%{tail}{when}"


def _ihc(a: Assessed, level: int) -> str | None:
    if level < SCR:
        return None
    if a.ihc_from is None:
        return "marrow clonality by IHC not known"
    clonal = (a.masks[IHC] & bit(SCR)) == 0
    return "clonal plasma cells by IHC" if clonal else "no clonal plasma cells by IHC"


def _plasmacytomas(base: Baseline, a: Assessed, level: int, s: ResponseSettings, failing: bool) -> str | None:
    if not base.lesions:
        return None
    unimaged = [lid for lid in base.lesions if lid not in a.measures]
    if unimaged:
        return f"plasmacytoma {', '.join(unimaged)} not imaged at this date"
    if all(is_zero(a.measures[lid]) for lid in base.lesions):
        return "all plasmacytomas gone (0 × 0)"
    spd = spd_of(base.lesions, a.measures)
    assert spd is not None
    if base.spd is None:
        return f"SPD {num(spd)} cm² (baseline SPD unknown: a baseline plasmacytoma was not measured)"
    if level >= CR:
        need = " (CR needs every plasmacytoma gone, 0 × 0)"
    elif level in (PR, VGPR):
        need = f" ({_NEEDS[failing]}≥{num(s.pr_spd_threshold_pct)}% fall)"
    elif level == MR:
        need = f" ({_NEEDS[failing]}≥{num(s.mr_spd_threshold_pct)}% fall)"
    else:
        need = ""
    return f"SPD {num(spd)} cm², {pct_change(base.spd, spd)} from {num(base.spd)} cm²{need}"


def _clause(
    p: int,
    base: Baseline,
    snaps: Sequence[Snapshot],
    a: Assessed,
    level: int,
    s: ResponseSettings,
    failing: bool,
) -> str | None:
    """Parameter ``p``'s clause at assessment ``a`` for ``level`` (None when it says nothing there)."""
    if p == SERUM:
        return _serum(base, snaps[a.index], level, s, failing)
    if p == URINE:
        return _urine(base, snaps[a.index], level, s, failing)
    if p == FLC:
        return _flc(base, snaps[a.index], level, s, failing)
    if p == MARROW:
        return _marrow(base, snaps, a, level, s, failing)
    if p == IHC:
        return _ihc(a, level)
    return _plasmacytomas(base, a, level, s, failing)


def parameter_clauses(
    base: Baseline,
    snaps: Sequence[Snapshot],
    a: Assessed,
    level: int,
    s: ResponseSettings,
    failing: bool = False,
) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for p in _PARAMS:
        text = _clause(p, base, snaps, a, level, s, failing)
        if text is not None:
            out.append((p, text))
    return out


def describe_level(
    base: Baseline, snaps: Sequence[Snapshot], a: Assessed, s: ResponseSettings, mr_filtered: bool
) -> list[str]:
    """The current assessment: its category with the data behind it, and what keeps it from the next level."""
    sn = snaps[a.index]
    level = a.level
    clauses = "; ".join(t for _, t in parameter_clauses(base, snaps, a, level, s))
    lines = [f"{NAMES[level]} ({S13}) at {sn.date.isoformat()}: {clauses}"]
    # Levels defined for this patient: no MR on dFLC, neither MR nor VGPR on marrow (§1.3).
    defined = _DEFINED.get(base.primary or "", (MR, PR, VGPR, CR, SCR))
    if mr_filtered:
        defined = tuple(x for x in defined if x != MR)
        if level == SD:
            lines.append(
                "MR not reported: mr_rrmm_only is set and the patient is not known to be relapsed/refractory"
            )
    higher = [x for x in defined if x > level]
    if higher:
        nxt = higher[0]
        blockers: list[str] = []
        missing = False
        for p in _PARAMS:
            if a.masks[p] & bit(nxt):
                continue
            # Only the parameters that keep the next level away are described against it.
            text = _clause(p, base, snaps, a, nxt, s, True) or _PARAM_NAMES[p]
            if a.missing >> p & 1:
                missing = True
                text += " — datum missing"
            blockers.append(text)
        if blockers:
            rule = (
                "; general rule 7: a missing datum downgrades to the level the known data establish"
                if missing
                else ""
            )
            lines.append(f"not {NAMES[nxt]}: {'; '.join(blockers)}{rule}")
    return lines


def describe_baseline(base: Baseline, s: ResponseSettings) -> str:
    b = base.snap
    when = b.date.isoformat()
    if base.primary is None:
        return f"not_evaluable ({S12}): no measurable disease at baseline {when} — {'; '.join(base.not_evaluable_why)}"
    parts: list[str] = []
    if base.serum_role == MEASURABLE and base.serum is not None:
        parts.append(f"serum M-protein {num(base.serum)} g/dL (≥{num(s.serum_measurable_min_g_dl)})")
    if base.urine_role == MEASURABLE and base.urine is not None:
        parts.append(f"urine M-protein {num(base.urine)} mg/24h (≥{num(s.urine_measurable_min_mg_24h)})")
    if base.primary == "flc" and base.dflc is not None:
        parts.append(
            f"involved FLC ({base.involved}) ≥{num(s.flc_measurable_min_mg_dl)} mg/dL with abnormal κ/λ"
        )
    if base.primary == "marrow" and base.marrow is not None:
        parts.append(
            f"BMPC {num(base.marrow)}% (≥{num(s.marrow_primary_min_pct)}%; serum, urine and FLC unmeasurable)"
        )
    follows = {
        "serum_urine": "serum/urine M-protein",
        "flc": "dFLC (serum and urine unmeasurable)",
        "marrow": "BMPC",
    }
    text = f"measurable disease at baseline {when} ({S12}): {', '.join(parts)}; response by {follows[base.primary]}"
    unknown = [n for n, r in (("serum", base.serum_role), ("urine", base.urine_role)) if r == UNKNOWN]
    if unknown and base.primary == "serum_urine":
        text += (
            f"; baseline {' and '.join(unknown)} M-protein missing (its criteria use absolute values only)"
        )
    if base.lesions:
        spd = "unknown" if base.spd is None else f"{num(base.spd)} cm²"
        text += f"; plasmacytomas at baseline: {', '.join(base.lesions)} (SPD {spd})"
    return text


_PD_LETTER: Final = {"serum": "a", "urine": "a", "dflc": "a", "marrow": "a", "cpc": "c"}


def describe_pd(info: PdInfo, s: ResponseSettings) -> str:
    code = info.code
    letter = _PD_LETTER.get(code, "b")
    head = f"{S13} PD ({letter})"
    if code == "new_lesion":
        return f"{head}: new lesion reported"
    if code.startswith("new_plasmacytoma:"):
        return f"{head}: new plasmacytoma {code.split(':', 1)[1]} (not present at baseline)"
    assert info.nadir is not None and info.current is not None
    when = info.nadir_date.isoformat() if info.nadir_date is not None else "?"
    inc = info.current - info.nadir
    rel = (
        pct_change(info.nadir, info.current) if info.nadir > 0 else "relative test met from a nadir ≤ 0, §1.5"
    )
    if code == "serum":
        if info.nadir >= s.pd_serum_high_nadir_g_dl and s.pd_serum_high_nadir_abs_suffices:
            rule = f"≥{num(s.pd_serum_high_nadir_increase_g_dl)} g/dL suffices from a nadir ≥{num(s.pd_serum_high_nadir_g_dl)}"
        else:
            rule = f"≥{num(s.pd_increase_pct)}% and ≥{num(s.pd_serum_min_increase_g_dl)} g/dL"
        return f"{head}: serum M-protein {num(info.current)} g/dL, +{num(inc)} g/dL ({rel}) from nadir {num(info.nadir)} ({when}); {rule}"
    if code == "urine":
        rule = f"≥{num(s.pd_increase_pct)}% and ≥{num(s.pd_urine_min_increase_mg_24h)} mg/24h"
        return f"{head}: urine M-protein {num(info.current)} mg/24h, +{num(inc)} ({rel}) from nadir {num(info.nadir)} ({when}); {rule}"
    if code == "dflc":
        rule = f"≥{num(s.pd_increase_pct)}% and >{num(s.pd_dflc_min_increase_mg_dl)} mg/dL; serum and urine unmeasurable"
        return f"{head}: dFLC {num(info.current)} mg/dL, +{num(inc)} ({rel}) from nadir {num(info.nadir)} ({when}); {rule}"
    if code == "marrow":
        rule = f"≥{num(s.pd_increase_pct)}% and ≥{num(s.pd_marrow_min_increase_pct_points)} points; serum, urine and FLC unmeasurable"
        return f"{head}: BMPC {num(info.current)}%, +{num(inc)} points ({rel}) from nadir {num(info.nadir)}% ({when}); {rule}"
    if code == "cpc":
        rule = f"≥{num(s.pd_cpc_increase_pct)}% and ≥{num(s.pd_cpc_min_cells_per_ul)} cells/µL; only measure of disease"
        return f"{head}: circulating PCs {num(info.current)}/µL ({rel}) from nadir {num(info.nadir)} ({when}); {rule}"
    if code == "spd":
        return (
            f"{head}: SPD {num(info.current)} cm² ({rel}) from nadir {num(info.nadir)} cm² ({when}); "
            f"≥{num(s.pd_spd_increase_pct)}%, more than one lesion"
        )
    lid = code.split(":", 1)[1]
    assert info.short_axis is not None
    return (
        f"{head}: {lid} longest diameter {num(info.current)} cm ({rel}) from nadir {num(info.nadir)} cm ({when}); "
        f"≥{num(s.pd_longest_diameter_increase_pct)}%, short axis {num(info.short_axis)} cm (>{num(s.pd_short_axis_gt_cm)} cm)"
    )
