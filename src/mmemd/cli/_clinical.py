"""`mmemd assess`, `mmemd validate`, `mmemd schema` (clinical engine).

Importing this module must stay cheap (the app is built for every command): the engine, pydantic models and rich are
imported inside the command functions. Invalid input exits with code 2 and the full error report on stderr; nothing
is printed on stdout as if the record were valid.
"""

from __future__ import annotations

import enum
import os
import stat
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

# Batch tuning. The input is cut into blocks of about _CHUNK_BYTES ending at a newline (no per-line work in the
# parent). A stream's blocks are read and sent by the parent, at most workers * _INFLIGHT_PER_WORKER in flight; a
# regular file's blocks are cut and read by the workers themselves, one block each at a time (a cut reads only
# _PROBE_BYTES around it). Memory is bounded whatever the input size.
_CHUNK_BYTES = 1 << 19
_PROBE_BYTES = 1 << 14
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


def _assess_line(line: bytes, advice: bool = True) -> bytes | Any:
    """The assessment JSON of one JSON Lines record, or the record's :class:`RecordError` (its report needs the line
    number, known only once every earlier block is counted)."""
    from mmemd.clinical.errors import RecordError
    from mmemd.clinical.record import parse_record_json

    try:
        doc = _assess_one(parse_record_json(line), advice)
        return _advised_json(doc) if advice else _to_json(doc)
    except RecordError as exc:
        return exc


def _assess_lines(block: bytes, advice: bool) -> tuple[list[bytes], list[tuple[int, int, Any]], int]:
    """Assess a block of lines: the output lines (an invalid line's place left empty), the invalid lines (place in
    the output, line offset in the block, error) and the number of newlines in the block. Blank lines are skipped."""
    lines = block.split(b"\n")
    newlines = len(lines) - 1
    if not lines[-1]:
        lines.pop()
    outs: list[bytes] = []
    invalid: list[tuple[int, int, Any]] = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        out = _assess_line(line, advice)
        if not isinstance(out, bytes):
            invalid.append((len(outs), i, out))
            out = b""
        outs.append(out)
    return outs, invalid, newlines


def _numbered(
    outs: list[bytes], invalid: list[tuple[int, int, Any]], first: int
) -> tuple[bytes, list[str], list[str]]:
    """(stdout lines, JSON error reports, text error reports) of a block whose first line is number ``first``."""
    errs_json: list[str] = []
    errs_text: list[str] = []
    if invalid:
        import json

        for at, i, exc in invalid:
            report = exc.report()
            report["line"] = first + i
            doc = json.dumps(report, ensure_ascii=False)
            outs[at] = doc.encode()
            errs_json.append(doc)
            errs_text.append("".join(f"line {first + i}: {p}\n" for p in exc.problems))
    if outs:
        outs.append(b"")
    return b"\n".join(outs), errs_json, errs_text


def _assess_chunk(chunk: tuple[int, bytes], advice: bool = True) -> tuple[bytes, list[str], list[str]]:
    """Assess a block of lines whose first line is number ``chunk[0]``: (stdout lines, JSON error reports, text
    error reports). Blank lines are skipped."""
    first, block = chunk
    outs, invalid, _ = _assess_lines(block, advice)
    return _numbered(outs, invalid, first)


def _chunks(stream: IO[bytes], size: int) -> Iterator[bytes]:
    """Blocks of whole lines of about ``size`` bytes; a line longer than ``size`` is one block."""
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
        yield block[:cut]
    if rest:
        yield rest


def _input_fd(stream: IO[bytes]) -> int | None:
    """The descriptor of a regular input file, whose blocks are read by position (``pread``); None for anything
    else. Standard input is read as a stream even when it is a file: its offset may be shared with the shell
    (``{ mmemd assess --batch -; cat; } < file``), and reading by position would not move it."""
    fd = _fileno(stream)
    if fd is None or fd == 0 or not hasattr(os, "fork"):  # without fork, the workers could not inherit it
        return None
    try:
        return fd if stat.S_ISREG(os.fstat(fd).st_mode) else None
    except OSError:
        return None


def _file_blocks(fd: int, offset: int, size: int) -> Iterator[tuple[int, int]]:
    """(offset, length) of blocks of whole lines of about ``size`` bytes, from ``offset`` to the end of a regular
    file; a line longer than ``size`` is one block, and the last line may lack its newline."""
    while (end := _cut(fd, offset, size)) > offset:
        yield offset, end - offset
        offset = end


