"""A Chinese CDS card has no English prose: sites, high-risk features, response categories and caution facts are
rendered in Chinese for every example record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from _zh_prose import english_prose, record_identifiers
from mmemd.advice import assess_with_advice
from mmemd.service._cards import assessment_card

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAMES = sorted(p.stem for p in EXAMPLES.glob("*.json"))


@pytest.mark.parametrize("name", NAMES)
def test_chinese_card_has_no_english_prose(kb: Any, name: str) -> None:
    record = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    assessment, _trace = assess_with_advice(record, kb)
    card = assessment_card(record, assessment, card_uuid="00000000-0000-4000-8000-000000000000", lang="zh")
    text = f"{card.summary}\n{card.detail}"
    words = english_prose(text, kb, record_identifiers(record))
    assert words == [], f"{name}: English words in the Chinese card: {sorted(set(words))}"
