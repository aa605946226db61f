"""Research inputs a statistician would reject are clear errors (exit 2 naming the field), and a Cox model that
cannot be estimated says so per term instead of crashing or printing nonsense."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mmemd.cli._app import build_app
from mmemd.research.meta import MetaInputError


def run(*args: str) -> Any:
    return CliRunner().invoke(build_app(), list(args))


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# ---- meta ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("csv", "needle"),
    [
        ("study,events,n\nA,3.5,20\nB,4,30\n", "whole number"),
        ("study,events,n\nA,-3,20\nB,4,30\n", ">= 0"),
        ("study,events,n\nA,3,20\nA,4,30\n", "used twice"),
        ("study,events,n\nA,3,20,7\nB,4,30\n", "more fields than the header"),
        ("study,ai,n1,ci,n2\nA,3,20.5,4,30\nB,4,30,5,30\n", "whole number"),
    ],
    ids=["fractional-events", "negative-events", "duplicate-label", "extra-field", "fractional-n"],
)
def test_meta_rejects_impossible_tables(tmp_path: Path, csv: str, needle: str) -> None:
    r = run("meta", str(write(tmp_path, "m.csv", csv)), "--json")
    assert r.exit_code == 2, r.stdout
    assert needle in r.stderr and "Traceback" not in r.stderr


def test_meta_knha_on_identical_studies_carries_a_note(tmp_path: Path) -> None:
    path = write(tmp_path, "same.csv", "study,yi,vi\nA,0.5,0.04\nB,0.5,0.04\nC,0.5,0.04\n")
    r = run("meta", str(path), "--knha", "--json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["ci_lower"] == doc["ci_upper"]  # what metafor also gives
    assert any("identical inputs" in n for n in doc["notes"])


def test_meta_label_check_in_the_library() -> None:
    from mmemd.research.meta import proportions

    with pytest.raises(MetaInputError, match="used twice"):
        proportions("PR", [1, 2], [10, 10], study=["X", "X"])


# ---- survival ------------------------------------------------------------------------------------------------------
def test_survival_rejects_negative_times(tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", "time,status\n5,1\n-2,0\n7,1\n")
    r = run("survival", str(path), "--time", "time", "--event", "status", "--json")
    assert r.exit_code == 2 and "must not be negative" in r.stderr


def test_survival_rejects_fractional_events(tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", "time,status\n5,1\n6,0.5\n7,1\n")
    r = run("survival", str(path), "--time", "time", "--event", "status", "--json")
    assert r.exit_code == 2 and "0 (censored) or 1 (event)" in r.stderr


def test_cox_perfect_separation_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    # every event in group B, none in group A: the hazard ratio is infinite
    rows = ["time,status,arm"] + [f"{t},0,A" for t in range(10, 30, 2)] + [f"{t},1,B" for t in range(1, 11)]
    path = write(tmp_path, "sep.csv", "\n".join(rows) + "\n")
    r = run("survival", str(path), "--time", "time", "--event", "status", "--cox", "arm", "--json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)  # valid JSON: no Infinity or NaN
    (term,) = doc["cox"]
    assert term["warning"] and "separation" in term["warning"]
    text = run("survival", str(path), "--time", "time", "--event", "status", "--cox", "arm")
    assert text.exit_code == 0 and "separation" in text.stdout


def test_cox_on_ordinary_data_has_no_warning(tmp_path: Path) -> None:
    rows = ["time,status,arm"]
    rows += [f"{t},{t % 3 != 0:d},{'A' if t % 2 else 'B'}" for t in range(1, 41)]
    path = write(tmp_path, "ok.csv", "\n".join(rows) + "\n")
    r = run("survival", str(path), "--time", "time", "--event", "status", "--cox", "arm", "--json")
    assert r.exit_code == 0, r.stderr
    assert [t["warning"] for t in json.loads(r.stdout)["cox"]] == [None]
