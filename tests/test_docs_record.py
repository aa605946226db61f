"""docs/record.md stays true: its field table equals the one generated from the JSON Schema, and its worked
example is the shipped example record, which validates."""

from __future__ import annotations

import json
import re
from pathlib import Path

from mmemd.clinical.record import parse_record
from record_doc import DOC, rendered

REPO = Path(__file__).resolve().parents[1]


def test_field_table_matches_the_json_schema() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text == rendered(text), "docs/record.md is stale: run python tests/record_doc.py"


def test_worked_example_is_the_shipped_record_and_valid() -> None:
    text = DOC.read_text(encoding="utf-8")
    (block,) = re.findall(r"<!-- example:begin -->\n```json\n(.*?)```\n<!-- example:end -->", text, re.S)
    shown = json.loads(block)
    shipped = json.loads((REPO / "examples" / "emd-liver-rrmm-pr.json").read_text(encoding="utf-8"))
    assert shown == shipped
    assert parse_record(shown).id == "emd-liver-rrmm-pr"
