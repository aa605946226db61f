"""Every example of docs/registry.md runs: the Python block, then the console block, whose shown output must match."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "registry.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_python_then_console_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for code in _blocks("python"):
        exec(compile(code, str(DOC), "exec"), {})
    # `mmemd` on PATH running this checkout
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "mmemd"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -c "from mmemd.cli import main; main()" "$@"\n')
    shim.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT / "src"),
        "PYTHONWARNINGS": "ignore",
    }
    for block in _blocks("console"):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            assert lines[i].startswith("$ "), lines[i]
            cmd = lines[i][2:]
            i += 1
            expected = []
            while i < len(lines) and not lines[i].startswith("$ "):
                expected.append(lines[i])
                i += 1
            res = subprocess.run(["bash", "-c", cmd], cwd=tmp_path, env=env, capture_output=True, text=True)
            assert res.returncode == 0, (cmd, res.stderr)
            assert res.stdout.splitlines() == expected, cmd
