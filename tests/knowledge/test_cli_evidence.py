"""`mmemd evidence …` end to end through the real CLI (typer's runner), JSON and tables."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from mmemd.cli._app import build_app
from mmemd.knowledge import EXPORT_FIELDS

runner = CliRunner()
app = build_app()

ISSUE_FIELDS = [
    "id",
    "source",
    "quote",
    "category",
    "endpoint",
    "value",
    "value_max",
    "value_qualifier",
    "unit",
    "comparator_value",
    "p",
    "direction",
    "interventions",
    "comparator",
    "study",
    "design",
    "n_total",
    "n_emd",
    "timepoint",
    "statement_en",
    "statement_zh",
    "grade",
    "emd_specific",
    "references",
]


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_search_json_carries_versions_hits_and_spans(kb):
    code, out, _ = _run("evidence", "search", "泊马度胺", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["versions"]["knowledge_base"] == kb.version
    assert doc["versions"]["mmemd"]
    assert doc["hits"] and all("pomalidomide" in json.dumps(h["claim"]) or h["spans"] for h in doc["hits"])
    first = doc["hits"][0]
    for field, spans in first["spans"].items():
        for s, e in spans:
            assert first["claim"][field][s:e]


def test_search_table_shows_the_kb_version_and_the_matches(kb):
    code, out, _ = _run("evidence", "search", "CAR-T", "ORR")
    assert code == 0
    assert kb.version in out and "ORR" in out


@pytest.mark.parametrize("query", ["髓外", "预后", "中枢神经系统", "pomalidomide", "CAR-T ORR"])
def test_issue_queries_return_results(query):
    code, out, _ = _run("evidence", "search", *query.split(), "--json", "-n", "3")
    assert code == 0 and json.loads(out)["hits"]


def test_list_filters_and_unknown_agent_exit_code():
    code, out, _ = _run("evidence", "list", "--agent", "pomalidomide", "--endpoint", "ORR", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["count"] == len(doc["claims"]) > 0
    assert all(c["endpoint"] == "ORR" for c in doc["claims"])
    code, _, err = _run("evidence", "list", "--agent", "nosuchdrug")
    assert code == 2 and "unknown agent" in err and "pomalidomide" in err


def test_list_emd_only_and_category_and_source():
    code, out, _ = _run(
        "evidence", "list", "--emd-only", "--category", "prognosis", "--source", "emdrev", "--json"
    )
    claims = json.loads(out)["claims"]
    assert code == 0 and claims
    assert all(
        c["emd_specific"] and c["category"] == "prognosis" and c["source"].startswith("001_") for c in claims
    )


def test_show_gives_quote_in_context_source_and_references(kb):
    claim = next(c for c in kb.claims() if c.references)
    code, out, _ = _run("evidence", "show", claim.id, "--json")
    doc = json.loads(out)
    assert code == 0
    assert doc["context"]["quote"] == claim.quote
    assert doc["source"]["id"] == claim.source and doc["source"]["section"]["number"] == claim.section
    assert [r["number"] for r in doc["references"]] == list(claim.references)
    code, out, _ = _run("evidence", "show", claim.id)
    assert code == 0 and claim.id in out


def test_show_unknown_id_exits_2_with_a_message():
    code, _, err = _run("evidence", "show", "emdtx-9.9-99")
    assert code == 2 and "no claim with id" in err


def test_export_jsonl_has_one_record_per_claim_with_the_issue_fields(kb):
    code, out, _ = _run("evidence", "export", "--format", "jsonl")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(records) == len(kb)
    for field in ISSUE_FIELDS:
        assert field in records[0], field
    assert {r["id"] for r in records} == {c.id for c in kb.claims()}
    assert all(r["kb_version"] == kb.version for r in records)


def test_export_csv_round_trips_quotes_with_line_breaks(kb, tmp_path):
    target = tmp_path / "claims.csv"
    code, _, _ = _run("evidence", "export", "--format", "csv", "-o", str(target))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert len(rows) == len(kb)
    assert list(rows[0])[: len(EXPORT_FIELDS)] == list(EXPORT_FIELDS)
    by_id = {r["id"]: r for r in rows}
    for claim in kb.claims():
        assert by_id[claim.id]["quote"] == claim.quote  # line breaks and odd spaces survive CSV quoting


def test_stats_counts_add_up(kb):
    code, out, _ = _run("evidence", "stats", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["total"] == len(kb)
    for name in ("source", "category", "endpoint"):
        assert sum(doc["counts"][name].values()) == len(kb)
    assert doc["counts"]["agent"]["bortezomib"] > 0


def test_check_passes_on_the_packaged_data():
    code, out, _ = _run("evidence", "check")
    assert code == 0 and out.startswith("ok:")


def test_console_script_version_is_answered_without_heavy_imports():
    out = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            "import sys; sys.argv=['mmemd','--version']; from mmemd.cli import main; main()",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("mmemd ")
    for heavy in ("typer", "rich", "pydantic", "sqlite3"):
        assert f" {heavy}\n" not in out.stderr and f"| {heavy}\n" not in out.stderr, heavy
