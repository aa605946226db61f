"""Every configurable reading of the clinical criteria, in one frozen bundle.

Each value tagged [M] (from memory) or [I] (interpretation) in docs/criteria.md is a named field of one of the
settings classes below, with a comment citing its section; ``docs/clinical.md`` lists them all with their defaults,
and the tests pin each default.

* :class:`~mmemd.clinical.emd.EmdSettings` — EMD classification (§2.6, §3.3)
* :class:`~mmemd.clinical.staging.StagingSettings` — ISS, R-ISS, R2-ISS (§2.1-§2.3)
* :class:`~mmemd.clinical.risk.HighRiskSettings` — IMS/IMWG 2025 high risk (§2.4)
* :class:`~mmemd.clinical.response.ResponseSettings` — IMWG 2016 response (§1.3, §1.5; owned by the response module)
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from mmemd.clinical.emd import DEFAULT_EMD_SETTINGS, EmdSettings
from mmemd.clinical.response import DEFAULT_RESPONSE_SETTINGS, ResponseSettings
from mmemd.clinical.risk import DEFAULT_HIGH_RISK_SETTINGS, HighRiskSettings
from mmemd.clinical.staging import DEFAULT_STAGING_SETTINGS, StagingSettings

__all__ = [
    "DEFAULT_CRITERIA_SETTINGS",
    "CriteriaSettings",
    "EmdSettings",
    "HighRiskSettings",
    "ResponseSettings",
    "StagingSettings",
]


class CriteriaSettings(msgspec.Struct, frozen=True):
    """The settings of every criterion the engine applies (all defaults follow docs/criteria.md)."""

    emd: EmdSettings = DEFAULT_EMD_SETTINGS
    staging: StagingSettings = DEFAULT_STAGING_SETTINGS
    high_risk: HighRiskSettings = DEFAULT_HIGH_RISK_SETTINGS
    response: ResponseSettings = DEFAULT_RESPONSE_SETTINGS

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """``{"emd": {...}, "staging": {...}, ...}`` with every setting's value."""
        out: dict[str, dict[str, Any]] = {}
        for name in self.__struct_fields__:
            group = getattr(self, name)
            if isinstance(group, msgspec.Struct):
                out[name] = {g: getattr(group, g) for g in group.__struct_fields__}
        return out


DEFAULT_CRITERIA_SETTINGS: Final = CriteriaSettings()