def _cut(fd: int, offset: int, size: int) -> int:
    """Where the block of a regular file starting at ``offset`` ends: at the first newline at or after its
    ``size``-th byte, or at the end of the file (``offset`` itself there). Only the bytes around the cut are read."""
    end = offset + size - 1
    probe_size = _PROBE_BYTES
    while True:
        probe = os.pread(fd, probe_size, end)
        nl = probe.find(b"\n")
        if nl >= 0:
            return end + nl + 1
        if len(probe) == probe_size:  # a long line: look further, in growing steps
            end += probe_size
            probe_size = min(2 * probe_size, _CHUNK_BYTES)
            continue
        if probe:
            return end + len(probe)  # the file ends in a line without a newline
        # The file ends before the block is full: the block is what is left.
        size_now = os.fstat(fd).st_size
        if size_now <= end:
            return max(offset, size_now)
        # It grew since the probe: look again.


def _read_block(fd: int, offset: int, length: int) -> bytes | None:
    """The ``length`` bytes at ``offset``, or None if the file ends first (it shrank after the block was cut)."""
    data = os.pread(fd, length, offset)
    while len(data) < length:  # a regular file reads short only at its end (or past 2 GiB in one read)
        more = os.pread(fd, length - len(data), offset + len(data))
        if not more:
            return None
        data += more
    return data


def _shrank(lineno: int) -> OSError:
    # Raised once every record before ``lineno`` is written: the output is a whole prefix of the batch, no record
    # lost silently or written twice.
    return OSError(f"the file shrank while it was read; the records from line {lineno} on were not assessed")


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


# A block of the batch: its bytes (read from a stream by this process) or where it lies in the regular input file.
_Block = bytes | tuple[int, int]


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

    # A regular file is cut here by reading only the bytes around each cut; the workers read their blocks
    # themselves. Sending the blocks' bytes through the pool's pipe cost this process about 18 µs a dense record
    # (read, cut, pickle, pipe) and each worker a copy more.
    in_fd = _input_fd(stream)
    blocks: Iterator[_Block]
    # Where the blocks read so far end, and the file's size when the batch began: a file that ends before that size
    # shrank while it was read (a stream has neither: 0, 0).
    end = initial_size = 0
    if in_fd is None:
        blocks = _chunks(stream, _CHUNK_BYTES)
    else:
        end, initial_size = stream.tell(), os.fstat(in_fd).st_size
        blocks = _file_blocks(in_fd, end, _CHUNK_BYTES)
    first = next(blocks, None)
    if first is None:
        if end < initial_size:
            raise _shrank(1)
        return 0
    second = next(blocks, None)
    n_workers = _default_workers() if workers is None else workers
    if second is None or n_workers <= 1:
        # Small input (or one worker asked for): a process pool would cost more than it saves.
        lineno = 1
        for b in _prepend(first, second, blocks):
            if isinstance(b, bytes):
                block: bytes | None = b
            else:
                block, end = _read_block(cast(int, in_fd), *b), b[0] + b[1]
            if block is None:
                raise _shrank(lineno)
            emit(_assess_chunk((lineno, block), advice))
            lineno += block.count(b"\n")
        (out or sys.stdout).flush()
        if end < initial_size:
            raise _shrank(lineno)
        return bad

    import multiprocessing

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    turn = _Turn(ctx, in_fd, end)
    # Each worker writes its block's output to the shared stdout itself, in input order (block k waits until block
    # k - 1 is written), and numbers its block's lines from the count the earlier blocks left. Sending the output
    # through the pool's pipe cost this process about 0.16 ms a record with advice (~36 kB a record pickled, piped,
    # unpickled, written).
    fd = _fileno(out) if method == "fork" else None
    err_fd = _fileno(err) if method == "fork" else None
    if in_fd is not None and fd is not None and err_fd is not None:
        # A regular file, and descriptors for both outputs: the workers cut the file too, and write the error
        # reports themselves; only each worker's outcome comes back. A message through the pool for every block
        # cost this process about 9 µs a dense record, most of it the pool's worker-handler thread polling while
        # each answer waited to be read.
        from queue import SimpleQueue

        err.flush()
        text = fmt is not OutputFormat.json
        encoding = getattr(err, "encoding", None) or "utf-8"
        args = (initial_size, advice, fd, err_fd, text, encoding, getattr(err, "errors", None) or "strict")
        finished: SimpleQueue[Any] = SimpleQueue()
        with ctx.Pool(n_workers, initializer=_set_turn, initargs=(turn,)) as pool:
            for _ in range(n_workers):
                pool.apply_async(
                    _assess_file_in_turns, args, callback=finished.put, error_callback=finished.put
                )
            for _ in range(n_workers):
                outcome = finished.get()
                if isinstance(outcome, BaseException):
                    raise outcome
        return int(turn.invalid.value)

    # Otherwise this process sends the blocks (their bytes, or their place in the file) and writes the error reports;
    # a stdout without a descriptor the workers share gets its output back through the pool, numbered and in order.
    pending: deque[Any] = deque()
    limit = n_workers * _INFLIGHT_PER_WORKER
    with ctx.Pool(n_workers, initializer=_set_turn, initargs=(turn,)) as pool:
        for seq, task in enumerate(_prepend(first, second, blocks)):
            pending.append(pool.apply_async(_assess_in_turn, (seq, task, advice, fd)))
            if not isinstance(task, bytes):
                end = task[0] + task[1]
            while len(pending) >= limit:
                emit(pending.popleft().get())
        while pending:
            emit(pending.popleft().get())
    if fd is None:
        (out or sys.stdout).flush()
    if end < initial_size:
        raise _shrank(turn.next_line.value)
    return bad


