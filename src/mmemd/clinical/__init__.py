"""The clinical engine: patient record in (``mmemd.patient/1``), assessment out (``mmemd.assessment/1``).

>>> from mmemd.clinical import assess
>>> result = assess(record_dict)  # doctest: +SKIP
>>> result.emd.category, result.staging.iss, result.response.current  # doctest: +SKIP

Pure functions over pydantic models and frozen value classes (msgspec structs): no file or network I/O, no logging of patient values.
Criteria: docs/clinical.md (EMD, staging, risk) and docs/response.md (IMWG 2016 response).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmemd._lazy import lazy_exports

if TYPE_CHECKING:
    from mmemd.clinical.assessment import Assessment, assess, assessment_json_schema, to_snapshots
    from mmemd.clinical.context import (
        ClinicalContext,
        Fact,
        FitnessSettings,
        derive_context,
        egfr_ckd_epi_2021,
    )
    from mmemd.clinical.emd import EmdResult, EmdSettings, classify_emd
    from mmemd.clinical.errors import Problem, RecordError
    from mmemd.clinical.record import (
        PatientRecord,
        parse_record,
        parse_record_json,
        patient_json_schema,
        validate_record,
    )
    from mmemd.clinical.risk import HighRiskSettings, high_risk
    from mmemd.clinical.settings import DEFAULT_CRITERIA_SETTINGS, CriteriaSettings
    from mmemd.clinical.staging import StagingResult, StagingSettings, stage

# Public names -> defining submodule. Imported on first use, so that importing one submodule (e.g. ``units``)
# does not pull in the whole engine.
_WHERE = {
    "Assessment": "assessment",
    "assess": "assessment",
    "assessment_json_schema": "assessment",
    "to_snapshots": "assessment",
    "ClinicalContext": "context",
    "Fact": "context",
    "FitnessSettings": "context",
    "derive_context": "context",
    "egfr_ckd_epi_2021": "context",
    "EmdResult": "emd",
    "EmdSettings": "emd",
    "classify_emd": "emd",
    "Problem": "errors",
    "RecordError": "errors",
    "PatientRecord": "record",
    "parse_record": "record",
    "parse_record_json": "record",
    "patient_json_schema": "record",
    "validate_record": "record",
    "HighRiskSettings": "risk",
    "high_risk": "risk",
    "DEFAULT_CRITERIA_SETTINGS": "settings",
    "CriteriaSettings": "settings",
    "StagingResult": "staging",
    "StagingSettings": "staging",
    "stage": "staging",
}


__getattr__ = lazy_exports(__name__, _WHERE)


__all__ = [
    "DEFAULT_CRITERIA_SETTINGS",
    "Assessment",
    "ClinicalContext",
    "CriteriaSettings",
    "EmdResult",
    "EmdSettings",
    "Fact",
    "FitnessSettings",
    "HighRiskSettings",
    "PatientRecord",
    "Problem",
    "RecordError",
    "StagingResult",
    "StagingSettings",
    "assess",
    "assessment_json_schema",
    "classify_emd",
    "derive_context",
    "egfr_ckd_epi_2021",
    "high_risk",
    "parse_record",
    "parse_record_json",
    "patient_json_schema",
    "stage",
    "to_snapshots",
    "validate_record",
]
