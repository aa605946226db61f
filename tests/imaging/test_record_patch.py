"""The record patch is valid ``mmemd.patient/1`` once placed in a record, and says that it is unconfirmed."""

from __future__ import annotations

from typing import Any

import pytest
from imaging_scoring import load

from mmemd.clinical.record import PatientRecord
from mmemd.imaging import extract


def _record(patch: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {"schema": "mmemd.patient/1", "id": "p1", "phase": "relapsed_refractory"}
    if patch["lesions"]:
        record["lesions"] = patch["lesions"]
    if patch["assessment"] is not None:
        assessment = dict(patch["assessment"])
        assessment.setdefault("date", "2024-01-01")  # the clinician supplies it when the report gives none
        record["assessments"] = [assessment]
    return record


@pytest.mark.parametrize("report", load("dev") + load("heldout") + load("heldout_b"), ids=lambda r: r["id"])
def test_patch_validates_against_the_record_model(report: dict[str, Any]) -> None:
    result = extract(report["text"])
    patch = result.record_patch
    assert patch["schema"] == "mmemd.patient/1"
    assert patch["requires_confirmation"] is True
    PatientRecord.model_validate(_record(patch))
    assert len(patch["extracted_from_text"]) >= len(patch["lesions"])
    if patch["assessment"] is not None and "date" not in patch["assessment"]:
        assert patch["missing"] == ["$.assessment.date"]


def test_patch_measures_soft_tissue_lesions_and_marks_every_fragment() -> None:
    text = (
        "检查日期：2024-09-01\n检查所见：原左侧肾上腺结节已消失。右侧胸壁软组织肿块较前缩小，现约2.0cm×1.2cm。"
        "右侧髂骨溶骨性骨质破坏，大小约3.0cm×2.1cm。"
    )
    patch = extract(text).record_patch
    by_site = {les["site"]: les for les in patch["lesions"]}
    assert set(by_site) == {"adrenal", "chest_wall", "bone"}
    measured = {
        m["lesion"]: (m["longest_cm"], m["perpendicular_cm"]) for m in patch["assessment"]["plasmacytomas"]
    }
    assert measured == {by_site["adrenal"]["id"]: (0.0, 0.0), by_site["chest_wall"]["id"]: (2.0, 1.2)}
    assert patch["assessment"]["date"] == "2024-09-01"
    assert patch["extracted_from_text"] == [
        "$.lesions[0]",
        "$.assessment.plasmacytomas[0]",
        "$.lesions[1]",
        "$.assessment.plasmacytomas[1]",
        "$.lesions[2]",
    ]
    record = PatientRecord.model_validate(_record(patch))
    assert record.assessments is not None and record.assessments[0].plasmacytomas is not None


def test_new_lesion_goes_to_the_assessment_with_its_detection_date() -> None:
    patch = extract("检查日期：2024-07-03\n检查所见：脾脏新发结节，约1.4cm×1.2cm，SUVmax约6.1。").record_patch
    assert patch["assessment"]["new_lesion"] is True
    assert patch["lesions"][0]["detected_on"] == "2024-07-03"
    assert "$.assessment.new_lesion" in patch["extracted_from_text"]
