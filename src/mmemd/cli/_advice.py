"""`mmemd explain`: which decision-support rules fired for a patient, and why the others did not (issue 4)."""

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
    from mmemd.clinical.errors import loads

    raw = sys.stdin.buffer.read() if file == "-" else _read(file)
    try:
        doc = loads(raw)
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

    table = Table(title=f"Rules for {assessment.patient_id}", show_lines=False)
    for col in ("kind", "rule", "result", "because / why not"):
        table.add_column(col, overflow="fold")
    style = {"fired": "green", "not fired": "dim", "undecided": "yellow"}
    for r in rows:
        reasons = "; ".join(
            ("✓ " if c["outcome"] == "met" else "✗ " if c["outcome"] == "not_met" else "? ") + c["reason"]
            for c in r["conditions"]
        )
        table.add_row(
            r["kind"], r["id"], f"[{style[r['outcome']]}]{r['outcome']}[/]", reasons or "(no conditions)"
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
