"""Lesions from imaging reports: Chinese and English PET-CT, CT, MRI and ultrasound text to structured lesions.

A deterministic, dictionary-based reader (lexicons in ``data/*.yaml``, keyed by the knowledge base's site ids). Every
value keeps the character spans of the words it came from, and the record patch is marked for a clinician to
confirm before use.

>>> from mmemd.imaging import extract
>>> r = extract("检查所见：T10椎体骨质破坏并椎旁软组织肿块形成，大小约4.2cm×3.1cm，SUVmax约9.8，较前增大。")
>>> [(x.site, x.relation_to_bone, [str(d) for d in x.size_cm], str(x.suv_max), x.change) for x in r.lesions]
[('paravertebral', 'arising_from_bone', ['4.2', '3.1'], '9.8', 'increased')]
"""

from mmemd.imaging._extract import MAX_REPORT_CHARS, ImagingInputError, extract
from mmemd.imaging._fhir import (
    DiagnosticReportReading,
    ReportNote,
    lesions_from_diagnostic_report,
    read_diagnostic_report,
)
from mmemd.imaging._models import IMAGING_SCHEMA, Evidence, ImagingExtraction, ImagingLesion, ReportEvidence

__all__ = [
    "IMAGING_SCHEMA",
    "MAX_REPORT_CHARS",
    "DiagnosticReportReading",
    "Evidence",
    "ImagingExtraction",
    "ImagingInputError",
    "ImagingLesion",
    "ReportEvidence",
    "ReportNote",
    "extract",
    "lesions_from_diagnostic_report",
    "read_diagnostic_report",
]
