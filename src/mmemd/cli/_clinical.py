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


#: The JSON of decision-support items already written, by identity. The advice engine keeps its items (work-up,
#: prognosis, options, the not-suitable list) by the facts they come from and shares them between assessments —
#: frozen, never mutated — so an item met again is written again as the same bytes. Each entry holds its item, so
#: an id cannot be reused while its bytes are kept; emptied when full, to bound memory.
_ITEM_JSON: dict[int, tuple[Any, bytes]] = {}
_ITEM_JSON_KEPT = 2048
#: How an advised assessment is written: runs of fields serialised by pydantic-core, and the kept-item lists.
_ADVISED_PLAN: dict[type, list[tuple[bool, Any, Any]]] = {}


def _advised_plan(cls: type) -> list[tuple[bool, Any, Any]]:
    """(False, field names, None) for a run of fields written by the model's serialiser, (True, b'"key":', field
    name and item class) for a list of kept items, in field order."""
    import json
    import typing

    from mmemd.advice._models import NotSuitable, PrognosisItem, TreatmentOption, WorkupItem

    kept = (WorkupItem, PrognosisItem, TreatmentOption, NotSuitable)
    plan: list[tuple[bool, Any, Any]] = []
    run: list[str] = []
    for name, info in cast(Any, cls).__pydantic_fields__.items():
        args = typing.get_args(info.annotation)
        if typing.get_origin(info.annotation) is list and len(args) == 1 and args[0] in kept:
            if run:
                plan.append((False, frozenset(run), None))
                run = []
            key = json.dumps(info.serialization_alias or info.alias or name).encode() + b":"
            plan.append((True, key, (name, args[0])))
        else:
            run.append(name)
    if run:
        plan.append((False, frozenset(run), None))
    return plan


def _advised_json(doc: Any) -> bytes:
    """The same bytes as :func:`_to_json` for an assessment with advice, each kept item's JSON written once."""
    cls = type(doc)
    plan = _ADVISED_PLAN.get(cls)
    if plan is None:
        plan = _ADVISED_PLAN[cls] = _advised_plan(cls)
    serialise = cls.__pydantic_serializer__.to_json
    parts: list[bytes] = []
    for is_items, what, field in plan:
        if not is_items:
            fields = serialise(doc, by_alias=True, include=what)[1:-1]
            if fields:
                parts.append(fields)
            continue
        name, item_cls = field
        items = getattr(doc, name)
        written: list[bytes] = []
        for item in items:
            if (
                type(item) is not item_cls
            ):  # a subclass is written by its declared type: leave it to pydantic-core
                return _to_json(doc)
            kept = _ITEM_JSON.get(id(item))
            if kept is None or kept[0] is not item:
                if len(_ITEM_JSON) >= _ITEM_JSON_KEPT:
                    _ITEM_JSON.clear()
                kept = _ITEM_JSON[id(item)] = (
                    item,
                    item_cls.__pydantic_serializer__.to_json(item, by_alias=True),
                )
            written.append(kept[1])
        parts.append(what + b"[" + b",".join(written) + b"]")
    return b"{" + b",".join(parts) + b"}"


def _assess_line(line: bytes, lineno: int, advice: bool = True) -> tuple[bool, bytes, str]:
    """(valid, stdout line, stderr text) for one JSON Lines record."""
    import json

    from mmemd.clinical.errors import RecordError
    from mmemd.clinical.record import parse_record_json

    try:
        doc = _assess_one(parse_record_json(line), advice)
        out = _advised_json(doc) if advice else _to_json(doc)
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
    fd = _fileno(out) if method == "fork" else None
    if fd is None:
        # A stdout without a descriptor the workers share: their output comes back through the pool's pipe.
        with ctx.Pool(n_workers) as pool:
            for c in _prepend(first, second, chunks):
                pending.append(pool.apply_async(_assess_chunk, (c, advice)))
                while len(pending) >= limit:
                    emit(pending.popleft().get())
            while pending:
                emit(pending.popleft().get())
        (out or sys.stdout).flush()
        return bad
    # Each worker writes its block's output to the shared stdout itself, in input order (block k waits until block
    # k - 1 is written); only the error reports come back to this process. Sending the output through the pool's
    # pipe cost this process about 0.16 ms a record with advice (~36 kB a record pickled, piped, unpickled, written).
    turn = (ctx.Condition(), ctx.Value("q", 0, lock=False))
    with ctx.Pool(n_workers, initializer=_set_turn, initargs=turn) as pool:
        for seq, c in enumerate(_prepend(first, second, chunks)):
            pending.append(pool.apply_async(_assess_chunk_in_turn, (seq, c, advice, fd)))
            while len(pending) >= limit:
                emit(pending.popleft().get())
        while pending:
            emit(pending.popleft().get())
    return bad


# The batch's ordering of worker writes: a condition and the number of the next block to write (set in each worker).
_TURN: tuple[Any, Any] | None = None


def _set_turn(condition: Any, next_block: Any) -> None:
    global _TURN
    _TURN = (condition, next_block)


def _assess_chunk_in_turn(
    seq: int, chunk: tuple[int, bytes], advice: bool, fd: int
) -> tuple[bytes, list[str], list[str]]:
    """Assess block number ``seq`` and write its output lines to ``fd`` once every earlier block is written;
    returns no output lines, only the error reports. The turn passes on even when the write fails (a closed pipe is
    raised in the parent, as when the parent wrote)."""
    lines, errs_json, errs_text = _assess_chunk(chunk, advice)
    assert _TURN is not None
    condition, next_block = _TURN
    with condition:
        while next_block.value != seq:
            condition.wait()
        try:
            if lines:
                _write_all(fd, lines)
        finally:
            next_block.value = seq + 1
            condition.notify_all()
    return b"", errs_json, errs_text


def _fileno(out: Any) -> int | None:
    try:
        return int(out.fileno())
    except (AttributeError, OSError, ValueError):  # a stdout without a descriptor (embedders, test runners)
        return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _raw_writer(out: Any) -> Callable[[bytes], None]:
    """Write whole blocks to stdout's file descriptor. A buffered write of a large block to a pipe whose reader has
    gone (``| head``) can report success for the part the kernel took and drop the rest silently; writing to the
    descriptor until every byte is taken turns that into the BrokenPipeError that ends the batch quietly."""
    fd = _fileno(out)
    if fd is None:  # pragma: no cover - a stdout without a descriptor (embedders)
        return cast(Callable[[bytes], None], out.write)
    return lambda data: _write_all(fd, data)


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
