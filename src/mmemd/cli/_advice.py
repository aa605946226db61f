"""`mmemd explain`: which decision-support rules fired for a patient, and why the others did not.

The table is in the reader's language: in Chinese the rules are named by their titles and every label comes from the
glossary (``explain.*`` terms); the JSON output keeps the stable rule ids.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

EXIT_INVALID = 2


def register(app: typer.Typer) -> None:
    app.command("explain")(explain)


def explain(
    file: str = typer.Argument(..., help="Patient record (mmemd.patient/1 JSON), or - for standard input."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    lang: str = typer.Option("en", "--lang", help="en or zh."),
) -> None:
    """Every rule (work-up, prognosis, option): fired, not fired or undecided, with each condition's reason."""
    from mmemd.advice import assess_with_advice
    from mmemd.clinical import RecordError

    if lang not in ("en", "zh"):
        sys.stderr.write(f"--lang must be en or zh, not {lang!r}\n")
        raise typer.Exit(EXIT_INVALID)

    raw = sys.stdin.buffer.read() if file == "-" else _read(file)
    from mmemd.clinical.errors import not_utf8

    why = not_utf8(raw)
    if why:
        sys.stderr.write(f"{file}: {why}\n")
        raise typer.Exit(EXIT_INVALID)
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        sys.stderr.write(f"{file}: malformed JSON: {exc}\n")
        raise typer.Exit(EXIT_INVALID) from None
    try:
        assessment, result = assess_with_advice(doc)
    except RecordError as exc:
        sys.stderr.write(f"{file}: {exc.report_text()}\n")
        raise typer.Exit(EXIT_INVALID) from None
    rows: list[dict[str, Any]] = [
        {
            "kind": f.kind,
            "id": f.id,
            "outcome": {"met": "fired", "not_met": "not fired", "undecided": "undecided"}[f.outcome],
            "conditions": [
                {"condition": c.condition, "outcome": c.outcome, "reason": c.zh if lang == "zh" else c.en}
                for c in f.checks
            ],
        }
        for f in result.trace
    ]
    if as_json:
        payload = {
            "patient_id": assessment.patient_id,
            "versions": assessment.versions.model_dump(),
            "rules": rows,
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    from mmemd.knowledge import load_glossary

    g = load_glossary()

    def term(key: str) -> str:
        return g.term(f"explain.{key}", "zh" if lang == "zh" else "en")

    titles = _rule_titles(lang)
    table = Table(title=term("title").format(patient=assessment.patient_id), show_lines=False)
    for col in ("kind", "rule", "result", "because"):
        table.add_column(term(f"column.{col}"), overflow="fold")
    style = {"fired": "green", "not fired": "dim", "undecided": "yellow"}
    sep = "；" if lang == "zh" else "; "
    for r in rows:
        reasons = sep.join(
            ("✓ " if c["outcome"] == "met" else "✗ " if c["outcome"] == "not_met" else "? ") + c["reason"]
            for c in r["conditions"]
        )
        outcome = term(f"outcome.{r['outcome'].replace(' ', '_')}")
        table.add_row(
            term(f"kind.{r['kind']}"),
            titles.get((r["kind"], r["id"]), r["id"]),
            f"[{style[r['outcome']]}]{outcome}[/]",
            reasons or term("no_conditions"),
        )
    console = Console()
    console.print(table)
    v = assessment.versions
    console.print(
        f"[dim]mmemd {v.mmemd} · {v.knowledge_base} · {v.response_criteria} · {v.high_risk_definition}[/]"
    )


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        sys.stderr.write(f"cannot read {path}: {exc.strerror or exc}\n")
        raise typer.Exit(EXIT_INVALID) from None


def _rule_titles(lang: str) -> dict[tuple[str, str], str]:
    """Rules by their titles in the reader's language (Chinese readers never see the rule ids)."""
    if lang != "zh":
        return {}
    from mmemd.advice import load_rules

    rules = load_rules()
    out: dict[tuple[str, str], str] = {}
    for o in rules.options:
        out[("option", o.id)] = o.title_zh
    for w in rules.workup:
        out[("workup", w.id)] = w.title_zh
    for p in rules.prognosis:
        out[("prognosis", p.id)] = p.zh.split("：")[0].rstrip("。")
    return out
