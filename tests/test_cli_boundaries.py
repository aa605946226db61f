"""The command line at its edges: a closed pipe ends quietly with the SIGPIPE status, an HTML report is not poured
onto a terminal, input that is not UTF-8 is named as such, and an unknown --lang is refused by every command."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LIVER = REPO / "examples" / "emd-liver-rrmm-pr.json"
GBK = '{"schema":"mmemd.patient/1","id":"测试","phase":"newly_diagnosed"}'.encode("gbk")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "100"}


def _mmemd(*args: str) -> list[str]:
    return [sys.executable, "-c", "from mmemd.cli import main; main()", *args]


# 200 records are one block, assessed in the main process; 1,200 (about 3 MB) are six blocks, and the worker
# processes write their output to the pipe themselves.
@pytest.mark.parametrize("records", [200, 1_200])
def test_a_closed_pipe_ends_quietly_with_the_sigpipe_status(tmp_path: Path, records: int) -> None:
    batch = tmp_path / "batch.jsonl"
    record = json.dumps(json.loads(LIVER.read_text(encoding="utf-8")))
    batch.write_text((record + "\n") * records, encoding="utf-8")
    proc = subprocess.Popen(
        _mmemd("assess", "--batch", str(batch), "--workers", "2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(100)
    proc.stdout.close()  # the reader goes away, as `| head -c 100` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Broken pipe" not in err and "cannot read" not in err and "Traceback" not in err


def test_html_report_is_not_written_to_a_terminal() -> None:
    main, child = pty.openpty()
    try:
        proc = subprocess.run(
            _mmemd("report", str(LIVER), "--format", "html"),
            stdout=child,
            stderr=subprocess.PIPE,
            env=_env(),
            timeout=120,
            check=False,
        )
    finally:
        os.close(child)
        os.close(main)
    assert proc.returncode == 2
    assert b"-o FILE.html" in proc.stderr


def test_html_report_to_a_pipe_is_written() -> None:
    proc = subprocess.run(
        _mmemd("report", str(LIVER), "--format", "html"),
        capture_output=True,
        env=_env(),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout.startswith(b"<!DOCTYPE html>")


@pytest.mark.parametrize("command", [["assess"], ["validate"], ["explain"], ["report", "--format", "text"]])
def test_input_that_is_not_utf8_is_named_as_such(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "gbk.json"
    path.write_bytes(GBK)
    proc = subprocess.run(
        _mmemd(command[0], str(path), *command[1:]), capture_output=True, env=_env(), timeout=120, check=False
    )
    assert proc.returncode == 2
    assert b"not UTF-8" in proc.stderr and b"malformed JSON" not in proc.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["report", str(LIVER)],
        ["explain", str(LIVER)],
        ["assess", str(LIVER), "--format", "text"],
        ["evidence", "search", "CAR-T"],
    ],
)
def test_an_unknown_language_is_refused(command: list[str]) -> None:
    proc = subprocess.run(
        _mmemd(*command, "--lang", "fr"), capture_output=True, env=_env(), timeout=120, check=False
    )
    assert proc.returncode == 2
