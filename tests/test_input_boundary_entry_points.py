"""Every JSON entry point answers a hostile document with a problem and its path: CLI exit 2, HTTP 4xx — never a
traceback or a 500 — and a bad batch line costs only that line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mmemd.cli._app import build_app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
LIVER = EXAMPLES / "emd-liver-rrmm-pr.json"
BUNDLE = EXAMPLES / "fhir" / "emd-liver-rrmm-pr.bundle.json"
HUGE_INT = "9" * 4301


def with_literal(keys: tuple[str, ...], literal: str, source: Path = LIVER) -> str:
    """The example document with the value at ``keys`` replaced by a raw JSON literal."""
    doc = json.loads(source.read_text(encoding="utf-8"))
    target = doc
    for k in keys[:-1]:
        target = target[k]
    target[keys[-1]] = "@HOSTILE@"
    return json.dumps(doc).replace('"@HOSTILE@"', literal)


def hostile_records() -> dict[str, tuple[str, str]]:
    """name -> (document, the path its problem must name)."""
    return {
        "huge integer": (with_literal(("labs", "albumin", "value"), HUGE_INT), "$.labs.albumin.value"),
        "deep nesting": (
            with_literal(("labs", "albumin"), "[" * 5000 + "]" * 5000),
            "$.labs.albumin" + "[0]" * 62,
        ),
        "huge string": (with_literal(("id",), json.dumps("x" * 1_000_001)), "$.id"),
        "NaN": (with_literal(("labs", "albumin", "value"), "NaN"), "$.labs.albumin.value"),
        "wrong type": (with_literal(("labs", "albumin"), "[]"), "$.labs.albumin"),
    }


CASES = hostile_records()


def run(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(build_app(), list(args), input=stdin)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("command", [["assess"], ["validate"], ["report", "--format", "text"], ["explain"]])
def test_cli_file_commands_exit_2_with_the_path(tmp_path: Path, name: str, command: list[str]) -> None:
    text, path = CASES[name]
    f = tmp_path / "hostile.json"
    f.write_text(text, encoding="utf-8")
    r = run(*command, str(f))
    assert r.exit_code == 2, (r.exit_code, r.stdout[-500:], repr(r.exception))
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert path in r.stderr
    assert "Traceback" not in r.stderr


def test_cli_fhir_import_exits_2_with_the_path(tmp_path: Path) -> None:
    text = BUNDLE.read_text(encoding="utf-8")
    doc = json.loads(text)
    doc["entry"][0]["resource"]["extension"] = "@DEEP@"
    f = tmp_path / "b.json"
    f.write_text(json.dumps(doc).replace('"@DEEP@"', "[" * 200 + "]" * 200), encoding="utf-8")
    r = run("fhir", "import", str(f))
    assert (
        r.exit_code == 2 and "$.entry[0].resource.extension" in r.stderr and "nested more than 64" in r.stderr
    )

    doc["entry"][0]["resource"]["extension"] = "@NUM@"
    f.write_text(json.dumps(doc).replace('"@NUM@"', "1." + "0" * 4000), encoding="utf-8")
    r = run("fhir", "import", str(f))
    assert r.exit_code == 2 and "$.entry[0].resource.extension" in r.stderr


def test_batch_keeps_every_valid_record_around_hostile_lines(tmp_path: Path) -> None:
    base = json.loads(LIVER.read_text(encoding="utf-8"))
    bad = {
        12: with_literal(("labs", "albumin", "value"), HUGE_INT),
        30: "[" * 5000 + "]" * 5000,
        49: with_literal(("labs", "albumin", "value"), "NaN"),
    }
    lines = []
    for i in range(60):
        lines.append(bad.get(i) or json.dumps(dict(base, id=f"p{i}")))
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = run("assess", "--batch", str(f), "--format", "text", "--no-advice")
    assert r.exit_code == 2
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(out) == 60
    assert [d.get("patient_id") for d in out] == [None if i in bad else f"p{i}" for i in range(60)]
    assert [d["line"] for d in out if d.get("valid") is False] == [13, 31, 50]
    assert "line 13: $.labs.albumin.value" in r.stderr and "line 31: $" in r.stderr
    assert "line 50: $.labs.albumin.value" in r.stderr
