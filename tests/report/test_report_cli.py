"""`mmemd report`: each format, -o, stdin, and exit code 2 for a bad record, malformed JSON, a bad language or a PDF
without -o."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _report_helpers import EXAMPLES
from typer.testing import CliRunner

from mmemd.cli._app import build_app

LIVER = str(EXAMPLES / "emd-liver-rrmm-pr.json")


@pytest.fixture(scope="module")
def app():  # type: ignore[no-untyped-def]
    return build_app()


def _run(app, args: list[str], stdin: bytes | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, args, input=stdin)


@pytest.mark.parametrize(
    ("fmt", "marker"),
    [
        ("text", "MM-EMD decision-support report\n=="),
        ("md", "# MM-EMD decision-support report"),
        ("html", "<!DOCTYPE html>"),
    ],
)
def test_each_text_format_to_stdout(app, fmt: str, marker: str) -> None:  # type: ignore[no-untyped-def]
    res = _run(app, ["report", LIVER, "--format", fmt])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith(marker) or marker in res.stdout[:200]
    assert "emd-liver-rrmm-pr" in res.stdout


def test_chinese_markdown(app) -> None:  # type: ignore[no-untyped-def]
    res = _run(app, ["report", LIVER, "--lang", "zh", "--format", "md"])
    assert res.exit_code == 0
    assert res.stdout.startswith("# 多发性骨髓瘤髓外病变（MM-EMD）决策支持报告")
    assert "髓外（EM-E，不与骨相连）" in res.stdout


def test_output_file_and_pdf(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    html = tmp_path / "r.html"
    res = _run(app, ["report", LIVER, "--format", "html", "-o", str(html)])
    assert res.exit_code == 0 and res.stdout == ""
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    pdf = tmp_path / "r.pdf"
    res = _run(app, ["report", LIVER, "--lang", "zh", "--format", "pdf", "-o", str(pdf)])
    assert res.exit_code == 0, res.output
    assert pdf.read_bytes().startswith(b"%PDF-")


def test_stdin(app) -> None:  # type: ignore[no-untyped-def]
    res = _run(app, ["report", "-", "--format", "text"], stdin=Path(LIVER).read_bytes())
    assert res.exit_code == 0
    assert "emd-liver-rrmm-pr" in res.stdout


def test_pdf_needs_an_output_file(app) -> None:  # type: ignore[no-untyped-def]
    res = _run(app, ["report", LIVER, "--format", "pdf"])
    assert res.exit_code == 2
    assert "-o" in res.stderr and res.stdout == ""


def test_invalid_record_exits_2_with_the_record_error_report(app) -> None:  # type: ignore[no-untyped-def]
    bad = json.loads(Path(LIVER).read_text())
    bad["phase"] = "smouldering"
    del bad["id"]
    res = _run(app, ["report", "-", "--format", "md"], stdin=json.dumps(bad).encode())
    assert res.exit_code == 2
    assert res.stdout == ""
    assert "$.phase" in res.stderr and "$.id" in res.stderr  # every problem, with its JSON path


def test_malformed_json_exits_2(app) -> None:  # type: ignore[no-untyped-def]
    res = _run(app, ["report", "-"], stdin=b'{"schema": ')
    assert res.exit_code == 2
    assert "malformed JSON" in res.stderr


def test_bad_language_and_format_exit_2(app) -> None:  # type: ignore[no-untyped-def]
    assert _run(app, ["report", LIVER, "--lang", "fr"]).exit_code == 2
    assert _run(app, ["report", LIVER, "--format", "docx"]).exit_code == 2


def test_missing_file_exits_2(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    res = _run(app, ["report", str(tmp_path / "nope.json")])
    assert res.exit_code == 2
    assert "cannot read" in res.stderr
