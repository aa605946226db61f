"""`mmemd survival`: the JSON keys of the survival output, the readable table, versions, and exit code 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from mmemd.cli._app import build_app


def run(*args: str) -> Any:
    return CliRunner().invoke(build_app(), list(args))


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory, aml_frame: pd.DataFrame) -> Path:
    """aml plus two covariates for a Cox model, as CSV."""
    df = aml_frame.copy()
    df["age"] = [50 + (7 * i) % 23 for i in range(len(df))]
    df["sex"] = ["F", "M", "M", "F", "M"] * 4 + ["F", "M", "F"]
    path = tmp_path_factory.mktemp("cli") / "aml.csv"
    df.to_csv(path, index=False)
    return path


def test_json_keys_per_group_logrank_cox_and_versions(cohort: Path) -> None:
    r = run(
        "survival", str(cohort), "--time", "time", "--event", "status", "--group", "x", "--at", "12,24,500",
        "--cox", "age + sex", "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["schema"] == "mmemd.survival/1"
    assert {
        "n",
        "events",
        "median",
        "median_ci",
        "survival_at",
        "groups",
        "logrank",
        "cox",
        "versions",
    } <= set(doc)
    assert (doc["n"], doc["events"], doc["median"], doc["median_ci"]) == (23, 18, 27, [13, 34])
    assert set(doc["survival_at"][0]) == {"time", "survival", "lower", "upper", "at_risk"}
    assert [s["time"] for s in doc["survival_at"]] == [12, 24, 500]
    assert doc["survival_at"][2]["survival"] is None  # past the last follow-up (161 weeks)
    assert [g["name"] for g in doc["groups"]] == ["Maintained", "Nonmaintained"]
    assert doc["groups"][0]["median"] == 31 and doc["groups"][0]["median_ci"][1] is None
    assert set(doc["logrank"]) == {"chi2", "df", "p"} and doc["logrank"]["df"] == 1
    assert [c["term"] for c in doc["cox"]] == ["age", "sex[T.M]"]
    assert {"term", "coef", "hr", "se", "p"} <= set(doc["cox"][0])
    v = doc["versions"]
    assert v["mmemd"] and v["knowledge_base"].startswith("kb-") and v["backend"].startswith("duckdb")
    assert v["formulaic"]
    assert doc["conf_type"] == "log-log"


def test_text_output(cohort: Path) -> None:
    r = run("survival", str(cohort), "--time", "time", "--event", "status", "--group", "x", "--at", "12")
    assert r.exit_code == 0, r.stderr
    assert "Maintained" in r.stdout and "Log-rank" in r.stdout and "log-log" in r.stdout
    assert "Versions: mmemd" in r.stdout


def test_parquet_input_and_steps(tmp_path: Path, aml_frame: pd.DataFrame) -> None:
    path = tmp_path / "aml.parquet"
    aml_frame.to_parquet(path)
    r = run("survival", str(path), "--time", "time", "--event", "status", "--json", "--steps")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["steps"]["survival"][0] == pytest.approx(21 / 23)
    assert doc["groups"] == [] and doc["logrank"] is None and doc["cox"] is None


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--time", "weeks", "--event", "status"], "--time"),
        (["--time", "time", "--event", "status", "--at", "12,soon"], "--at"),
        (["--time", "time", "--event", "x"], "--event"),
        (["--time", "time", "--event", "status", "--backend", "oracle"], "--backend"),
        (["--time", "time", "--event", "status", "--cox", "stage"], "--cox"),
        (["--time", "time", "--event", "status", "--entry", "time"], "--entry"),
    ],
)
def test_bad_input_exits_2_naming_the_field(cohort: Path, args: list[str], field: str) -> None:
    r = run("survival", str(cohort), *args)
    assert r.exit_code == 2
    assert field in r.stderr
    assert r.stdout == ""


def test_missing_file_exits_2(tmp_path: Path) -> None:
    r = run("survival", str(tmp_path / "none.csv"), "--time", "t", "--event", "e")
    assert r.exit_code == 2
    assert "does not exist" in r.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [("MMEMD_DUCKDB_THREADS", "abc"), ("MMEMD_DUCKDB_THREADS", "0"), ("MMEMD_DUCKDB_MEMORY_LIMIT", "lots")],
)
def test_a_bad_engine_setting_is_named_not_blamed_on_the_file(
    cohort: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    res = run("survival", str(cohort), "--time", "time", "--event", "status")
    assert res.exit_code == 2
    assert variable in res.output and repr(value) in res.output
    assert "cannot read" not in res.output
