"""A regular batch file is cut by the parent and read by the workers themselves (``pread``), and the lines are
numbered by the workers in input order.

Pinned here: the cuts cover the file exactly, at line ends; the line numbers in the error reports are right through
every path (one process, the pool writing to stdout itself, the pool giving its output back, standard input); and a
file that shrinks while it is read ends the batch with a clear error after a whole prefix of the output — no record
lost silently, none written twice — while a file that grows is read to its new end, as a stream is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from mmemd.cli import _clinical
from mmemd.cli._app import build_app

REPO = Path(__file__).resolve().parents[2]
LIVER = REPO / "examples" / "emd-liver-rrmm-pr.json"


def _records(n: int, bad: set[int] = frozenset()) -> list[bytes]:  # type: ignore[assignment]
    base = json.loads(LIVER.read_text(encoding="utf-8"))
    out = []
    for i in range(n):
        rec = dict(base, id=f"p{i}")
        if i in bad:
            rec["sex"] = "unknown"  # not in the value set
        out.append(json.dumps(rec).encode())
    return out


@given(
    lines=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=30),
    trailing_newline=st.booleans(),
    size=st.integers(min_value=1, max_value=64),
    start=st.integers(min_value=0, max_value=3),
)
def test_file_blocks_cut_at_the_first_line_end_after_the_block_size(
    lines: list[bytes], trailing_newline: bool, size: int, start: int
) -> None:
    data = b"\n".join(lines) + (b"\n" if trailing_newline and lines else b"")
    start = min(start, len(data))
    with tempfile.TemporaryFile() as fh:
        fh.write(data)
        fh.flush()
        blocks = list(_clinical._file_blocks(fh.fileno(), start, size))
    offset = start
    for i, (at, length) in enumerate(blocks):
        assert at == offset and length > 0
        block = data[at : at + length]
        if i < len(blocks) - 1 or block.endswith(b"\n"):
            # the first newline at or after the block's size-th byte ends it
            assert block.endswith(b"\n") and b"\n" not in block[size - 1 : -1]
        else:  # only the file's last line may lack its newline
            assert at + length == len(data) and b"\n" not in block[size - 1 :]
        offset += length
    assert offset == len(data)


@given(
    lines=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=30),
    trailing_newline=st.booleans(),
    size=st.integers(min_value=1, max_value=64),
)
def test_stream_blocks_are_whole_lines(lines: list[bytes], trailing_newline: bool, size: int) -> None:
    import io

    data = b"\n".join(lines) + (b"\n" if trailing_newline and lines else b"")
    blocks = list(_clinical._chunks(io.BytesIO(data), size))
    assert b"".join(blocks) == data
    assert all(b.endswith(b"\n") for b in blocks[:-1])  # only the last block may end without a newline


def test_a_line_longer_than_the_probe_is_one_block(tmp_path: Path) -> None:
    long = b"x" * (5 * _clinical._PROBE_BYTES)
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"a\n" + long + b"\nb\n" + long)
    with src.open("rb") as fh:
        blocks = list(_clinical._file_blocks(fh.fileno(), 0, 1))
    assert blocks == [(0, 2), (2, len(long) + 1), (len(long) + 3, 2), (len(long) + 5, len(long))]


def _script(tmp_path: Path, body: str) -> Path:
    """A ``mmemd`` run with small blocks (so that a few kilobytes go through the pool) and ``body`` patched in."""
    script = tmp_path / "run.py"
    script.write_text(
        "import os, sys\n"
        "from mmemd.cli import _clinical, main\n"
        "_clinical._CHUNK_BYTES = 4096\n" + body + "main()\n",
        encoding="utf-8",
    )
    return script


def _run(script: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    cmd = [sys.executable, str(script), "assess", "--no-advice", *args]
    return subprocess.run(cmd, capture_output=True, env=env, timeout=300, check=False)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_line_numbers_through_small_blocks(tmp_path: Path, workers: str) -> None:
    """Invalid lines in many blocks, blank lines and a last line without its newline: each report names its line,
    in the file and on standard input."""
    bad = {0, 7, 8, 31, 59}
    records = _records(60, bad)
    lines: list[bytes] = []
    for i, r in enumerate(records):
        lines.append(r)
        if i % 9 == 4:
            lines.append(b"  ")  # blank: skipped, still counted
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines))
    expected_lines = [n for n, line in enumerate(lines, start=1) if line.strip() and b'"unknown"' in line]
    script = _script(tmp_path, "")
    for args in (("--batch", str(src)), ("--batch", "-")):
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        cmd = [sys.executable, str(script), "assess", "--no-advice", "--workers", workers, *args]
        proc = subprocess.run(
            cmd, input=src.read_bytes(), capture_output=True, env=env, timeout=300, check=False
        )
        assert proc.returncode == 2, proc.stderr[-2000:]
        out = [json.loads(x) for x in proc.stdout.splitlines()]
        assert [d.get("patient_id") for d in out] == [None if i in bad else f"p{i}" for i in range(60)]
        assert [d["line"] for d in out if d.get("valid") is False] == expected_lines
        reports = [json.loads(x) for x in proc.stderr.splitlines() if x.startswith(b"{")]
        assert [r["line"] for r in reports] == expected_lines
        assert proc.stderr.endswith(b"5 invalid records\n")


def test_pool_output_given_back_when_stdout_has_no_descriptor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a test runner's stdout the workers return their numbered output to the parent, in order."""
    monkeypatch.setattr(_clinical, "_CHUNK_BYTES", 4096)
    bad = {3, 40}
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(_records(50, bad)) + b"\n")
    r = CliRunner().invoke(
        build_app(), ["assess", "--batch", str(src), "--no-advice", "--workers", "2", "--format", "text"]
    )
    assert r.exit_code == 2
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [d.get("patient_id") for d in out] == [None if i in bad else f"p{i}" for i in range(50)]
    assert [d["line"] for d in out if d.get("valid") is False] == [4, 41]
    assert "line 4: $.sex" in r.stderr and "line 41: $.sex" in r.stderr


