"""`mmemd report`: the clinician report for one patient record, in English or Chinese.

Heavy imports (the engine, jinja2, matplotlib, WeasyPrint) happen inside the command, so `mmemd --help` stays fast.
Invalid input exits with code 2 and the record's full error report on stderr; nothing is written to the output.
"""

from __future__ import annotations

import enum
import sys
from typing import Annotated

import typer

EXIT_INVALID = 2


class ReportLang(enum.StrEnum):
    en = "en"
    zh = "zh"


class ReportFormat(enum.StrEnum):
    text = "text"
    md = "md"
    html = "html"
    pdf = "pdf"


def report_command(
    file: Annotated[str, typer.Argument(help="Patient record (mmemd.patient/1 JSON); - reads stdin.")],
    lang: Annotated[ReportLang, typer.Option("--lang", help="Report language.")] = ReportLang.en,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="text, md, html (self-contained) or pdf.")] = (
        ReportFormat.html
    ),
    out: Annotated[
        str | None,
        typer.Option("-o", "--output", help="Output file (default: standard output; pdf needs it)."),
    ] = None,
) -> None:
    """The clinician report: classification, stage, response, work-up, prognosis and evidence-graded options."""
    if fmt is ReportFormat.pdf and out is None:
        sys.stderr.write("error: --format pdf writes binary output: give -o FILE.pdf\n")
        raise typer.Exit(EXIT_INVALID)
    if fmt is ReportFormat.html and out is None and sys.stdout.isatty():
        # A self-contained page (fonts and charts inlined, hundreds of KB) is not for reading on a terminal.
        sys.stderr.write(
            "error: --format html writes a self-contained page of several hundred KB: give -o FILE.html, "
            "pipe it, or use --format text to read it here\n"
        )
        raise typer.Exit(EXIT_INVALID)
    source = "<stdin>" if file == "-" else file
    try:
        raw = sys.stdin.buffer.read() if file == "-" else _read(file)
    except OSError as exc:
        sys.stderr.write(f"error: cannot read {file}: {exc.strerror or exc}\n")
        raise typer.Exit(EXIT_INVALID) from None

    from mmemd.clinical.errors import RecordError
    from mmemd.clinical.record import parse_record_json
    from mmemd.report import render_report

    try:
        # Malformed JSON is a RecordError too (reported at path $).
        record = parse_record_json(raw)
        result = render_report(record, lang=lang.value, fmt=fmt.value)
    except RecordError as exc:
        sys.stderr.write(f"{source}: {exc.report_text()}\n")
        raise typer.Exit(EXIT_INVALID) from None
    data = result.encode("utf-8") if isinstance(result, str) else result
    if out is None or out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        with open(out, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        sys.stderr.write(f"error: cannot write {out}: {exc.strerror or exc}\n")
        raise typer.Exit(EXIT_INVALID) from None


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def register(app: typer.Typer) -> None:
    """Add `mmemd report` to the app."""
    app.command("report")(report_command)
