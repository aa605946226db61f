"""Each command imports only what it uses: start-up time is mostly imports (scipy.stats ~0.5 s, pandas ~0.2 s,
ibis ~0.2 s, matplotlib), so the import set of the common commands is pinned here.

Each case runs the real console entry point in a fresh interpreter and lists which of the heavy modules ended up in
``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIVER = ROOT / "examples" / "emd-liver-rrmm-pr.json"

HEAVY = (
    "scipy",
    "scipy.stats",
    "scipy.special",
    "scipy.optimize",
    "pandas",
    "numpy",
    "ibis",
    "duckdb",
    "sqlglot",
    "pyarrow",
    "matplotlib",
    "lifelines",
    "statsmodels",
    "weasyprint",
    "jinja2",
    "fastapi",
    "uvicorn",
    "fhir.resources",
    "pyspark",
    "rich",
)

_PROBE = """
import json, sys
sys.argv = ["mmemd", *json.loads(sys.argv[1])]
from mmemd.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
sys.stderr.write("\\nIMPORTED " + json.dumps({"code": code, "modules": [m for m in HEAVY if m in sys.modules]}) + "\\n")
"""


def imported(args: list[str], modules: tuple[str, ...] = HEAVY) -> tuple[object, set[str]]:
    code = "HEAVY = " + repr(modules) + "\n" + _PROBE
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    line = next((x for x in proc.stderr.splitlines() if x.startswith("IMPORTED ")), None)
    assert line is not None, proc.stderr[-2000:]
    doc = json.loads(line.removeprefix("IMPORTED "))
    return doc["code"], set(doc["modules"])


@pytest.fixture(scope="module")
def survival_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("surv") / "s.csv"
    rows = ["time,status,arm"] + [f"{t},{t % 3 != 0:d},{'ab'[t % 2]}" for t in range(1, 41)]
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return p


def test_survival_help_imports_no_research_stack() -> None:
    code, mods = imported(["survival", "--help"])
    assert code == 0
    assert mods <= {"rich"}  # typer renders help with rich; nothing numeric, no engine


def test_assess_imports_only_the_engine() -> None:
    code, mods = imported(["assess", str(LIVER)])
    assert code == 0
    assert mods == set(), mods


def test_assess_without_advice_imports_only_the_engine() -> None:
    code, mods = imported(["assess", "--no-advice", str(LIVER)])
    assert code == 0
    assert mods == set(), mods


# The command-line machinery: a plain one-record `assess` is parsed without it (building typer's command and the
# pydantic typer imports for it cost about 20 ms of a 200 ms budget); anything else is typer's.
CLI_MACHINERY = ("typer", "typer.main", "typer._click", "typer._adapters", "click")


@pytest.mark.parametrize(
    "args",
    [["assess"], ["assess", "--no-advice"], ["assess", "--format", "text", "--lang", "zh"]],
    ids=" ".join,
)
def test_a_plain_assess_is_parsed_without_typer(args: list[str]) -> None:
    code, mods = imported([*args, str(LIVER)], CLI_MACHINERY)
    assert code == 0
    assert mods == set(), mods


def test_other_assess_command_lines_go_to_typer() -> None:
    code, mods = imported(["assess", "--workers", "1", str(LIVER)], CLI_MACHINERY)
    assert code == 0
    assert {"typer", "typer._click"} <= mods, mods


# What a one-record assessment reads once the per-user cache is warm (the store built, the data files parsed): the
# YAML parser, the curation loader (which validates every claim against its quote when the store is built), the
# search tokeniser and the curated-file models are for the first run and for search, not for every assessment; nor
# is hashlib (OpenSSL's _hashlib, ~2 ms): the data's content hash, the builder's hash and the parsed files are kept by
# the files' stat, and hashed again only when one changed.
BUILD_ONLY = ("yaml", "mmemd.knowledge._load", "mmemd.knowledge._text", "hashlib", "_hashlib")


def _wait_until_the_files_settle() -> None:
    """A result is kept by ``stat`` only for files quiet for STAMP_SETTLE_SECONDS (a checkout, an edit or a store
    built a moment ago is hashed again on the next run): wait out that rest for the package's files and the cache's
    (the knowledge store a first run built), so that the next run keeps its results."""
    import time

    from mmemd.knowledge import _data

    package = Path(_data.__file__).resolve().parents[1]
    files = [p for p in package.rglob("*") if p.is_file() and p.suffix in {".py", ".yaml", ".txt"}]
    files += [p for p in _data.cache_dir().rglob("*") if p.is_file()]
    latest = max(max(p.stat().st_mtime, p.stat().st_ctime) for p in files)
    time.sleep(max(0.0, latest + _data.STAMP_SETTLE_SECONDS - time.time()))


@pytest.mark.parametrize("advice", ["--advice", "--no-advice"])
def test_assess_with_a_warm_cache_parses_no_yaml_and_loads_no_curation(advice: str) -> None:
    _wait_until_the_files_settle()
    imported(
        ["assess", advice, str(LIVER)]
    )  # the first run in a fresh cache builds the store and parses the data
    _wait_until_the_files_settle()
    imported(["assess", advice, str(LIVER)])  # keeps the results by stat, now that every file has settled
    code, mods = imported(["assess", advice, str(LIVER)], BUILD_ONLY)
    assert code == 0
    assert mods == set(), mods


# Validators a warm-cache assessment does not build: the vocabulary's terms and the store's claims were validated
# once (the vocabulary when it was last read, the claims when the store was built) and are rebuilt from their
# validated values (mmemd._validated); building the validators was ~8 ms of the start-up.
_MODELS_PROBE = """
import sys
sys.argv = ["mmemd", "assess", sys.argv[1]]
from mmemd.cli import main
main()
from mmemd.knowledge import _models, _vocab
models = [*_vocab._SECTIONS.values(), _vocab.Term, _models.Claim, _models.CuratedClaim, _models.Population]
sys.stderr.write("\\nBUILT " + " ".join(sorted(m.__name__ for m in models if m.__pydantic_complete__)) + "\\n")
"""


def test_assess_with_a_warm_cache_builds_no_term_or_claim_validator() -> None:
    _wait_until_the_files_settle()
    runs = [
        subprocess.run(
            [sys.executable, "-c", _MODELS_PROBE, str(LIVER)],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
            cwd=ROOT,
        )
        for _ in range(2)
    ]
    line = next(x for x in runs[1].stderr.splitlines() if x.startswith("BUILT"))
    assert line.split()[1:] == [], line


STORE = ("sqlite3", "mmemd.knowledge._kb", "mmemd.knowledge._store", "mmemd.knowledge._models")


@pytest.mark.parametrize("args", [["assess", "--no-advice"], ["validate"]], ids=" ".join)
def test_the_clinical_engine_alone_does_not_open_the_evidence_store(args: list[str]) -> None:
    """Checking a record needs the vocabulary (known agents and procedures), not the claims or their SQLite store."""
    code, mods = imported([*args, str(LIVER)], STORE)
    assert code == 0
    assert mods == set(), mods


def test_evidence_search_imports_no_numeric_stack() -> None:
    code, mods = imported(["evidence", "search", "pomalidomide"])
    assert code == 0
    assert mods <= {"rich"}, mods


def test_survival_run_on_a_file_needs_duckdb_and_numpy_only(survival_csv: Path) -> None:
    """Kaplan–Meier and log-rank on a file run the compiled queries on DuckDB and finish in numpy: no Ibis, sqlglot
    or pandas (about 0.5 s of imports), no scipy (the two distribution functions come from the standard library),
    lifelines or plotting; the counts come back as numpy arrays (the group as a code), so no pyarrow either."""
    code, mods = imported(
        ["survival", str(survival_csv), "--time", "time", "--event", "status", "--group", "arm", "--json"]
    )
    assert code == 0
    assert mods == {"duckdb", "numpy"}, mods


def test_survival_table_output_adds_only_rich(survival_csv: Path) -> None:
    code, mods = imported(["survival", str(survival_csv), "--time", "time", "--event", "status"])
    assert code == 0
    assert mods == {"duckdb", "numpy", "rich"}, mods


def test_meta_needs_only_scipy_special() -> None:
    """Pooling needs scipy.special's distribution functions — not scipy.stats, scipy.optimize (Paule–Mandel's
    Brent fallback imports it only when Newton does not settle), plotting or the query engine."""
    data = ROOT / "tests" / "research_meta" / "data" / "dat_bcg.csv"
    code, mods = imported(["meta", str(data), "--measure", "RR", "--method", "PM"])
    assert code == 0
    assert mods <= {"scipy", "scipy.special", "numpy", "rich"}, mods
