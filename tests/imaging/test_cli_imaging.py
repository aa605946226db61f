"""`mmemd imaging extract`: table and JSON output, stdin, encodings, and exit 2 on unreadable input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mmemd.cli._app import build_app

runner = CliRunner()
app = build_app()

ZH = "检查日期：2024-07-03\n检查所见：左肾上腺见结节，大小约1.6cm×1.3cm，前片未见。\n诊断意见：左肾上腺新发结节，考虑浆细胞瘤。\n"


def test_json_from_a_file(tmp_path: Path) -> None:
    f = tmp_path / "report.txt"
    f.write_text(ZH, encoding="utf-8")
    res = runner.invoke(app, ["imaging", "extract", str(f), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["schema"] == "mmemd.imaging/1"
    assert doc["study_date"] == "2024-07-03"
    assert [(x["site"], x["side"], x["size_cm"], x["change"], x["certainty"]) for x in doc["lesions"]] == [
        ("adrenal", "left", [1.6, 1.3], "new", "possible")
    ]
    assert doc["record_patch"]["requires_confirmation"] is True
    assert set(doc["versions"]) >= {"mmemd", "knowledge_base"}


def test_table_from_stdin_in_the_report_language() -> None:
    res = runner.invoke(app, ["imaging", "extract", "-"], input=ZH)
    assert res.exit_code == 0, res.output
    assert "肾上腺" in res.stdout and "新发" in res.stdout and "待临床医生确认" in res.stdout
    assert "adrenal" not in res.stdout and "possible" not in res.stdout


def test_gb18030_file_and_lang_option(tmp_path: Path) -> None:
    f = tmp_path / "report.txt"
    f.write_bytes(ZH.encode("gb18030"))
    res = runner.invoke(app, ["imaging", "extract", str(f), "--json", "--lang", "zh"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["lesions"][0]["site"] == "adrenal"


def test_a_report_without_findings_is_not_an_error() -> None:
    res = runner.invoke(app, ["imaging", "extract", "-"], input="FINDINGS: Normal study.\n")
    assert res.exit_code == 0
    assert "No lesion read" in res.stdout


def test_unreadable_input_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    res = runner.invoke(app, ["imaging", "extract", str(tmp_path / "missing.txt")])
    assert res.exit_code == 2 and "cannot read" in res.stderr
    binary = tmp_path / "scan.pdf"
    binary.write_bytes(b"%PDF-1.4\x00\x01\x02")
    res = runner.invoke(app, ["imaging", "extract", str(binary), "--json"])
    assert res.exit_code == 2 and "binary" in res.stderr and res.stdout == ""
    res = runner.invoke(app, ["imaging", "extract", "-", "--lang", "fr"], input="x")
    assert res.exit_code == 2
    res = runner.invoke(app, ["imaging", "extract", "-"], input="x" * 100_001)
    assert res.exit_code == 2 and "<stdin>: the text has 100,001 characters" in res.stderr
