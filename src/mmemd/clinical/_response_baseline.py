"""Baseline: which parameters are measurable and which one drives the response (docs/criteria.md §1.2).

Hierarchy (§1.2): serum and/or urine M-protein when either is measurable; else the FLC criteria when the
involved FLC is measurable; else bone-marrow plasma cells when the baseline BMPC is >= 30% (§1.3 PR);
else no measurable disease (not_evaluable). A baseline value that is unknown is never taken as
"unmeasurable": when the hierarchy depends on it, the patient is not evaluable and the reason names it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Final, Literal

from mmemd.clinical._response_levels import ALL, SD_ONLY, UP_TO_VGPR
from mmemd.clinical.snapshot import Snapshot

if TYPE_CHECKING:
    from mmemd.clinical.response import ResponseSettings

# Role of a parameter at baseline.
UNKNOWN: Final = 0
NONMEASURABLE: Final = 1
MEASURABLE: Final = 2

Primary = Literal["serum_urine", "flc", "marrow"]
_ZERO: Final = Decimal(0)


def flc_ratio_normal(kappa: Decimal, lam: Decimal, settings: ResponseSettings) -> bool | None:
    """κ/λ within the normal range (inclusive, §1.2); multiplied out so the comparison is exact."""
    if lam <= _ZERO:
        return None if kappa <= _ZERO else False
    return settings.flc_ratio_normal_low * lam <= kappa <= settings.flc_ratio_normal_high * lam


class Baseline:
    """What the baseline assessment establishes for the patient (§1.2), read by every later assessment."""

    # A plain class rather than a msgspec Struct or a dataclass: mypyc compiles it to a native class (attributes
    # read as C struct fields), and it costs nothing at import (a dataclass takes about 0.5 ms to create).
    def __init__(
        self,
        *,
        index: int,
        snap: Snapshot,
        serum_role: int,
        urine_role: int,
        flc_role: int,
        serum: Decimal | None,
        urine: Decimal | None,
        involved: Literal["kappa", "lambda"] | None,
        dflc: Decimal | None,
        marrow: Decimal | None,
        primary: Primary | None,
        not_evaluable_why: tuple[str, ...],
        # plasmacytomas present at baseline (ids, sorted) and their baseline SPD (None if one was not measured)
        lesions: tuple[str, ...],
        lesion_measured: frozenset[str],
        spd: Decimal | None,
        known_lesions: frozenset[str],
        lab_floor: int,  # levels whose confirmation needs no second laboratory assessment (general rule 1)
        dflc_pd: bool,  # dFLC progression criterion applies (§1.3 PD (a): serum and urine unmeasurable)
        marrow_pd: bool,  # BMPC progression criterion applies (§1.3 PD (a): serum, urine and FLC unmeasurable)
        cpc_pd: bool,  # circulating-PC progression applies (§1.3 PD (c): "only measure of disease")
    ) -> None:
        self.index = index
        self.snap = snap
        self.serum_role = serum_role
        self.urine_role = urine_role
        self.flc_role = flc_role
        self.serum = serum
        self.urine = urine
        self.involved = involved
        self.dflc = dflc
        self.marrow = marrow
        self.primary = primary
        self.not_evaluable_why = not_evaluable_why
        self.lesions = lesions
        self.lesion_measured = lesion_measured
        self.spd = spd
        self.known_lesions = known_lesions
        self.lab_floor = lab_floor
        self.dflc_pd = dflc_pd
        self.marrow_pd = marrow_pd
        self.cpc_pd = cpc_pd


def dflc_of(snap: Snapshot, involved: Literal["kappa", "lambda"] | None) -> Decimal | None:
    kappa, lam = snap.flc_kappa_mg_dl, snap.flc_lambda_mg_dl
    if kappa is None or lam is None or involved is None:
        return None
    return kappa - lam if involved == "kappa" else lam - kappa


def _role(value: Decimal | None, minimum: Decimal) -> int:
    if value is None:
        return UNKNOWN
    return MEASURABLE if value >= minimum else NONMEASURABLE


def _involved(
    snaps: Sequence[Snapshot], b: Snapshot, settings: ResponseSettings
) -> Literal["kappa", "lambda"] | None:
    # Reading (docs/response.md): the baseline's stated involved chain; else the chain whose excess makes the
    # baseline ratio abnormal; else the first chain stated at any assessment.
    if b.flc_involved is not None:
        return b.flc_involved
    kappa, lam = b.flc_kappa_mg_dl, b.flc_lambda_mg_dl
    if kappa is not None and lam is not None:
        if kappa > settings.flc_ratio_normal_high * lam:
            return "kappa"
        if kappa < settings.flc_ratio_normal_low * lam:
            return "lambda"
    for s in snaps:
        if s.flc_involved is not None:
            return s.flc_involved
    return None


def build_baseline(
    snaps: Sequence[Snapshot], index: int, baseline_lesions: Collection[str], settings: ResponseSettings
) -> Baseline:
    b = snaps[index]
    serum_role = _role(b.serum_m_protein_g_dl, settings.serum_measurable_min_g_dl)
    urine_role = _role(b.urine_m_protein_mg_24h, settings.urine_measurable_min_mg_24h)
    involved = _involved(snaps, b, settings)
    kappa, lam = b.flc_kappa_mg_dl, b.flc_lambda_mg_dl
    flc_role = UNKNOWN
    if kappa is not None and lam is not None:
        normal = flc_ratio_normal(kappa, lam, settings)
        if normal is True:
            flc_role = NONMEASURABLE
        elif involved is not None:
            inv = kappa if involved == "kappa" else lam
            flc_role = (
                MEASURABLE if inv >= settings.flc_measurable_min_mg_dl and normal is False else NONMEASURABLE
            )
    marrow = b.bone_marrow_plasma_cells_pct

    why: list[str] = []
    primary: Primary | None = None
    if MEASURABLE in (serum_role, urine_role):
        primary = "serum_urine"
    elif UNKNOWN in (serum_role, urine_role):
        missing = [
            n for n, r in (("serum M-protein", serum_role), ("urine M-protein", urine_role)) if r == UNKNOWN
        ]
        why.append(f"{' and '.join(missing)} missing at baseline: cannot tell whether it is measurable")
    elif flc_role == MEASURABLE:
        primary = "flc"
    elif flc_role == UNKNOWN:
        why.append("serum free light chains (κ, λ and involved chain) missing at baseline")
    elif marrow is not None and marrow >= settings.marrow_primary_min_pct:
        primary = "marrow"
    else:
        why.append("serum and urine M-protein and involved FLC below the measurable thresholds")
        if marrow is None:
            why.append("bone-marrow plasma cells not known at baseline")
        else:
            why.append(f"bone-marrow plasma cells {marrow}% (< {settings.marrow_primary_min_pct}%)")

    measured = {m.lesion: m for m in b.plasmacytomas}
    present = {lid for lid, m in measured.items() if m.longest_cm > _ZERO or m.perpendicular_cm > _ZERO}
    gone_at_baseline = {lid for lid in measured if lid not in present}
    lesions = tuple(sorted((set(baseline_lesions) | present) - gone_at_baseline))
    spd: Decimal | None = None
    if all(lid in present for lid in lesions):
        spd = sum((measured[lid].longest_cm * measured[lid].perpendicular_cm for lid in lesions), _ZERO)

    all_unmeasurable = NONMEASURABLE == serum_role == urine_role
    if not settings.response_confirmation_required:
        lab_floor = ALL
    elif primary == "marrow":
        # Marrow needs no confirmation (general rule 1); only CR/sCR add laboratory criteria (IFE, FLC ratio).
        lab_floor = UP_TO_VGPR
    else:
        lab_floor = SD_ONLY
    return Baseline(
        index=index,
        snap=b,
        serum_role=serum_role,
        urine_role=urine_role,
        flc_role=flc_role,
        serum=b.serum_m_protein_g_dl,
        urine=b.urine_m_protein_mg_24h,
        involved=involved,
        dflc=dflc_of(b, involved),
        marrow=marrow,
        primary=primary,
        not_evaluable_why=tuple(why),
        lesions=lesions,
        lesion_measured=frozenset(present),
        spd=spd if lesions else None,
        known_lesions=frozenset(baseline_lesions) | frozenset(measured),
        lab_floor=lab_floor,
        dflc_pd=all_unmeasurable,
        marrow_pd=all_unmeasurable and flc_role == NONMEASURABLE,
        cpc_pd=all_unmeasurable and flc_role == NONMEASURABLE and primary is None and not lesions,
    )
