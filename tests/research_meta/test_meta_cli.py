"""`mmemd meta` and `mmemd synthesize` on the command line: JSON keys, plots, exit code 2 naming the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mmemd.cli._app import build_app

DATA = Path(__file__).parent / "data"
ISSUE_KEYS = {
    "k",
    "estimate",
    "se",
    "ci_lower",
    "ci_upper",
    "tau2",
    "i2",
    "h2",
    "q",
    "q_p",
    "pred_lower",
    "pred_upper",
    "pooled",
    "pooled_ci_lower",
    "pooled_ci_upper",
}


def run(*args: str) -> Any:
    return CliRunner().invoke(build_app(), list(args))


def test_meta_json_has_the_issue_keys_and_versions() -> None:
    r = run("meta", str(DATA / "dat_bcg.csv"), "--measure", "RR", "--method", "REML", "--json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc.keys() >= ISSUE_KEYS
    assert round(doc["estimate"], 4) == -0.7145 and round(doc["tau2"], 4) == 0.3132
    assert doc["versions"]["knowledge_base"].startswith("kb-")
    assert doc["versions"]["meta_conventions"] == "metafor 3.8-1"
    assert len(doc["studies"]) == 13


def test_meta_knha_subgroups_leave_one_out() -> None:
    r = run(
        "meta",
        str(DATA / "dat_bcg.csv"),
        "--measure",
        "RR",
        "--knha",
        "--by",
        "alloc",
        "--leave-one-out",
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["knha"] is True and doc["df"] == 12 and doc["statistic_name"] == "t"
    assert [g["group"] for g in doc["subgroups"]["groups"]] == ["random", "alternate", "systematic"]
    assert doc["subgroups"]["test_between"]["df"] == 2
    assert len(doc["leave_one_out"]) == 13 and doc["leave_one_out"][0]["omitted"] == "Aronson 1948"


def test_meta_text_output() -> None:
    r = run("meta", str(DATA / "dat_pritz1997.csv"), "--measure", "PFT")
    assert r.exit_code == 0, r.stderr
    assert "back-transformed" in r.stdout and "harmonic mean" in r.stdout


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_meta_forest_plot(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"forest.{suffix}"
    r = run("meta", str(DATA / "dat_bcg.csv"), "--measure", "OR", "--by", "alloc", "--plot", str(out))
    assert r.exit_code == 0, r.stderr
    data = out.read_bytes()
    if suffix == "png":
        assert data.startswith(b"\x89PNG")
    else:
        text = data.decode()
        assert "<svg" in text and "Aronson 1948" in text and "Overall" in text  # text kept as text


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["meta", "/nonexistent.csv"], "FILE"),
        (["meta", str(DATA / "dat_bcg.csv"), "--measure", "PLO"], "measure"),
        (["meta", str(DATA / "dat_bcg.csv"), "--by", "nope"], "nope"),
        (["meta", str(DATA / "dat_bcg.csv"), "--plot", "x.pdf"], "plot"),
        (["meta", str(DATA / "dat_bcg.csv"), "--level", "120"], "level"),
        (["synthesize", "--endpoint", "NOPE"], "endpoint"),
    ],
)
def test_bad_input_exits_2_naming_the_field(args: list[str], field: str) -> None:
    r = run(*args)
    assert r.exit_code == 2
    assert f"error: {field}:" in r.stderr
    assert r.stdout == ""


def test_synthesize_json(tmp_path: Path) -> None:
    out = tmp_path / "orr.png"
    r = run("synthesize", "--endpoint", "ORR", "--group-by", "agent_class", "--plot", str(out), "--json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["schema"] == "mmemd.synthesis/1"
    assert doc["kb_version"] == doc["versions"]["knowledge_base"]
    assert doc["thresholds"] == {"i2_percent": 50.0, "q_p": 0.1}
    ids = [c["claim_id"] for s in doc["strata"] for c in s["claims"]]
    assert ids and all(e["reason"] for e in doc["excluded"])
    assert out.read_bytes().startswith(b"\x89PNG")


def test_synthesize_text_lists_exclusions() -> None:
    r = run("synthesize", "--endpoint", "ORR", "--emd-only")
    assert r.exit_code == 0, r.stderr
    assert "excluded (" in r.stdout and "kb-" in r.stdout
