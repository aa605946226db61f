"""The mypyc-compiled build computes exactly what the pure-Python code computes.

The modules of ``[tool.mmemd.compiled]`` (pyproject.toml) are compiled once per session by hatch_build.py's own
compile function — the code the wheel's build hook runs — into a copy of the package. Then the pure package (src/)
and the compiled copy each run, in their own processes, on one corpus: every example, dense and varied benchmark
records, records whose assessments were mutated (seeded) to reach the response engine's other branches, records
whose diagnosis, labs, cytogenetics and lesions were redrawn around the EMD, staging and high-risk cut-offs, and
invalid or hostile lines. Their outputs must be byte-identical, and the response, EMD, staging and high-risk tests
must pass on the compiled copy. Those need a C compiler and the Python headers (Debian's gcc and python3-dev) and
skip without them; the build hook's choices (editable and ``MMEMD_PURE=1`` builds stay pure, a failed compile falls
back) are checked without a compiler.
"""

from __future__ import annotations

import copy
import importlib.machinery
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from _system import has_executable, require_system

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
LIVER = ROOT / "examples" / "emd-liver-rrmm-pr.json"
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_assess import make_record  # noqa: E402
from bench_batch import _lines as benchmark_lines  # noqa: E402

SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)


def _hatch_build() -> ModuleType:
    """hatch_build.py, the wheel's build hook, loaded as a module (it is not on the import path)."""
    spec = importlib.util.spec_from_file_location("hatch_build", ROOT / "hatch_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _headers_present() -> bool:
    return (Path(sysconfig.get_paths()["include"]) / "Python.h").exists()


@pytest.fixture(scope="session")
def compiled_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package with the declared modules compiled in, laid out as the compiled wheel installs it."""
    require_system("gcc", has_executable("gcc"), "compiling the mypyc build")
    require_system("python3-dev", _headers_present, "compiling the mypyc build (Python.h)")
    hook = _hatch_build()
    tree = tmp_path_factory.mktemp("compiled")
    shutil.copytree(SRC / "mmemd", tree / "mmemd", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    out = tmp_path_factory.mktemp("extensions")
    ok, log = hook.compile_modules(out)
    assert ok, log
    files = hook.built_files(out)
    assert files, log
    for built, inside in files.items():
        shutil.copy2(built, tree / inside)
    return tree


def _run(tree: Path, *args: str, stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("PYTHONSTARTUP", None)
    proc = subprocess.run(
        [sys.executable, *args], input=stdin, capture_output=True, env=env, cwd=ROOT, check=False, timeout=600
    )
    return proc.returncode, proc.stdout, proc.stderr


def test_every_declared_module_imports_compiled(compiled_tree: Path) -> None:
    modules = _hatch_build().declared_modules()
    assert modules
    code = (
        "import importlib, sys\nfor name in sys.argv[1:]:\n    print(importlib.import_module(name).__file__)"
    )
    rc, out, err = _run(compiled_tree, "-c", code, *modules)
    assert rc == 0, err.decode()
    files = out.decode().splitlines()
    assert len(files) == len(modules)
    for name, file in zip(modules, files, strict=True):
        assert file.startswith(str(compiled_tree)), (name, file)
        assert file.endswith(SUFFIXES), (name, file)
    # and the pure run really is pure
    rc, out, err = _run(SRC, "-c", code, *modules)
    assert rc == 0, err.decode()
    assert all(f.endswith(".py") for f in out.decode().splitlines())


#: Fractions of the baseline value at the response criteria's cut-offs and either side of them: falls of 90 %, 50 %
#: and 25 % (VGPR, PR, MR) and a rise of 25 % (PD), and the values 0 and unchanged.
_FACTORS = (0, 0.09, 0.1, 0.11, 0.49, 0.5, 0.51, 0.74, 0.75, 0.76, 1, 1.24, 1.25, 1.26, 2)


def _mutated(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """The record with its follow-up values set to fractions of the baseline value (``_FACTORS``), some values
    dropped and some immunofixations flipped: the response engine's other paths and its boundaries, valid or not."""
    doc = copy.deepcopy(doc)
    assessments = doc.get("assessments") or []
    first = assessments[0] if assessments else {}
    for assessment in assessments:
        for key in [k for k in assessment if k != "date"]:
            value, base = assessment[key], first.get(key)
            roll = rnd.random()
            if roll < 0.1:
                del assessment[key]
            elif isinstance(value, dict) and isinstance(value.get("value"), int | float):
                if isinstance(base, dict) and isinstance(base.get("value"), int | float) and roll < 0.8:
                    value["value"] = round(base["value"] * rnd.choice(_FACTORS), 6)
                else:
                    value["value"] = round(value["value"] * rnd.choice(_FACTORS), 6)
            elif value in ("positive", "negative") and roll < 0.3:
                assessment[key] = "negative" if value == "positive" else "positive"
            elif isinstance(value, int | float) and not isinstance(value, bool):
                reference = base if isinstance(base, int | float) and not isinstance(base, bool) else value
                assessment[key] = round(reference * rnd.choice(_FACTORS), 6)
    return doc


#: Values at and either side of the cut-offs of the EMD, staging and high-risk rules (docs/criteria.md §2.1-§2.6,
#: §3.3): β2M 3.5 and 5.5 mg/L, albumin 3.5 g/dL, creatinine 1.2 mg/dL, LDH at its upper limit of normal, circulating
#: plasma cells 5 %, clonal marrow plasma cells 0 and 10 %, del(17p) clonal fraction 20 %.
_B2M = (None, 3.4, 3.5, 3.6, 5.4, 5.5, 5.6, 12)
_ALBUMIN = (None, 3.4, 3.5, 3.6)
_CREATININE = (None, 1.1, 1.19, 1.2, 1.21, 2.5)
_LDH = (None, 200, 249, 250, 251, 400)
_CPC = (None, 0, 0, 0, 4.9, 5, 5.1)
_BMPC = (None, 0, 0.5, 9.9, 10, 10.1, 60)
_CCF = (None, 19, 20, 21, 80)
_FLAG = (None, True, False)
_SITES = ("liver", "cns", "paravertebral", "skin", "not_a_site", None)
_EVENTS = ("hypercalcemia", "anemia", "bone_lesions", "marrow_plasma_cells_ge_60")


def _pick(rnd: random.Random, doc: dict[str, Any], key: str, values: tuple[Any, ...]) -> None:
    value = rnd.choice(values)
    if value is None:
        doc.pop(key, None)
    else:
        doc[key] = value


def _clinical_mutated(doc: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """The record with its diagnosis, labs, cytogenetics and lesions redrawn (seeded) around the cut-offs of the
    EMD classification, the stages and high risk, and with values left out: those rules' branches."""
    doc = copy.deepcopy(doc)
    dx = doc.setdefault("diagnosis", {})
    _pick(rnd, dx, "circulating_plasma_cells_pct", _CPC)
    _pick(rnd, dx, "clonal_bone_marrow_plasma_cells_pct", _BMPC)
    _pick(rnd, dx, "myeloma_defining_events", (None, [], rnd.sample(_EVENTS, rnd.randint(1, 2))))
    _pick(rnd, dx, "myeloma_diagnosis_recorded", _FLAG)
    _pick(rnd, dx, "date", (None, "2023-01-15"))
    labs = doc.setdefault("labs", {})
    for key, values, unit in (
        ("beta2_microglobulin", _B2M, "mg/L"),
        ("albumin", _ALBUMIN, "g/dL"),
        ("creatinine", _CREATININE, "mg/dL"),
    ):
        value = rnd.choice(values)
        if value is None:
            labs.pop(key, None)
        else:
            labs[key] = {"value": value, "unit": unit}
    ldh = rnd.choice(_LDH)
    if ldh is None:
        labs.pop("ldh", None)
    else:
        labs["ldh"] = {
            "value": ldh,
            "unit": "U/L",
            **({"upper_limit_normal": 250} if rnd.random() < 0.8 else {}),
        }
    cg = doc.setdefault("cytogenetics", {})
    for key in ("del_17p", "tp53_mutation", "t_4_14", "t_14_16", "t_14_20", "gain_1q"):
        _pick(rnd, cg, key, _FLAG)
    # a clonal fraction only with del(17p) present (a cross-field rule of the record)
    _pick(rnd, cg, "del_17p_clonal_fraction_pct", _CCF if cg.get("del_17p") is True else (None,))
    _pick(rnd, cg, "del_1p32", (None, "none", "monoallelic", "biallelic"))
    # Lesions keep their ids (the assessments' plasmacytoma measurements name them); one may be added, and a record
    # whose assessments name none may have its list emptied or left out.
    measured = any(a.get("plasmacytomas") for a in doc.get("assessments") or [])
    roll = rnd.random()
    if not measured and roll < 0.1:
        doc.pop("lesions", None)
    elif not measured and roll < 0.2:
        doc["lesions"] = []
    else:
        lesions = doc.setdefault("lesions", [])
        if not lesions or rnd.random() < 0.3:
            lesions.append({"id": "L9"})
        for lesion in lesions:
            _pick(rnd, lesion, "site", _SITES)
            _pick(rnd, lesion, "relation_to_bone", (None, "none", "arising_from_bone", "intraosseous"))
            _pick(rnd, lesion, "biopsy_proven", _FLAG)
            _pick(rnd, lesion, "confirmed_by", (None, None, "biopsy", "cytology", "imaging_only"))
            _pick(rnd, lesion, "detected_at", (None, "diagnosis", "relapse"))
            _pick(rnd, lesion, "detected_on", (None, "2023-02-14", "2023-02-15", "2025-06-01"))
            _pick(rnd, lesion, "cns", _FLAG)
    for assessment in doc.get("assessments") or []:
        if (
            rnd.random() < 0.1
        ):  # now and then: most records stay clear of plasma cell leukemia, the first rule
            _pick(rnd, assessment, "circulating_plasma_cells_pct", _CPC)
    return doc


def _corpus() -> bytes:
    lines: list[bytes] = []
    examples = [json.loads(p.read_text(encoding="utf-8")) for p in EXAMPLES]
    lines += [json.dumps(doc).encode() for doc in examples]
    lines += list(benchmark_lines(20, varied=False))
    lines += list(benchmark_lines(200, varied=True))
    rnd = random.Random(7)
    dense = make_record()
    for i in range(300):
        doc = _mutated(rnd.choice([*examples, dense]), rnd)
        doc["id"] = f"m{i}"
        lines.append(json.dumps(doc).encode())
    for i in range(400):
        doc = _clinical_mutated(rnd.choice([*examples, dense]), rnd)
        doc["id"] = f"c{i}"
        lines.append(json.dumps(doc).encode())
    hostile = [
        b"",
        b"not json",
        b"{}",
        b"[]",
        b'{"schema": "mmemd.patient/1"}',
        b"\xff\xfe\x00",
        b"[" * 5000 + b"]" * 5000,
        json.dumps(dict(examples[0], age="old")).encode(),
        json.dumps(dict(examples[0], assessments="none")).encode(),
        json.dumps(examples[0]).replace('"age": ', '"age": 1' + "0" * 400 + ', "x": ').encode(),
        json.dumps(examples[0]).encode().replace(b'"age": ', b'"age": NaN, "y": '),
    ]
    lines += hostile
    return b"\n".join(line.rstrip(b"\n") for line in lines) + b"\n"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "records.jsonl"
    path.write_bytes(_corpus())
    return path


MMEMD = ("-c", "from mmemd.cli import main; main()")


@pytest.mark.parametrize("advice", [True, False], ids=["advice", "no-advice"])
def test_batch_outputs_are_byte_identical(compiled_tree: Path, corpus: Path, advice: bool) -> None:
    args = [*MMEMD, "assess", "--batch", str(corpus)] + ([] if advice else ["--no-advice"])
    pure = _run(SRC, *args)
    compiled = _run(compiled_tree, *args)
    assert pure[0] == 2  # the hostile lines are refused (exit 2), every other record answered
    assert len(pure[1].splitlines()) == len([x for x in corpus.read_bytes().splitlines() if x.strip()])
    assert compiled == pure


def test_assess_file_is_byte_identical(compiled_tree: Path) -> None:
    pure = _run(SRC, *MMEMD, "assess", str(LIVER))
    assert pure[0] == 0, pure[2].decode()
    assert _run(compiled_tree, *MMEMD, "assess", str(LIVER)) == pure


def test_clinical_tests_pass_on_the_compiled_build(compiled_tree: Path) -> None:
    """tests/clinical (the record reader, the response engine and everything built on them) in a child process
    that first checks that it has the compiled modules."""
    tests = sorted(str(p) for p in (ROOT / "tests" / "clinical").glob("test_*.py"))
    assert tests
    code = (
        "import importlib, sys, pytest\n"
        f"for name in {_hatch_build().declared_modules()!r}:\n"
        f"    assert importlib.import_module(name).__file__.endswith({SUFFIXES!r}), name\n"
        "sys.exit(pytest.main(sys.argv[1:]))"
    )
    rc, out, err = _run(compiled_tree, "-c", code, "-q", "-p", "no:cacheprovider", *tests)
    assert rc == 0, (out + err).decode()[-4000:]


def test_the_list_in_the_install_doc_is_the_declared_list() -> None:
    """docs/install.md shows the ``[tool.mmemd.compiled]`` table: the same modules, in the same order."""
    import re
    import tomllib

    text = (ROOT / "docs" / "install.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(\[tool\.mmemd\.compiled\].*?)```", text, flags=re.S)
    assert block is not None
    assert (
        tomllib.loads(block.group(1))["tool"]["mmemd"]["compiled"]["modules"]
        == _hatch_build().declared_modules()
    )


# The build hook's decisions, without a compiler: when it compiles, what it adds to the wheel, how it falls back.


def _build_data() -> dict[str, Any]:
    return {"pure_python": True, "infer_tag": False, "force_include": {}}


def test_editable_and_forced_pure_builds_neither_compile_nor_ask_for_the_compiler(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hook = _hatch_build()
    monkeypatch.setattr(hook, "compile_modules", lambda *a: pytest.fail("compiled"))
    monkeypatch.delenv("MMEMD_PURE", raising=False)
    assert hook.build_dependencies() == hook.BUILD_DEPENDENCIES

    def get_requires_for_build_editable() -> list[str]:  # the PEP 660 hook's name, as a frontend calls it
        return hook.build_dependencies()  # type: ignore[no-any-return]

    assert get_requires_for_build_editable() == []
    data = _build_data()
    assert hook.add_compiled(ROOT, "editable", data, tmp_path) is False
    assert data == _build_data()
    monkeypatch.setenv("MMEMD_PURE", "1")
    assert hook.build_dependencies() == []
    assert hook.add_compiled(ROOT, "standard", data, tmp_path) is False
    assert data == _build_data()


def test_a_failed_compile_warns_and_leaves_the_wheel_pure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = _hatch_build()
    monkeypatch.delenv("MMEMD_PURE", raising=False)
    monkeypatch.setattr(hook, "compile_modules", lambda out, root: (False, "error: Python.h: No such file"))
    data = _build_data()
    assert hook.add_compiled(ROOT, "standard", data, tmp_path) is False
    assert data == _build_data()
    err = capsys.readouterr().err
    assert "WARNING: mmemd: compiling the engine modules with mypyc failed" in err
    assert "MMEMD_PURE=1" in err and "Python.h: No such file" in err


def test_a_compiled_build_adds_the_extensions_and_a_platform_tag(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hook = _hatch_build()
    monkeypatch.delenv("MMEMD_PURE", raising=False)
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]

    def fake_compile(out: Path, root: Path) -> tuple[bool, str]:
        (out / "mmemd" / "clinical").mkdir(parents=True)
        (out / "mmemd" / "clinical" / f"_response_levels{suffix}").write_bytes(b"")
        (out / "mmemd" / "clinical" / "notes.txt").write_bytes(b"")
        return True, ""

    monkeypatch.setattr(hook, "compile_modules", fake_compile)
    data = _build_data()
    assert hook.add_compiled(ROOT, "standard", data, tmp_path) is True
    assert data["pure_python"] is False and data["infer_tag"] is True
    assert data["force_include"] == {
        str(
            tmp_path / "mmemd" / "clinical" / f"_response_levels{suffix}"
        ): f"mmemd/clinical/_response_levels{suffix}"
    }
