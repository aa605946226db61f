"""`mmemd explain --lang zh` is in Chinese: rules by their titles, labels from the glossary, no English prose;
an unknown language is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from _zh_prose import english_prose, record_identifiers
from mmemd.cli._app import build_app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAMES = sorted(p.stem for p in EXAMPLES.glob("*.json"))


@pytest.mark.parametrize("name", NAMES)
def test_explain_in_chinese_has_no_english_prose(kb: Any, name: str) -> None:
    path = EXAMPLES / f"{name}.json"
    res = CliRunner().invoke(build_app(), ["explain", str(path), "--lang", "zh"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "规则解释" in res.stdout
    record = json.loads(path.read_text(encoding="utf-8"))
    words = english_prose(res.stdout, kb, record_identifiers(record))
    assert words == [], f"{name}: English words in `explain --lang zh`: {sorted(set(words))}"


def test_explain_refuses_an_unknown_language() -> None:
    path = EXAMPLES / f"{NAMES[0]}.json"
    res = CliRunner().invoke(build_app(), ["explain", str(path), "--lang", "fr"])
    assert res.exit_code == 2
    assert "--lang must be en or zh" in res.output
