"""Builders shared by the IMWG response tests (no tests here).

``snap()`` takes plain numbers and converts them with ``Decimal(str(x))`` (the contract's conversion rule),
so a test reads like the record it stands for. ``run()`` returns the response and ``cats()`` the timeline
categories.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any, Literal

from mmemd.clinical.response import DEFAULT_RESPONSE_SETTINGS, ImwgResponse, ResponseSettings, imwg_response
from mmemd.clinical.snapshot import PlasmacytomaMeasure, Snapshot

Num = int | float | str | Decimal | None


def dec(x: Num) -> Decimal | None:
    if x is None:
        return None
    return x if isinstance(x, Decimal) else Decimal(str(x))


def lesion(lid: str, longest: Num, perpendicular: Num) -> PlasmacytomaMeasure:
    lo, pe = dec(longest), dec(perpendicular)
    assert lo is not None and pe is not None
    return PlasmacytomaMeasure(lid, lo, pe)


def snap(
    day: str,
    *,
    baseline: bool = False,
    serum: Num = None,
    urine: Num = None,
    serum_ife: bool | None = None,
    urine_ife: bool | None = None,
    kappa: Num = None,
    lam: Num = None,
    involved: Literal["kappa", "lambda"] | None = None,
    bmpc: Num = None,
    ihc_clonal: bool | None = None,
    ihc_ratio: Num = None,
    ihc_counted: int | None = None,
    cpc: Num = None,
    cpc_pct: Num = None,
    plasmacytomas: Sequence[PlasmacytomaMeasure] = (),
    new_lesion: bool | None = None,
    mrd_method: Literal["NGF", "NGS"] | None = None,
    mrd_negative: bool | None = None,
    mrd_sensitivity: Num = None,
    pet_negative: bool | None = None,
) -> Snapshot:
    return Snapshot(
        date=dt.date.fromisoformat(day),
        baseline=baseline,
        serum_m_protein_g_dl=dec(serum),
        urine_m_protein_mg_24h=dec(urine),
        serum_ife_positive=serum_ife,
        urine_ife_positive=urine_ife,
        flc_kappa_mg_dl=dec(kappa),
        flc_lambda_mg_dl=dec(lam),
        flc_involved=involved,
        bone_marrow_plasma_cells_pct=dec(bmpc),
        bone_marrow_clonal_by_ihc=ihc_clonal,
        bone_marrow_kappa_lambda_ratio_ihc=dec(ihc_ratio),
        bone_marrow_plasma_cells_counted=ihc_counted,
        circulating_plasma_cells_per_ul=dec(cpc),
        circulating_plasma_cells_pct=dec(cpc_pct),
        plasmacytomas=tuple(plasmacytomas),
        new_lesion=new_lesion,
        mrd_method=mrd_method,
        mrd_negative=mrd_negative,
        mrd_sensitivity=dec(mrd_sensitivity),
        pet_negative=pet_negative,
    )


def run(
    snaps: Sequence[Snapshot],
    settings: ResponseSettings = DEFAULT_RESPONSE_SETTINGS,
    lesions: Collection[str] = (),
    **kw: Any,
) -> ImwgResponse:
    return imwg_response(snaps, settings, lesions, **kw)


def cats(r: ImwgResponse) -> list[str]:
    return [t.category for t in r.timeline]


def joined(r: ImwgResponse) -> str:
    return "\n".join(r.reasons)


# A serum-measurable patient (serum 2.0 g/dL, urine not measurable: 0 mg/24 h with positive IFE), the usual
# scaffold for threshold tests: only the serum M-protein varies.
SERUM_BASE = {"serum": 2.0, "urine": 0, "serum_ife": True, "urine_ife": True}


def serum_course(*values: Num, base: Num = 2.0, **extra: Any) -> list[Snapshot]:
    """Baseline serum ``base`` g/dL then one assessment per value, a month apart (urine 0, IFE positive)."""
    out = [snap("2025-01-01", baseline=True, **{**SERUM_BASE, "serum": base, **extra})]
    for k, v in enumerate(values):
        out.append(snap(f"2025-{k + 2:02d}-01", serum=v, urine=0, serum_ife=True, urine_ife=True))
    return out
