"""FHIR R4 adapter: a Bundle in, ``mmemd.patient/1`` out; assessment results out as FHIR Observations.

>>> from mmemd.fhir import bundle_to_record, assessment_to_observations
>>> res = bundle_to_record(bundle)           # doctest: +SKIP  (FHIR R4 Bundle as JSON dict)
>>> res.record, res.reasons, res.patient_id  # doctest: +SKIP
>>> obs = assessment_to_observations(mmemd.assess(res.record), patient_ref="Patient/123")  # doctest: +SKIP

Public names:

- :func:`bundle_to_record` — a Bundle (searchset, collection, ...) -> :class:`ImportResult` (``record``, ``reasons``,
  ``patient_id``). Every entry is mapped or listed in ``reasons``.
- :func:`bundle_to_record_from_parts` — the same from separately fetched resources (CDS Hooks prefetch: one Bundle per
  key), arguments ``patient, conditions, observations, medications, procedures, body_structures``.
- :func:`is_plasma_cell_neoplasm` — whether a Condition is myeloma, PCL or a plasmacytoma in any coding the import
  reads (the CDS Hooks service's "is this a myeloma patient").
- :func:`assessment_to_observations` / :func:`assessment_to_bundle` — ISS, R-ISS (mCODE NCIt codes), R2-ISS, high
  risk, EMD classification and IMWG response as validated R4 Observations.
- :func:`record_to_bundle` — a patient record written as a Bundle in the documented convention (tests, examples).
- :class:`Reason`, :class:`ImportResult`, :class:`BundleError` (malformed input; ``problems`` name the path).

The mapping table, the mmemd code system and every reason code: docs/fhir.md. fhir.resources is imported only when
a function is called.
"""

from __future__ import annotations

from mmemd.fhir._export import assessment_to_bundle, assessment_to_observations
from mmemd.fhir._import import bundle_to_record, bundle_to_record_from_parts, is_plasma_cell_neoplasm
from mmemd.fhir._models import BundleError, BundleProblem, ImportResult, Reason
from mmemd.fhir._record_bundle import record_to_bundle

__all__ = [
    "BundleError",
    "BundleProblem",
    "ImportResult",
    "Reason",
    "assessment_to_bundle",
    "assessment_to_observations",
    "bundle_to_record",
    "bundle_to_record_from_parts",
    "is_plasma_cell_neoplasm",
    "record_to_bundle",
]
