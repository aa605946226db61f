"""`mmemd fhir import` and `mmemd fhir export` (FHIR R4 adapter; docs/fhir.md).

Importing stays cheap: fhir.resources and the engine are imported inside the commands.

Output contract of ``mmemd fhir import``:

* default: the ``mmemd.patient/1`` record on stdout; the reasons (one per line, ``code path: message``) on stderr;
* ``--json``: one envelope ``mmemd.fhir-import/1`` on stdout: ``record``, ``reasons``, ``record_valid``,
  ``problems`` (the clinical parser's, when the record is incomplete) and ``versions``; nothing on stderr.

Exit codes: 0 when the bundle was mapped (even if the record is incomplete: ``record_valid`` / stderr say so),
2 when the input is not JSON or not a valid FHIR R4 Bundle (every problem with its path, on stderr).
"""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Annotated, Any

import typer

EXIT_INVALID = 2


def _default(o: object) -> Any:
    if isinstance(o, Decimal):
        # Exact text round-trips through float for the values a record holds (< 16 significant digits).
        exp = o.as_tuple().exponent
        return int(o) if isinstance(exp, int) and exp >= 0 else float(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _dumps(obj: object) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False, indent=2, default=_default)


def _read_json(path: str) -> Any:
    try:
        data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()  # noqa: SIM115
    except OSError as exc:
        sys.stderr.write(f"error: cannot read {path}: {exc.strerror or exc}\n")
        raise typer.Exit(EXIT_INVALID) from None
    from mmemd._json import JsonInputError, parse_json
    from mmemd.clinical.errors import not_utf8

    why = not_utf8(data)
    if why:
        sys.stderr.write(f"error: {path}: {why}\n")
        raise typer.Exit(EXIT_INVALID)
    try:
        # Decimal keeps every number exactly as written (docs/criteria.md §1.5: compare with Decimal).
        return parse_json(data, parse_float=Decimal)
    except JsonInputError as exc:
        sys.stderr.write("".join(f"error: {path}: {p}\n" for p in exc.problems))
        raise typer.Exit(EXIT_INVALID) from None


def _versions() -> dict[str, str]:
    from mmemd._version import __version__
    from mmemd.knowledge import kb_version

    return {"mmemd": __version__, "knowledge_base": kb_version()}


def import_command(
    bundle: Annotated[str, typer.Argument(help="FHIR R4 Bundle (JSON); - reads stdin.")],
    as_json: Annotated[
        bool,
        typer.Option("--json", help="One JSON envelope (record, reasons, validity, versions) on stdout."),
    ] = False,
) -> None:
    """Map a FHIR R4 Bundle to a patient record (mmemd.patient/1), listing every element not mapped."""
    from mmemd.clinical.errors import RecordError
    from mmemd.clinical.record import parse_record
    from mmemd.fhir import BundleError, bundle_to_record

    data = _read_json(bundle)
    try:
        res = bundle_to_record(data)
    except BundleError as exc:
        import json

        report = exc.report()
        report["source"] = "<stdin>" if bundle == "-" else bundle
        sys.stderr.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        raise typer.Exit(EXIT_INVALID) from None
    problems: list[dict[str, str]] = []
    try:
        parse_record(res.record)
    except RecordError as exc:
        problems = [{"path": p.path, "code": p.code, "message": p.message} for p in exc.problems]
    if as_json:
        envelope = {
            "schema": "mmemd.fhir-import/1",
            "patient_id": res.patient_id,
            "record": res.record,
            "record_valid": not problems,
            "problems": problems,
            "reasons": [r.model_dump() for r in res.reasons],
            "versions": _versions(),
        }
        sys.stdout.write(_dumps(envelope) + "\n")
        return
    sys.stdout.write(_dumps(res.record) + "\n")
    for r in res.reasons:
        sys.stderr.write(f"{r.code} {r.path}: {r.message_en}\n")
    if problems:
        sys.stderr.write("the record is not yet a valid mmemd.patient/1:\n")
        for p in problems:
            sys.stderr.write(f"  {p['path']}: {p['message']}\n")


def export_command(
    record: Annotated[str, typer.Argument(help="Patient record (mmemd.patient/1 JSON); - reads stdin.")],
    patient_ref: Annotated[
        str | None,
        typer.Option("--patient-ref", help="Observation.subject reference (default Patient/<record id>)."),
    ] = None,
    with_record: Annotated[
        bool,
        typer.Option(
            "--with-record",
            help="Also write the record itself as FHIR (stages then point at its myeloma Condition and are dated "
            "by its diagnosis); `mmemd fhir import` reads such a Bundle back to the same record.",
        ),
    ] = False,
) -> None:
    """Assess a patient record and print the results as a FHIR R4 Bundle of Observations."""
    from mmemd.cli._assess_file import OutputFormat, _load_record
    from mmemd.clinical.assessment import assess
    from mmemd.fhir import assessment_to_bundle

    rec = _load_record(record, OutputFormat.text)
    result = assess(rec)
    if with_record:
        data = rec.model_dump(mode="json", exclude_none=True, by_alias=True)
        bundle = assessment_to_bundle(result, record=data)
    else:
        bundle = assessment_to_bundle(result, patient_ref or f"Patient/{rec.id}")
    sys.stdout.write(_dumps(bundle) + "\n")


def register(app: typer.Typer) -> None:
    """Add ``mmemd fhir import|export``."""
    fhir = typer.Typer(
        name="fhir",
        help="FHIR R4 adapter: Bundle -> patient record; results -> Observations.",
        no_args_is_help=True,
    )
    fhir.command("import")(import_command)
    fhir.command("export")(export_command)
    app.add_typer(fhir, name="fhir")
