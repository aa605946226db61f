"""`mmemd assess`, `mmemd validate`, `mmemd schema` (clinical engine).

Importing this module must stay cheap (the app is built for every command): the engine, pydantic models and rich are
imported inside the command functions. Invalid input exits with code 2 and the full error report on stderr; nothing
is printed on stdout as if the record were valid.
"""

from __future__ import annotations

import enum
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator
from typing import IO, Annotated, Any, cast

import typer

from mmemd.cli._assess_file import (
    EXIT_INVALID,
    Lang,
    OutputFormat,
    _assess_one,
    _fail_io,
    _load_record,
    assess_file,
)

# Batch tuning. The parent cuts the input into blocks of about _CHUNK_BYTES ending at a newline (cheap: no per-line
# work in the parent, one bytes object to pickle per task); at most workers * _INFLIGHT_PER_WORKER blocks are in
# flight, so memory is bounded whatever the input size.
_CHUNK_BYTES = 1 << 19
_INFLIGHT_PER_WORKER = 3


class SchemaName(enum.StrEnum):
    patient = "patient"
    assessment = "assessment"


# --- batch -----------------------------------------------------------------------------------------------------


def _to_json(model: Any) -> bytes:
    """Compact JSON as UTF-8 bytes straight from pydantic-core (``model_dump_json`` would decode to str, and the
    parent would encode it again)."""
    return bytes(type(model).__pydantic_serializer__.to_json(model, by_alias=True))


def _assess_line(line: bytes, lineno: int, advice: bool = True) -> tuple[bool, bytes, str]:
    """(valid, stdout line, stderr text) for one JSON Lines record."""
    import json

    from mmemd.clinical.errors import RecordError
    from mmemd.clinical.record import parse_record_json

    try:
        out = _to_json(_assess_one(parse_record_json(line), advice))
    except RecordError as exc:
        report = exc.report()
        report["line"] = lineno
        return (
            False,
            json.dumps(report, ensure_ascii=False).encode(),
            "".join(f"line {lineno}: {p}\n" for p in exc.problems),
        )
    return True, out, ""


def _assess_chunk(chunk: tuple[int, bytes], advice: bool = True) -> tuple[bytes, list[str], list[str]]:
    """Assess a block of lines: (stdout lines, JSON error reports, text error reports). Blank lines are skipped."""
    first, block = chunk
    lines = block.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    outs: list[bytes] = []
    errs_json: list[str] = []
    errs_text: list[str] = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        ok, out, err = _assess_line(line, first + i, advice)
        outs.append(out)
        if not ok:
            errs_json.append(out.decode())
            errs_text.append(err)
    if outs:
        outs.append(b"")
    return b"\n".join(outs), errs_json, errs_text


def _chunks(stream: IO[bytes], size: int) -> Iterator[tuple[int, bytes]]:
    """(first line number, block of whole lines of about ``size`` bytes); a line longer than ``size`` is one block."""
    lineno = 1
    rest = b""
    while True:
        data = stream.read(size)
        if not data:
            break
        block = rest + data
        cut = block.rfind(b"\n") + 1
        if cut == 0:
            rest = block
            continue
        rest = block[cut:]
        yield lineno, block[:cut]
        lineno += block.count(b"\n", 0, cut)
    if rest:
        yield lineno, rest


def _default_workers() -> int:
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, n)


def _run_batch(stream: IO[bytes], workers: int | None, fmt: OutputFormat, advice: bool = True) -> int:
    """Stream assessments, one JSON document per input line, in input order. Returns the number of invalid lines."""
    # Warm the engine before any fork, so worker processes inherit the imported modules, the cached vocabulary and
    # (with advice) the rules; each worker opens its own knowledge-base connection on first use.
    from mmemd.clinical import assessment  # noqa: F401
    from mmemd.knowledge import kb_version, vocabulary

    vocabulary()
    kb_version()
    if advice:
        import mmemd.advice._assess  # noqa: F401
        from mmemd.advice import load_rules

        load_rules()

    # An assessment leaves no reference cycles behind (none in 1,000 dense records, with or without advice), so the
    # cyclic collector only re-scans the long-lived engine state — 10-15 % of a worker's time. That state is frozen
    # out of its reach (fork keeps it frozen in the workers) and young objects are collected less often; reference
    # counting still frees every record's objects at once.
    import gc

    threshold = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    try:
        return _stream_batch(stream, workers, fmt, advice)
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _stream_batch(stream: IO[bytes], workers: int | None, fmt: OutputFormat, advice: bool) -> int:
    sys.stdout.flush()
    out: Any = getattr(sys.stdout, "buffer", None)
    write_out: Callable[[bytes], None]
    if out is None:  # pragma: no cover - a text-only stdout (some embedders)
        text_out = sys.stdout

        def write_text(b: bytes) -> None:
            text_out.write(b.decode())

        write_out = write_text
    else:
        write_out = _raw_writer(out)
    err = sys.stderr
    bad = 0

    def emit(result: tuple[bytes, list[str], list[str]]) -> None:
        # An invalid line yields an explicit error document (schema mmemd.errors/1, "valid": false) in its place on
        # stdout, so output lines stay aligned with input records; its report also goes to stderr.
        nonlocal bad
        lines, errs_json, errs_text = result
        if lines:
            write_out(lines)
        if errs_json:
            bad += len(errs_json)
            if fmt is OutputFormat.json:
                err.write("\n".join(errs_json) + "\n")
            else:
                err.write("".join(errs_text))

    chunks = _chunks(stream, _CHUNK_BYTES)
    first = next(chunks, None)
    if first is None:
        return 0
    second = next(chunks, None)
    n_workers = _default_workers() if workers is None else workers
    if second is None or n_workers <= 1:
        # Small input (or one worker asked for): a process pool would cost more than it saves.
        emit(_assess_chunk(first, advice))
        if second is not None:
            emit(_assess_chunk(second, advice))
            for c in chunks:
                emit(_assess_chunk(c, advice))
        (out or sys.stdout).flush()
        return bad

    import multiprocessing

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    pending: deque[Any] = deque()
    limit = n_workers * _INFLIGHT_PER_WORKER
    with ctx.Pool(n_workers) as pool:
        for c in _prepend(first, second, chunks):
            pending.append(pool.apply_async(_assess_chunk, (c, advice)))
            while len(pending) >= limit:
                emit(pending.popleft().get())
        while pending:
            emit(pending.popleft().get())
    (out or sys.stdout).flush()
    return bad


