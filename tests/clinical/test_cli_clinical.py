"""`mmemd assess`, `mmemd validate`, `mmemd schema` — exit code 2 and the full report on stderr for invalid input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mmemd.cli._app import build_app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LIVER = EXAMPLES / "emd-liver-rrmm-pr.json"


def run(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(build_app(), list(args), input=stdin)


def bad_record(tmp_path: Path) -> Path:
    data = json.loads(LIVER.read_text(encoding="utf-8"))
    data["labs"]["albumin"] = {"value": 32, "unit": "g/dL"}  # g/L value with the g/dL unit: impossible
    data["assessments"][1]["serum_m_protein"]["unit"] = "mg/L"
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(data), encoding="utf-8")
    return p


def test_assess_json() -> None:
    r = run("assess", str(LIVER))
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["schema"] == "mmemd.assessment/1"
    assert doc["emd"]["category"] == "extramedullary"
    assert doc["response"]["current"] == "PR"


def test_assess_from_stdin() -> None:
    r = run("assess", "-", stdin=LIVER.read_text(encoding="utf-8"))
    assert r.exit_code == 0
    assert json.loads(r.stdout)["patient_id"] == "emd-liver-rrmm-pr"


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", ["Extramedullary disease", "extramedullary", "ISS", "PR"]), ("zh", ["髓外病变", "肝", "疗效"])],
)
def test_assess_text_summary(lang: str, words: list[str]) -> None:
    r = run("assess", str(LIVER), "--format", "text", "--lang", lang)
    assert r.exit_code == 0
    for w in words:
        assert w in r.stdout


def test_invalid_record_exit_2_with_full_report_on_stderr(tmp_path: Path) -> None:
    r = run("assess", str(bad_record(tmp_path)), "--format", "json")
    assert r.exit_code == 2
    assert r.stdout == ""  # nothing printed as if valid
    report = json.loads(r.stderr)
    assert report["valid"] is False
    assert {p["path"] for p in report["problems"]} == {
        "$.labs.albumin.value",
        "$.assessments[1].serum_m_protein.unit",
    }


def test_invalid_record_text_report(tmp_path: Path) -> None:
    r = run("assess", str(bad_record(tmp_path)), "--format", "text")
    assert r.exit_code == 2 and r.stdout == ""
    assert "$.labs.albumin.value" in r.stderr and "$.assessments[1].serum_m_protein.unit" in r.stderr
    assert "g/dL, g/L" in r.stderr


def test_malformed_json_exit_2() -> None:
    r = run("assess", "-", stdin='{"schema": ')
    assert r.exit_code == 2 and r.stdout == ""
    assert "malformed JSON" in r.stderr


def test_missing_file_exit_2() -> None:
    r = run("assess", "/nonexistent/record.json", "--format", "text")
    assert r.exit_code == 2 and r.stdout == ""
    assert "cannot read" in r.stderr


def test_file_and_batch_are_exclusive() -> None:
    assert run("assess").exit_code == 2
    assert run("assess", str(LIVER), "--batch", str(LIVER)).exit_code == 2


def test_validate(tmp_path: Path) -> None:
    ok = run("validate", str(LIVER))
    assert ok.exit_code == 0 and "valid" in ok.stdout
    bad = run("validate", str(bad_record(tmp_path)))
    assert bad.exit_code == 2 and bad.stdout == ""
    assert bad.stderr.count("$.") >= 2  # every problem at once


def test_validate_json(tmp_path: Path) -> None:
    ok = run("validate", str(LIVER), "--format", "json")
    assert json.loads(ok.stdout)["valid"] is True
    bad = run("validate", str(bad_record(tmp_path)), "--format", "json")
    assert bad.exit_code == 2 and json.loads(bad.stderr)["problem_count"] == 2


@pytest.mark.parametrize(
    ("name", "title"), [("patient", "mmemd.patient/1"), ("assessment", "mmemd.assessment/1")]
)
def test_schema(name: str, title: str) -> None:
    r = run("schema", name)
    assert r.exit_code == 0
    assert json.loads(r.stdout)["title"] == title


def test_schema_unknown_name() -> None:
    assert run("schema", "lesion").exit_code == 2


def _jsonl(tmp_path: Path, n: int, bad_at: set[int] = frozenset()) -> Path:  # type: ignore[assignment]
    base = json.loads(LIVER.read_text(encoding="utf-8"))
    p = tmp_path / "in.jsonl"
    with p.open("w", encoding="utf-8") as fh:
        for i in range(n):
            rec = dict(base, id=f"p{i}")
            if i in bad_at:
                rec["sex"] = "unknown"
            fh.write(json.dumps(rec) + "\n")
    return p


def test_batch_small_in_process(tmp_path: Path) -> None:
    r = run("assess", "--batch", str(_jsonl(tmp_path, 5)))
    assert r.exit_code == 0
    assert [json.loads(line)["patient_id"] for line in r.stdout.splitlines()] == [f"p{i}" for i in range(5)]


def test_batch_invalid_line_keeps_alignment_and_exits_2(tmp_path: Path) -> None:
    r = run("assess", "--batch", str(_jsonl(tmp_path, 4, {2})), "--format", "text")
    assert r.exit_code == 2
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x.get("patient_id") for x in lines] == ["p0", "p1", None, "p3"]
    assert lines[2]["schema"] == "mmemd.errors/1" and lines[2]["valid"] is False and lines[2]["line"] == 3
    assert "line 3: $.sex" in r.stderr


def test_batch_with_worker_processes_keeps_order(tmp_path: Path) -> None:
    """More than one block (512 KiB; 700 records are about 2.5 MB) goes through the process pool; output order =
    input order."""
    src = _jsonl(tmp_path, 700, {10, 650})
    cmd = [
        sys.executable,
        "-c",
        "from mmemd.cli import main; main()",
        "assess",
        "--batch",
        str(src),
        "--workers",
        "2",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 2
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(out) == 700
    assert [x.get("patient_id") for x in out] == [None if i in (10, 650) else f"p{i}" for i in range(700)]
    assert [json.loads(x)["line"] for x in proc.stderr.splitlines() if x.startswith("{")] == [11, 651]


def test_cli_module_import_is_cheap() -> None:
    """The CLI module must not import the engine, pydantic or rich at import time (cold start budget)."""
    code = (
        "import sys, mmemd.cli._clinical; "
        "print(sorted(m for m in ('mmemd.clinical', 'pydantic', 'mmemd.knowledge') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- batch internals: one knowledge base per process, bytes output ------------------------------------------------

from mmemd.cli import _assess_file, _clinical  # noqa: E402


def test_batch_opens_one_knowledge_base_per_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import mmemd.knowledge

    real_load = mmemd.knowledge.load
    calls: list[int] = []

    def counting_load(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(mmemd.knowledge, "load", counting_load)
    monkeypatch.setattr(_assess_file, "_PROCESS_KB", None)
    block = _jsonl(tmp_path, 6).read_bytes()
    out, errs_json, _ = _clinical._assess_chunk((1, block), True)
    out2, _, _ = _clinical._assess_chunk((7, block), True)
    assert len(calls) == 1
    assert errs_json == []
    docs = [json.loads(x) for x in (out + out2).splitlines()]
    assert [d["patient_id"] for d in docs] == [f"p{i}" for i in range(6)] * 2
    assert all(d["options"] for d in docs)


def test_batch_line_equals_single_assessment(tmp_path: Path) -> None:
    """The batch serialiser (pydantic-core bytes) gives the same document as `mmemd assess FILE`."""
    single = json.loads(run("assess", str(LIVER)).stdout)
    out, _, _ = _clinical._assess_chunk((1, LIVER.read_bytes().replace(b"\n", b"") + b"\n"), True)
    assert json.loads(out) == single
