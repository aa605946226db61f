"""`mmemd assess FILE` with plain options runs without typer; it must answer exactly as typer's command does.

Each case runs the console entry point twice in fresh interpreters — as shipped, and with the plain path switched
off so that typer parses the same command line — and compares stdout bytes, stderr bytes and the exit code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mmemd.cli._assess_file import Lang, OutputFormat, plain_arguments

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
LIVER = ROOT / "examples" / "emd-liver-rrmm-pr.json"

_ENTRY = "from mmemd.cli import main; main()"
_TYPER_ONLY = "import mmemd.cli._assess_file as f; f.run_plain = lambda args: False; " + _ENTRY


def _run(code: str, args: list[str], stdin: bytes | None) -> tuple[int, bytes, bytes]:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        input=stdin,
        capture_output=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    return proc.returncode, proc.stdout, proc.stderr


def _same_as_typer(args: list[str], stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
    plain = _run(_ENTRY, ["assess", *args], stdin)
    typer = _run(_TYPER_ONLY, ["assess", *args], stdin)
    assert plain == typer
    return plain


@pytest.mark.parametrize("advice", ["--advice", "--no-advice"])
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_gives_the_same_document(example: Path, advice: str) -> None:
    code, out, err = _same_as_typer([advice, str(example)])
    assert code == 0, err.decode()
    assert json.loads(out)["schema"] == "mmemd.assessment/1"


@pytest.mark.parametrize(
    "options",
    [
        ["--format", "text"],
        ["--format", "text", "--lang", "zh"],
        ["--format=text", "--lang=zh", "--no-advice"],
        ["--format", "json", "--lang", "zh"],
        ["--lang", "zh", "--lang", "en", "--format", "text"],  # the last of a repeated option wins
        ["--no-advice", "--advice"],
        ["--advice", "--no-advice", "--format", "text"],
    ],
    ids=" ".join,
)
def test_option_combinations(options: list[str]) -> None:
    before = _same_as_typer([*options, str(LIVER)])
    after = _same_as_typer([str(LIVER), *options])  # click takes options after the argument too
    assert before == after
    assert before[0] == 0


def test_stdin() -> None:
    code, out, _ = _same_as_typer(["-"], stdin=LIVER.read_bytes())
    assert code == 0
    assert json.loads(out)["patient_id"] == "emd-liver-rrmm-pr"


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad")
    record = json.loads(LIVER.read_text(encoding="utf-8"))
    record["labs"]["albumin"] = {"value": 32, "unit": "g/dL"}  # a g/L value with the g/dL unit: impossible
    record["phase"] = "bogus"
    files = {
        "missing": d / "absent.json",
        "directory": d,
        "bad JSON": d / "truncated.json",
        "not an object": d / "array.json",
        "invalid record": d / "invalid.json",
    }
    files["bad JSON"].write_text('{"schema": "mmemd.patient/1", "id": ', encoding="utf-8")
    files["not an object"].write_text("[1, 2]", encoding="utf-8")
    files["invalid record"].write_text(json.dumps(record), encoding="utf-8")
    return files


@pytest.mark.parametrize("fmt", ["json", "text"])
@pytest.mark.parametrize("case", ["missing", "directory", "bad JSON", "not an object", "invalid record"])
def test_errors_exit_2_with_the_same_report(bad_files: dict[str, Path], case: str, fmt: str) -> None:
    path = str(bad_files[case])
    code, out, err = _same_as_typer(["--format", fmt, path])
    assert code == 2
    assert out == b""
    if case in ("bad JSON", "not an object", "invalid record"):
        assert path in err.decode()  # the report names the file it is about


def test_invalid_record_report_lists_every_problem(bad_files: dict[str, Path]) -> None:
    _, _, err = _same_as_typer([str(bad_files["invalid record"])])
    report = json.loads(err)
    assert report["source"] == str(bad_files["invalid record"])
    paths = [p["path"] for p in report["problems"]]
    assert "$.phase" in paths
    assert any(p.startswith("$.labs.albumin") for p in paths), paths


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--help"],
        ["--format", "xml", str(LIVER)],
        ["--bogus", str(LIVER)],
        [str(LIVER), str(LIVER)],
        ["--batch", "-"],
        ["--workers", "0", str(LIVER)],
    ],
    ids=lambda a: " ".join(a) or "no argument",
)
def test_other_command_lines_are_typers(args: list[str]) -> None:
    """Not plain: the parser declines them and typer answers (usage errors, help, batch) whichever way it runs."""
    assert plain_arguments(args) is None
    _same_as_typer(args, stdin=b"")


@pytest.mark.parametrize(
    ("args", "parsed"),
    [
        (["f.json"], ("f.json", OutputFormat.json, Lang.en, True)),
        (["-"], ("-", OutputFormat.json, Lang.en, True)),
        (["--no-advice", "f.json"], ("f.json", OutputFormat.json, Lang.en, False)),
        (["f.json", "--format", "text", "--lang=zh"], ("f.json", OutputFormat.text, Lang.zh, True)),
        (["--format=text", "--format", "json", "f.json"], ("f.json", OutputFormat.json, Lang.en, True)),
    ],
)
def test_plain_command_lines(args: list[str], parsed: tuple[str, OutputFormat, Lang, bool]) -> None:
    assert plain_arguments(args) == parsed


@pytest.mark.parametrize(
    "args",
    [
        ["--format"],
        ["f.json", "--format"],
        ["--format=", "f.json"],
        ["--lang", "fr", "f.json"],
        ["--advice=yes", "f.json"],
        ["--", "f.json"],
        ["-x", "f.json"],
        ["--batch=f.jsonl"],
        ["f.json", "--help"],
    ],
    ids=" ".join,
)
def test_anything_else_is_left_to_typer(args: list[str]) -> None:
    assert plain_arguments(args) is None


def test_a_shell_completion_request_is_left_to_click(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_MMEMD_COMPLETE", "bash_complete")
    assert plain_arguments(["f.json"]) is None


# --- pydantic plugins: the plain path skips pydantic's scan for them only when none is declared ------------------

_PROBE_PLUGIN = """
import sys