def _raw_writer(out: Any) -> Callable[[bytes], None]:
    """Write whole blocks to stdout's file descriptor. A buffered write of a large block to a pipe whose reader has
    gone (``| head``) can report success for the part the kernel took and drop the rest silently; writing to the
    descriptor until every byte is taken turns that into the BrokenPipeError that ends the batch quietly."""
    try:
        fd = out.fileno()
    except (
        AttributeError,
        OSError,
        ValueError,
    ):  # pragma: no cover - a stdout without a descriptor (embedders)
        return cast(Callable[[bytes], None], out.write)

    def write(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]

    return write


def _prepend(
    a: tuple[int, bytes], b: tuple[int, bytes], rest: Iterator[tuple[int, bytes]]
) -> Iterator[tuple[int, bytes]]:
    yield a
    yield b
    yield from rest


# --- commands --------------------------------------------------------------------------------------------------


def assess_command(
    file: Annotated[
        str | None, typer.Argument(help="Patient record (mmemd.patient/1 JSON); - reads stdin.")
    ] = None,
    batch: Annotated[
        str | None,
        typer.Option(
            "--batch",
            metavar="FILE.jsonl",
            help="JSON Lines input (one record per line; - reads stdin): one assessment JSON per line, in order.",
        ),
    ] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="json (default) or a readable text summary.")
    ] = OutputFormat.json,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the text summary.")] = Lang.en,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Batch worker processes (default: available CPUs).")
    ] = None,
    advice: Annotated[
        bool,
        typer.Option(
            "--advice/--no-advice",
            help="Include the decision-support sections (work-up, prognosis, options); --no-advice gives only "
            "the clinical engine's sections.",
        ),
    ] = True,
) -> None:
    """Assess a patient record: EMD classification, ISS/R-ISS/R2-ISS, high risk, IMWG response, and the
    work-up, prognosis and evidence-graded options (decision support, never a prescription)."""
    if (file is None) == (batch is None):
        sys.stderr.write("error: give either a record FILE (or -) or --batch FILE.jsonl\n")
        raise typer.Exit(EXIT_INVALID)
    if batch is not None:
        if fmt is OutputFormat.text:
            sys.stderr.write(
                "note: --batch always writes JSON Lines; --format text only shapes the error report\n"
            )
        try:
            if batch == "-":
                bad = _run_batch(sys.stdin.buffer, workers, fmt, advice)
            else:
                with open(batch, "rb", buffering=1 << 20) as fh:
                    bad = _run_batch(fh, workers, fmt, advice)
        except BrokenPipeError:
            raise  # our reader closed the pipe: not a problem with the batch file (cli.main ends quietly)
        except OSError as exc:
            raise _fail_io(batch, exc, fmt) from None
        if bad:
            sys.stderr.write(f"{bad} invalid record{'s' if bad != 1 else ''}\n")
            raise typer.Exit(EXIT_INVALID)
        return

    assert file is not None
    assess_file(file, fmt, lang, advice)


def validate_command(
    file: Annotated[str, typer.Argument(help="Patient record (mmemd.patient/1 JSON); - reads stdin.")],
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Error report format.")] = OutputFormat.text,
) -> None:
    """Validate a patient record, listing every problem at once (exit code 2 when invalid)."""
    record = _load_record(file, fmt)
    if fmt is OutputFormat.json:
        import json

        sys.stdout.write(
            json.dumps({"schema": "mmemd.errors/1", "valid": True, "id": record.id, "problems": []})
        )
        sys.stdout.write("\n")
    else:
        sys.stdout.write(f"valid: {record.id} (mmemd.patient/1)\n")


def schema_command(
    name: Annotated[SchemaName, typer.Argument(help="patient or assessment")],
) -> None:
    """Print the JSON Schema of mmemd.patient/1 or mmemd.assessment/1 (generated from the models)."""
    import json

    if name is SchemaName.patient:
        from mmemd.clinical.record import patient_json_schema

        schema = patient_json_schema()
    else:
        from mmemd.advice import assessment_json_schema

        schema = assessment_json_schema()
    sys.stdout.write(json.dumps(schema, ensure_ascii=False, indent=2) + "\n")


def register(app: typer.Typer) -> None:
    """Add the clinical commands to the ``mmemd`` app."""
    app.command("assess")(assess_command)
    app.command("validate")(validate_command)
    app.command("schema")(schema_command)
