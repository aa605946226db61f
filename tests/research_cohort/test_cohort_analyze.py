"""The whole analysis, its JSON, the HTML report and the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import html5lib
from typer.testing import CliRunner

from mmemd.cli._app import build_app
from mmemd.research.cohort._report import render_html


def test_analysis_adds_up(small_analysis) -> None:  # type: ignore[no-untyped-def]
    a = small_analysis
    assert a.rows["patients"] == 400
    assert a.versions.response_criteria == "IMWG-2016" and a.versions.knowledge_base.startswith("kb-")
    for s in a.survival:
        assert sum(g.n for g in s.groups) == 400
        assert s.logrank is not None and 0 <= s.logrank["p"] <= 1
    n_lines = sum(r.lines for r in a.response)
    assert n_lines == sum(sum(r.categories.values()) for r in a.response)
    for r in a.response:
        assert r.evaluable == r.lines - r.categories["not_evaluable"]
        assert r.orr.events == sum(r.categories[c] for c in ("sCR", "CR", "VGPR", "PR"))
    terms = {t["term"] for c in a.cox for t in c.terms}
    assert {"age_per_10y", "iss_II", "iss_III", "emd_paraskeletal"} <= terms
    doc = json.loads(a.to_json())
    assert doc["schema"] == "mmemd.cohort_analysis/1"
    assert "curves" not in doc
    assert set(doc["incidence"]) == {"at_diagnosis", "at_relapse"}


def test_report_is_one_self_contained_html_file(small_analysis) -> None:  # type: ignore[no-untyped-def]
    html = render_html(small_analysis)
    parser = html5lib.HTMLParser(strict=True)
    parser.parse(html)  # raises on a parse error
    srcs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs), srcs
    assert "<link" not in html and "<script" not in html and "@import" not in html and "url(" not in html
    assert html.count("<img") == 3  # response bars, PFS and OS curves
    assert "Number at risk" in html and "Log-rank" in html and "Clopper–Pearson" in html
    assert small_analysis.versions.knowledge_base in html


def test_cli_synth_then_analyze(tmp_path: Path) -> None:
    runner = CliRunner()
    app = build_app()
    out = tmp_path / "c"
    res = runner.invoke(
        app, ["cohort", "synth", "--n", "150", "--seed", "2", "--out", str(out), "--format", "csv"]
    )
    assert res.exit_code == 0, res.output
    assert (out / "assessments.csv").is_file()
    report = tmp_path / "r.html"
    res = runner.invoke(
        app, ["cohort", "analyze", str(out), "--json", "--workers", "1", "--report", str(report)]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["rows"]["patients"] == 150
    assert report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_cli_bad_input_exits_2_naming_the_problem(tmp_path: Path) -> None:
    runner = CliRunner()
    app = build_app()
    (tmp_path / "empty").mkdir()
    res = runner.invoke(app, ["cohort", "analyze", str(tmp_path / "empty")])
    assert res.exit_code == 2
    assert "patients: table not found" in res.stderr
    res = runner.invoke(app, ["cohort", "analyze", str(tmp_path), "--conf-level", "2"])
    assert res.exit_code == 2 and "--conf-level" in res.stderr


def test_cli_schema_matches_docs() -> None:
    from mmemd.research.cohort import schema_markdown

    res = CliRunner().invoke(build_app(), ["cohort", "schema"])
    assert res.exit_code == 0
    assert res.stdout == schema_markdown()
    docs = (Path(__file__).resolve().parents[2] / "docs" / "cohort.md").read_text(encoding="utf-8")
    assert schema_markdown().strip() in docs, (
        "docs/cohort.md: regenerate the schema section (mmemd cohort schema)"
    )


def test_duckdb_memory_limit_is_set_and_checked(small_cohort: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The cohort's DuckDB connection has a bounded memory limit (it spills beyond it); MMEMD_DUCKDB_MEMORY_LIMIT
    changes it, and a value that is not a size is a clear problem, not SQL."""
    import pytest

    from mmemd.research.cohort import CohortError, open_cohort

    def limit() -> str:
        con = open_cohort(small_cohort).con
        return str(con.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0])

    monkeypatch.delenv("MMEMD_DUCKDB_MEMORY_LIMIT", raising=False)
    default = limit()
    monkeypatch.setenv("MMEMD_DUCKDB_MEMORY_LIMIT", "1GB")
    assert limit() != default
    monkeypatch.setenv("MMEMD_DUCKDB_MEMORY_LIMIT", "1GB'; DROP TABLE x; --")
    with pytest.raises(CohortError, match="MMEMD_DUCKDB_MEMORY_LIMIT"):
        open_cohort(small_cohort)
