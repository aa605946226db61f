"""ISS, R-ISS and R2-ISS staging (docs/criteria.md §2.1-§2.3) and the ``staging`` section of the assessment.

All three are computed from the record's ``labs`` and ``cytogenetics`` — the values at diagnosis (docs/record.md),
so for a relapsed patient they are stages at diagnosis.

Missing data never default to normal: each system enumerates what the unknown data could be. A stage is reported
only when every possibility gives the same stage; otherwise it is null and the possible stages are listed
(``iss_possible``, ``r_iss_possible``; ``r2_iss.points_min``/``points_max``), with ``reasons`` naming the datum.

The rules and the R2-ISS points live in :mod:`mmemd.clinical._staging_rules` (plain functions that the compiled build
compiles); this module holds the settings, the result models and the entry point.
"""

# Models: no `from __future__ import annotations`: pydantic need not compile each annotation (performance.md).

from decimal import Decimal
from typing import Final

import msgspec
from pydantic import BaseModel, ConfigDict

from mmemd.clinical._staging_rules import (
    R2_GROUP_UPPER,
    R2_POINTS_DEL17P,
    R2_POINTS_GAIN_1Q,
    R2_POINTS_HIGH_LDH,
    R2_POINTS_ISS,
    R2_POINTS_T_4_14,
    R2Group,
    Stage,
    iss_stages,
    ldh_is_high,
    staging_fields,
)
from mmemd.clinical.record import Labs, PatientRecord
from mmemd.clinical.risk import DEFAULT_HIGH_RISK_SETTINGS, HighRiskSettings, high_risk

__all__ = [
    "DEFAULT_STAGING_SETTINGS",
    "R2_GROUP_UPPER",
    "R2_POINTS_DEL17P",
    "R2_POINTS_GAIN_1Q",
    "R2_POINTS_HIGH_LDH",
    "R2_POINTS_ISS",
    "R2_POINTS_T_4_14",
    "R2Group",
    "R2Iss",
    "Stage",
    "StagingResult",
    "StagingSettings",
    "iss_possible",
    "ldh_high",
    "stage",
]


# gc=False: holds numbers, strings, dates and tuples of them only, so never part of a reference cycle
class StagingSettings(msgspec.Struct, frozen=True, gc=False):
    """Staging thresholds; each cites its section of docs/criteria.md."""

    # ISS stage I needs β2M <3.5 mg/L (strict) — docs/criteria.md §2.1 (GREIPP05) [M].
    iss_b2m_stage_i_below_mg_l: Decimal = Decimal("3.5")
    # ISS stage I needs albumin ≥3.5 g/dL (≥35 g/L, inclusive) — docs/criteria.md §2.1 [M].
    iss_albumin_stage_i_min_g_dl: Decimal = Decimal("3.5")
    # ISS stage III: β2M ≥5.5 mg/L (inclusive), albumin irrelevant — docs/criteria.md §2.1 [M].
    iss_b2m_stage_iii_min_mg_l: Decimal = Decimal("5.5")
    # High LDH = strictly above the upper limit of normal — docs/criteria.md §2.2 ("> ULN", [M] for strictness);
    # also the R2-ISS LDH factor (§2.3 "High LDH (>ULN)"). False reads "≥ ULN" as high.
    ldh_high_strictly_above_uln: bool = True


DEFAULT_STAGING_SETTINGS: Final = StagingSettings()


class R2Iss(BaseModel):
    model_config = ConfigDict(frozen=True)

    points: float | None  # null when the group is null, or when unknown factors leave the exact score open
    group: R2Group | None
    points_min: float
    points_max: float


class StagingResult(BaseModel):
    """The ``staging`` section of ``mmemd.assessment/1``."""

    model_config = ConfigDict(frozen=True)

    iss: Stage | None
    r_iss: Stage | None
    r_iss_possible: list[Stage]
    r2_iss: R2Iss
    high_risk: bool | None
    high_risk_features: list[str]
    reasons: list[str]
    iss_possible: list[Stage]


def iss_possible(
    b2m_mg_l: Decimal | None,
    albumin_g_dl: Decimal | None,
    settings: StagingSettings = DEFAULT_STAGING_SETTINGS,
) -> tuple[Stage, ...]:
    """ISS stages compatible with the known values (docs/criteria.md §2.1)."""
    return iss_stages(b2m_mg_l, albumin_g_dl, settings)


def ldh_high(labs: Labs | None, settings: StagingSettings = DEFAULT_STAGING_SETTINGS) -> bool | None:
    """High LDH (> ULN, docs/criteria.md §2.2); None when LDH or its upper limit of normal is not recorded."""
    return ldh_is_high(labs, settings)


def stage(
    record: PatientRecord,
    settings: StagingSettings = DEFAULT_STAGING_SETTINGS,
    risk_settings: HighRiskSettings = DEFAULT_HIGH_RISK_SETTINGS,
) -> StagingResult:
    """ISS, R-ISS, R2-ISS and IMS/IMWG 2025 high risk from the record's values at diagnosis."""
    labs = record.labs
    cg = record.cytogenetics
    iss, r_iss, r_set, points, group, points_min, points_max, reasons, iss_set = staging_fields(
        labs, cg, settings
    )
    hr = high_risk(cg, labs, risk_settings)
    reasons.extend(hr.reasons)
    return StagingResult(
        iss=iss,
        r_iss=r_iss,
        r_iss_possible=r_set,
        r2_iss=R2Iss(points=points, group=group, points_min=points_min, points_max=points_max),
        high_risk=hr.high_risk,
        high_risk_features=list(hr.features),
        reasons=reasons,
        iss_possible=iss_set,
    )
