"""`mmemd fhir import|export`: stdout record or envelope, reasons, exit code 2 on malformed input."""

from __future__ import annotations

import json
from pathlib import Path

from fhir_helpers import DATA, ROOT
from typer.testing import CliRunner

from mmemd.cli._app import build_app

runner = CliRunner()
EHR = str(DATA / "ehr-searchset-ndmm-emd.json")


def test_import_prints_record_and_reasons() -> None:
    r = runner.invoke(build_app(), ["fhir", "import", EHR])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout)
    assert rec["schema"] == "mmemd.patient/1" and rec["id"] == "p-4711"
    assert rec["labs"]["albumin"] == {"value": 31.5, "unit": "g/L"}
    assert "unknown_unit Bundle.entry[9].resource.valueQuantity.code" in r.stderr


def test_import_json_envelope() -> None:
    r = runner.invoke(build_app(), ["fhir", "import", EHR, "--json"])
    assert r.exit_code == 0
    env = json.loads(r.stdout)
    assert env["schema"] == "mmemd.fhir-import/1" and env["record_valid"] is True
    assert env["versions"]["mmemd"] and env["versions"]["knowledge_base"].startswith("kb-")
    assert {x["code"] for x in env["reasons"]} >= {"unknown_unit", "derived_value", "unmapped_resource"}
    assert all(set(x) == {"code", "path", "message_en", "message_zh"} for x in env["reasons"])


def test_import_exact_decimal_text(tmp_path: Path) -> None:
    bundle = json.loads(
        (ROOT / "examples" / "fhir" / "emd-liver-rrmm-pr.bundle.json").read_text(encoding="utf-8")
    )
    r = runner.invoke(build_app(), ["fhir", "import", "-"], input=json.dumps(bundle))
    assert r.exit_code == 0
    assert '"value": 3.0' in r.stdout and '"sensitivity": 1e-05' in r.stdout


def test_import_incomplete_record_notes_problems(tmp_path: Path) -> None:
    p = tmp_path / "b.json"
    p.write_text(
        json.dumps(
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": {"resourceType": "Patient", "id": "x"}}],
            }
        )
    )
    r = runner.invoke(build_app(), ["fhir", "import", str(p), "--json"])
    assert r.exit_code == 0
    env = json.loads(r.stdout)
    assert env["record_valid"] is False and any(x["path"] == "$.phase" for x in env["problems"])


def test_import_malformed(tmp_path: Path) -> None:
    p = tmp_path / "b.json"
    p.write_text(
        json.dumps(
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": {"resourceType": "Patient", "birthDate": "1960-13-40"}}],
            }
        )
    )
    # A malformed resource is a reason naming its path; the rest of the bundle is still imported.
    r = runner.invoke(build_app(), ["fhir", "import", str(p)])
    assert r.exit_code == 0
    assert "invalid_resource Bundle.entry[0].resource.birthDate" in r.stderr
    # A malformed Bundle shell is an error (exit 2) naming the path.
    p.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "total": "many"}))
    r = runner.invoke(build_app(), ["fhir", "import", str(p)])
    assert r.exit_code == 2
    assert "Bundle.total" in r.stderr
    p.write_text("{not json")
    assert runner.invoke(build_app(), ["fhir", "import", str(p)]).exit_code == 2
    assert runner.invoke(build_app(), ["fhir", "import", str(tmp_path / "missing.json")]).exit_code == 2


def test_export() -> None:
    r = runner.invoke(build_app(), ["fhir", "export", str(ROOT / "examples" / "emd-liver-rrmm-pr.json")])
    assert r.exit_code == 0, r.output
    bundle = json.loads(r.stdout)
    codes = [e["resource"]["code"]["coding"][0]["code"] for e in bundle["entry"]]
    assert codes[:2] == ["C139007", "C141392"]
    assert bundle["entry"][0]["resource"]["subject"]["reference"] == "Patient/emd-liver-rrmm-pr"


def test_export_with_record_imports_back(tmp_path: Path) -> None:
    src = ROOT / "examples" / "emd-liver-rrmm-pr.json"
    out = runner.invoke(build_app(), ["fhir", "export", str(src), "--with-record"])
    assert out.exit_code == 0, out.stderr
    bundle = tmp_path / "export.json"
    bundle.write_text(out.stdout, encoding="utf-8")
    back = runner.invoke(build_app(), ["fhir", "import", str(bundle), "--json"])
    assert back.exit_code == 0, back.stderr
    env = json.loads(back.stdout)
    assert env["record_valid"] is True
    assert env["record"]["id"] == "emd-liver-rrmm-pr"
    assert sum(1 for r in env["reasons"] if r["code"] == "derived_value") == 7