class _Turn:
    """What the batch's workers share, made before they start: the condition that orders their writes (block k
    waits until block k - 1 is written), the number of the next block to write and of its first line, the regular
    input file's descriptor (inherited through fork), if any; for workers that cut the file themselves, where the
    next block starts (-1 past the end of the file) and how many blocks are claimed; and the number of invalid lines
    they wrote."""

    def __init__(self, ctx: Any, in_fd: int | None, offset: int) -> None:
        self.condition = ctx.Condition()
        self.next_block = ctx.Value("q", 0, lock=False)
        self.next_line = ctx.Value("q", 1, lock=False)
        self.in_fd = in_fd
        self.next_offset = ctx.Value("q", offset, lock=False)
        self.claimed = ctx.Value("q", 0, lock=False)
        self.invalid = ctx.Value("q", 0, lock=False)

    def wait(self, seq: int) -> None:
        """Wait, holding the condition, until block ``seq`` is the next to write."""
        while self.next_block.value != seq:
            self.condition.wait()

    def passed(self, seq: int, newlines: int) -> None:
        """Block ``seq``, of ``newlines`` lines, is written (or its write failed): the next block's turn."""
        self.next_line.value += newlines
        self.next_block.value = seq + 1
        self.condition.notify_all()


# Set in each worker of the batch.
_TURN: _Turn | None = None


def _set_turn(turn: _Turn) -> None:
    global _TURN
    _TURN = turn


def _assess_in_turn(
    seq: int, task: _Block, advice: bool, fd: int | None
) -> tuple[bytes, list[str], list[str]]:
    """Assess block number ``seq`` (its bytes, or its place in the input file) and, once every earlier block is
    written, number its lines and write its output to ``fd`` (or return it, when ``fd`` is None); returns the error
    reports. The turn passes on even when the write fails (a closed pipe is raised in the parent, as when the parent
    wrote); it never passes a block the file no longer holds, so no later block is written after the gap."""
    t = _TURN
    assert t is not None
    block = task if isinstance(task, bytes) else _read_block(cast(int, t.in_fd), *task)
    outs, invalid, newlines = _assess_lines(block, advice) if block is not None else ([], [], 0)
    with t.condition:
        t.wait(seq)
        first = t.next_line.value
        if block is None:
            raise _shrank(first)
        try:
            lines, errs_json, errs_text = _numbered(outs, invalid, first)
            if fd is not None and lines:
                _write_all(fd, lines)
                lines = b""
        finally:
            t.passed(seq, newlines)
    return lines, errs_json, errs_text


def _assess_file_in_turns(
    initial_size: int, advice: bool, fd: int, err_fd: int, text: bool, encoding: str, errors: str
) -> None:
    """Work through the regular input file with the other workers: claim the next block (cut it), read it, assess
    it, and in its turn number its lines and write its output to ``fd`` and its error reports (text or JSON) to
    ``err_fd``. The turn passes on even when a write fails (a closed pipe is raised in the parent); it never passes
    a block the file no longer holds, nor the end of a file that shrank, so nothing is written after the gap."""
    t = _TURN
    assert t is not None and t.in_fd is not None
    while True:
        with t.condition:
            offset = t.next_offset.value
            if offset < 0:
                return
            end = _cut(t.in_fd, offset, _CHUNK_BYTES)
            seq = t.claimed.value
            t.claimed.value = seq + 1
            t.next_offset.value = end if end > offset else -1
        if end == offset:  # the end of the file: once every block is written, is the file as long as it was?
            with t.condition:
                t.wait(seq)
                if end < initial_size:
                    raise _shrank(t.next_line.value)
            return
        block = _read_block(t.in_fd, offset, end - offset)
        outs, invalid, newlines = _assess_lines(block, advice) if block is not None else ([], [], 0)
        with t.condition:
            t.wait(seq)
            if block is None:
                raise _shrank(t.next_line.value)
            try:
                lines, errs_json, errs_text = _numbered(outs, invalid, t.next_line.value)
                if lines:
                    _write_all(fd, lines)
                if invalid:
                    t.invalid.value += len(invalid)
                    report = "".join(errs_text) if text else "\n".join(errs_json) + "\n"
                    _write_all(err_fd, report.encode(encoding, errors))
            finally:
                t.passed(seq, newlines)


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


def _prepend(a: _Block, b: _Block | None, rest: Iterator[_Block]) -> Iterator[_Block]:
    yield a
    if b is not None:
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
