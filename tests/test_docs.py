"""Every ``console`` and ``python`` block of README.md and docs/*.md runs here, so a doc cannot drift from the code.

Conventions for writers of docs (also in docs/contributing.md):

- A fenced block tagged ``console`` is a shell session. Lines starting with ``$ `` are commands (a trailing ``\\``
  continues one); the lines after a command, up to the next ``$ ``, are its expected output. A command with no
  output lines shown is only required to succeed (exit status 0). Output is compared line by line after masking what
  changes between runs (standard output and standard error together, as a terminal shows them): versions (``0.1.0``), knowledge-base versions (``kb-…``), hashes, timings (``12.3 ms``) and
  timestamps. An expected line ending in ``…`` matches any line that starts with the text before it; a line that is
  exactly ``...`` matches any number of lines.
- A fenced block tagged ``python`` is executed; the blocks of one file share one namespace, in order, like a
  notebook. A block with ``>>>`` prompts is run as a doctest (its shown output is compared).
- Commands run with the repository's ``examples/``, ``docs/``, ``src/`` and ``tests/`` in the working directory (a
  temporary directory, so files a command writes do not land in the repository).
- A block that must not run (a server that never exits, a command needing a network peer) is marked on the line
  right before its fence with ``<!-- docs-test: skip: <reason> -->``; the reason is required and is shown in the
  skip message. ``<!-- docs-test: run-only -->`` runs a console block without comparing its output (for output
  that is a screenful of numbers from a random seed, say).
- Other fences (``bash``, ``json``, ``toml``, ``text``) are not run: use them for snippets that are not examples.
"""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(
    r"(?:<!-- docs-test: (?P<directive>[^>]*?) -->\n)?^```(?P<lang>console|python)[^\n]*\n(?P<body>.*?)^```\s*$",
    re.S | re.M,
)
MASKS = (
    (re.compile(r"kb-[0-9][\w.]*\+sha256:[0-9a-f]+"), "<KB>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?"), "<TIMESTAMP>"),
    (re.compile(r"\b[0-9a-f]{12,}\b"), "<HASH>"),
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|µs|s)\b"), "<TIME>"),
    (re.compile(r"\bmmemd \d+\.\d+\.\d+\S*"), "mmemd <VERSION>"),
)


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int
    lang: str
    body: str
    directive: str

    @property
    def id(self) -> str:
        return f"{self.doc.relative_to(REPO)}:{self.line}"


def blocks() -> list[Block]:
    out = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            line = text.count("\n", 0, m.start("lang")) + 1
            out.append(
                Block(doc, line, m.group("lang"), m.group("body"), (m.group("directive") or "").strip())
            )
    return out


def mask(text: str) -> str:
    for pattern, repl in MASKS:
        text = pattern.sub(repl, text)
    return text


def commands(body: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) pairs of a console block."""
    out: list[tuple[str, list[str]]] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            raise AssertionError(
                f"console block line {lines[i]!r} is neither a command nor a command's output"
            )
        cmd = lines[i][2:]
        while cmd.endswith("\\") and i + 1 < len(lines):
            i += 1
            cmd = cmd[:-1] + "\n" + lines[i]
        i += 1
        expected = []
        while i < len(lines) and not lines[i].startswith("$ "):
            expected.append(lines[i])
            i += 1
        out.append((cmd, expected))
    return out


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line-by-line match with ``...`` (any lines) and a trailing ``…`` (prefix) in the expected text."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head.strip() == "...":
        return any(matches(rest, actual[k:]) for k in range(len(actual) + 1))
    if not actual:
        return False
    line = actual[0]
    ok = line.startswith(head[:-1].rstrip()) if head.endswith("…") else line.rstrip() == head.rstrip()
    return ok and matches(rest, actual[1:])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wd = tmp_path_factory.mktemp("docs")
    for name in ("examples", "docs", "src", "tests"):
        (wd / name).symlink_to(REPO / name)
    return wd


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO / "src"),
        COLUMNS="100",
        NO_COLOR="1",
        TERM="dumb",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


ALL = blocks()


@pytest.mark.parametrize("block", [b for b in ALL if b.lang == "console"], ids=lambda b: b.id)
def test_console_block(block: Block, workdir: Path) -> None:
    if block.directive.startswith("skip"):
        reason = block.directive.partition(":")[2].strip()
        assert reason, f"{block.id}: docs-test skip needs a reason"
        pytest.skip(f"{block.id}: {reason}")
    compare = block.directive != "run-only"
    for cmd, expected in commands(block.body):
        proc = subprocess.run(
            ["bash", "-o", "pipefail", "-c", cmd],
            cwd=workdir,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # a terminal shows both, and so does a doc
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, f"{block.id}: `{cmd}` exited {proc.returncode}\n{proc.stdout[-2000:]}"
        if compare and expected:
            # Blank lines around the whole output (a progress line cleared, a final newline) are not content.
            actual = mask(proc.stdout).strip("\n").splitlines()
            want = [mask(x) for x in expected]
            assert matches(want, actual), (
                f"{block.id}: output of `{cmd}` differs from the doc\n--- doc\n"
                + "\n".join(want)
                + "\n--- actual\n"
                + "\n".join(actual)
            )


@pytest.mark.parametrize("doc", sorted({b.doc for b in ALL if b.lang == "python"}), ids=lambda d: d.name)
def test_python_blocks(doc: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for block in (b for b in ALL if b.doc == doc and b.lang == "python"):
        if block.directive.startswith("skip"):
            assert block.directive.partition(":")[2].strip(), f"{block.id}: docs-test skip needs a reason"
            continue
        if ">>> " in block.body:
            test = doctest.DocTestParser().get_doctest(block.body, namespace, block.id, str(doc), block.line)
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
            runner.run(test)
            assert runner.failures == 0, f"{block.id}: doctest failed (output above)"
            namespace.update(test.globs)
        else:
            exec(compile(block.body, block.id, "exec"), namespace)


def test_blocks_are_found() -> None:
    """The harness sees the blocks (a regex that matched nothing would pass every doc)."""
    assert len([b for b in ALL if b.lang == "console"]) >= 10
    assert any(b.doc.name == "README.md" for b in ALL)


def test_masks_and_matching() -> None:
    assert (
        mask("mmemd 0.1.0 · kb-2026.11.0+sha256:15ed83371b2d · 12.5 ms") == "mmemd <VERSION> · <KB> · <TIME>"
    )
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["Key numbers: IKEMA…"], ["Key numbers: IKEMA: improved"])
    assert not matches(["a", "b"], ["a", "c"])