# The assessment of the block holding the first record changes the file. Blocks of 4 KiB hold about three records;
# at most six blocks are in flight, so later blocks are cut and read after the change.
_CHANGE = """
real = _clinical._assess_lines
def changing(block, advice):
    if b'"id": "p0"' in block:
        {change}
    return real(block, advice)
_clinical._assess_lines = changing
"""


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("kept", [3, 30])
def test_a_file_that_shrinks_ends_the_batch_with_an_error_after_a_whole_prefix(
    tmp_path: Path, workers: str, kept: int
) -> None:
    """Cut back to 3 lines, blocks already cut read short (in the worker, or in the one process); cut back to 30,
    the cutting itself meets the file's new end first."""
    records = _records(90)
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(records) + b"\n")
    keep = sum(len(r) + 1 for r in records[:kept])
    change = f"os.truncate({str(src)!r}, {keep})"
    proc = _run(
        _script(tmp_path, _CHANGE.replace("{change}", change)), "--batch", str(src), "--workers", workers
    )
    assert proc.returncode == 2
    out = proc.stdout.splitlines()
    assert [json.loads(x)["patient_id"] for x in out] == [f"p{i}" for i in range(len(out))]
    assert len(out) < 90
    report = json.loads(proc.stderr)
    assert report["problems"] == [
        {
            "path": "$",
            "code": "io_error",
            "message": f"cannot read {src}: the file shrank while it was read; "
            f"the records from line {len(out) + 1} on were not assessed",
        }
    ]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_file_that_grows_is_read_to_its_new_end(tmp_path: Path, workers: str) -> None:
    records = _records(60)
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(records[:40]) + b"\n")
    more = b"\n".join(records[40:]) + b"\n"
    change = f"open({str(src)!r}, 'ab').write({more!r})"
    proc = _run(
        _script(tmp_path, _CHANGE.replace("{change}", change)), "--batch", str(src), "--workers", workers
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [json.loads(x)["patient_id"] for x in proc.stdout.splitlines()] == [f"p{i}" for i in range(60)]


@pytest.mark.parametrize("kept", [3, 30])
def test_a_file_that_shrinks_when_stdout_has_no_descriptor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: int
) -> None:
    """The same through the pool that gives its output back to this process (the workers inherit the patch)."""
    monkeypatch.setattr(_clinical, "_CHUNK_BYTES", 4096)
    records = _records(90)
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(records) + b"\n")
    keep = sum(len(r) + 1 for r in records[:kept])
    real = _clinical._assess_lines

    def changing(block: bytes, advice: bool) -> Any:
        if b'"id": "p0"' in block:
            os.truncate(src, keep)
        return real(block, advice)

    monkeypatch.setattr(_clinical, "_assess_lines", changing)
    r = CliRunner().invoke(build_app(), ["assess", "--batch", str(src), "--no-advice", "--workers", "2"])
    assert r.exit_code == 2
    out = r.stdout.splitlines()
    assert [json.loads(x)["patient_id"] for x in out] == [f"p{i}" for i in range(len(out))]
    assert len(out) < 90
    assert json.loads(r.stderr)["problems"][0]["message"] == (
        f"cannot read {src}: the file shrank while it was read; "
        f"the records from line {len(out) + 1} on were not assessed"
    )