class _Probe:
    def new_schema_validator(self, schema, schema_type, schema_type_path, schema_kind, config, plugin_settings):
        if schema_type_path.name == "PatientRecord":
            sys.stderr.write("probe plugin: PatientRecord\\n")
        return None, None, None


plugin = _Probe()
"""


def test_a_declared_pydantic_plugin_is_loaded_as_under_typer(tmp_path: Path) -> None:
    (tmp_path / "mmemd_probe_plugin.py").write_text(_PROBE_PLUGIN, encoding="utf-8")
    info = tmp_path / "mmemd_probe_plugin-0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: mmemd-probe-plugin\nVersion: 0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[pydantic]\nprobe = mmemd_probe_plugin:plugin\n", encoding="utf-8"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    runs = [
        subprocess.run(
            [sys.executable, "-c", code, "assess", "--no-advice", str(LIVER)],
            capture_output=True,
            timeout=300,
            check=False,
            cwd=ROOT,
            env=env,
        )
        for code in (_ENTRY, _TYPER_ONLY)
    ]
    assert [(r.returncode, r.stdout, r.stderr) for r in runs] == [
        (0, runs[1].stdout, b"probe plugin: PatientRecord\n")
    ] * 2


def test_with_no_plugin_declared_the_plain_path_reads_no_distribution_metadata() -> None:
    """``importlib.metadata`` (and the ``email`` package it imports) is how pydantic finds plugins."""
    from mmemd.cli._assess_file import _no_pydantic_plugin_declared

    if not _no_pydantic_plugin_declared():
        pytest.skip("a pydantic plugin is installed in this environment")
    code = (
        _ENTRY
        + "; import sys; sys.stderr.write(repr(sorted(m for m in ('importlib.metadata', 'email') if m in sys.modules)))"
    )
    rc, _, err = _run(code, ["assess", str(LIVER)], None)
    assert rc == 0
    assert err == b"[]"


def test_the_plugin_stand_in_hands_over_to_pydantics_loader_for_anything_else() -> None:
    # A later pydantic may ask its private loader module for more than get_plugins: the real module answers then.
    code = (
        "import sys; from mmemd.cli._assess_file import _skip_the_pydantic_plugin_scan as skip; skip(); "
        "m = sys.modules['pydantic.plugin._loader']; stand_in = m.get_plugins() == (); "
        "from pydantic.plugin._loader import PYDANTIC_ENTRY_POINT_GROUP as g; "
        "real = sys.modules['pydantic.plugin._loader']; "
        "sys.stdout.write(repr((stand_in, g, real is not m, hasattr(real, '_plugins'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120, check=True, cwd=ROOT)
    assert out.stdout == b"(True, 'pydantic', True, True)"
