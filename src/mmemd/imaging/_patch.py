"""The record patch: extracted lesions and the assessment's plasmacytomas / new_lesion in ``mmemd.patient/1`` form.

The fragments validate against the record model (``lesions[]`` items and one ``assessments[]`` item), but nothing
here is confirmed: ``extracted_from_text`` lists the JSON path of every fragment read from text, and
``requires_confirmation`` is always true — a clinician confirms, edits or drops each before it enters a record.
Soft-tissue lesions (organ, or arising from bone) with two diameters get a plasmacytoma measurement; a resolved one
gets 0 × 0 cm (the plasmacytoma has disappeared); intraosseous lesions are not plasmacytoma measurements.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mmemd.imaging._models import ImagingLesion

_ZERO = Decimal(0)


def record_patch(
    lesions: list[ImagingLesion],
    modality: str | None,
    study_date: str | None,
    new_lesion: bool | None,
    cns_sites: frozenset[str],
) -> dict[str, Any]:
    out_lesions: list[dict[str, Any]] = []
    measured: list[dict[str, Any]] = []
    paths: list[str] = []
    for i, les in enumerate(lesions):
        frag: dict[str, Any] = {"id": les.id, "site": les.site, "relation_to_bone": les.relation_to_bone}
        if modality:
            frag["modality"] = modality
        if les.change == "new" and study_date:
            frag["detected_on"] = study_date
        if les.site in cns_sites:
            frag["cns"] = True
        out_lesions.append(frag)
        paths.append(f"$.lesions[{i}]")
        if les.relation_to_bone == "intraosseous":
            continue
        if les.change == "resolved" and les.size_cm is None:
            dims: list[Decimal] | None = [_ZERO, _ZERO]
        else:
            dims = les.size_cm if les.size_cm and len(les.size_cm) == 2 else None
        if dims is not None:
            paths.append(f"$.assessment.plasmacytomas[{len(measured)}]")
            measured.append(
                {"lesion": les.id, "longest_cm": float(dims[0]), "perpendicular_cm": float(dims[1])}
            )
    patch: dict[str, Any] = {
        "schema": "mmemd.patient/1",
        "lesions": out_lesions,
        "assessment": None,
        "extracted_from_text": paths,
        "requires_confirmation": True,
        "missing": [],
    }
    if measured or new_lesion is not None:
        assessment: dict[str, Any] = {}
        if study_date:
            assessment["date"] = study_date
        else:
            patch["missing"].append("$.assessment.date")
        if measured:
            assessment["plasmacytomas"] = measured
        if new_lesion is not None:
            assessment["new_lesion"] = new_lesion
            paths.append("$.assessment.new_lesion")
        patch["assessment"] = assessment
    return patch
