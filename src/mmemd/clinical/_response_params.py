"""Per-parameter response masks at one assessment (docs/criteria.md §1.3 and §1.5).

Each function returns ``(mask, missing)``: ``mask`` is the set of overall levels the parameter's known
data allow (see ``_response_levels``); ``missing`` is True when a datum the parameter needs for a higher
level is unknown at that date, so the level was downgraded (general rule 7). Reductions are compared
multiplied out — ``(b - c) * 100 >= b * pct`` — so Decimal arithmetic stays exact (§1.5 "Floating point").
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Final

from mmemd.clinical._response_baseline import NONMEASURABLE, UNKNOWN, flc_ratio_normal
from mmemd.clinical._response_levels import (
    ALL,
    CR_AND_SCR,
    PR,
    SD_ONLY,
    UP_TO_CR,
    UP_TO_MR,
    UP_TO_PR,
    UP_TO_VGPR,
    VGPR,
    bit,
)

if TYPE_CHECKING:
    from mmemd.clinical.response import ResponseSettings

_ZERO: Final = Decimal(0)
_HUNDRED: Final = Decimal(100)
_PR_BITS: Final = bit(PR)
_VGPR_PR_BITS: Final = bit(VGPR) | bit(PR)
_MARROW_CR: Final = SD_ONLY | bit(PR) | CR_AND_SCR


def reduced_by(base: Decimal, current: Decimal, pct: Decimal) -> bool:
    """Reduction from ``base`` to ``current`` is at least ``pct`` percent (inclusive). False when base <= 0."""
    return base > _ZERO and (base - current) * _HUNDRED >= base * pct


Cuts = tuple[Decimal, ...]


def reduction_cuts(base: Decimal | None, *pcts: Decimal) -> Cuts | None:
    """``base * pct`` for each percentage, once a patient: the right-hand side of :func:`reduced_by`'s comparison,
    so that at each assessment a reduction is ``(base - current) * 100`` compared with it — the same exact
    products, in the same order. None when ``base`` is unknown or <= 0 (no reduction is then reached)."""
    if base is None or not base > _ZERO:
        return None
    return tuple([base * pct for pct in pcts])


def serum_mask(
    role: int, base: Decimal | None, cuts: Cuts | None, value: Decimal | None, ife_positive: bool | None
) -> tuple[int, bool]:
    """``cuts``: :func:`reduction_cuts` of the baseline for the VGPR, PR and MR serum reductions."""
    # CR: negative serum IFE (§1.3). A value > 0 with a negative IFE is contradictory: the value decides.
    if ife_positive is False and (value is None or value == _ZERO):
        return ALL, False
    if role == NONMEASURABLE:
        # Not a response parameter below CR; only its IFE matters (CR needs a negative IFE).
        return UP_TO_VGPR, ife_positive is None
    if value is None:
        return SD_ONLY, True
    if value == _ZERO:
        # "Detectable by immunofixation but not on electrophoresis" = VGPR (§1.3).
        return UP_TO_VGPR, ife_positive is None
    if role == UNKNOWN or base is None:
        return SD_ONLY, True  # baseline unknown: the reduction cannot be computed
    if cuts is None:
        return SD_ONLY, False
    drop = (base - value) * _HUNDRED
    if drop >= cuts[0]:
        return UP_TO_VGPR, False
    if drop >= cuts[1]:
        return UP_TO_PR, False
    if drop >= cuts[2]:
        return UP_TO_MR, False  # MR band [25%, 50%) (§1.5 "PR/MR gap")
    return SD_ONLY, False


def urine_mask(
    role: int,
    base: Decimal | None,
    cuts: Cuts | None,
    value: Decimal | None,
    ife_positive: bool | None,
    s: ResponseSettings,
) -> tuple[int, bool]:
    """``cuts``: :func:`reduction_cuts` of the baseline for the PR and MR urine reductions."""
    if ife_positive is False and (value is None or value == _ZERO):
        return ALL, False
    if value is None:
        if role == NONMEASURABLE:
            # Urine not measurable at baseline is not followed for response; CR still needs a negative IFE.
            return UP_TO_VGPR, ife_positive is None
        return SD_ONLY, True
    if value == _ZERO:
        return UP_TO_VGPR, ife_positive is None
    if value < s.vgpr_urine_below_mg_24h:
        return UP_TO_VGPR, False  # VGPR: urine M-protein < 100 mg/24 h (strict)
    if value < s.pr_urine_below_mg_24h:
        return UP_TO_PR, False  # PR: "to < 200 mg/24 h" (strict)
    if base is None:
        return SD_ONLY, True
    if cuts is None:
        return SD_ONLY, False
    drop = (base - value) * _HUNDRED
    if drop >= cuts[0]:
        return UP_TO_PR, False
    if drop >= cuts[1]:
        return UP_TO_MR, False  # MR band [50%, 90%) (§1.5)
    return SD_ONLY, False


def flc_mask(
    primary: bool,
    base_dflc: Decimal | None,
    cuts: Cuts | None,
    kappa: Decimal | None,
    lam: Decimal | None,
    dflc: Decimal | None,
    s: ResponseSettings,
) -> tuple[int, bool]:
    """``cuts``: :func:`reduction_cuts` of the baseline dFLC for the VGPR and PR reductions."""
    normal = None if kappa is None or lam is None else flc_ratio_normal(kappa, lam, s)
    if not primary:
        # Serum/urine patients: FLC only decides sCR (normal ratio, §1.3).
        if normal is None:
            return UP_TO_CR, True
        return (ALL, False) if normal else (UP_TO_CR, False)
    if normal is None or dflc is None or base_dflc is None:
        return SD_ONLY, True
    mask = SD_ONLY
    if normal:
        mask |= CR_AND_SCR  # FLC-only CR additionally needs a normal ratio (§1.3 CR, RAJ11)
    if cuts is not None:
        drop = (base_dflc - dflc) * _HUNDRED
        if (drop > cuts[0]) if s.vgpr_flc_strict else (drop >= cuts[0]):
            mask |= _VGPR_PR_BITS
        elif drop >= cuts[1]:
            mask |= _PR_BITS
    # No MR is defined on dFLC (§1.3 MR names serum and urine only).
    return mask, False


def marrow_mask(
    primary: bool, base: Decimal | None, cuts: Cuts | None, value: Decimal | None, s: ResponseSettings
) -> tuple[int, bool]:
    """``cuts``: :func:`reduction_cuts` of the baseline BMPC for the PR reduction."""
    if not primary:
        if value is None:
            return UP_TO_VGPR, True
        return (ALL, False) if value < s.cr_marrow_below_pct else (UP_TO_VGPR, False)
    if value is None or base is None:
        return SD_ONLY, True
    if value < s.cr_marrow_below_pct:
        return _MARROW_CR, False
    if cuts is not None and (base - value) * _HUNDRED >= cuts[0]:
        return SD_ONLY | _PR_BITS, False  # marrow-only: PR needs >= 50% fall from a baseline >= 30% (§1.3)
    return SD_ONLY, False


def ihc_clonal(
    clonal: bool | None,
    ratio: Decimal | None,
    counted: int | None,
    involved: str | None,
    s: ResponseSettings,
) -> bool | None:
    """Clonal plasma cells in the marrow by IHC (§1.3 sCR). None when it cannot be decided.

    A stated "clonal" wins; a κ/λ ratio decides only after >= 100 plasma cells were counted
    (κ patients: clonal when κ/λ > 4:1; λ patients: clonal when κ/λ < 1:2; chain unknown: either).
    """
    if clonal is True:
        return True
    if ratio is not None and counted is not None and counted >= s.ihc_min_plasma_cells_counted:
        too_kappa = ratio > s.ihc_kappa_max_ratio
        too_lambda = ratio < s.ihc_lambda_min_ratio
        if involved == "kappa":
            return too_kappa
        if involved == "lambda":
            return too_lambda
        return too_kappa or too_lambda
    if clonal is False:
        return False
    return None


def ihc_mask(clonal: bool | None) -> tuple[int, bool]:
    if clonal is None:
        return UP_TO_CR, True
    return (UP_TO_CR, False) if clonal else (ALL, False)
