"""Imaging DiagnosticReports: the report text (base64 presentedForm, conclusion) read through the imaging extractor
into lesions and plasmacytoma measurements, each marked as read from text; other reports stay unmapped."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest
from fhir_helpers import make_bundle

from mmemd.clinical import assess, parse_record
from mmemd.fhir import bundle_to_record
from mmemd.fhir._tables import is_imaging_report

V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"

ZH_PET = (
    "检查日期：2025-03-20\n"
    "检查所见：T10椎体骨质破坏并椎旁软组织肿块形成，大小约4.2cm×3.1cm，SUVmax约9.8，较前增大。"
    "肝S6段新发低密度结节，约2.1cm×1.8cm。\n"
    "诊断意见：T10椎体及椎旁浆细胞瘤，较前增大；肝S6段新发病灶，考虑髓外浸润。"
)
EN_IMPRESSION = "IMPRESSION: New left adrenal mass measuring 2.4 x 1.9 cm, consistent with plasmacytoma."


def _b64(text: str, charset: str = "utf-8") -> dict[str, str]:
    return {
        "contentType": f"text/plain; charset={charset}",
        "data": base64.b64encode(text.encode(charset)).decode("ascii"),
    }


def _report(
    rid: str = "pet1", category: tuple[str, str] | None = (V2_0074, "RAD"), **fields: Any
) -> dict[str, Any]:
    r: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": "final",
        "code": {"text": "PET-CT检查报告"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2025-03-21",
    }
    if category is not None:
        r["category"] = [{"coding": [{"system": category[0], "code": category[1]}]}]
    return r | fields


def _reasons(res: Any, code: str) -> list[Any]:
    return [r for r in res.reasons if r.code == code]


def test_chinese_pet_ct_presented_form_adds_lesions_and_measurements_marked_as_text() -> None:
    res = bundle_to_record(make_bundle(_report(presentedForm=[_b64(ZH_PET)])))
    assert res.record["lesions"] == [
        {"id": "pet1-imaging-1", "site": "paravertebral", "relation_to_bone": "arising_from_bone"},
        {"id": "pet1-imaging-2", "site": "liver", "relation_to_bone": "none", "detected_on": "2025-03-20"},
    ]
    # The report's own date (检查日期), not effectiveDateTime, dates the measurements.
    assert res.record["assessments"] == [
        {
            "date": "2025-03-20",
            "plasmacytomas": [
                {
                    "lesion": "pet1-imaging-1",
                    "longest_cm": Decimal("4.2"),
                    "perpendicular_cm": Decimal("3.1"),
                },
                {
                    "lesion": "pet1-imaging-2",
                    "longest_cm": Decimal("2.1"),
                    "perpendicular_cm": Decimal("1.8"),
                },
            ],
            "new_lesion": True,
        }
    ]
    from_text = _reasons(res, "lesion_from_text")
    assert [r.path for r in from_text] == ["Bundle.entry[2].resource.presentedForm[0]"] * 2
    assert ["pet1-imaging-1" in from_text[0].message_en, "pet1-imaging-2" in from_text[1].message_zh] == [
        True,
        True,
    ]
    # messages carry ids and vocabulary names, never the report's words or values
    assert all(w not in r.message_zh for r in from_text for w in ("4.2", "较前增大", "软组织肿块"))
    fields = sorted(r.message_en.split(" on ")[0] for r in _reasons(res, "assessment_from_text"))
    assert fields == [
        "new lesion",
        "plasmacytoma size of pet1-imaging-1",
        "plasmacytoma size of pet1-imaging-2",
    ]
    assert "肝" in from_text[1].message_zh  # the site by its Chinese name
    assert not _reasons(res, "unmapped_resource")
    emd = assess(parse_record(res.record)).emd
    assert emd.category == "extramedullary" and emd.also_paraskeletal is True


def test_english_conclusion_with_the_us_core_radiology_category_and_effective_date() -> None:
    dr = _report("ct7", (LOINC, "LP29684-5"), code={"text": "Outside study"}, conclusion=EN_IMPRESSION)
    res = bundle_to_record(make_bundle(dr))
    assert res.record["lesions"] == [
        {"id": "ct7-imaging-1", "site": "adrenal", "relation_to_bone": "none", "detected_on": "2025-03-21"}
    ]
    [a] = res.record["assessments"]
    assert a["date"] == "2025-03-21" and a["new_lesion"] is True
    assert a["plasmacytomas"] == [
        {"lesion": "ct7-imaging-1", "longest_cm": Decimal("2.4"), "perpendicular_cm": Decimal("1.9")}
    ]
    assert [r.path for r in _reasons(res, "lesion_from_text")] == ["Bundle.entry[2].resource.conclusion"]


def test_a_lesion_in_presented_form_and_conclusion_is_one_lesion() -> None:
    dr = _report(presentedForm=[_b64(ZH_PET)], conclusion="肝S6段新发病灶，考虑髓外浸润。")
    res = bundle_to_record(make_bundle(dr))
    assert [les["site"] for les in res.record["lesions"]] == ["paravertebral", "liver"]


def test_charset_of_the_presented_form_is_honoured() -> None:
    res = bundle_to_record(make_bundle(_report(presentedForm=[_b64(ZH_PET, "gb18030")])))
    assert [les["site"] for les in res.record["lesions"]] == ["paravertebral", "liver"]


@pytest.mark.parametrize(
    ("codings", "texts", "imaging"),
    [
        ([(V2_0074, "RAD", "")], [], True),
        ([("http://hl7.org/fhir/v2/0074", "nms", "")], [], True),  # the older URI; codes are case-insensitive
        ([(LOINC, "LP29684-5", "")], [], True),
        ([(LOINC, "18748-4", "")], [], True),
        ([(LOINC, "24627-2", "CT Chest")], ["CT Chest"], True),
        ([], ["MR Spine WO contrast"], True),
        ([], ["胸部CT平扫"], True),
        ([], ["腹部彩超"], True),
        ([(V2_0074, "LAB", "")], ["Serum protein electrophoresis"], False),
        ([(LOINC, "LP7839-6", "")], ["Bone marrow biopsy"], False),  # pathology
        ([], ["Ultrasound-guided biopsy pathology"], False),  # not the modality first
        ([], ["病理报告"], False),
        ([], ["CTLA-4 assay"], False),  # a word beginning with a modality's letters is not one
    ],
)
def test_which_reports_are_imaging(
    codings: list[tuple[str, str, str]], texts: list[str], imaging: bool
) -> None:
    assert is_imaging_report(codings, texts) is imaging


def test_a_non_imaging_report_stays_unmapped_with_an_explicit_reason() -> None:
    lab = _report(
        "spep", (V2_0074, "LAB"), code={"text": "Serum protein electrophoresis"}, conclusion=EN_IMPRESSION
    )
    res = bundle_to_record(make_bundle(lab))
    assert "lesions" not in res.record
    assert [(r.code, r.path) for r in _reasons(res, "report_not_imaging")] == [
        ("report_not_imaging", "Bundle.entry[2].resource")
    ]
    assert "不是影像报告" in _reasons(res, "report_not_imaging")[0].message_zh


def test_a_coded_lesion_at_the_same_site_wins_over_the_text() -> None:
    liver = {
        "resourceType": "Condition",
        "id": "liver-pc",
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
            ]
        },
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C90.20"}]},
        "bodySite": [{"text": "liver"}],
        "subject": {"reference": "Patient/p1"},
        "onsetDateTime": "2025-03-01",
    }
    res = bundle_to_record(make_bundle(liver, _report(presentedForm=[_b64(ZH_PET)])))
    assert [(les["id"], les["site"]) for les in res.record["lesions"]] == [
        ("liver-pc", "liver"),
        ("pet1-imaging-1", "paravertebral"),
    ]
    assert [r.path for r in _reasons(res, "lesion_text_duplicate")] == [
        "Bundle.entry[3].resource.presentedForm[0]"
    ]
    # The text's liver measurement is not attached to the coded lesion (a clinician links them).
    [a] = res.record["assessments"]
    assert [p["lesion"] for p in a["plasmacytomas"]] == ["pet1-imaging-1"]


def test_a_preliminary_report_is_not_read() -> None:
    res = bundle_to_record(make_bundle(_report(status="preliminary", conclusion=EN_IMPRESSION)))
    assert "lesions" not in res.record
    assert [r.path for r in _reasons(res, "status_excluded")] == ["Bundle.entry[2].resource.status"]


def test_another_patients_report_is_not_read() -> None:
    dr = _report(conclusion=EN_IMPRESSION, subject={"reference": "Patient/other"})
    res = bundle_to_record(make_bundle(dr))
    assert "lesions" not in res.record and _reasons(res, "other_patient")


def test_malformed_base64_costs_only_that_report() -> None:
    dr = _report(presentedForm=[{"contentType": "text/plain", "data": "%%% not base64"}])
    res = bundle_to_record(make_bundle(dr))
    assert [r.path for r in _reasons(res, "invalid_resource")] == [
        "Bundle.entry[2].resource.presentedForm[0].data"
    ]
    assert res.record["diagnosis"]["date"] == "2025-01-10"


def test_unreadable_text_is_a_reason_and_the_rest_is_imported() -> None:
    # Valid base64 that is not UTF-8 text: the presented form is skipped, the conclusion still read.
    dr = _report(
        presentedForm=[{"contentType": "text/plain", "data": base64.b64encode(b"\xff\xfe\xfa").decode()}],
        conclusion=EN_IMPRESSION,
    )
    res = bundle_to_record(make_bundle(dr))
    assert [r.path for r in _reasons(res, "unreadable_text")] == ["Bundle.entry[2].resource.presentedForm[0]"]
    assert [les["site"] for les in res.record["lesions"]] == ["adrenal"]
    assert res.record["diagnosis"]["date"] == "2025-01-10"


def test_reports_without_text_or_without_lesions_say_so() -> None:
    res = bundle_to_record(make_bundle(_report()))
    assert [r.code for r in res.reasons if r.path.startswith("Bundle.entry[2]")] == ["no_report_text"]
    # Silent about extramedullary disease: lesions stay unknown (absent), not "none".
    res = bundle_to_record(make_bundle(_report(conclusion="骨盆多发溶骨性骨质破坏。")))
    assert [r.code for r in res.reasons if r.path.startswith("Bundle.entry[2]")] == ["no_lesion_in_report"]
    assert "lesions" not in res.record


@pytest.mark.parametrize(
    "text",
    [
        "IMPRESSION: Multiple lytic osseous lesions consistent with myeloma. No extramedullary disease.",
        "诊断意见：多发骨质破坏，符合骨髓瘤骨病；未见髓外病灶。",
    ],
)
def test_a_report_stating_no_extramedullary_lesion_makes_lesions_known_none(text: str) -> None:
    res = bundle_to_record(make_bundle(_report(conclusion=text)))
    assert res.record["lesions"] == []
    assert [r.path for r in _reasons(res, "no_extramedullary_lesion_in_report")] == [
        "Bundle.entry[2].resource"
    ]
    assert not _reasons(res, "no_lesion_in_report")
    assert assess(parse_record(res.record)).emd.category == "none"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"conclusion": "诊断意见：多发骨质破坏，符合骨髓瘤骨病；未见髓外病灶。"}, True),
        # Said in the presented form, not in the conclusion: any of the report's texts.
        (
            {
                "presentedForm": [_b64("FINDINGS: Lytic lesions of the pelvis. No extramedullary disease.")],
                "conclusion": "Lytic lesions of the pelvis.",
            },
            True,
        ),
        ({"conclusion": EN_IMPRESSION}, False),  # a lesion was read
        ({"conclusion": "骨盆多发溶骨性骨质破坏。"}, None),  # silent
    ],
)
def test_the_report_reading_carries_the_no_extramedullary_lesion_statement(
    fields: dict[str, Any], expected: bool | None
) -> None:
    from mmemd.imaging import read_diagnostic_report

    assert read_diagnostic_report(_report(**fields)).no_extramedullary_lesion is expected


def test_lesions_from_a_later_report_win_over_an_earlier_none_statement() -> None:
    earlier = _report("pet1", conclusion="未见髓外病灶。", effectiveDateTime="2025-01-12")
    later = _report("pet2", conclusion=EN_IMPRESSION, effectiveDateTime="2025-06-01")
    for order in ((earlier, later), (later, earlier)):
        res = bundle_to_record(make_bundle(*order))
        assert [les["site"] for les in res.record["lesions"]] == ["adrenal"]
        assert not _reasons(res, "no_extramedullary_lesion_in_report")
        assert len(_reasons(res, "no_extramedullary_lesion_overruled")) == 1


def test_a_report_without_a_date_keeps_its_lesions_but_not_its_measurements() -> None:
    dr = _report(conclusion=EN_IMPRESSION)
    del dr["effectiveDateTime"]
    res = bundle_to_record(make_bundle(dr))
    assert [les["site"] for les in res.record["lesions"]] == ["adrenal"]
    assert "assessments" not in res.record
    assert [r.path for r in _reasons(res, "no_date")] == ["Bundle.entry[2].resource.effective[x]"]


def test_the_imported_record_is_valid() -> None:
    res = bundle_to_record(make_bundle(_report(presentedForm=[_b64(ZH_PET)], conclusion=EN_IMPRESSION)))
    parse_record(res.record)
