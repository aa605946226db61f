"""Lesions from a FHIR DiagnosticReport's text (presentedForm text/plain base64, conclusion), with reasons."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from mmemd.imaging import lesions_from_diagnostic_report

REPORT = "检查日期：2024-07-03\n检查所见：左肾上腺见结节，大小约1.6cm×1.3cm，前片未见。\n诊断意见：左肾上腺新发结节，考虑浆细胞瘤。"


def _form(text: str, ctype: str = "text/plain; charset=utf-8", enc: str = "utf-8") -> dict[str, str]:
    return {"contentType": ctype, "data": base64.b64encode(text.encode(enc)).decode("ascii")}


def _dr(**fields: Any) -> dict[str, Any]:
    return {"resourceType": "DiagnosticReport", "id": "dr1", "status": "final", **fields}


def test_presented_form_yields_lesions_with_lesion_from_text() -> None:
    lesions, reasons = lesions_from_diagnostic_report(_dr(presentedForm=[_form(REPORT)]))
    assert lesions == [
        {"id": "dr1-imaging-1", "site": "adrenal", "relation_to_bone": "none", "detected_on": "2024-07-03"}
    ]
    assert [(r["code"], r["path"]) for r in reasons] == [
        ("lesion_from_text", "DiagnosticReport.presentedForm[0]")
    ]
    assert "浆细胞瘤" not in reasons[0]["message_zh"]  # messages carry ids and paths, not the report's words


def test_conclusion_alone_and_effective_date_fallback() -> None:
    dr = _dr(
        conclusion="IMPRESSION: New left adrenal mass, consistent with plasmacytoma.",
        effectiveDateTime="2024-03-14",
    )
    lesions, reasons = lesions_from_diagnostic_report(dr)
    assert [(x["site"], x.get("detected_on")) for x in lesions] == [("adrenal", "2024-03-14")]
    assert reasons[0]["path"] == "DiagnosticReport.conclusion"


def test_a_lesion_in_both_presented_form_and_conclusion_is_one() -> None:
    dr = _dr(presentedForm=[_form(REPORT)], conclusion="左肾上腺新发结节，考虑浆细胞瘤。")
    lesions, reasons = lesions_from_diagnostic_report(dr)
    assert len(lesions) == 1 and [r["code"] for r in reasons] == ["lesion_from_text"]


def test_charset_is_honoured_and_other_content_types_ignored() -> None:
    dr = _dr(
        presentedForm=[
            _form(REPORT, "text/plain; charset=gb18030", "gb18030"),
            {"contentType": "application/pdf", "data": "JVBERi0="},
        ]
    )
    lesions, _ = lesions_from_diagnostic_report(dr)
    assert [x["site"] for x in lesions] == ["adrenal"]


def test_unreadable_text_is_a_reason_not_an_error() -> None:
    dr = _dr(presentedForm=[{"contentType": "text/plain", "data": "%%% not base64"}])
    lesions, reasons = lesions_from_diagnostic_report(dr)
    assert lesions == [] and [r["code"] for r in reasons] == ["unreadable_text"]
    dr = _dr(presentedForm=[_form("x", enc="utf-8") | {"data": base64.b64encode(b"\xff\xfe\xfa").decode()}])
    assert [r["code"] for r in lesions_from_diagnostic_report(dr)[1]] == ["unreadable_text"]


def test_no_text_and_no_lesion() -> None:
    assert lesions_from_diagnostic_report(_dr())[1][0]["code"] == "no_report_text"
    assert lesions_from_diagnostic_report(_dr(conclusion="No evidence of extramedullary disease.")) == (
        [],
        [],
    )


def test_not_a_diagnostic_report_is_rejected() -> None:
    with pytest.raises(ValueError, match="DiagnosticReport"):
        lesions_from_diagnostic_report({"resourceType": "Observation"})
